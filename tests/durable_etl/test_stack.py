"""The durable ETL stack's template: what matters to behaviour and security, asserted on the synth."""

from __future__ import annotations

import json
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk.assertions import Match, Template

from stacks.durable_etl import DurableEtlStack
from stacks.durable_etl.contract import contract
from stacks.kit_settings import settings_from_context
from stacks.settings import SettingsError
from support.etl_datasets import write_dataset
from tests.conftest import KitAssembly, cdk_json_context
from tests.durable_etl.conftest import Aws

HANDLER, SHARD_HANDLER = contract.HANDLER, contract.SHARD_HANDLER


def _one(template: dict[str, Any], resource_type: str) -> tuple[str, dict[str, Any]]:
    [(logical_id, resource)] = [(k, r) for k, r in template["Resources"].items() if r["Type"] == resource_type]
    return logical_id, resource


def _ids(template: dict[str, Any], resource_type: str) -> list[str]:
    return [k for k, r in template["Resources"].items() if r["Type"] == resource_type]


def _function(template: dict[str, Any], handler: str = HANDLER) -> tuple[str, dict[str, Any]]:
    [found] = [(k, r) for k, r in template["Resources"].items()
               if r["Type"] == "AWS::Lambda::Function" and r["Properties"]["Handler"] == handler]  # fmt: skip
    return found


def _of_function(template: dict[str, Any], resource_type: str, function_id: str) -> tuple[str, dict[str, Any]]:
    [found] = [(k, r) for k, r in template["Resources"].items()
               if r["Type"] == resource_type and r["Properties"]["FunctionName"] == {"Ref": function_id}]  # fmt: skip
    return found


BOTH = pytest.mark.parametrize("handler", [HANDLER, SHARD_HANDLER], ids=["coordinator", "worker"])


@pytest.fixture(scope="module")
def etl(kit: KitAssembly) -> dict[str, Any]:
    return kit.templates["durable-etl"]


def test_the_function_is_durable_with_the_configured_timeout_and_retention(
    kit: KitAssembly, etl: dict[str, Any]
) -> None:
    queue_id, _ = _one(etl, "AWS::SQS::Queue")
    kit.template("durable-etl").has_resource_properties(
        "AWS::Lambda::Function",
        {
            "Handler": "lwk_durable_etl.handlers.handler",
            "Runtime": "python3.13",
            "Architectures": ["arm64"],
            "Timeout": 900,
            "MemorySize": 1024,
            "DurableConfig": {"ExecutionTimeout": 48 * 3600, "RetentionPeriodInDays": 14},
            "DeadLetterConfig": {"TargetArn": {"Fn::GetAtt": [queue_id, "Arn"]}},
            "Environment": {
                "Variables": Match.object_like(
                    {
                        "SOURCE_BUCKET": {"Ref": Match.string_like_regexp("^SourceBucket")},
                        "TARGET_TABLE": {"Ref": Match.string_like_regexp("^TargetTable")},
                        "DEFAULT_BATCH_SIZE": "1000",
                        "RATE_LIMIT_WAIT_SECONDS": "300",
                        "OFF_PEAK_HOUR": "2",
                        "OFF_PEAK_TIME_ZONE": "UTC",
                        "MAP_CONCURRENCY": "4",
                    }  # fmt: skip
                )
            },
        },
    )


@BOTH
def test_the_live_alias_points_at_the_published_version(etl: dict[str, Any], handler: str) -> None:
    function_id, _ = _function(etl, handler)
    version_id, version = _of_function(etl, "AWS::Lambda::Version", function_id)
    _, alias = _of_function(etl, "AWS::Lambda::Alias", function_id)
    assert version["Properties"]["FunctionName"] == {"Ref": function_id}
    assert alias["Properties"] == {
        "FunctionName": {"Ref": function_id},
        "FunctionVersion": {"Fn::GetAtt": [version_id, "Version"]},
        "Name": "live",
    }


