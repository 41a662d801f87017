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
from fnmatch import fnmatchcase
from pathlib import Path

import pytest

from stacks.kit_app import identity_stack_name
from stacks.settings.common import APP_NAME
from tests.hermetic import REPO_ROOT, clean_environment
from tests.test_bench import BENCHMARKS

DOCUMENTS = [REPO_ROOT / "README.md", *sorted((REPO_ROOT / "docs").glob("*.md"))]
# What a fresh login shell has: the system's tools, Node and npm, no virtualenv.
FRESH_PATH = "/usr/local/bin:/usr/bin:/bin"
FENCED_BASH = re.compile(r"^```(?:bash|sh)\n(.*?)^```", re.MULTILINE | re.DOTALL)
INLINE_CODE = re.compile(r"`([^`\n]+)`")
COMMAND_START = re.compile(r"^(?:[A-Z_]+=\S+ )*(?:make|\./cdk|\.venv/bin/python|npx|aws|pyenv)(?: |$)")
# The commands that change the repository, each with its one variable: run in a copy by the suite.
FORKING_COMMANDS: dict[tuple[str, ...], str] = {("workload",): "NAME", ("remove-workload",): "NAME", ("rename",): "APP"}


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
            if target == ["diff"] and all(re.match(r"^(ARGS|OUTDIR)=", v) for v in variables):
                return "runs"  # without an account: the slow tier runs it after a synth
            if target in (["test"], ["check"], ["rule-sets"], ["bench"], ["lint"]) and all(
                re.match(r"^[A-Z_]+=", v) for v in variables
            ):
                return "is the suite or the bench"
            if target and target[0].endswith("-local"):
                return "deploys into a local emulator"  # minutes; tests/deploy_local runs it
            variable = FORKING_COMMANDS.get(tuple(target))
            if variable and len(variables) == 1 and variables[0].startswith(variable + "="):
                return "changes the repository"  # tests/test_forking.py runs each in a copy
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


def _stages(outdir: Path) -> set[str]:
    """The stages of the workload stacks synthesized into `outdir`, which also holds the deploy
    identity (per account, the same for every stage)."""
    templates = {t.name.removesuffix(".template.json") for t in outdir.glob("*.template.json")}
    assert identity_stack_name() in templates, templates
    return {name.split("-")[1] for name in templates - {identity_stack_name()}}


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
        assert templates and _stages(outdir) == {_stage(command)}
        assert (result.stdout + result.stderr).splitlines() == [
            f"Templates in {outdir}/:",
            *(f"  {outdir}/{t.name}" for t in templates),
            f"cdk-nag report: {outdir}/validation-report.json",
        ]
        assets = {p.name for p in outdir.glob("asset.*")}
        used = {name for name in assets if any(name in p.read_text() for p in outdir.glob("*.assets.json"))}
        assert assets and assets == used


@pytest.mark.slow  # `make synth` and `make diff` in a fresh shell, with no account anywhere
def test_make_diff_compares_with_the_last_synth_without_an_account(tmp_path: Path, cdk_home: Path) -> None:
    assert "make diff" in [c.text for c in COMMANDS]
    outdir = tmp_path / "cdk.out"
    synth = _fresh_shell(f"make synth OUTDIR={outdir}", cdk_home)
    assert synth.returncode == 0, synth.stdout + synth.stderr
    same = _fresh_shell(f"make diff OUTDIR={outdir}", cdk_home)
    assert same.returncode == 0, same.stdout + same.stderr
    assert same.stdout.strip().endswith("Stacks with differences since the last make synth: 0"), same.stdout[-3000:]
    changed = _fresh_shell(f"make diff OUTDIR={outdir} ARGS='-c kit.logRetentionDays=90'", cdk_home)
    assert changed.returncode == 0, changed.stdout + changed.stderr
    assert "RetentionInDays" in changed.stdout and "since the last make synth: 0" not in changed.stdout
    assert "Unable to resolve AWS account" not in same.stdout + same.stderr + changed.stdout + changed.stderr


