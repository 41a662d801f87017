"""`make synth` fails on any cdk-nag finding left open, warnings included, and says how to fix it
(tools/nag_findings.py over the synth's validation-report.json)."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import aws_cdk as cdk
import pytest
from aws_cdk import aws_dynamodb as dynamodb

from stacks.shared.nag import add_nag_checks
from tests.conftest import REPO_ROOT
from tools import nag_findings

TOOL = REPO_ROOT / "tools" / "nag_findings.py"


def _run(report: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, str(TOOL), str(report)], capture_output=True, text=True, check=False)


@pytest.fixture(scope="module")
def warning_report(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A probe stack whose one finding is of warning level: a table without point-in-time recovery."""
    outdir = tmp_path_factory.mktemp("nag-warning")
    app = cdk.App(outdir=str(outdir), builtin_cloud_formation_validation=False)
    stack = cdk.Stack(app, "Probe")
    dynamodb.Table(
        stack,
        "Orders",
        partition_key=dynamodb.Attribute(name="id", type=dynamodb.AttributeType.STRING),
        removal_policy=cdk.RemovalPolicy.DESTROY,
    )
    add_nag_checks(app)
    try:
        app.synth()
    except RuntimeError:
        pass  # aws-cdk-lib may stop here or only print: the report is written either way
    return outdir / "validation-report.json"


def test_a_warning_fails_with_the_kits_fix_before_the_acknowledgement(warning_report: Path) -> None:
    result = _run(warning_report)
    assert result.returncode == 1, result.stderr
    assert "Probe/Orders/Resource: AwsSolutions-DDB3 (warning)" in result.stderr
    fix, acknowledgement = result.stderr.index("fix: "), result.stderr.index("acknowledge(")
    assert fix < acknowledgement
    assert "stacks/shared/table_backups.py" in result.stderr[fix:acknowledgement]
    assert '"AwsSolutions::AwsSolutions-DDB3"' in result.stderr[acknowledgement:]


def test_the_kits_own_synth_has_nothing_open(cli_synth: Path) -> None:
    result = _run(cli_synth / "validation-report.json")
    assert (result.returncode, result.stderr) == (0, "")


def test_no_report_adds_nothing(tmp_path: Path) -> None:
    # A synth that failed before validation ran (a settings error) has said why itself.
    assert _run(tmp_path / "validation-report.json").returncode == 0


def test_every_fix_names_a_file_that_exists() -> None:
    for rule, fix in nag_findings.FIXES.items():
        for path in re.findall(r"(?:stacks|docs)/[\w/.-]+\.(?:py|md)", fix):
            assert (REPO_ROOT / path).is_file(), f"{rule}: {path}"


def test_make_synth_runs_it_on_the_synth_it_would_keep() -> None:
    makefile = (REPO_ROOT / "Makefile").read_text()
    synth = makefile[makefile.index("\nsynth:") : makefile.index("\ndiff:")]
    assert "tools/nag_findings.py $(OUTDIR).next/validation-report.json" in synth
