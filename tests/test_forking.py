"""The forking commands: `make rename APP=...`, `make remove-workload NAME=...` (and `make workload
NAME=...`, tests/test_new_workload.py), each run in a copy of the repository.

The fast tier checks what makes the commands safe on this tree: every workload can be removed
without leaving a mention behind, the shared docs' markers are well formed, nothing outside a
workload spells the app's name, and a bad name changes nothing. The slow tier runs the matrix: each
workload removed alone, all but one removed, and a fork renamed to a name with digits, with two
workloads removed and one stamped, whose lint and fast tier must pass without a hand edit.
"""

from __future__ import annotations

import ast
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from stacks.github_deploy import STACK_KEY as GITHUB_STACK_KEY
from stacks.settings.common import APP_NAME
from stacks.workloads import KEYS, WORKLOADS
from support.repo_copy import copy_repository
from tests.conftest import REPO_ROOT
from tools.remove_workload import RemoveError, plan
from tools.workload_files import tracked_files

MARKER = re.compile(r"<!-- (/?)workload:([a-z0-9-]+) -->")
# Code outside a workload names the app through APP_NAME; these spell it on purpose (the rename
# tool's own patterns) or are generated from the code (snapshots).
SPELLING_ALLOWED = ("tools/rename_app.py", "tools/workload_files.py", "tools/workload_template/")
SPELLING_CHECKED = ("tests", "local", "bench", "support", "tools")


def _run(
    command: list[str], cwd: Path, timeout: int = 900, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(command, cwd=cwd, capture_output=True, text=True, timeout=timeout, check=False, env=env)


def _make(copy: Path, *arguments: str) -> subprocess.CompletedProcess[str]:
    environment = {k: v for k, v in os.environ.items() if not k.startswith(("MAKE", "MFLAGS"))}
    return _run(["make", "--no-print-directory", *arguments], copy, env=environment)


@pytest.fixture
def copy(tmp_path: Path) -> Path:
    """A copy of the repository with this venv linked in, so that its make targets run on it."""
    copied = copy_repository(tmp_path / "kit")
    os.symlink(REPO_ROOT / ".venv", copied / ".venv")
    return copied


# --- fast: this tree is ready for the commands --------------------------------------------------


@pytest.mark.parametrize("key", KEYS)
def test_each_workload_can_be_removed_without_leaving_a_mention(key: str) -> None:
    if len(KEYS) == 1:
        pytest.skip("the only workload cannot be removed (stamp another first)")
    doomed, rewrites, _ = plan(REPO_ROOT, key)  # raises, listing each leftover, if one would stay
    assert doomed, f"{key}: the command would delete none of its files"
    assert Path("stacks/workloads.py") in rewrites and Path("cdk.json") in rewrites


def test_the_workload_markers_in_the_docs_are_well_formed_and_name_registered_workloads() -> None:
    problems = []
    for path in [p for p in tracked_files() if p.suffix == ".md"]:
        open_block = None
        for number, line in enumerate((REPO_ROOT / path).read_text().splitlines(), 1):
            for match in MARKER.finditer(line):
                closing, key = match.groups()
                where = f"{path}:{number}"
                if key not in KEYS:
                    problems.append(f"{where}: {key!r} is not a registered workload")
                alone = line.strip() == match.group(0)
                if closing:
                    if open_block != key or not alone:
                        problems.append(f"{where}: a closing marker must close {open_block!r} on a line of its own")
                    open_block = None
                elif alone:
                    if open_block:
                        problems.append(f"{where}: block {open_block!r} is still open")
                    open_block = key
                elif not line.rstrip().endswith(match.group(0)):
                    problems.append(f"{where}: a one-line marker ends its line")
        if open_block:
            problems.append(f"{path}: block {open_block!r} never closes")
    assert problems == []


def _string_values(tree: ast.AST) -> list[ast.Constant]:
    """The string constants of the code, docstrings left out (they may show an example name)."""
    docstrings = {
        id(node.body[0].value)
        for node in ast.walk(tree)
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef)
        and node.body
        and isinstance(node.body[0], ast.Expr)
        and isinstance(node.body[0].value, ast.Constant)
    }
    return [
        node
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in docstrings
    ]


def test_tests_and_tools_take_the_app_name_from_app_name() -> None:
    spelled = re.compile(rf"(?<![A-Za-z0-9])({APP_NAME}-|/{APP_NAME}/|{APP_NAME}$)")
    found = []
    for path in tracked_files():
        if (
            path.suffix != ".py"
            or path.as_posix().startswith(SPELLING_ALLOWED)
            or path.parts[0] not in SPELLING_CHECKED
        ):
            continue
        for node in _string_values(ast.parse((REPO_ROOT / path).read_text())):
            if spelled.search(str(node.value)):
                found.append(f"{path}:{node.lineno}: {str(node.value)[:80]!r}")
    assert found == [], "take the name from stacks.settings.common.APP_NAME:\n" + "\n".join(found)


def test_a_bad_name_or_an_unknown_workload_changes_nothing(copy: Path) -> None:
    before = {p: (copy / p).read_bytes() for p in tracked_files(copy)}
    for arguments, message in (
        (("rename", "APP=Acme"), "2 to 10 lowercase letters or digits"),
        (("rename", "APP=9lives"), "a letter first"),
        (("rename", f"APP={APP_NAME}"), "already called"),
        (("remove-workload", "NAME=no-such-workload"), "no workload 'no-such-workload'"),
    ):
        result = _make(copy, *arguments)
        assert result.returncode != 0 and message in result.stderr, (arguments, result.stderr[-2000:])
    assert {p: (copy / p).read_bytes() for p in tracked_files(copy)} == before


