"""Linters over what the kit produces and ships: templates, state machines, shell scripts, CI workflow."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from stacks.kit_app import STACK_KEYS
from tests.conftest import REPO_ROOT

BIN = Path(sys.executable).parent
SKIPPED_DIRS = {".git", ".venv", "node_modules", ".cache", "cdk.out", "__pycache__", ".pytest_cache"}
PLACEHOLDER_ARN = "arn:aws:lambda:us-east-1:123456789012:function:placeholder"
PSEUDO_PARAMETERS = {
    "AWS::Partition": "aws",
    "AWS::Region": "us-east-1",
    "AWS::AccountId": "123456789012",
    "AWS::URLSuffix": "amazonaws.com",
}


def _run(command: list[str], **kwargs: Any) -> subprocess.CompletedProcess[str]:
    return subprocess.run(command, cwd=REPO_ROOT, capture_output=True, text=True, timeout=300, **kwargs)


def test_cfn_lint_finds_no_error_or_warning(cli_synth: Path) -> None:
    templates = sorted(str(p) for p in cli_synth.glob("*.template.json"))
    assert len(templates) == len(STACK_KEYS)  # every registered workload is linted, and the deploy identity
    # Rules ignored for a reason are listed, each with it, in .cfnlintrc.yaml.
    result = _run([str(BIN / "cfn-lint"), "--format", "parseable", "--", *templates])
    assert result.returncode == 0, result.stdout + result.stderr


def _resolve_definition(definition: Any) -> str:
    """A DefinitionString as asl-validator can read it: pseudo parameters get example values, other
    tokens (a resource's ARN or name) a placeholder ARN."""
    if isinstance(definition, str):
        return definition
    separator, parts = definition["Fn::Join"]
    return separator.join(
        part if isinstance(part, str) else PSEUDO_PARAMETERS.get(part.get("Ref", ""), PLACEHOLDER_ARN) for part in parts
    )


def _state_machine_definitions(outdir: Path) -> dict[str, str]:
    found = {}
    for template_file in sorted(outdir.glob("*.template.json")):
        for logical_id, resource in json.loads(template_file.read_text())["Resources"].items():
            if resource["Type"] == "AWS::StepFunctions::StateMachine":
                found[f"{template_file.name}:{logical_id}"] = _resolve_definition(
                    resource["Properties"]["DefinitionString"]
                )
    return found


def test_asl_validator_accepts_every_state_machine(cli_synth: Path) -> None:
    definitions = _state_machine_definitions(cli_synth)
    if not definitions:
        pytest.skip("no stack of this kit has a state machine")
    for name, definition in definitions.items():
        json.loads(definition)  # a placeholder in the wrong place would show here first
        result = _run(["npx", "--no-install", "asl-validator", "--json-definition", definition])
        assert result.returncode == 0, f"{name}: {result.stdout}{result.stderr}"


def test_asl_validator_catches_a_dangling_next() -> None:
    # Proves the check above can fail: a Next that names no state.
    broken = json.dumps({"StartAt": "A", "States": {"A": {"Type": "Pass", "Next": "Nowhere"}}})
    assert _run(["npx", "--no-install", "asl-validator", "--json-definition", broken]).returncode != 0


def _shell_scripts() -> list[Path]:
    scripts = []
    for root, dirs, files in os.walk(REPO_ROOT):
        dirs[:] = [d for d in dirs if d not in SKIPPED_DIRS]
        for name in files:
            path = Path(root) / name
            if path.suffix in {".sh", ".bash"} or name == "bootstrap":
                scripts.append(path)
            elif path.suffix == "" and path.stat().st_size < 1_000_000:
                with path.open("rb") as handle:
                    first_line = handle.readline()
                if first_line.startswith(b"#!") and (b"bash" in first_line or b"/sh" in first_line):
                    scripts.append(path)
    return sorted(scripts)


def test_shellcheck_is_clean_over_every_shell_script() -> None:
    scripts = _shell_scripts()
    assert REPO_ROOT / ".ci" / "run" in scripts
    # Every custom runtime's bootstrap is among them (found by its shebang, whatever the workload).
    bootstraps = [p for p in (REPO_ROOT / "lambdas").rglob("bootstrap") if p.is_file()]
    assert set(bootstraps) <= set(scripts), "a bootstrap without a bash or sh shebang"
    result = _run([str(BIN / "shellcheck"), "--external-sources", *map(str, scripts)])
    assert result.returncode == 0, result.stdout + result.stderr


WORKFLOW = REPO_ROOT / ".github" / "workflows" / "ci.yml"


def test_ci_workflow_matches_the_github_schema() -> None:
    result = _run([str(BIN / "check-jsonschema"), "--builtin-schema", "vendor.github-workflows", str(WORKFLOW)])
    assert result.returncode == 0, result.stdout + result.stderr


def test_zizmor_finds_nothing_in_the_ci_workflow() -> None:
    result = _run([str(BIN / "zizmor"), "--offline", str(WORKFLOW)])
    assert result.returncode == 0, result.stdout + result.stderr


# CI runs `make check`: `make test` and then the slow tier, so every test runs there.
@pytest.mark.parametrize("line", ["make check", "make synth"])
def test_ci_workflow_runs_the_readme_commands(line: str) -> None:
    assert f"run: {line}" in WORKFLOW.read_text()
    assert f"`{line}`" in (REPO_ROOT / "README.md").read_text()


def test_ci_run_calls_the_readme_test_command() -> None:
    commands = [
        line.strip()
        for line in (REPO_ROOT / ".ci" / "run").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    ]
    assert commands[-1] == "make check"
    makefile = (REPO_ROOT / "Makefile").read_text()
    assert "\ncheck: test\n" in makefile, "make check must run make test first"
