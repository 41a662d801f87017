"""Rule sets nobody here wrote, run over synthesized templates: AWS Control Tower's proactive controls
as Guard rules (cdklabs' cdk-validator-cfnguard) and checkov.

Neither runs on every synth: the Guard plugin added 5 to 10 s to a synth of about 1 s (measured,
bench/synth.py's budget is 1.5x), and checkov needs 10 to 20 s to start. The test suite runs both
once per profile over the session's templates (tests/test_rule_sets.py) and compares what they find
with the acceptances in stacks/shared/rule_sets.py.

- Guard: the pinned, hash-checked `cdklabs-cdk-validator-cfnguard` wheel is downloaded with pip on
  first use; its cfn-guard binary and Control Tower rules are extracted into .cache/cfnguard/. The
  plugin class itself is not used (it would run on every synth).
- checkov: its own virtualenv in .cache/checkov/ (its pins are not the kit's), made on first use
  from tools/checkov/requirements.txt.
"""

from __future__ import annotations

import json
import platform
import re
import shutil
import subprocess
import sys
import tarfile
import zipfile
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from stacks.shared.build_cache import build_once
from support.paths import REPO_ROOT

CACHE_DIR = REPO_ROOT / ".cache"
GUARD_PACKAGE_VERSION = "0.0.62"
# sha256 of cdklabs_cdk_validator_cfnguard-0.0.62-py3-none-any.whl on PyPI: pip refuses any other file.
GUARD_WHEEL_SHA256 = "83c9c9a086de47637611f414ca90200db97e7b8cd3c4a69475b5f81034bd4b45"
CHECKOV_REQUIREMENTS = REPO_ROOT / "tools" / "checkov" / "requirements.txt"
_GUARD_ARCH = {"x86_64": "x86_64", "amd64": "x86_64", "aarch64": "aarch64", "arm64": "aarch64"}
GUARD = "control-tower"
CHECKOV = "checkov"


class RuleSetError(RuntimeError):
    """A rule set could not be fetched or run."""


@dataclass(frozen=True, order=True)
class Finding:
    """One failed rule on one resource: `path` is its construct path under the stack."""

    tool: str
    rule: str
    stack: str
    path: str


