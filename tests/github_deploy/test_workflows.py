"""The GitHub workflows: valid against GitHub's schema, clean under zizmor, and holding exactly the
permissions the table below names (a job that gains one fails here). actionlint does not install
offline (FIELD-NOTES); the schema, zizmor and the checks below stand in for it."""

from __future__ import annotations

import re
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from ruamel.yaml import YAML

from local.cli import workload_stacks
from stacks.kit_app import identity_stack_name
from tests.conftest import REPO_ROOT, cdk_json_context

WORKFLOWS = REPO_ROOT / ".github" / "workflows"
BIN = Path(REPO_ROOT / ".venv" / "bin")
# The workflows of the deploy pipeline (ci.yml is the test workflow, checked by tests/test_lint.py).
PIPELINE = ("pull-request.yml", "deploy.yml")
CREDENTIALS_ACTION = "aws-actions/configure-aws-credentials"

# Every job of every workflow and the permissions its GITHUB_TOKEN (and OIDC token) gets. A job not
# listed, or with a permission more or less, fails the test: widen this table deliberately.
PERMISSIONS: dict[tuple[str, str], dict[str, str]] = {
    ("ci.yml", "test-and-synth"): {"contents": "read"},
    ("pull-request.yml", "test"): {"contents": "read"},
    ("pull-request.yml", "diff"): {"contents": "read", "id-token": "write"},
    ("deploy.yml", "resolve"): {},
    ("deploy.yml", "integration-gate"): {"contents": "read"},
    ("deploy.yml", "deploy"): {"contents": "read", "id-token": "write"},
}


def _load(name: str) -> dict[str, Any]:
    workflow: dict[str, Any] = YAML(typ="safe").load((WORKFLOWS / name).read_text())
    return workflow


def _steps(name: str) -> Iterator[tuple[str, dict[str, Any]]]:
    for job_id, job in _load(name)["jobs"].items():
        for step in job.get("steps", []):
            yield job_id, step


