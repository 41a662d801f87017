"""The deploy path against the default emulator (MiniStack): deploy -> e2e -> update -> destroy.

The real CDK CLI bootstraps, publishes the assets and deploys every stack; the workflows then run
through the deployed resources (local/e2e.py); one setting changes and is seen applied; destroy
removes everything but what the templates retain. Marked `deploy_local`: `make test
SKIP_DEPLOY_LOCAL=1` (or `-m "not deploy_local"`) skips this module where MiniStack cannot be
installed. MiniStack's virtualenv is installed by the test itself (local/emulators.py).
"""

from __future__ import annotations

import json
import os
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError

from local import cli
from local.e2e import Deployment, client_for, run_all, workflow
from local.emulators import (
    EmulatorError,
    LocalStack,
    MiniStack,
    emulator,
    free_port,
    load_running,
    port_in_use,
    save_running,
)
from stacks.settings.common import APP_NAME
from stacks.workloads import KEYS
from tests.conftest import cdk_json_context

pytestmark = [pytest.mark.deploy_local, pytest.mark.slow]

EMULATOR = "ministack"
UPDATED_RETENTION_DAYS = 90  # a valid CloudWatch retention other than cdk.json's
# What MiniStack 1.5.33 (patched) does not emulate, by the e2e's own check names: each workload's
# local/workflows/ module says (EXPECTED_GAPS). A new gap, or one upstream closed, changes it there on
# purpose, and the docs' gap table follows.
EXPECTED_GAPS = {key: checks.EXPECTED_GAPS for key in KEYS if (checks := workflow(key)) is not None}


# A shell set up for a real account: none of it may reach the CLI, boto3 or the emulator (a profile
# that does not exist here fails any client that reads it; a real-looking key would be cached).
HOSTILE_SHELL = {
    "AWS_PROFILE": f"{APP_NAME}-test-no-such-profile",
    "AWS_ACCESS_KEY_ID": "AKIALWKTESTREALSHELL",
    "AWS_SECRET_ACCESS_KEY": "real-looking-secret",
    "AWS_REGION": "eu-west-3",
    "AWS_ENDPOINT_URL": "http://127.0.0.1:9",
    "CDK_DEFAULT_ACCOUNT": "123456789012",
    "LWK_BUNDLING_ARCH": "arm64-from-the-shell",
    "SERVICES": "sqs",  # MiniStack would serve SQS only
}


