"""Builds the kit's CDK app: settings first, then one stack per registered workload, then cdk-nag."""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

import aws_cdk as cdk

from stacks.github_deploy import STACK_KEY as GITHUB_STACK_KEY
from stacks.github_deploy import GithubDeployStack
from stacks.kit_settings import KitSettings, settings_from_context
from stacks.settings import check_context_depth
from stacks.settings.common import APP_NAME
from stacks.shared.kit_keys import use_profile
from stacks.shared.log_queries import add_log_queries
from stacks.shared.nag import add_nag_checks
from stacks.shared.workload_dashboard import add_workload_dashboard
from stacks.workloads import KEYS, WORKLOADS

# Every stack of the app by key: the registry's workloads, then the deploy identity.
STACK_KEYS: tuple[str, ...] = (*KEYS, GITHUB_STACK_KEY)


def _environment() -> cdk.Environment | None:
    # Env-agnostic unless the CLI (or the user) names an account and region: synth never calls AWS.
    account, region = os.environ.get("CDK_DEFAULT_ACCOUNT"), os.environ.get("CDK_DEFAULT_REGION")
    return cdk.Environment(account=account, region=region) if account and region else None


def identity_stack_name() -> str:
    """`lwk-github`: the deploy identity is per account, so its name carries no stage."""
    return f"{APP_NAME}-{GITHUB_STACK_KEY}"


def build_stacks(app: cdk.App, settings: KitSettings) -> dict[str, cdk.Stack]:
    """One stack per workload of the registry, by workload key, named `<prefix>-<key>`, and the
    deploy identity (stacks/github_deploy/) under the key `github`, named `<app>-github`."""
    env = _environment()
    stacks = {
        workload.key: workload.stack(
            app,
            workload.stack_name(settings.common.name_prefix),
            env=env,
            common=settings.common,
            settings=settings.of(workload.key),
        )
        for workload in WORKLOADS
    }
    # After the stacks are complete: each dashboard shows everything its stack has, the queries read
    # every log group it has.
    for stack in stacks.values():
        add_workload_dashboard(stack, namespace=settings.common.metrics_namespace)
        add_log_queries(stack)
    for key, value in settings.common.tags.items():
        cdk.Tags.of(app).add(key, value)
    for stack in stacks.values():
        # The identity stack serves every stage of its account: it carries no stage tag.
        cdk.Tags.of(stack).add("stage", settings.common.stage)
    stacks[GITHUB_STACK_KEY] = GithubDeployStack(app, identity_stack_name(), env=env, settings=settings.github)
    return stacks


def create_app(*, outdir: str | None = None, context: Mapping[str, Any] | None = None, nag: bool = True) -> cdk.App:
    """The kit's app, with cdk-nag on unless `nag=False`.

    Under the CLI the context (cdk.json and `-c`) arrives by itself; tests pass `context`.
    """
    check_context_depth(context)
    app = cdk.App(
        outdir=outdir,
        context=dict(context) if context is not None else None,
        # cfn-lint and cdk-nag run over every template in the test suite; the built-in validation
        # would repeat most of that on every synth at about 4 s each (see bench/synth.py).
        builtin_cloud_formation_validation=False,
    )
    settings = settings_from_context(app.node.get_all_context())
    use_profile(app, settings.common.profile)
    build_stacks(app, settings)
    if nag:
        add_nag_checks(app, profile=settings.common.profile)
    return app
