"""The commands README.md and docs/*.md show work as written, from a fresh shell after `make test`.

Commands are read from the text (fenced bash blocks and inline code that starts with a command), so
the test follows the docs. Each is sorted into one kind; a command of no known kind fails the test,
so a new one gets a decision. Those that need no account run in a shell with a minimal PATH (no
venv, no jsii setting) and the suite's clean environment; the rest are checked for what can be
checked without AWS.
"""

from __future__ import annotations

import json
import re
import shlex
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.hermetic import REPO_ROOT, clean_environment
from tests.test_bench import BENCHMARKS

DOCUMENTS = [REPO_ROOT / "README.md", *sorted((REPO_ROOT / "docs").glob("*.md"))]
# What a fresh login shell has: the system's tools, Node and npm, no virtualenv.
FRESH_PATH = "/usr/local/bin:/usr/bin:/bin"
FENCED_BASH = re.compile(r"^```(?:bash|sh)\n(.*?)^```", re.MULTILINE | re.DOTALL)
INLINE_CODE = re.compile(r"`([^`\n]+)`")
COMMAND_START = re.compile(r"^(?:[A-Z_]+=\S+ )*(?:make|\./cdk|\.venv/bin/python|npx|aws|pyenv)(?: |$)")


@dataclass(frozen=True)
class Command:
    text: str
    where: str

    @property
    def kind(self) -> str:
        if re.fullmatch(r"[^\s=]+", self.text) or "..." in self.text:
            return "names a program"  # prose about it (`./cdk`, `.venv/bin/python -m ...`), not a command
        if "$" in self.text or re.search(r"(^|[ ({])aws ", self.text):
            return "needs a deployed stack"  # outputs of a deployed stack, or the AWS CLI itself
        words = shlex.split(self.text)
        programs = [word for word in words if not re.match(r"^[A-Z_]+=", word)]
        if not programs:
            return "sets a shell variable"  # for the commands after it, which need a deployed stack
        program = programs[0]
        rest = words[words.index(program) + 1 :]
        if program == "./cdk":
            if rest[:1] == ["synth"]:
                return "runs"
            if rest[:1] == ["--version"]:
                return "runs"
            if rest[:1] and rest[0] in {"bootstrap", "deploy", "destroy", "diff"}:
                return "needs an account"
        if program == "make":
            target, variables = rest[:1], rest[1:]
            if target == ["synth"]:
                return "runs"
            if target == ["cost"] and all(re.match(r"^[A-Z_]+=", v) for v in variables):
                return "prices the settings"  # tools/cost.py; the plain form runs in a fresh shell below
            if target == ["clean"] and not variables:
                return "removes caches"  # would slow the suite's next run; nothing to check
            if target in (["test"], ["check"], ["rule-sets"], ["bench"]) and all(
                re.match(r"^[A-Z_]+=", v) for v in variables
            ):
                return "is the suite or the bench"
            if target and target[0].endswith("-local"):
                return "deploys into a local emulator"  # minutes; tests/deploy_local runs it
            if target == ["workload"] and len(variables) == 1 and variables[0].startswith("NAME="):
                return "stamps a workload"  # would change the repository; tests/test_new_workload.py runs it in a copy
        if program == ".venv/bin/python":
            if rest[:2] == ["-m", "pytest"]:
                return "is the suite or the bench"
            if rest[:1] and rest[0].startswith("bench/"):
                return "is the suite or the bench"
        if program == "pyenv":
            return "installs Python"
        return "unknown"


def _logical_lines(block: str) -> list[str]:
    lines, pending = [], ""
    for raw in block.splitlines():
        line = raw.rstrip()
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        line = (pending + line).strip()
        pending = ""
        if line and not line.startswith("#"):
            lines.append(re.sub(r"\s+#\s.*$", "", line))
    return lines


def documented_commands() -> list[Command]:
    found: dict[str, Command] = {}
    for document in DOCUMENTS:
        text = document.read_text()
        name = document.relative_to(REPO_ROOT).as_posix()
        for block in FENCED_BASH.findall(text):
            for line in _logical_lines(block):
                found.setdefault(line, Command(line, name))
        prose = FENCED_BASH.sub("", text)
        for code in INLINE_CODE.findall(prose):
            if COMMAND_START.match(code):
                found.setdefault(code, Command(code, name))
    return list(found.values())


COMMANDS = documented_commands()


def _ids(command: Command) -> str:
    return command.text[:60]


def test_the_docs_show_commands_of_every_kind() -> None:
    kinds = {command.kind for command in COMMANDS}
    assert {"runs", "needs an account", "needs a deployed stack", "is the suite or the bench"} <= kinds


@pytest.mark.parametrize("command", COMMANDS, ids=_ids)
def test_every_documented_command_has_a_known_kind(command: Command) -> None:
    assert command.kind != "unknown", (
        f"{command.where}: decide how tests/test_readme_commands.py checks {command.text!r}"
    )


def _fresh_shell(command: str, cdk_home: Path, timeout: float = 900) -> subprocess.CompletedProcess[str]:
    environment = clean_environment(cdk_home=cdk_home, path=FRESH_PATH)
    del environment["JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION"]  # ./cdk and make set it themselves
    # Under `make test` these say "you are a sub-make", and make would announce its directory.
    for name in ("MAKEFLAGS", "MAKELEVEL", "MFLAGS", "MAKEOVERRIDES"):
        environment.pop(name, None)
    return subprocess.run(
        ["bash", "-c", command], cwd=REPO_ROOT, env=environment, capture_output=True, text=True, timeout=timeout
    )