def test_the_schedule_invokes_the_alias_not_the_bare_function_with_retries_and_a_dead_letter_queue(
    etl: dict[str, Any],
) -> None:
    alias_id, _ = _of_function(etl, "AWS::Lambda::Alias", _function(etl)[0])
    queue_id, _ = _one(etl, "AWS::SQS::Queue")
    _, schedule = _one(etl, "AWS::Scheduler::Schedule")
    props = schedule["Properties"]
    assert props["ScheduleExpression"] == "cron(0 22 * * ? *)"
    assert props["ScheduleExpressionTimezone"] == "UTC"
    assert props["State"] == "DISABLED"  # cdk.json: schedule.enabled false
    target = props["Target"]
    assert target["Arn"] == {"Ref": alias_id}
    assert json.loads(target["Input"]) == {"datasetId": "daily"}
    assert target["RetryPolicy"] == {"MaximumRetryAttempts": 3, "MaximumEventAgeInSeconds": 3600}
    assert target["DeadLetterConfig"] == {"Arn": {"Fn::GetAtt": [queue_id, "Arn"]}}
    # The scheduler's role may invoke the alias and fill the dead-letter queue, nothing else.
    role_id = target["RoleArn"]["Fn::GetAtt"][0]
    statements = [s for p in _policies_of(etl, role_id) for s in p["PolicyDocument"]["Statement"]]
    assert statements == [
        {"Action": "lambda:InvokeFunction", "Effect": "Allow", "Resource": {"Ref": alias_id}},
        {"Action": "sqs:SendMessage", "Effect": "Allow", "Resource": {"Fn::GetAtt": [queue_id, "Arn"]}},
    ]
    # The function's role sends its own failed async events there (dead-letter config), nothing more.
    on_queue = [
        s for p in _policies_of(etl, _function_role(etl)) for s in p["PolicyDocument"]["Statement"]
        if s["Resource"] == {"Fn::GetAtt": [queue_id, "Arn"]}
    ]  # fmt: skip
    assert on_queue == [{"Action": "sqs:SendMessage", "Effect": "Allow", "Resource": {"Fn::GetAtt": [queue_id, "Arn"]}}]


def _policies_of(template: dict[str, Any], role_id: str) -> list[dict[str, Any]]:
    return [
        r["Properties"]
        for r in template["Resources"].values()
        if r["Type"] == "AWS::IAM::Policy" and {"Ref": role_id} in r["Properties"]["Roles"]
    ]


def _function_role(template: dict[str, Any], handler: str = HANDLER) -> str:
    _, function = _function(template, handler)
    return function["Properties"]["Role"]["Fn::GetAtt"][0]


@BOTH
def test_durable_execution_rights_are_an_inline_policy_scoped_to_the_functions_versions(
    etl: dict[str, Any], handler: str
) -> None:
    # The foundation replaces the managed AWSLambdaBasicDurableExecutionRolePolicy (Resource "*")
    # with the same two actions on "<function arn>:*": the versions and aliases executions run on.
    function_id, _ = _function(etl, handler)
    role_id = _function_role(etl, handler)
    assert "ManagedPolicyArns" not in etl["Resources"][role_id]["Properties"]
    assert "AWSLambdaBasicDurableExecutionRolePolicy" not in json.dumps(etl)
    checkpoint = [
        s for p in _policies_of(etl, role_id) for s in p["PolicyDocument"]["Statement"]
        if "lambda:CheckpointDurableExecution" in s["Action"]
    ]  # fmt: skip
    assert checkpoint == [
        {
            "Action": ["lambda:CheckpointDurableExecution", "lambda:GetDurableExecutionState"],
            "Effect": "Allow",
            "Resource": {"Fn::Join": ["", [{"Fn::GetAtt": [function_id, "Arn"]}, ":*"]]},
        }
    ]