@pytest.mark.slow  # `make synth` twice in a fresh shell
def test_a_failed_make_synth_keeps_the_last_good_templates(tmp_path: Path, cdk_home: Path) -> None:
    outdir = tmp_path / "cdk.out"
    good = _fresh_shell(f"make synth OUTDIR={outdir}", cdk_home)
    assert good.returncode == 0, good.stdout + good.stderr
    before = {p.name: p.read_bytes() for p in outdir.glob("*.template.json")}
    bad = _fresh_shell(f"make synth OUTDIR={outdir} ARGS='-c kit.logRetentionDays=45'", cdk_home)
    assert bad.returncode != 0
    assert "Invalid kit settings: kit.logRetentionDays: 45 is not one of" in bad.stdout + bad.stderr
    assert "still holds the last good synth" in bad.stderr
    assert {p.name: p.read_bytes() for p in outdir.glob("*.template.json")} == before
    assert not Path(f"{outdir}.next").exists()


@pytest.mark.slow  # the CDK CLI in a fresh shell, once per documented command
@pytest.mark.parametrize("command", [c for c in COMMANDS if c.kind == "runs" and c.text.startswith("./cdk")], ids=_ids)
def test_the_cdk_wrapper_commands_work_from_a_fresh_shell(command: Command, tmp_path: Path, cdk_home: Path) -> None:
    text = command.text + (f" --quiet --output {tmp_path}" if " synth" in command.text else "")
    result = _fresh_shell(text, cdk_home)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "end-of-life" not in result.stdout + result.stderr
    if " synth" in command.text:
        assert _stages(tmp_path) == {_stage(command.text)}


@pytest.mark.parametrize("command", [c for c in COMMANDS if c.kind == "is the suite or the bench"], ids=_ids)
def test_the_suite_and_bench_commands_name_what_exists(command: Command) -> None:
    # Running them here would run the suite inside itself, or a benchmark for minutes; their smoke
    # modes run in tests/test_bench.py. What they name must exist.
    words = shlex.split(command.text)
    if words[:2] == [".venv/bin/python", "-m"]:
        paths = [word for word in words[3:] if word.startswith("tests")]
        # A path exists; a pattern (`tests/*/test_template.py`) names what a workload may have.
        assert paths and all("*" in path or (REPO_ROOT / path).exists() for path in paths)
    elif words[0] == ".venv/bin/python":
        assert REPO_ROOT / words[1] in BENCHMARKS
    else:
        assert words[:2] in (
            ["make", "test"],
            ["make", "check"],
            ["make", "rule-sets"],
            ["make", "bench"],
            ["make", "lint"],
        )


@pytest.mark.parametrize("command", [c for c in COMMANDS if c.kind == "deploys into a local emulator"], ids=_ids)
def test_the_local_emulator_commands_are_make_targets(command: Command) -> None:
    target = next(word for word in shlex.split(command.text) if word.endswith("-local"))
    assert re.search(rf"^{re.escape(target)}:", (REPO_ROOT / "Makefile").read_text(), re.MULTILINE)
    assert (REPO_ROOT / "tests" / "deploy_local").is_dir()


@pytest.mark.parametrize("command", [c for c in COMMANDS if c.kind == "changes the repository"], ids=_ids)
def test_the_forking_commands_are_make_targets_run_in_a_copy_by_the_suite(command: Command) -> None:
    target = shlex.split(command.text)[1]
    assert re.search(rf"^{re.escape(target)}:", (REPO_ROOT / "Makefile").read_text(), re.MULTILINE)
    assert f'_make(copy, "{target}"' in (REPO_ROOT / "tests" / "test_forking.py").read_text()


@pytest.mark.parametrize("command", COMMANDS, ids=_ids)
def test_the_stacks_and_settings_a_command_names_exist(command: Command, cli_synth: Path) -> None:
    # What cannot run here (deploys, the AWS CLI) can still name nothing that does not exist.
    stacks = {path.name.removesuffix(".template.json") for path in cli_synth.glob("*.template.json")}
    assert set(re.findall(rf"\b{APP_NAME}-dev-[a-z0-9-]*[a-z0-9]", command.text)) <= stacks
    # The deploy identity by name, and a stage's pattern ('<app>-dev-*') selects stacks that exist.
    assert set(re.findall(rf"\b{identity_stack_name()}\b", command.text)) <= stacks
    for pattern in re.findall(rf"'({APP_NAME}-dev-[^' ]*\*)'", command.text):
        assert any(fnmatchcase(stack, pattern) for stack in stacks), pattern
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