def _pip_download(requirement: str, destination: Path) -> None:
    spec = destination / "requirement.txt"
    spec.write_text(requirement + "\n")
    download = subprocess.run(
        [sys.executable, "-m", "pip", "download", "--quiet", "--no-deps", "--only-binary=:all:",
         "--require-hashes", "--requirement", str(spec), "--dest", str(destination)],
        capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    if download.returncode != 0:
        raise RuleSetError(f"pip could not download {requirement}: {download.stderr.strip()}")


def guard_bundle(cache_dir: Path = CACHE_DIR / "cfnguard") -> tuple[Path, Path]:
    """(cfn-guard binary, Control Tower rules folder) of the pinned package, fetched on first use."""
    system = "ubuntu" if sys.platform.startswith("linux") else "macos" if sys.platform == "darwin" else None
    arch = _GUARD_ARCH.get(platform.machine().lower())
    if system is None or arch is None:
        raise RuleSetError(f"cdk-validator-cfnguard ships no cfn-guard for {sys.platform}/{platform.machine()}")

    def fetch(staging: Path) -> None:
        downloads = staging.with_suffix(".downloads")
        shutil.rmtree(downloads, ignore_errors=True)
        downloads.mkdir(parents=True)
        try:
            _pip_download(
                f"cdklabs-cdk-validator-cfnguard=={GUARD_PACKAGE_VERSION} --hash=sha256:{GUARD_WHEEL_SHA256}", downloads
            )
            wheel = downloads / f"cdklabs_cdk_validator_cfnguard-{GUARD_PACKAGE_VERSION}-py3-none-any.whl"
            member = f"cdklabs/cdk_validator_cfnguard/_jsii/cdk-validator-cfnguard@{GUARD_PACKAGE_VERSION}.jsii.tgz"
            with zipfile.ZipFile(wheel) as archive, archive.open(member) as tgz, tarfile.open(fileobj=tgz) as tar:
                wanted = [
                    m for m in tar.getmembers()
                    if m.name == f"package/bin/{system}/{arch}/cfn-guard"
                    or m.name.startswith("package/rules/control-tower/cfn-guard/")
                ]  # fmt: skip
                tar.extractall(downloads / "x", members=wanted, filter="data")
            staging.mkdir()
            shutil.move(downloads / "x" / "package" / "bin" / system / arch / "cfn-guard", staging / "cfn-guard")
            (staging / "cfn-guard").chmod(0o755)
            shutil.move(downloads / "x" / "package" / "rules" / "control-tower" / "cfn-guard", staging / "rules")
        finally:
            shutil.rmtree(downloads, ignore_errors=True)

    root = build_once(cache_dir / f"{GUARD_PACKAGE_VERSION}-{system}-{arch}", fetch)
    return root / "cfn-guard", root / "rules"


def checkov_python(cache_dir: Path = CACHE_DIR / "checkov") -> Path:
    """The python of checkov's own virtualenv, made on first use (about a minute)."""
    pins = CHECKOV_REQUIREMENTS.read_text()
    version = re.search(r"^checkov==(\S+)$", pins, re.MULTILINE)
    if version is None:
        raise RuleSetError(f"{CHECKOV_REQUIREMENTS} must pin checkov==VERSION")

    def build(staging: Path) -> None:
        subprocess.run([sys.executable, "-m", "venv", str(staging)], check=True, timeout=120)
        install = subprocess.run(
            [str(staging / "bin" / "python"), "-m", "pip", "install", "--quiet", "--requirement",
             str(CHECKOV_REQUIREMENTS)],
            capture_output=True, text=True, timeout=900, check=False,
        )  # fmt: skip
        if install.returncode != 0:
            raise RuleSetError(f"could not install checkov: {install.stderr.strip()[-2000:]}")

    # The venv's python finds its packages relative to itself, so the renamed folder works.
    return build_once(cache_dir / version.group(1), build) / "bin" / "python"


def construct_paths(outdir: Path) -> dict[tuple[str, str], str]:
    """(stack, logical id) -> construct path under the stack, from the assembly's metadata files."""
    paths = {}
    for metadata in outdir.glob("*.metadata.json"):
        stack = metadata.name.removesuffix(".metadata.json")
        for path, entries in json.loads(metadata.read_text()).items():
            for entry in entries:
                if entry["type"] == "aws:cdk:logicalId":
                    paths[(stack, str(entry["data"]))] = path.removeprefix(f"/{stack}/")
    return paths


def _templates(outdirs: Iterable[Path]) -> dict[Path, Path]:
    """Template file -> its assembly folder. Only the templates: the asset folders hold bundled code
    that no rule is about (Guard given a whole cdk.out reads every file for minutes)."""
    templates = {
        template.resolve(): outdir for outdir in outdirs for template in sorted(outdir.glob("*.template.json"))
    }
    if not templates:
        raise RuleSetError(f"no templates in {list(outdirs)}")
    return templates


def _finding(tool: str, rule: str, template: Path, logical_id: str, paths: dict[Path, dict[tuple[str, str], str]],
             outdir: Path) -> Finding:  # fmt: skip
    stack = template.name.removesuffix(".template.json")
    return Finding(tool, rule, stack, paths[outdir].get((stack, logical_id), logical_id))


def run_guard(outdirs: Iterable[Path]) -> dict[Path, set[Finding]]:
    """Per assembly folder, every Control Tower rule that fails on a resource of its templates."""
    binary, rules = guard_bundle()
    templates = _templates(outdirs)
    paths = {outdir: construct_paths(outdir) for outdir in set(templates.values())}
    result = subprocess.run(
        [str(binary), "validate", *(a for t in templates for a in ("--data", str(t))), "--rules", str(rules),
         "--output-format", "json", "--structured", "--show-summary", "none"],
        capture_output=True, text=True, timeout=600, check=False,
    )  # fmt: skip
    # 0: all pass, 19: some rule failed; anything else is Guard's own error.
    if result.returncode not in (0, 19):
        raise RuleSetError(f"cfn-guard exited {result.returncode}: {result.stderr[-2000:]}")
    findings: dict[Path, set[Finding]] = {outdir: set() for outdir in paths}
    for document in json.loads(result.stdout):
        template = Path(document["name"]).resolve()
        outdir = templates[template]
        for rule in document.get("not_compliant", []):
            # A failed clause names the resource it traversed: /Resources/<logical id>/...
            for logical_id in set(re.findall(r'"/Resources/([^/"]+)', json.dumps(rule))):
                findings[outdir].add(_finding(GUARD, rule["Rule"]["name"], template, logical_id, paths, outdir))
    return findings


def run_checkov(outdirs: Iterable[Path]) -> dict[Path, set[Finding]]:
    """Per assembly folder, every checkov check that fails on a resource of its templates."""
    templates = _templates(outdirs)
    paths = {outdir: construct_paths(outdir) for outdir in set(templates.values())}
    result = subprocess.run(
        [str(checkov_python()), "-m", "checkov.main", *(a for t in templates for a in ("--file", str(t))),
         "--framework", "cloudformation", "--output", "json", "--quiet", "--compact", "--skip-download"],
        capture_output=True, text=True, timeout=600, check=False,
    )  # fmt: skip
    # 0: no failed check, 1: some failed; anything else is checkov's own error.
    if result.returncode not in (0, 1):
        raise RuleSetError(f"checkov exited {result.returncode}: {result.stderr[-2000:]}")
    reports = json.loads(result.stdout) if result.stdout.strip() else []
    findings: dict[Path, set[Finding]] = {outdir: set() for outdir in paths}
    for report in reports if isinstance(reports, list) else [reports]:
        for check in report.get("results", {}).get("failed_checks", []):
            template = Path(check["file_abs_path"]).resolve()
            outdir = templates[template]
            logical_id = str(check["resource"]).split(".", 1)[1]
            findings[outdir].add(_finding(CHECKOV, check["check_id"], template, logical_id, paths, outdir))
    return findings