def _stage(command: str) -> str:
    match = re.search(r"kit\.stage=([a-z0-9-]+)", command)
    return match.group(1) if match else "dev"


@pytest.mark.slow  # `make synth` in a fresh shell, once per documented form
def test_the_make_synth_commands_print_what_they_made_and_leave_only_it(tmp_path: Path, cdk_home: Path) -> None:
    # All into one output folder, in the order the docs show them: a later stage must not find the
    # templates of an earlier one there. OUTDIR keeps the repository's own cdk.out untouched.
    make_synths = [c.text for c in COMMANDS if c.kind == "runs" and c.text.startswith("make synth")]
    assert "make synth" in make_synths and any("kit.stage=prod" in c for c in make_synths)
    outdir = tmp_path / "cdk.out"
    for command in make_synths:
        result = _fresh_shell(f"{command} OUTDIR={outdir}", cdk_home)
        assert result.returncode == 0, result.stdout + result.stderr
        templates = sorted(outdir.glob("*.template.json"))
        assert templates and {t.name.split("-")[1] for t in templates} == {_stage(command)}
        assert (result.stdout + result.stderr).splitlines() == [
            f"Templates in {outdir}/:",
            *(f"  {outdir}/{t.name}" for t in templates),
            f"cdk-nag report: {outdir}/validation-report.json",
        ]
        assets = {p.name for p in outdir.glob("asset.*")}
        used = {name for name in assets if any(name in p.read_text() for p in outdir.glob("*.assets.json"))}
        assert assets and assets == used


@pytest.mark.slow  # the CDK CLI in a fresh shell, once per documented command
@pytest.mark.parametrize("command", [c for c in COMMANDS if c.kind == "runs" and c.text.startswith("./cdk")], ids=_ids)
def test_the_cdk_wrapper_commands_work_from_a_fresh_shell(command: Command, tmp_path: Path, cdk_home: Path) -> None:
    text = command.text + (f" --quiet --output {tmp_path}" if " synth" in command.text else "")
    result = _fresh_shell(text, cdk_home)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "end-of-life" not in result.stdout + result.stderr
    if " synth" in command.text:
        assert {t.name.split("-")[1] for t in tmp_path.glob("*.template.json")} == {_stage(command.text)}


@pytest.mark.parametrize("command", [c for c in COMMANDS if c.kind == "is the suite or the bench"], ids=_ids)
def test_the_suite_and_bench_commands_name_what_exists(command: Command) -> None:
    # Running them here would run the suite inside itself, or a benchmark for minutes; their smoke
    # modes run in tests/test_bench.py. What they name must exist.
    words = shlex.split(command.text)
    if words[:2] == [".venv/bin/python", "-m"]:
        paths = [word for word in words[3:] if word.startswith("tests")]
        assert paths and all((REPO_ROOT / path).exists() for path in paths)
    elif words[0] == ".venv/bin/python":
        assert REPO_ROOT / words[1] in BENCHMARKS
    else:
        assert words[:2] in (["make", "test"], ["make", "check"], ["make", "rule-sets"], ["make", "bench"])


@pytest.mark.parametrize("command", [c for c in COMMANDS if c.kind == "deploys into a local emulator"], ids=_ids)
def test_the_local_emulator_commands_are_make_targets(command: Command) -> None:
    target = next(word for word in shlex.split(command.text) if word.endswith("-local"))
    assert re.search(rf"^{re.escape(target)}:", (REPO_ROOT / "Makefile").read_text(), re.MULTILINE)
    assert (REPO_ROOT / "tests" / "deploy_local").is_dir()


@pytest.mark.parametrize("command", [c for c in COMMANDS if c.kind == "stamps a workload"], ids=_ids)
def test_the_workload_command_is_a_make_target_run_in_a_copy_by_the_suite(command: Command) -> None:
    assert re.search(r"^workload:", (REPO_ROOT / "Makefile").read_text(), re.MULTILINE)
    assert "tools/new_workload.py" in (REPO_ROOT / "tests" / "test_new_workload.py").read_text()


@pytest.mark.parametrize("command", COMMANDS, ids=_ids)
def test_the_stacks_and_settings_a_command_names_exist(command: Command, cli_synth: Path) -> None:
    # What cannot run here (deploys, the AWS CLI) can still name nothing that does not exist.
    stacks = {path.name.removesuffix(".template.json") for path in cli_synth.glob("*.template.json")}
    assert set(re.findall(r"\blwk-dev-[a-z-]*[a-z]", command.text)) <= stacks
    context = json.loads((REPO_ROOT / "cdk.json").read_text())["context"]
    for key in re.findall(r"-c (kit\.[A-Za-z.]+)=", command.text):
        node = context
        for part in key.split("."):
            assert isinstance(node, dict) and part in node, f"{command.where}: {key} is not a setting"
            node = node[part]


@pytest.mark.slow  # `make cost` in a fresh shell: an in-process synth, no AWS call
def test_make_cost_prints_a_table_per_workload_from_a_fresh_shell(cdk_home: Path) -> None:
    from stacks.workloads import KEYS

    assert any(c.text == "make cost" for c in COMMANDS if c.kind == "prices the settings")
    result = _fresh_shell("make cost", cdk_home)
    assert result.returncode == 0, result.stdout + result.stderr
    for key in KEYS:
        assert f"Monthly cost of `{key}`" in result.stdout