@pytest.fixture(scope="module")
def state_root(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    root = tmp_path_factory.mktemp("deploy-local")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("LWK_LOCAL_STATE_DIR", str(root))
        for name, value in HOSTILE_SHELL.items():
            patch.setenv(name, value)
        yield root
        cli.stop_leftover(EMULATOR)  # whatever happened above, no emulator outlives the module


def _log_group_retention(deployment: Deployment) -> dict[str, int | None]:
    logs = deployment.client("logs")
    retention = {}
    for workload in deployment.stacks:
        for resource in deployment.resources(workload, "AWS::Logs::LogGroup"):
            name = resource["PhysicalResourceId"]
            groups = logs.describe_log_groups(logGroupNamePrefix=name)["logGroups"]
            retention[name] = next((g.get("retentionInDays") for g in groups if g["logGroupName"] == name), None)
    return retention


def _retained_and_removed(deployment: Deployment, cdk_out: Path) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    """(type, physical id) of the resources a destroy must keep, and of those it must remove."""
    checked_types = {
        "AWS::S3::Bucket", "AWS::DynamoDB::Table", "AWS::Lambda::Function", "AWS::SQS::Queue",
        "AWS::SNS::Topic", "AWS::StepFunctions::StateMachine", "AWS::Logs::LogGroup",
    }  # fmt: skip
    retained: list[tuple[str, str]] = []
    removed: list[tuple[str, str]] = []
    for workload, stack in deployment.stacks.items():
        template = json.loads((cdk_out / f"{stack['StackName']}.template.json").read_text())
        for resource_type in checked_types:
            for resource in deployment.resources(workload, resource_type):
                policy = template["Resources"][resource["LogicalResourceId"]].get("DeletionPolicy", "Delete")
                target = retained if policy == "Retain" else removed
                target.append((resource_type, resource["PhysicalResourceId"]))
    return retained, removed


def _exists(env: dict[str, str], resource_type: str, physical_id: str) -> bool:
    def client(service: str) -> Any:
        return client_for(env, service)

    probes = {
        "AWS::S3::Bucket": lambda: client("s3").head_bucket(Bucket=physical_id),
        "AWS::DynamoDB::Table": lambda: client("dynamodb").describe_table(TableName=physical_id),
        "AWS::Lambda::Function": lambda: client("lambda").get_function(FunctionName=physical_id),
        "AWS::SQS::Queue": lambda: client("sqs").get_queue_attributes(QueueUrl=physical_id),
        "AWS::SNS::Topic": lambda: client("sns").get_topic_attributes(TopicArn=physical_id),
        "AWS::StepFunctions::StateMachine": lambda: client("stepfunctions").describe_state_machine(
            stateMachineArn=physical_id
        ),
    }
    if resource_type == "AWS::Logs::LogGroup":
        groups = client("logs").describe_log_groups(logGroupNamePrefix=physical_id)["logGroups"]
        return any(g["logGroupName"] == physical_id for g in groups)
    try:
        probes[resource_type]()
    except ClientError:
        return False
    return True


def test_deploy_run_update_destroy(state_root: Path) -> None:
    # Deploy: MiniStack installed in its own venv, bootstrap, `cdk deploy 'lwk-dev-*'`, outputs written.
    running = cli.deploy(EMULATOR, [], stop_with=os.getpid())
    state = cli.state_dir(EMULATOR)
    env = cli.cli_environment(EMULATOR, running.endpoint)
    outputs = json.loads((state / "outputs.json").read_text())
    # Every registered workload is deployed (a fork's too); the e2e runs each one's local/workflows/ checks.
    # The deploy identity is not: it is per account and needs a real account's STS (local/cli.py says why).
    assert sorted(outputs) == sorted(f"{APP_NAME}-dev-{key}" for key in KEYS), outputs
    assert cli.workload_stacks(json.loads((state / "context.json").read_text())) == f"{APP_NAME}-dev-*"
    timings = json.loads((state / "timings.json").read_text())
    assert sorted(timings["deploy"]["stacks"]) == sorted(outputs), timings
    # The CLI cached the fake key's account in the deploy's own CDK_HOME, and only there.
    cached = json.loads((state / "cdk-home" / "cache" / "accounts_partitions.json").read_text())
    assert list(cached) == [cli.FAKE_ACCESS_KEYS[EMULATOR]], cached
    assert env["CDK_HOME"] == str(state / "cdk-home") and env["AWS_CONFIG_FILE"] == os.devnull
    # (SERVICES reaches the CLI, which ignores it; MiniStack never sees it, or the deploy above failed.)
    assert not {k: v for k, v in HOSTILE_SHELL.items() if k.startswith(("AWS_", "CDK_", "LWK_")) and env.get(k) == v}

    # e2e: every workflow, with the gaps named exactly.
    report = run_all(env, EMULATOR)
    by_workflow = {w.workflow: w for w in report.workflows}
    assert {w: by_workflow[w].failed for w in by_workflow} == {key: [] for key in KEYS}
    for name, gaps in EXPECTED_GAPS.items():
        seen = by_workflow[name].not_emulated
        assert len(seen) == len(gaps) and all(g in s for g, s in zip(gaps, seen, strict=True)), (name, seen)
        assert by_workflow[name].passed, name
    for key in KEYS:
        # Every stack's dashboard is deployed and names the stack's functions.
        assert "dashboard deployed, showing every function of the stack" in by_workflow[key].passed, key

    # Update: one setting changed, seen applied on every log group of every stack.
    deployment = Deployment(env)
    before = _log_group_retention(deployment)
    configured = cdk_json_context()["kit"]["logRetentionDays"]
    assert configured != UPDATED_RETENTION_DAYS, "the update must change something"
    assert before and set(before.values()) == {configured}, before
    updated = cli.update(EMULATOR, [f"kit.logRetentionDays={UPDATED_RETENTION_DAYS}"])
    assert updated.returncode == 0
    after = _log_group_retention(Deployment(env))
    assert after == dict.fromkeys(before, UPDATED_RETENTION_DAYS), after

    # Destroy: the retained buckets and table stay, everything else goes, the emulator stops.
    retained, removed = _retained_and_removed(Deployment(env), state / "cdk.out")
    assert {t for t, _ in retained} == {"AWS::S3::Bucket", "AWS::DynamoDB::Table"}, retained
    assert {"AWS::Lambda::Function", "AWS::SQS::Queue", "AWS::Logs::LogGroup"} <= {t for t, _ in removed}
    destroyed = cli.destroy_stacks(EMULATOR)
    assert sorted(destroyed.seconds_per_stack) == sorted(outputs)
    assert [r for r in retained if not _exists(env, *r)] == []
    assert [r for r in removed if _exists(env, *r)] == []
    stacks = client_for(env, "cloudformation").list_stacks()["StackSummaries"]
    assert {s["StackStatus"] for s in stacks if s["StackName"].startswith(f"{APP_NAME}-dev-")} <= {"DELETE_COMPLETE"}
    cli.stop(EMULATOR)
    assert load_running(state) is None
    assert not port_in_use(running.port)


def test_a_deploy_stops_the_emulator_a_previous_run_left_behind(state_root: Path) -> None:
    ministack = MiniStack()
    ministack.install()
    state = cli.state_dir(EMULATOR)
    state.mkdir(parents=True, exist_ok=True)
    env = cli.cli_environment(EMULATOR, "http://127.0.0.1:1")
    leftover = ministack.start(free_port(), state, env, stop_with=os.getpid())
    save_running(state, leftover)
    assert port_in_use(leftover.port)
    cli.stop_leftover(EMULATOR)
    assert not port_in_use(leftover.port)
    assert load_running(state) is None


def test_each_ministack_patch_covers_a_gap_that_is_still_there(tmp_path: Path) -> None:
    ministack = MiniStack()
    ministack.install()
    script = Path(cli.__file__).parent / "ministack" / "check_patches.py"
    env = {"PATH": "/usr/bin:/bin", "TMPDIR": str(tmp_path), "MINISTACK_REGION": "us-east-1"}
    result = subprocess.run(
        [str(ministack.python), str(script)], capture_output=True, text=True, timeout=120, check=True, env=env
    )
    found = json.loads(result.stdout.strip().splitlines()[-1])
    stock, patched = found["stock"], found["patched"]
    # Stock 1.5.33: metric-math alarms refused; DurableConfig and DeadLetterConfig dropped.
    assert "metric math" in stock["alarm"]["refused"]
    assert stock["function"]["created"] == {"durable": None, "deadLetters": None}
    # Patched: the alarm keeps its metrics (never evaluated: INSUFFICIENT_DATA), and both configs
    # are stored on create and kept on update; a dead-letter config the template drops goes.
    assert [m["Id"] for m in patched["alarm"]["metrics"]] == ["failed", "total"]
    assert patched["alarm"]["state"] == "INSUFFICIENT_DATA" and patched["alarm"]["metricName"] is None
    for phase in ("created", "updated"):
        assert patched["function"][phase]["durable"]["ExecutionTimeout"] == 172800, phase
        assert patched["function"][phase]["deadLetters"] == {
            "TargetArn": "arn:aws:sqs:us-east-1:000000000000:dead-letters"
        }
    assert patched["function"]["deadLettersRemoved"] == {"deadLetters": None}
    # Stock: no AWS::Logs::QueryDefinition at all; patched: created with its id, checked, deleted.
    assert stock["query"] == {"refused": "unrecognized resource type"}
    query = patched["query"]
    assert query["stored"] == {"name": "app-dev-x/errors", "queryString": "fields @message | limit 1",
                               "logGroupNames": ["/app/dev/x"]}  # fmt: skip
    assert set(query["attributes"]) == {"QueryDefinitionId"} and query["deleted"] is True
    assert "QueryString must be 1 to 10000 characters" in query["empty"]


def test_localstack_and_unknown_emulators_say_what_they_need(monkeypatch: pytest.MonkeyPatch) -> None:
    # This machine has no Docker, so LocalStack's path stops at its first requirement, with a reason.
    monkeypatch.setattr("local.emulators.shutil.which", lambda name: None)
    with pytest.raises(EmulatorError, match="needs Docker"):
        LocalStack().install()
    monkeypatch.setattr("local.emulators.shutil.which", lambda name: f"/usr/bin/{name}")
    monkeypatch.delenv("LOCALSTACK_AUTH_TOKEN", raising=False)
    with pytest.raises(EmulatorError, match="LOCALSTACK_AUTH_TOKEN"):
        LocalStack().install()
    with pytest.raises(EmulatorError, match="allowed are ministack, localstack"):
        emulator("moto")


def test_an_emulator_stops_by_itself_when_the_process_it_was_started_for_ends(state_root: Path) -> None:
    ministack = MiniStack()
    ministack.install()
    state = state_root / "stop-with"
    state.mkdir()
    owner = subprocess.Popen(["sleep", "600"])
    running = ministack.start(free_port(), state, cli.cli_environment(EMULATOR, "http://127.0.0.1:1"), owner.pid)
    try:
        assert port_in_use(running.port)
        owner.kill()
        owner.wait()
        deadline = time.monotonic() + 30
        while port_in_use(running.port) and time.monotonic() < deadline:
            time.sleep(0.5)
        assert not port_in_use(running.port)
    finally:
        ministack.stop(running)