def _run(command: list[str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(command, capture_output=True, text=True, cwd=REPO_ROOT, check=False, timeout=120)


def test_every_workflow_matches_githubs_schema() -> None:
    files = sorted(str(p) for p in WORKFLOWS.glob("*.yml"))
    assert len(files) >= 1 + len(PIPELINE)
    result = _run([str(BIN / "check-jsonschema"), "--builtin-schema", "vendor.github-workflows", *files])
    assert result.returncode == 0, result.stdout + result.stderr


def test_zizmor_finds_nothing_even_pedantic() -> None:
    result = _run([str(BIN / "zizmor"), "--offline", "--persona", "pedantic", *(str(WORKFLOWS / f) for f in PIPELINE)])
    assert result.returncode == 0, result.stdout + result.stderr
    assert "No findings" in result.stdout + result.stderr


def test_every_job_has_exactly_the_permissions_of_the_table() -> None:
    found = {}
    for path in sorted(WORKFLOWS.glob("*.yml")):
        workflow = _load(path.name)
        # An explicit workflow default: a job without its own block never gets the repository's.
        assert "permissions" in workflow, path.name
        for job_id, job in workflow["jobs"].items():
            found[(path.name, job_id)] = dict(job.get("permissions", workflow["permissions"]))
    assert found == PERMISSIONS


def test_only_jobs_that_assume_a_role_may_ask_for_an_oidc_token() -> None:
    for name in PIPELINE:
        for job_id, job in _load(name)["jobs"].items():
            assumes = any(step.get("uses", "").startswith(CREDENTIALS_ACTION) for step in job.get("steps", []))
            assert (job.get("permissions", {}).get("id-token") == "write") == assumes, (name, job_id)
            for step in job.get("steps", []):
                if step.get("uses", "").startswith(CREDENTIALS_ACTION):
                    # A role from OIDC, never keys.
                    assert set(step["with"]) <= {"role-to-assume", "aws-region", "role-session-name"}, step


def test_actions_are_pinned_to_commits_the_same_everywhere_and_checkouts_keep_no_credentials() -> None:
    pins: dict[str, set[str]] = {}
    for path in sorted(WORKFLOWS.glob("*.yml")):
        text = path.read_text()
        for action, sha, version in re.findall(r"uses: ([\w.-]+/[\w.-]+)@(\S+) # (v[0-9.]+)", text):
            assert re.fullmatch(r"[0-9a-f]{40}", sha), (path.name, action, sha)
            pins.setdefault(action, set()).add(f"{sha} {version}")
        assert text.count("uses: ") == len(re.findall(r"uses: \S+@[0-9a-f]{40} # v", text)), path.name
        for _, step in _steps(path.name):
            if step.get("uses", "").startswith("actions/checkout@"):
                assert step["with"]["persist-credentials"] is False, path.name
    assert {action: len(shas) for action, shas in pins.items()} == dict.fromkeys(pins, 1), pins
    assert CREDENTIALS_ACTION in pins


def test_no_expression_is_expanded_inside_a_script() -> None:
    # Values reach scripts through `env:` only: an expression in `run:` is a template injection.
    for name in PIPELINE:
        for job_id, step in _steps(name):
            assert "${{" not in step.get("run", ""), (name, job_id, step.get("name"))


def test_a_stage_is_deployed_only_after_the_same_commit_passed_the_local_deploy_and_e2e() -> None:
    jobs = _load("deploy.yml")["jobs"]
    gate, deploy = jobs["integration-gate"], jobs["deploy"]
    assert "integration-gate" in deploy["needs"]
    ref = "${{ needs.resolve.outputs.ref }}"
    checkouts = [s for s in (*gate["steps"], *deploy["steps"]) if s.get("uses", "").startswith("actions/checkout@")]
    assert [s["with"]["ref"] for s in checkouts] == [ref, ref]
    runs = [s.get("run") for s in gate["steps"]]
    assert runs.index("make deploy-local") < runs.index("make e2e-local")
    assert {"if": "always()", "run": "make destroy-local"}.items() <= gate["steps"][-1].items()


def test_deploys_go_through_the_stages_environment_one_at_a_time() -> None:
    deploy = _load("deploy.yml")["jobs"]["deploy"]
    assert deploy["environment"]["name"] == "${{ needs.resolve.outputs.stage }}"
    assert deploy["concurrency"] == {"group": "deploy-${{ needs.resolve.outputs.stage }}", "cancel-in-progress": False}
    (command,) = [s["run"] for s in deploy["steps"] if "cdk deploy" in s.get("run", "")]
    # The stage's workload stacks, the same selection as the local deploy; never the deploy identity.
    assert f'"{workload_stacks(["kit.stage=$STAGE"])}"' in command and identity_stack_name() not in command


def test_the_workflows_know_the_stages_cdk_json_makes_roles_for() -> None:
    stages = cdk_json_context()["kit"]["github"]["stages"]
    assert _load("pull-request.yml")["jobs"]["diff"]["strategy"]["matrix"]["stage"] == stages
    assert _load("deploy.yml")["on"]["workflow_dispatch"]["inputs"]["stage"]["options"] == stages


def test_the_pull_request_diff_is_read_only_and_skips_forks() -> None:
    diff = _load("pull-request.yml")["jobs"]["diff"]
    assert "github.event.pull_request.head.repo.full_name == github.repository" in diff["if"]
    (script,) = [s["run"] for s in diff["steps"] if "cdk diff" in s.get("run", "")]
    # --method template: the lookup role's read; change sets would need the deploy role.
    assert "--method template" in script and "GITHUB_STEP_SUMMARY" in script
    assert f'"{workload_stacks(["kit.stage=$STAGE"])}" {identity_stack_name()}' in script


@pytest.mark.parametrize("name", PIPELINE)
def test_no_secret_is_read(name: str) -> None:
    # OIDC only: no access keys, no secrets anywhere in the pipeline.
    assert "secrets." not in (WORKFLOWS / name).read_text()
