"""`make e2e-local`: run every workflow through the deployed resources, as the docs tell a user to.

Resources are found the way a user finds them: stacks through CloudFormation (`<app>-<stage>-<workload>`),
then their outputs and resource listings; nothing here knows a handler or module path. Each
workflow reports its checks. Where the emulator lacks a feature, the check that needs it reports
`not emulated: <feature>`, recognised by that feature's own symptom (anything else is a failure),
and the workflow goes on with what can still be checked. Works unchanged against AWS, where no gap
should appear.
"""

from __future__ import annotations

import importlib
import importlib.util
import json
import os
import subprocess
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

from stacks.settings.common import APP_NAME
from stacks.workloads import KEYS
from stacks.workloads import workload as workload_of

REPO_ROOT = Path(__file__).resolve().parents[1]


class CheckFailed(AssertionError):
    """A check of a workflow did not hold."""


class NotEmulated(Exception):
    """The emulator lacks the feature a check needs; the message names the feature."""


@dataclass
class WorkflowReport:
    workflow: str
    passed: list[str] = field(default_factory=list)
    not_emulated: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def outcome(self) -> str:
        if self.failed:
            return "FAILED"
        return "passed, with gaps" if self.not_emulated else "passed"

    def say(self, kind: str, text: str) -> None:
        print(f"[{self.workflow}] {kind}: {text}", flush=True)

    @contextmanager
    def check(self, name: str) -> Iterator[None]:
        try:
            yield
        except NotEmulated as gap:
            self.not_emulated.append(str(gap))
            self.say("not emulated", str(gap))
            raise
        except (CheckFailed, ClientError, subprocess.SubprocessError, KeyError, ValueError) as error:
            self.failed.append(f"{name}: {error}")
            self.say("FAILED", f"{name}: {error}")
            raise CheckFailed(name) from error
        else:
            self.passed.append(name)
            self.say("ok", name)


@dataclass
class E2eReport:
    workflows: list[WorkflowReport]

    @property
    def passed(self) -> bool:
        return all(not w.failed for w in self.workflows)

    def as_dict(self) -> dict[str, Any]:
        return {
            w.workflow: {
                "outcome": w.outcome, "seconds": w.seconds, "passed": w.passed,
                "notEmulated": w.not_emulated, "failed": w.failed,
            }
            for w in self.workflows
        }  # fmt: skip


@contextmanager
def environ_as(env: dict[str, str]) -> Iterator[None]:
    """This process's environment replaced by `env` for a moment.

    botocore reads AWS_PROFILE, AWS_CONFIG_FILE and friends from the process environment when a
    session or client is made; made inside this, they see the local deploy's settings, never the
    user's shell (a profile that does not exist here, a config file's endpoint or retry settings).
    """
    saved = dict(os.environ)
    os.environ.clear()
    os.environ.update(env)
    try:
        yield
    finally:
        os.environ.clear()
        os.environ.update(saved)


def client_for(env: dict[str, str], service: str, **config: Any) -> Any:
    """A boto3 client on the local deploy's environment only (fake credentials, the emulator's endpoint)."""
    with environ_as(env):
        return boto3.session.Session().client(
            service, endpoint_url=env.get("AWS_ENDPOINT_URL"), config=Config(retries={"max_attempts": 3}, **config)
        )


