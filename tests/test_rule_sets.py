"""Rule sets nobody here wrote, over both profiles' templates: AWS Control Tower's proactive controls
(Guard) and checkov. Every finding is accepted in stacks/shared/rule_sets.py with a reason, and
every acceptance there still accepts a finding (support/rule_sets.py says why this runs here and
not on every synth)."""

from __future__ import annotations

import json
import shutil
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from stacks.github_deploy import STACK_KEY as GITHUB_STACK_KEY
from stacks.settings.common import DEFAULT, HARDENED
from stacks.shared.rule_sets import ACCEPTED, CHECKOV, GUARD, acceptance_for
from support.rule_sets import Finding, run_checkov, run_guard
from tests.conftest import KitAssembly

Findings = dict[str, set[Finding]]  # profile -> findings

# checkov takes tens of seconds to start: the slow tier (make check), or `make rule-sets` alone.
pytestmark = [pytest.mark.rule_sets, pytest.mark.slow]


@pytest.fixture(scope="session")
def rule_set_findings(kit: KitAssembly, hardened_kit: KitAssembly) -> Findings:
    """Both tools over both profiles' templates, once per session: one process per tool, side by side."""
    outdirs = {DEFAULT: kit.outdir, HARDENED: hardened_kit.outdir}
    with ThreadPoolExecutor(max_workers=2) as pool:
        guard, checkov = pool.submit(run_guard, outdirs.values()), pool.submit(run_checkov, outdirs.values())
        by_outdir = {outdir: guard.result()[outdir] | checkov.result()[outdir] for outdir in outdirs.values()}
    return {profile: by_outdir[outdir] for profile, outdir in outdirs.items()}


def test_both_rule_sets_ran_over_every_stack(rule_set_findings: Findings, kit: KitAssembly) -> None:
    # The deploy identity (one OIDC provider, roles that may only assume the bootstrap roles) has
    # nothing either tool finds: it is checked in the same run, and must stay without findings.
    identity = kit.stack_names[GITHUB_STACK_KEY]
    assert (kit.outdir / f"{identity}.template.json").is_file()
    stacks = set(kit.stack_names.values()) - {identity}
    for findings in rule_set_findings.values():
        # Each tool found something in every workload stack: a silent run (no templates, a changed
        # output format) would otherwise pass the test below with nothing to accept.
        assert {(f.tool, f.stack) for f in findings} == {(tool, stack) for tool in (GUARD, CHECKOV) for stack in stacks}


@pytest.mark.parametrize("profile", [DEFAULT, HARDENED])
def test_no_finding_is_left_unaccepted(rule_set_findings: Findings, profile: str) -> None:
    unaccepted = sorted(
        f for f in rule_set_findings[profile] if acceptance_for(f.tool, f.rule, f.path, profile) is None
    )
    assert unaccepted == [], "fix these, or accept them in stacks/shared/rule_sets.py with a reason"


def test_every_acceptance_still_accepts_a_finding_in_each_of_its_profiles(rule_set_findings: Findings) -> None:
    unneeded = [
        (acceptance.tool, acceptance.rule, profile)
        for acceptance in ACCEPTED
        for profile in acceptance.profiles
        if not any(acceptance.accepts(f.tool, f.rule, f.path, profile) for f in rule_set_findings[profile])
    ]
    assert unneeded == [], "these acceptances accept nothing any more: remove them (or drop the profile)"


def test_acceptances_are_one_row_per_rule_with_a_specific_reason() -> None:
    keys = [(a.tool, a.rule) for a in ACCEPTED]
    assert len(keys) == len(set(keys))
    assert all(len(a.reason) >= 40 and a.tool in (GUARD, CHECKOV) and a.paths for a in ACCEPTED)


def test_the_guard_run_sees_a_planted_finding(tmp_path: Path, kit: KitAssembly) -> None:
    # The same run over a copy of one template whose bucket lost its versioning: Guard reports it.
    stack = next(iter(kit.stack_names.values()))
    for name in (f"{stack}.template.json", f"{stack}.metadata.json"):
        shutil.copy(kit.outdir / name, tmp_path / name)
    template = json.loads((tmp_path / f"{stack}.template.json").read_text())
    template["Resources"]["PlantedBucket"] = {"Type": "AWS::S3::Bucket", "Properties": {}}
    (tmp_path / f"{stack}.template.json").write_text(json.dumps(template))

    planted = {f.rule for f in run_guard([tmp_path])[tmp_path] if f.path == "PlantedBucket"}

    assert "s3_bucket_versioning_enabled_check" in planted
