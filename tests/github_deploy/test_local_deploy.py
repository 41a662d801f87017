"""The local deploy (make deploy-local, the workflows' integration gate) selects the stage's workload
stacks and never the deploy identity, which only a real account's STS can use."""

from __future__ import annotations

from fnmatch import fnmatchcase

from local.cli import workload_stacks
from stacks.kit_app import STACK_KEYS, identity_stack_name
from stacks.settings.common import APP_NAME
from stacks.workloads import WORKLOADS


def test_the_local_deploy_selects_every_workload_of_the_stage_and_not_the_identity() -> None:
    for settings, stage in (([], "dev"), (["kit.stage=pr-7"], "pr-7"), (["kit.stage=qa", "kit.stage=prod"], "prod")):
        pattern = workload_stacks(settings)
        assert pattern == f"{APP_NAME}-{stage}-*"
        assert all(fnmatchcase(f"{APP_NAME}-{stage}-{w.key}", pattern) for w in WORKLOADS)
        assert not fnmatchcase(identity_stack_name(), pattern)
    assert len(STACK_KEYS) == len(WORKLOADS) + 1