def _arn_target(resource: Any) -> tuple[str, str]:
    """(logical id, suffix) a statement's resource names: GetAtt X.Arn, optionally joined with a path."""
    if isinstance(resource, dict) and "Fn::GetAtt" in resource:
        return resource["Fn::GetAtt"][0], ""
    if isinstance(resource, dict) and "Fn::Join" in resource:
        head, *rest = resource["Fn::Join"][1]
        return head["Fn::GetAtt"][0], "".join(rest)
    return str(resource), ""


@BOTH
def test_data_access_is_granted_on_the_source_bucket_and_the_target_table_only(
    etl: dict[str, Any], handler: str
) -> None:
    bucket_id = next(k for k in _ids(etl, "AWS::S3::Bucket") if k.startswith("SourceBucket"))
    table_id, _ = _one(etl, "AWS::DynamoDB::Table")
    grants: dict[tuple[str, str], set[str]] = {}
    for policy in _policies_of(etl, _function_role(etl, handler)):
        for statement in policy["PolicyDocument"]["Statement"]:
            assert statement["Effect"] == "Allow"
            actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
            resources = statement["Resource"] if isinstance(statement["Resource"], list) else [statement["Resource"]]
            for resource in resources:
                grants.setdefault(_arn_target(resource), set()).update(actions)
    data = {
        target: actions
        for target, actions in grants.items()
        if any(action.split(":")[0] in {"s3", "dynamodb"} for action in actions)
    }
    assert data == {
        (bucket_id, ""): {"s3:ListBucket", "s3:ListBucketVersions"},
        (bucket_id, "/*"): {"s3:GetObject"},
        (bucket_id, "/_etl/*"): {"s3:PutObject", "s3:DeleteObject", "s3:DeleteObjectVersion"},
        (table_id, ""): {"dynamodb:BatchWriteItem", "dynamodb:BatchGetItem"},
    }
    # Everything else the role holds is the kit's own: logs, X-Ray, checkpoints, invoking the worker
    # (the coordinator's units, a worker's group), and the coordinator's dead-letter queue.
    other = {actions_prefix for target, actions in grants.items() if target not in data for actions_prefix in
             {a.split(":")[0] for a in actions}}  # fmt: skip
    assert other == ({"logs", "xray", "lambda", "sqs"} if handler == HANDLER else {"logs", "xray", "lambda"})


def test_the_coordinator_invokes_only_the_worker_alias_and_a_worker_only_its_own(etl: dict[str, Any]) -> None:
    worker_id, worker = _function(etl, SHARD_HANDLER)
    worker_alias, _ = _of_function(etl, "AWS::Lambda::Alias", worker_id)
    _, coordinator = _function(etl)
    assert coordinator["Properties"]["Environment"]["Variables"]["SHARD_FUNCTION"] == {"Ref": worker_alias}
    assert "SHARD_FUNCTION" not in worker["Properties"]["Environment"]["Variables"]
    for handler in (HANDLER, SHARD_HANDLER):
        invokes = [
            s for p in _policies_of(etl, _function_role(etl, handler)) for s in p["PolicyDocument"]["Statement"]
            if s["Action"] == "lambda:InvokeFunction"
        ]  # fmt: skip
        assert invokes == [{"Action": "lambda:InvokeFunction", "Effect": "Allow", "Resource": {"Ref": worker_alias}}]


# The IAM action each AWS call of the handler needs (where it differs from "<service>:<operation>").
IAM_ACTIONS = {
    ("s3", "ListObjectsV2"): ["s3:ListBucket"],
    ("s3", "ListObjectVersions"): ["s3:ListBucketVersions"],
    ("s3", "DeleteObjects"): ["s3:DeleteObject", "s3:DeleteObjectVersion"],
}