def test_the_last_workload_cannot_be_removed() -> None:
    registry = "\n".join(f'    Workload("{key}", X, y),' for key in KEYS[:1])
    from tools.remove_workload import registered_keys

    assert registered_keys(registry) == list(KEYS[:1])
    if len(KEYS) == 1:
        with pytest.raises(RemoveError, match="only workload left"):
            plan(REPO_ROOT, KEYS[0])


# --- slow: the matrix, in copies ---------------------------------------------------------------


def _synthesizes_exactly(copy: Path, outdir: Path, keys: list[str], app: str = APP_NAME) -> None:
    # `app.py` as the CLI starts it: the copy's cdk.json context arrives in CDK_CONTEXT_JSON.
    context = json.loads((copy / "cdk.json").read_text())["context"]
    environment = {**os.environ, "CDK_OUTDIR": str(outdir), "CDK_CONTEXT_JSON": json.dumps(context)}
    result = _run([sys.executable, "app.py"], copy, env=environment)
    assert result.returncode == 0, result.stderr[-3000:]
    stage = json.loads((copy / "cdk.json").read_text())["context"]["kit"]["stage"]
    # The workloads' stacks, and the deploy identity's (per account: no stage in its name).
    assert sorted(p.name for p in outdir.glob("*.template.json")) == sorted(
        [*(f"{app}-{stage}-{key}.template.json" for key in keys), f"{app}-{GITHUB_STACK_KEY}.template.json"]
    )


def _lints_and_collects(copy: Path) -> None:
    for command in (["ruff", "check", "."], ["ruff", "format", "--check", "."]):
        result = _run([sys.executable, "-m", *command], copy)
        assert result.returncode == 0, result.stdout[-3000:]
    collected = _run([sys.executable, "-m", "pytest", "--collect-only", "-q", "-p", "no:cacheprovider"], copy)
    assert collected.returncode == 0, collected.stdout[-3000:] + collected.stderr[-2000:]


@pytest.mark.slow
@pytest.mark.parametrize("key", KEYS)
def test_removing_one_workload_leaves_a_kit_that_synthesizes_lints_and_collects(
    copy: Path, tmp_path: Path, key: str
) -> None:
    if len(KEYS) == 1:
        pytest.skip("the only workload cannot be removed")
    result = _make(copy, "remove-workload", f"NAME={key}")
    assert result.returncode == 0, result.stdout + result.stderr
    entry = next(w for w in WORKLOADS if w.key == key)
    assert not (copy / "stacks" / entry.python_name).exists() and not (copy / "docs" / f"{key}.md").exists()
    _synthesizes_exactly(copy, tmp_path / "cdk.out", [k for k in KEYS if k != key])
    _lints_and_collects(copy)


@pytest.mark.slow
def test_all_but_one_workload_removed_the_kit_wide_tests_pass(copy: Path, tmp_path: Path) -> None:
    if len(KEYS) == 1:
        pytest.skip("nothing to remove")
    kept = KEYS[0]
    for key in KEYS[1:]:
        result = _make(copy, "remove-workload", f"NAME={key}")
        assert result.returncode == 0, result.stdout + result.stderr
    _synthesizes_exactly(copy, tmp_path / "cdk.out", [kept])
    _lints_and_collects(copy)
    kit_wide = sorted(str(p.relative_to(copy)) for p in (copy / "tests").glob("test_*.py"))
    result = _run(
        [sys.executable, "-m", "pytest", "-n", "2", "-q", "-p", "no:cacheprovider", "-m", "not slow",
         *kit_wide, "tests/permissions"],
        copy,
        timeout=1500,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout[-6000:] + result.stderr[-2000:]


# A name with a digit, other than the kit's own (spelled from it: no test spells the app's name).
FORK_APP = APP_NAME[:8] + "x2"
FORK_WORKLOAD = "order-intake2"


@pytest.mark.slow
def test_a_renamed_fork_with_two_samples_removed_and_one_stamped_is_green(copy: Path, tmp_path: Path) -> None:
    """What a forking team does on its first day, with no hand edit: lint and the fast tier pass."""
    renamed = _make(copy, "rename", f"APP={FORK_APP}")
    assert renamed.returncode == 0, renamed.stdout + renamed.stderr
    removed = KEYS[-2:] if len(KEYS) > 2 else KEYS[1:]
    for key in removed:
        result = _make(copy, "remove-workload", f"NAME={key}")
        assert result.returncode == 0, result.stdout + result.stderr
    stamped = _make(copy, "workload", f"NAME={FORK_WORKLOAD}")
    assert stamped.returncode == 0, stamped.stdout + stamped.stderr
    left = _run(["git", "grep", "--untracked", "-n", "-i", "-w", APP_NAME], copy)
    assert left.stdout == "", f"the old name is still spelled:\n{left.stdout[:3000]}"
    _synthesizes_exactly(
        copy, tmp_path / "cdk.out", [k for k in KEYS if k not in removed] + [FORK_WORKLOAD], app=FORK_APP
    )
    linted = _make(copy, "lint")
    assert linted.returncode == 0, linted.stdout[-5000:] + linted.stderr[-2000:]
    tested = _run(
        [sys.executable, "-m", "pytest", "-n", "2", "-q", "-p", "no:cacheprovider", "-m", "not slow"],
        copy,
        timeout=1800,
    )
    assert tested.returncode == 0, tested.stdout[-8000:] + tested.stderr[-2000:]
