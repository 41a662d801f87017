"""`make workload NAME=...` in a copy of this tree: the stamped workload synthesizes with no open
cdk-nag finding, and its own tests, the snapshot test and the app-wide checks pass straight away."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from stacks.settings.common import APP_NAME
from support.repo_copy import copy_repository
from tests.conftest import REPO_ROOT

# A copy of the tree, a stamped workload and its own synths and tests: minutes, so the slow tier.
pytestmark = pytest.mark.slow

NAME = "fork-trial"


def _run(command: list[str], cwd: Path, timeout: int = 600) -> subprocess.CompletedProcess[str]:
    return subprocess.run(command, cwd=cwd, capture_output=True, text=True, timeout=timeout, check=False)


@pytest.fixture(scope="module")
def fork(tmp_path_factory: pytest.TempPathFactory) -> Path:
    copy = copy_repository(tmp_path_factory.mktemp("fork") / "kit")
    stamped = _run([sys.executable, "tools/new_workload.py", NAME], copy)
    assert stamped.returncode == 0, stamped.stdout + stamped.stderr
    return copy


def test_the_stamped_workload_is_registered_once(fork: Path) -> None:
    registry = (fork / "stacks" / "workloads.py").read_text()
    assert registry.count('Workload("fork-trial", ForkTrialStack, read_fork_trial)') == 1
    assert json.loads((fork / "cdk.json").read_text())["context"]["kit"]["forkTrial"]["batchSize"] == 10
    for path in (
        "stacks/fork_trial/stack.py",
        f"lambdas/fork_trial/{APP_NAME}_fork_trial/contract.py",
        "lambdas/fork_trial/requirements.txt",
        "tests/fork_trial/test_handlers.py",
        "docs/fork-trial.md",
        "tests/__snapshots__/test_snapshots/test_stack_matches_snapshot[fork-trial].json",
    ):
        assert (fork / path).is_file(), path


def test_the_same_name_twice_or_a_bad_name_changes_nothing(fork: Path) -> None:
    before = (fork / "stacks" / "workloads.py").read_text()
    again = _run([sys.executable, "tools/new_workload.py", NAME], fork)
    assert again.returncode == 2 and "already registered" in again.stderr
    bad = _run([sys.executable, "tools/new_workload.py", "Order_Intake"], fork)
    assert bad.returncode == 2 and "kebab case" in bad.stderr
    assert (fork / "stacks" / "workloads.py").read_text() == before


@pytest.mark.parametrize("profile", ["default", "hardened"])
def test_cdk_synth_of_the_fork_leaves_no_finding_open(fork: Path, tmp_path: Path, profile: str) -> None:
    command = [
        "npx",
        "--no-install",
        "cdk",
        "synth",
        "--quiet",
        "--output",
        str(tmp_path),
        "-c",
        f"kit.profile={profile}",
    ]
    result = _run(command, fork)
    report = json.loads((tmp_path / "validation-report.json").read_text())
    open_findings = [
        (construct["constructPath"], violation["ruleName"])
        for plugin in report["pluginReports"]
        for violation in plugin["violations"]
        for construct in violation["violatingConstructs"]
    ]
    assert (tmp_path / f"{APP_NAME}-dev-fork-trial.template.json").is_file()
    # The stamped workload adds none, and neither profile leaves one open in the kit's own stacks.
    assert [f for f in open_findings if f[0].startswith(f"{APP_NAME}-dev-fork-trial/")] == []
    assert result.returncode == 0 and open_findings == [], result.stderr[-5000:]


def test_the_fork_s_tests_pass(fork: Path) -> None:
    result = _run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-n",
            "0",
            "-q",
            "-rA",
            "-p",
            "no:cacheprovider",
            "tests/fork_trial",
            "tests/test_snapshots.py",
            "tests/test_workloads.py",
            "tests/test_docs.py",
            "tests/test_app.py",
            "tests/test_shared_constructs.py",
            "tests/test_dashboards.py",
            "tests/test_runbooks.py",
        ],
        fork,
    )
    assert result.returncode == 0, result.stdout[-5000:] + result.stderr[-2000:]
    for test_file in ("test_handlers.py", "test_logic.py", "test_stack.py"):
        assert f"PASSED tests/fork_trial/{test_file}" in result.stdout, test_file


def test_the_stamped_code_passes_ruff_and_mypy(fork: Path) -> None:
    stamped = ["stacks/fork_trial", "lambdas/fork_trial", "tests/fork_trial", "stacks/workloads.py"]
    for command in (["check"], ["format", "--check"]):
        result = _run([sys.executable, "-m", "ruff", *command, *stamped], fork)
        assert result.returncode == 0, result.stdout + result.stderr
    # mypy over the whole fork (make lint's command), starting from this tree's cache where there is one.
    if (REPO_ROOT / ".mypy_cache").is_dir():
        shutil.copytree(REPO_ROOT / ".mypy_cache", fork / ".mypy_cache", dirs_exist_ok=True)
    result = _run([sys.executable, "tools/typecheck.py"], fork, timeout=1200)
    assert result.returncode == 0, result.stdout[-5000:] + result.stderr[-2000:]
    assert "Success: no issues found" in result.stdout