def test_every_call_the_handler_makes_is_granted_on_the_right_prefix(
    etl: dict[str, Any], aws: Aws, run_execution: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """moto does not enforce IAM: record the handler's real calls and hold them against the template."""
    import botocore.client

    calls: list[tuple[str, str, dict[str, Any]]] = []
    real_call = botocore.client.BaseClient._make_api_call

    def recording(client: Any, operation: str, params: dict[str, Any]) -> Any:
        calls.append((client.meta.service_model.endpoint_prefix, operation, params))
        return real_call(client, operation, params)

    monkeypatch.setenv("EXTRACT_RECORDS_PER_STEP", "1000")
    write_dataset(aws.s3, aws.bucket, "calls", records=2_500, objects=2, invalid_every=100)
    aws.put("broken/a.jsonl", '{"id": "x", "name": "n", "amount": 1}\nnot json\n')
    # Record only these two runs. A scoped patch, not monkeypatch.undo(): undo would also drop the
    # fixtures' fake credentials under a live moto, which then restores them for good on its exit.
    with monkeypatch.context() as recording_only:
        recording_only.setattr(botocore.client.BaseClient, "_make_api_call", recording)
        assert run_execution({"datasetId": "calls", "batchSize": 400}).result.status.value == "SUCCEEDED"
        assert run_execution({"datasetId": "broken", "batchSize": 1}).result.status.value == "FAILED"  # cleans up

    needed = {action for service, op, _ in calls for action in IAM_ACTIONS.get((service, op), [f"{service}:{op}"])}
    granted: set[str] = set()
    for policy in _policies_of(etl, _function_role(etl)) + _policies_of(etl, _function_role(etl, SHARD_HANDLER)):
        for statement in policy["PolicyDocument"]["Statement"]:
            granted.update(statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]])
    assert needed == {
        "s3:ListBucket", "s3:GetObject", "s3:PutObject", "s3:ListBucketVersions", "s3:DeleteObject",
        "s3:DeleteObjectVersion", "dynamodb:BatchWriteItem", "dynamodb:BatchGetItem",
    }  # fmt: skip
    assert needed <= granted
    # Writes, deletes and version listings stay inside the work prefix the policy limits them to.
    scoped = {
        "PutObject": lambda params: [params["Key"]],
        "ListObjectVersions": lambda params: [params["Prefix"]],
        "DeleteObjects": lambda params: [entry["Key"] for entry in params["Delete"]["Objects"]],
    }
    checked = 0
    for _service, operation, params in calls:
        if operation in scoped:
            keys = scoped[operation](params)
            assert keys and all(key.startswith("_etl/") for key in keys), (operation, keys)
            checked += 1
    assert checked > 10


def test_the_table_is_on_demand_recoverable_and_encrypted(kit: KitAssembly) -> None:
    kit.template("durable-etl").has_resource(
        "AWS::DynamoDB::Table",
        {
            "Properties": Match.object_like(
                {
                    "BillingMode": "PAY_PER_REQUEST",
                    "PointInTimeRecoverySpecification": {"PointInTimeRecoveryEnabled": True},
                    "SSESpecification": {"SSEEnabled": True},
                    "KeySchema": [
                        # A dataset's rows spread over KEY_SPREAD partition keys: "<datasetId>#<nn>".
                        {"AttributeName": "datasetKey", "KeyType": "HASH"},
                        {"AttributeName": "id", "KeyType": "RANGE"},
                    ],
                }
            ),
            "DeletionPolicy": "Retain",
        },
    )


def test_staged_work_expires_and_the_dead_letter_queue_is_encrypted_and_tls_only(kit: KitAssembly) -> None:
    template = kit.template("durable-etl")
    template.has_resource_properties(
        "AWS::S3::Bucket",
        {
            "LifecycleConfiguration": {
                "Rules": Match.array_with([{"Prefix": "_etl/", "ExpirationInDays": 30, "Status": "Enabled"}])
            }
        },
    )
    template.has_resource_properties("AWS::SQS::Queue", {"SqsManagedSseEnabled": True})
    template.has_resource_properties(
        "AWS::SQS::QueuePolicy",
        {
            "PolicyDocument": {
                "Statement": [
                    Match.object_like({"Effect": "Deny", "Condition": {"Bool": {"aws:SecureTransport": "false"}}})
                ]
            }
        },
    )