class Deployment:
    """The kit's stacks as CloudFormation reports them, with boto3 clients on the given environment."""

    def __init__(self, env: dict[str, str]) -> None:
        self.env = env
        self.cloudformation = self.client("cloudformation")
        self.stacks = self._find_stacks()

    def client(self, service: str, **config: Any) -> Any:
        return client_for(self.env, service, **config)

    def _find_stacks(self) -> dict[str, dict[str, Any]]:
        """The kit's stacks by workload key: `<app>-<stage>-<key>`, the longest registered key that fits."""
        found: dict[str, dict[str, Any]] = {}
        for page in self.cloudformation.get_paginator("describe_stacks").paginate():
            for stack in page["Stacks"]:
                rest = stack["StackName"].removeprefix(f"{APP_NAME}-")
                fitting = [key for key in KEYS if rest != stack["StackName"] and rest.endswith(f"-{key}")]
                if fitting:
                    found[max(fitting, key=len)] = stack
        return found

    def output(self, workload: str, key: str) -> str:
        for item in self.stacks[workload].get("Outputs", []):
            if item["OutputKey"] == key:
                return str(item["OutputValue"])
        raise CheckFailed(f"stack {self.stacks[workload]['StackName']} has no output {key}")

    def resources(self, workload: str, resource_type: str) -> list[dict[str, Any]]:
        paginator = self.cloudformation.get_paginator("list_stack_resources")
        return [
            r
            for page in paginator.paginate(StackName=self.stacks[workload]["StackName"])
            for r in page["StackResourceSummaries"]
            if r["ResourceType"] == resource_type
        ]


def wait_for(condition: Callable[[], Any], *, timeout: float, interval: float = 1.0) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value or time.monotonic() >= deadline:
            return value
        time.sleep(interval)


def log_messages(logs: Any, group: str) -> list[str]:
    try:
        pages = logs.get_paginator("filter_log_events").paginate(logGroupName=group)
        return [event["message"] for page in pages for event in page["events"]]
    except logs.exceptions.ResourceNotFoundException:
        return []


def workflow(key: str) -> ModuleType | None:
    """`local/workflows/<python_name>.py`, the workload's checks after a deploy, if it has one.

    Such a module has `run(deployment, report)`, `EXPECTED_GAPS` (what MiniStack does not emulate, by
    check name) and may have `local_settings(now)` (`-c` values a local deploy adds). It goes with its
    workload (`make remove-workload`); a workload without one is deployed and destroyed, not exercised.
    """
    name = f"local.workflows.{workload_of(key).python_name}"
    return importlib.import_module(name) if importlib.util.find_spec(name) else None


def _dashboard_shows_functions(deployment: Deployment, workload: str) -> None:
    """The stack's dashboard (named like the stack) exists and names each of the stack's functions."""
    name = deployment.stacks[workload]["StackName"]
    body = json.loads(deployment.client("cloudwatch").get_dashboard(DashboardName=name)["DashboardBody"])
    shown = json.dumps(body["widgets"])
    functions = [r["PhysicalResourceId"] for r in deployment.resources(workload, "AWS::Lambda::Function")]
    missing = [f for f in functions if f'"{f}"' not in shown]
    if not functions or missing:
        raise CheckFailed(f"dashboard {name} misses functions {missing} of {functions}")


def run_all(env: dict[str, str], emulator_name: str) -> E2eReport:
    deployment = Deployment(env)
    reports = []
    for key in KEYS:
        report = WorkflowReport(key)
        reports.append(report)
        started = time.monotonic()
        if key not in deployment.stacks:
            report.failed.append("stack not deployed")
            report.say("FAILED", f"no stack {APP_NAME}-<stage>-{key}")
            continue
        try:
            with report.check("dashboard deployed, showing every function of the stack"):
                _dashboard_shows_functions(deployment, key)
        except (CheckFailed, NotEmulated):
            pass  # recorded by the check; the workflow's own checks still run
        checks = workflow(key)
        if checks is None:
            report.say("ok", f"deployed; no local/workflows/{workload_of(key).python_name}.py to exercise it")
            continue
        try:
            checks.run(deployment, report)
        except (CheckFailed, NotEmulated):
            pass  # recorded by the check; the other workflows still run
        report.seconds = round(time.monotonic() - started, 1)
    print(f"\ne2e against {emulator_name}:")
    for report in reports:
        gaps = f"; not emulated: {', '.join(report.not_emulated)}" if report.not_emulated else ""
        print(f"  {report.workflow}: {report.outcome} ({len(report.passed)} checks, {report.seconds:.1f} s){gaps}")
    return E2eReport(reports)
