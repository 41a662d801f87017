"""cdk-nag over the real app: no finding left open, and every acknowledgement still needed."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from stacks.kit_app import identity_stack_name
from stacks.settings.common import APP_NAME, HARDENED
from stacks.shared.nag import DROP_ACKNOWLEDGEMENTS_KEY, NAG_PACKS, packs_for
from stacks.workloads import WORKLOADS
from tests.conftest import cdk_json_context, synth_kit

Finding = tuple[str, str]  # (construct path, rule id as acknowledged: "<pack>::<rule>")


def _findings(report: dict[str, Any], kind: str) -> set[Finding]:
    return {
        (construct["constructPath"], f"{plugin['pluginName']}::{violation['ruleName']}")
        for plugin in report["pluginReports"]
        for violation in plugin[kind]
        for construct in violation["violatingConstructs"]
    }


def _acknowledgements(outdir: Path) -> set[Finding]:
    """Every acknowledgement the app made, from the construct metadata CDK records for them."""
    found: set[Finding] = set()
    for metadata_file in outdir.glob("*.metadata.json"):
        for path, entries in json.loads(metadata_file.read_text()).items():
            for entry in entries:
                if entry["type"] == "aws:cdk:acknowledged-rules":
                    found.update((path.lstrip("/"), rule_id) for rule_id in entry["data"])
    return found


def test_synth_with_nag_leaves_no_finding_open(cli_synth: Path) -> None:
    report = json.loads((cli_synth / "validation-report.json").read_text())
    assert {plugin["pluginName"] for plugin in report["pluginReports"]} == set(NAG_PACKS)
    assert _findings(report, "violations") == set()
    for plugin in report["pluginReports"]:
        for suppressed in plugin["suppressedViolations"]:
            assert len(suppressed["reason"]) >= 20, suppressed


def test_every_stack_is_synthesized(cli_synth: Path) -> None:
    names = sorted(p.name.removesuffix(".template.json") for p in cli_synth.glob("*.template.json"))
    assert names == sorted([*(f"{APP_NAME}-dev-{workload.key}" for workload in WORKLOADS), identity_stack_name()])


# Optional features add resources (e-mail subscriptions, schedules) with acknowledgements of their own.
def _options(value: Any, path: str = "kit") -> dict[str, str]:
    """cdk.json's optional features, each turned on: every `enabled: false` and every unset e-mail address."""
    if not isinstance(value, dict):
        return {}
    found = {}
    for key, child in value.items():
        if key == "enabled" and child is False:
            found[f"{path}.{key}"] = "true"
        elif key.endswith("Email") and child is None:
            found[f"{path}.{key}"] = "ops@example.com"
        found.update(_options(child, f"{path}.{key}"))
    return found


EVERY_OPTION_ON = _options(cdk_json_context()["kit"])


# `cdk synth` sets these whenever the shell has AWS credentials; the stacks then write ARNs out
# (arn:aws:logs:eu-central-1:123456789012:...) where they otherwise hold <AWS::Region> tokens.
WITH_AN_ACCOUNT = {"CDK_DEFAULT_ACCOUNT": "123456789012", "CDK_DEFAULT_REGION": "eu-central-1"}


# The hardened profile: the NIST 800-53 rev 5 pack runs as well, on every optional feature.
HARDENED_PROFILE = {"kit.profile": HARDENED}
HARDENED_EVERY_OPTION_ON = {**HARDENED_PROFILE, **EVERY_OPTION_ON}


def _acknowledgements_of(outdir: Path, overrides: dict[str, str]) -> set[Finding]:
    synth_kit(outdir, nag=True, overrides=overrides)  # raises on any open finding
    report = json.loads((outdir / "validation-report.json").read_text())
    assert _findings(report, "violations") == set()
    return _acknowledgements(outdir)


def test_the_hardened_profile_runs_the_nist_pack_and_leaves_nothing_open(tmp_path: Path) -> None:
    outdir = tmp_path / "hardened"
    synth_kit(outdir, nag=True, overrides=HARDENED_PROFILE)  # raises on any open finding
    report = json.loads((outdir / "validation-report.json").read_text())
    assert {plugin["pluginName"] for plugin in report["pluginReports"]} == set(packs_for(HARDENED))
    assert _findings(report, "violations") == set()
    nist = next(p for p in report["pluginReports"] if p["pluginName"] == "NIST.800.53.R5")
    assert nist["suppressedViolations"], "the NIST pack acknowledged nothing: did it run on the kit's resources?"
    for plugin in report["pluginReports"]:
        for suppressed in plugin["suppressedViolations"]:
            assert len(suppressed["reason"]) >= 20, suppressed


@pytest.mark.parametrize(
    ("overrides", "environment"),
    [({}, {}), (EVERY_OPTION_ON, {}), ({}, WITH_AN_ACCOUNT), (HARDENED_EVERY_OPTION_ON, {})],
    ids=["defaults", "every-option-on", "with-an-account", "hardened-every-option-on"],
)
def test_every_acknowledgement_is_still_needed(
    cli_synth: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    overrides: dict[str, str],
    environment: dict[str, str],
) -> None:
    for name, value in environment.items():
        monkeypatch.setenv(name, value)
    if overrides or environment:
        acknowledged = _acknowledgements_of(tmp_path / "with", overrides)
    else:
        acknowledged = _acknowledgements(cli_synth)
    if environment:
        assert any(
            WITH_AN_ACCOUNT["CDK_DEFAULT_ACCOUNT"] in template.read_text()
            for template in (tmp_path / "with").glob("*.template.json")
        )
    assert acknowledged, "the app acknowledges nothing: the metadata format may have changed"
    # Synthesize again with every acknowledgement left out: each must bring its finding back.
    drop = ",".join(f"{path}|{rule_id}" for path, rule_id in sorted(acknowledged))
    without = tmp_path / "without"
    with pytest.raises(RuntimeError, match=r"Validation ?[Ff]ailed"):
        synth_kit(without, nag=True, overrides={**overrides, DROP_ACKNOWLEDGEMENTS_KEY: drop})
    findings = _findings(json.loads((without / "validation-report.json").read_text()), "violations")
    unneeded = [
        (path, rule_id)
        for path, rule_id in sorted(acknowledged)
        if not any(rule == rule_id and (found == path or found.startswith(path + "/")) for found, rule in findings)
    ]
    assert unneeded == [], "these acknowledgements suppress nothing any more: remove them"
    # And nothing else appears: the acknowledgements are all that stood between the app and nag.
    unexplained = [
        (found, rule)
        for found, rule in sorted(findings)
        if not any(rule == rule_id and (found == p or found.startswith(p + "/")) for p, rule_id in acknowledged)
    ]
    assert unexplained == []


def test_an_acknowledgement_without_a_pack_prefix_is_refused() -> None:
    import aws_cdk as cdk

    from stacks.shared.nag import acknowledge

    stack = cdk.Stack(cdk.App(), "Probe")
    with pytest.raises(ValueError, match="is not a cdk-nag rule id"):
        acknowledge(stack, "AwsSolutions-S1", "a reason long enough to pass the length check")
    with pytest.raises(ValueError, match="needs a specific reason"):
        acknowledge(stack, "AwsSolutions::AwsSolutions-S1", "because")