def test_failed_executions_and_dead_letters_raise_alarms_on_the_alarm_topic(etl: dict[str, Any]) -> None:
    topic_id, _ = _one(etl, "AWS::SNS::Topic")
    alarms = [r["Properties"] for r in etl["Resources"].values() if r["Type"] == "AWS::CloudWatch::Alarm"]
    # The business alarm on rejects (its own test below) is not about lost input.
    alarms = [a for a in alarms if a.get("MetricName") != contract.REJECTED_PERCENT]
    # Every place a run's input can end unprocessed: failed executions, the dead-letter queue, an
    # asynchronous start Lambda dropped or could not dead-letter, a scheduled start Scheduler dropped
    # or could not dead-letter (its own schedule group, so no other schedule counts).
    assert len(alarms) == 4
    for alarm in alarms:
        assert alarm["AlarmActions"] == [{"Ref": topic_id}] and alarm["Threshold"] == 1
    metrics = json.dumps(alarms)
    for name in ("DurableExecutionFailed", "DurableExecutionTimedOut", "ApproximateNumberOfMessagesVisible",
                 "AsyncEventsDropped", "DeadLetterErrors", "InvocationDroppedCount",
                 "InvocationsFailedToBeSentToDeadLetterCount"):  # fmt: skip
        assert f'"{name}"' in metrics, name
    group = _one(etl, "AWS::Scheduler::ScheduleGroup")[1]["Properties"]["Name"]
    assert _one(etl, "AWS::Scheduler::Schedule")[1]["Properties"]["GroupName"] == group
    assert f'{{"Name": "ScheduleGroup", "Value": "{group}"}}' in metrics


def test_a_run_rejecting_more_than_the_setting_s_share_alarms_on_what_the_run_emits(etl: dict[str, Any]) -> None:
    topic_id, _ = _one(etl, "AWS::SNS::Topic")
    [alarm] = [r["Properties"] for r in etl["Resources"].values()
               if r["Type"] == "AWS::CloudWatch::Alarm" and r["Properties"].get("MetricName") == contract.REJECTED_PERCENT]  # fmt: skip
    # The namespace and dimensions the run's EMF line carries (tests/durable_etl/test_metrics.py).
    namespace = _function(etl)[1]["Properties"]["Environment"]["Variables"]["POWERTOOLS_METRICS_NAMESPACE"]
    assert alarm["Namespace"] == namespace
    assert alarm["Dimensions"] == [{"Name": "service", "Value": contract.SERVICE_NAME}]
    share = cdk_json_context()["kit"]["durableEtl"]["rejectAlarmShare"]
    assert (alarm["Statistic"], alarm["Threshold"], alarm["ComparisonOperator"]) == (
        "Maximum",
        pytest.approx(100 * share),
        "GreaterThanThreshold",
    )
    assert alarm["AlarmActions"] == [{"Ref": topic_id}] and alarm["TreatMissingData"] == "notBreaching"


@pytest.mark.parametrize("share", ["-0.1", "1.5", "1e400", "nan", "five"])
def test_a_reject_share_outside_0_to_1_stops_the_synth(share: str) -> None:
    with pytest.raises(SettingsError, match="rejectAlarmShare"):
        settings_from_context({**cdk_json_context(), "kit.durableEtl.rejectAlarmShare": share})


def test_only_the_etl_roles_may_write_under_the_work_prefix(etl: dict[str, Any]) -> None:
    [policy] = [r["Properties"] for r in etl["Resources"].values() if r["Type"] == "AWS::S3::BucketPolicy"
                and "OnlyTheEtlWritesItsStagedWork" in json.dumps(r)]  # fmt: skip
    [deny] = [s for s in policy["PolicyDocument"]["Statement"] if s.get("Sid") == "OnlyTheEtlWritesItsStagedWork"]
    roles = {json.dumps(_function(etl, h)[1]["Properties"]["Role"]) for h in (HANDLER, SHARD_HANDLER)}
    assert deny["Effect"] == "Deny" and deny["Principal"] == {"AWS": "*"}
    assert {json.dumps(r) for r in deny["Condition"]["ArnNotEquals"]["aws:PrincipalArn"]} == roles
    assert set(deny["Action"]) == {"s3:PutObject", "s3:DeleteObject", "s3:DeleteObjectVersion"}
    assert json.dumps(deny["Resource"]).endswith('"/_etl/*"]]}')


def test_an_enabled_schedule_uses_the_configured_time_zone() -> None:
    context = {
        **cdk_json_context(),
        "kit.durableEtl.schedule.enabled": "true",
        "kit.durableEtl.timeZone": "Europe/Berlin",
        "kit.durableEtl.schedule.datasetId": "sales",
    }
    settings = settings_from_context(context)
    # The cdk.json context carries the feature flags the kit's constructs rely on.
    app = cdk.App(context=context, builtin_cloud_formation_validation=False)
    stack = DurableEtlStack(app, "Probe", common=settings.common, settings=settings.durable_etl)
    Template.from_stack(stack).has_resource_properties(
        "AWS::Scheduler::Schedule",
        {
            "State": "ENABLED",
            "ScheduleExpressionTimezone": "Europe/Berlin",
            "Target": Match.object_like({"Input": '{"datasetId":"sales"}'}),
        },
    )


def test_an_execution_timeout_too_short_for_the_waits_is_refused() -> None:
    expected = r"kit\.durableEtl\.executionTimeoutHours: 12 is not enough: at least 26 hours"
    with pytest.raises(SettingsError, match=expected):
        settings_from_context({**cdk_json_context(), "kit.durableEtl.executionTimeoutHours": "12"})


@pytest.mark.parametrize(
    ("overrides", "expected"),
    [
        # Lambda: the coordinator and fanOutWidth units at once, 100 of the account's executions unreserved.
        ({"kit.durableEtl.fanOutWidth": "900"}, r"fanOutWidth: 900 is not at most 899: the coordinator and 900 "
         r"units would need 901 concurrent executions, and accountQuotas.lambdaConcurrentExecutions 1000"),
        ({"kit.durableEtl.fanOutWidth": "50", "kit.durableEtl.accountQuotas.lambdaConcurrentExecutions": "150"},
         r"fanOutWidth: 50 is not at most 49"),
        # DynamoDB: the table's on-demand write quota.
        ({"kit.durableEtl.writeUnitsPerSecond": "20000", "kit.durableEtl.accountQuotas.dynamodbTableWriteUnits": "10000"},
         r"writeUnitsPerSecond: 20000 is not at most 10000: the table quota"),
    ],
)  # fmt: skip
def test_concurrency_past_the_account_quotas_is_refused_at_synth(overrides: dict[str, str], expected: str) -> None:
    with pytest.raises(SettingsError, match=expected):
        settings_from_context({**cdk_json_context(), **overrides})


def test_concurrency_within_raised_quotas_is_accepted() -> None:
    settings = settings_from_context({
        **cdk_json_context(), "kit.durableEtl.fanOutWidth": "800",
        "kit.durableEtl.accountQuotas.lambdaConcurrentExecutions": "5000",
    })  # fmt: skip
    assert settings.durable_etl.fan_out_width == 800


def test_no_execution_can_outgrow_a_durable_executions_operations(monkeypatch: pytest.MonkeyPatch) -> None:
    # The contract's constants keep every execution under 3,000 operations; an edit past that fails synth.
    settings_from_context(cdk_json_context())
    monkeypatch.setattr(contract, "FAN_OUT_PER_EXECUTION", 200)
    with pytest.raises(SettingsError, match="more than a durable execution's 3000"):
        settings_from_context(cdk_json_context())
