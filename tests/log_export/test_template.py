"""What matters to security and behaviour in the synthesized template, asserted exactly."""

from __future__ import annotations

import json
import math
from typing import Any

import pytest
from aws_cdk.assertions import Match, Template
from lwk_log_export.contract import COMPLETION_RECORD
from lwk_log_export.contract import export_prefix as group_prefix
from syrupy.assertion import SnapshotAssertion
from syrupy.extensions.json import JSONSnapshotExtension

from stacks.kit_settings import settings_from_context
from stacks.log_export import export_timing as timing
from stacks.log_export.settings import run_bounds
from stacks.settings.common import APP_NAME
from support.log_export_run import (
    NOTICE_EMAIL,
    TWO_GROUPS,
    exported_group,
    resources_of_type,
    synth_log_export,
    the_state_machine,
)
from tests.conftest import KitAssembly, cdk_json_context

EXPORTED_GROUP = exported_group()

SETTINGS = cdk_json_context()["kit"]["logExport"]
RETENTION = cdk_json_context()["kit"]["logRetentionDays"]
LOGS_SERVICE = {"Fn::Join": ["", ["logs.", {"Ref": "AWS::Region"}, ".amazonaws.com"]]}
# The exported log group's ARN, in both spellings (tests/permissions proves others are refused).
OWN_LOG_GROUPS = [
    {
        "Fn::Join": [
            "",
            [
                "arn:",
                {"Ref": "AWS::Partition"},
                ":logs:",
                {"Ref": "AWS::Region"},
                ":",
                {"Ref": "AWS::AccountId"},
                f":log-group:{EXPORTED_GROUP}{suffix}",
            ],
        ]  # fmt: skip
    }
    for suffix in ("", ":*")
]


def export_bucket_id(template: dict[str, Any]) -> str:
    (bucket_id,) = [
        lid
        for lid, r in resources_of_type(template, "AWS::S3::Bucket").items()
        if "LoggingConfiguration" in r["Properties"]
    ]
    return bucket_id


def bucket_policy(template: dict[str, Any]) -> list[dict[str, Any]]:
    bucket_id = export_bucket_id(template)
    (policy,) = [
        r["Properties"]["PolicyDocument"]["Statement"]
        for r in resources_of_type(template, "AWS::S3::BucketPolicy").values()
        if r["Properties"]["Bucket"] == {"Ref": bucket_id}
    ]
    return policy


def definition(template: dict[str, Any]) -> dict[str, Any]:
    return json.loads(the_state_machine(template)["DefinitionString"])


def role_statements(template: dict[str, Any], function_prefix: str) -> list[dict[str, Any]]:
    (role_id,) = [lid for lid in resources_of_type(template, "AWS::IAM::Role") if lid.startswith(function_prefix)]
    return [
        statement
        for policy in resources_of_type(template, "AWS::IAM::Policy").values()
        if {"Ref": role_id} in policy["Properties"]["Roles"]
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]
    ]


def test_bucket_policy_lets_only_cloudwatch_logs_of_this_account_write_under_the_prefixes(
    template: dict[str, Any],
) -> None:
    bucket_arn = {"Fn::GetAtt": [export_bucket_id(template), "Arn"]}
    assert bucket_policy(template) == [
        {
            "Action": "s3:*",
            "Condition": {"Bool": {"aws:SecureTransport": "false"}},
            "Effect": "Deny",
            "Principal": {"AWS": "*"},
            "Resource": [bucket_arn, {"Fn::Join": ["", [bucket_arn, "/*"]]}],
        },
        {
            "Sid": "CloudWatchLogsAclCheck",
            "Action": "s3:GetBucketAcl",
            "Condition": {
                "StringEquals": {"aws:SourceAccount": {"Ref": "AWS::AccountId"}},
                "ArnLike": {"aws:SourceArn": OWN_LOG_GROUPS},
            },
            "Effect": "Allow",
            "Principal": {"Service": LOGS_SERVICE},
            "Resource": bucket_arn,
        },
        {
            "Sid": "CloudWatchLogsExportWrite0",
            "Action": "s3:PutObject",
            "Condition": {
                "StringEquals": {
                    "aws:SourceAccount": {"Ref": "AWS::AccountId"},
                    "s3:x-amz-acl": "bucket-owner-full-control",
                },
                "ArnLike": {"aws:SourceArn": OWN_LOG_GROUPS},
            },
            "Effect": "Allow",
            "Principal": {"Service": LOGS_SERVICE},
            "Resource": {"Fn::Join": ["", [bucket_arn, f"{EXPORTED_GROUP}/*"]]},
        },
    ]


def test_bucket_policy_lets_each_group_write_under_its_own_prefix_only(two_group_template: dict[str, Any]) -> None:
    writes = [s for s in bucket_policy(two_group_template) if s.get("Sid", "").startswith("CloudWatchLogsExportWrite")]
    assert [w["Sid"] for w in writes] == [f"CloudWatchLogsExportWrite{i}" for i in range(len(TWO_GROUPS))]
    for group, write in zip(TWO_GROUPS, writes, strict=True):
        assert write["Resource"]["Fn::Join"][1][1] == f"/{group_prefix(group)}/*"
        sources = [arn["Fn::Join"][1][-1] for arn in write["Condition"]["ArnLike"]["aws:SourceArn"]]
        assert sources == [f":log-group:{group}", f":log-group:{group}:*"]


def test_bucket_check_may_list_only_the_completion_records_keys(two_group_template: dict[str, Any]) -> None:
    (listing,) = [
        s for s in role_statements(two_group_template, "HandlersBucketCheck") if s["Action"] == "s3:ListBucket"
    ]
    assert listing["Condition"] == {
        "StringLike": {"s3:prefix": [f"{group_prefix(group)}/*/{COMPLETION_RECORD}" for group in TWO_GROUPS]}
    }


def test_bucket_check_may_write_exactly_the_completion_records_the_handler_writes(
    two_group_template: dict[str, Any],
) -> None:
    (put,) = [s for s in role_statements(two_group_template, "HandlersBucketCheck") if s["Action"] == "s3:PutObject"]
    suffixes = [part["Fn::Join"][1][1] for part in put["Resource"]]
    assert suffixes == [f"/{group_prefix(group)}/*/{COMPLETION_RECORD}" for group in TWO_GROUPS]


def test_cdk_nag_finds_nothing_open_with_several_log_groups_and_a_notice_address(tmp_path: Any) -> None:
    # The kit-wide nag test sees cdk.json's settings only; these options add resources and findings.
    overrides = {
        "kit.logExport.logGroups": json.dumps(["/a/one", "two", "/three/x"]),
        "kit.logExport.notificationEmail": NOTICE_EMAIL,
    }
    synth_log_export(tmp_path, overrides, nag=True)  # raises on any finding left open


def test_export_bucket_is_private_sse_s3_owner_enforced_and_archives_old_exports(template: dict[str, Any]) -> None:
    properties = template["Resources"][export_bucket_id(template)]["Properties"]
    assert properties["BucketEncryption"] == {
        "ServerSideEncryptionConfiguration": [{"ServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}]
    }
    assert properties["OwnershipControls"] == {"Rules": [{"ObjectOwnership": "BucketOwnerEnforced"}]}
    assert properties["PublicAccessBlockConfiguration"] == {
        "BlockPublicAcls": True, "BlockPublicPolicy": True, "IgnorePublicAcls": True, "RestrictPublicBuckets": True,
    }  # fmt: skip
    archive = [r for r in properties["LifecycleConfiguration"]["Rules"] if r.get("Id") == "ArchiveOldExports"]
    assert archive == [
        {
            "Id": "ArchiveOldExports",
            "Status": "Enabled",
            "Transitions": [{"StorageClass": "GLACIER_IR", "TransitionInDays": SETTINGS["archiveAfterDays"]}],
        }
    ]


def test_logs_export_retry_block_is_the_seeds_with_the_configured_values(template: dict[str, Any]) -> None:
    assert definition(template)["States"]["LogsExport"]["Retry"] == [
        {
            "ErrorEquals": [
                "Lambda.ClientExecutionTimeoutException",
                "Lambda.ServiceException",
                "Lambda.AWSLambdaException",
                "Lambda.SdkClientException",
                "Lambda.TooManyRequestsException",
            ],
            "IntervalSeconds": 2,
            "MaxAttempts": 6,
            "BackoffRate": 2,
        },
        {
            "ErrorEquals": ["LimitExceededException"],
            "IntervalSeconds": SETTINGS["retry"]["intervalSeconds"],
            "MaxAttempts": SETTINGS["retry"]["maxAttempts"],
            "BackoffRate": SETTINGS["retry"]["backoffRate"],
        },
    ]


def test_only_logs_export_retries_an_error_of_a_handler(template: dict[str, Any]) -> None:
    # FAILED / CANCELLED exports and bad input end the run at once; only Lambda's own faults and the
    # one-export-at-a-time limit are retried.
    for name, state in definition(template)["States"].items():
        own = {e for retry in state.get("Retry", []) for e in retry["ErrorEquals"] if not e.startswith("Lambda.")}
        assert own == ({"LimitExceededException"} if name == "LogsExport" else set()), name


def test_every_task_catches_a_slots_trouble_into_that_slot_and_the_rest_into_the_failure_notice(
    template: dict[str, Any],
) -> None:
    states = definition(template)["States"]
    catches = {name: state["Catch"] for name, state in states.items() if state["Type"] == "Task"}
    # Without BucketCheck the run has no plan: that alone ends the run.
    assert catches.pop("BucketCheck") == [
        {"ErrorEquals": ["States.ALL"], "ResultPath": "$.error", "Next": "NotifyFailure"}
    ]
    for name in ("LogsExport", "ExportStatus", "NotifyExported"):
        assert catches.pop(name) == [{"ErrorEquals": ["States.ALL"], "ResultPath": "$.error", "Next": "ExportFailed"}]
    assert catches.pop("NotifyExportFailed") == [
        {"ErrorEquals": ["States.ALL"], "ResultPath": "$.notifyError", "Next": "BucketCheck"}
    ]
    assert states["ExportFailed"]["Next"] == "NotifyExportFailed"
    assert states["ExportFailed"]["Parameters"]["failures.$"] == "States.MathAdd($.failures, 1)"
    assert states["ExportsFailed"]["Type"] == "Fail"
    catches.pop("NotifyFailure")
    assert catches == {}
    assert states["NotifyFailure"]["Next"] == "RunFailed"
    assert states["NotifyFailure"]["Catch"] == [
        {"ErrorEquals": ["States.ALL"], "ResultPath": "$.notifyError", "Next": "RunFailed"}
    ]
    assert states["RunFailed"] == {"Type": "Fail", "ErrorPath": "$.error.Error", "CausePath": "$.error.Cause"}


def test_the_bounds_come_from_the_settings(two_group_template: dict[str, Any]) -> None:
    states = definition(two_group_template)["States"]
    assert states["ResultCheck"]["Choices"][2] == {
        "And": [
            {"Variable": "$.exportsStarted", "NumericGreaterThanEquals": 4},
            {"Variable": "$.failures", "NumericEquals": 0},
        ],
        "Next": "RunBoundReached",
    }
    assert states["ExportFinished"]["Choices"][1] == {
        "Variable": "$.polls.count", "NumericGreaterThanEquals": 3, "Next": "ExportStillRunning",
    }  # fmt: skip
    assert states["WaitForExport"]["Seconds"] == SETTINGS["pollIntervalSeconds"]


def test_state_machine_is_standard_jsonpath_logged_in_full_and_traced(template: dict[str, Any]) -> None:
    machine = the_state_machine(template)
    assert definition(template)["QueryLanguage"] == "JSONPath"
    assert machine["StateMachineType"] == "STANDARD"
    assert machine["TracingConfiguration"] == {"Enabled": True}
    assert machine["LoggingConfiguration"]["Level"] == "ALL"
    assert machine["LoggingConfiguration"]["IncludeExecutionData"] is True
    Template.from_json(template).has_resource_properties(
        "AWS::Logs::LogGroup",
        {"LogGroupName": f"/aws/vendedlogs/states/{APP_NAME}-dev-log-export", "RetentionInDays": RETENTION},
    )


def test_schedule_starts_the_machine_monthly_with_an_empty_input(template: dict[str, Any]) -> None:
    (rule,) = resources_of_type(template, "AWS::Events::Rule").values()
    assert rule["Properties"]["ScheduleExpression"] == SETTINGS["schedule"]["expression"] == "cron(0 3 2,9 * ? *)"
    assert rule["Properties"]["State"] == "ENABLED"
    (target,) = rule["Properties"]["Targets"]
    (machine_id,) = resources_of_type(template, "AWS::StepFunctions::StateMachine")
    assert (target["Arn"], target["Input"]) == ({"Ref": machine_id}, "{}")


def test_only_this_rule_of_this_account_may_start_runs_through_the_target_role(template: dict[str, Any]) -> None:
    (rule,) = resources_of_type(template, "AWS::Events::Rule").values()
    (target,) = rule["Properties"]["Targets"]
    role_id = target["RoleArn"]["Fn::GetAtt"][0]
    (trust,) = template["Resources"][role_id]["Properties"]["AssumeRolePolicyDocument"]["Statement"]
    rule_arn = {
        "Fn::Join": [
            "",
            [
                "arn:",
                {"Ref": "AWS::Partition"},
                ":events:",
                {"Ref": "AWS::Region"},
                ":",
                {"Ref": "AWS::AccountId"},
                f":rule/{rule['Properties']['Name']}",
            ],
        ]  # fmt: skip
    }
    assert trust == {
        "Action": "sts:AssumeRole",
        "Effect": "Allow",
        "Principal": {"Service": "events.amazonaws.com"},
        "Condition": {"StringEquals": {"aws:SourceAccount": {"Ref": "AWS::AccountId"}, "aws:SourceArn": rule_arn}},
    }


def test_schedule_follows_its_settings(two_group_template: dict[str, Any]) -> None:
    (rule,) = resources_of_type(two_group_template, "AWS::Events::Rule").values()
    assert (rule["Properties"]["ScheduleExpression"], rule["Properties"]["State"]) == ("cron(30 1 5 * ? *)", "DISABLED")


def test_every_place_an_export_can_go_to_die_raises_an_alarm_on_the_alarm_topic(template: dict[str, Any]) -> None:
    # A failed run, a run stopped at its time bound, each (log group, month) that could not be exported
    # (the run goes on), a notice SNS could not deliver, and a scheduled start that did not happen.
    # The backlog alarm (a Metrics Insights query, no MetricName) has its own test.
    alarms = {
        a["Properties"]["MetricName"]: a["Properties"]
        for a in resources_of_type(template, "AWS::CloudWatch::Alarm").values()
        if "MetricName" in a["Properties"]
    }
    assert set(alarms) == {
        "ExecutionsFailed",
        "ExecutionsTimedOut",
        "TroubledExports",
        "NumberOfNotificationsFailed",
        "FailedInvocations",
    }
    (topic_id,) = [lid for lid in resources_of_type(template, "AWS::SNS::Topic") if lid.startswith("Alarms")]
    (notices_id,) = [lid for lid in resources_of_type(template, "AWS::SNS::Topic") if lid.startswith("Notices")]
    (machine_id,) = resources_of_type(template, "AWS::StepFunctions::StateMachine")
    for metric in ("ExecutionsFailed", "ExecutionsTimedOut"):
        assert alarms[metric]["Dimensions"] == [{"Name": "StateMachineArn", "Value": {"Ref": machine_id}}]
    assert alarms["NumberOfNotificationsFailed"]["Dimensions"] == [
        {"Name": "TopicName", "Value": {"Fn::GetAtt": [notices_id, "TopicName"]}}
    ]
    for alarm in alarms.values():
        assert alarm["AlarmActions"] == [{"Ref": topic_id}]
        assert (alarm["Threshold"], alarm["ComparisonOperator"]) == (1, "GreaterThanOrEqualToThreshold")
    # The troubled-exports metric counts entries of the state every failed slot passes once.
    (metric_filter,) = resources_of_type(template, "AWS::Logs::MetricFilter").values()
    (log_group_id,) = [
        lid
        for lid, g in resources_of_type(template, "AWS::Logs::LogGroup").items()
        if g["Properties"].get("LogGroupName", "").startswith("/aws/vendedlogs/states/")
    ]
    assert metric_filter["Properties"]["LogGroupName"] == {"Ref": log_group_id}
    assert metric_filter["Properties"]["FilterPattern"] == (
        '{ ($.type = "PassStateEntered") && ($.details.name = "ExportFailed") }'
    )
    assert "ExportFailed" in definition(template)["States"]
    (transformation,) = metric_filter["Properties"]["MetricTransformations"]
    assert (transformation["MetricName"], transformation["MetricValue"]) == ("TroubledExports", "1")
    assert alarms["TroubledExports"]["Namespace"] == transformation["MetricNamespace"]


def test_a_run_is_stopped_at_the_time_bound_of_its_own_settings(template: dict[str, Any]) -> None:
    kit = settings_from_context(cdk_json_context())
    bound = timing.run_seconds(run_bounds(kit.log_export))
    assert definition(template)["TimeoutSeconds"] == math.ceil(bound)
    assert bound < timing.MAX_EXECUTION_SECONDS


def test_notice_topic_is_encrypted_and_mails_the_configured_address(two_group_template: dict[str, Any]) -> None:
    assembled = Template.from_json(two_group_template)
    assembled.has_resource_properties("AWS::SNS::Topic", {"KmsMasterKeyId": Match.any_value()})
    (notices_id,) = [
        lid for lid in resources_of_type(two_group_template, "AWS::SNS::Topic") if lid.startswith("Notices")
    ]
    assembled.has_resource_properties(
        "AWS::SNS::Subscription", {"Protocol": "email", "Endpoint": NOTICE_EMAIL, "TopicArn": {"Ref": notices_id}}
    )


def test_only_logs_export_may_create_export_tasks_and_only_of_the_configured_groups(
    two_group_template: dict[str, Any],
) -> None:
    statements = role_statements(two_group_template, "HandlersLogsExport")
    (create,) = [s for s in statements if s["Action"] == "logs:CreateExportTask"]
    arns = [r["Fn::Join"][1][-1] for r in create["Resource"]]
    assert sorted(arns) == sorted(f":log-group:{group}{suffix}" for group in TWO_GROUPS for suffix in ("", ":*"))
    for other in ("HandlersBucketCheck", "HandlersExportStatus"):
        assert "logs:CreateExportTask" not in json.dumps(role_statements(two_group_template, other))


def test_no_handler_may_read_exported_logs(template: dict[str, Any]) -> None:
    granted = json.dumps(
        [role_statements(template, f"Handlers{name}") for name in ("BucketCheck", "LogsExport", "ExportStatus")]
    )
    assert "s3:GetObject" not in granted and '"s3:*"' not in granted and "s3:Get" not in granted


def test_every_handler_string_names_a_function_of_the_package(template: dict[str, Any]) -> None:
    import importlib

    from lwk_log_export import contract

    handlers = sorted(f["Properties"]["Handler"] for f in resources_of_type(template, "AWS::Lambda::Function").values())
    assert handlers == sorted(
        [contract.BUCKET_CHECK_HANDLER, contract.LOGS_EXPORT_HANDLER, contract.EXPORT_STATUS_HANDLER]
    )
    for handler in handlers:
        module, _, name = handler.rpartition(".")
        assert callable(getattr(importlib.import_module(module), name)), handler


def test_handlers_get_their_settings_from_the_template(two_group_template: dict[str, Any]) -> None:
    checked = 0
    for lid, function in resources_of_type(two_group_template, "AWS::Lambda::Function").items():
        variables = function["Properties"].get("Environment", {}).get("Variables", {})
        if lid.startswith(("HandlersBucketCheck", "HandlersLogsExport")):
            assert json.loads(variables["LOG_GROUPS"]) == TWO_GROUPS
            assert variables["MONTHS_BACK"] == str(SETTINGS["monthsBack"])
            assert variables["EXPORT_BUCKET"] == {"Ref": export_bucket_id(two_group_template)}
            checked += 1
    assert checked == 2


@pytest.fixture
def json_snapshot(snapshot: SnapshotAssertion) -> SnapshotAssertion:
    return snapshot.use_extension(JSONSnapshotExtension)


def test_definition_matches_snapshot(template: dict[str, Any], json_snapshot: SnapshotAssertion) -> None:
    # The state machine as reviewers read it; the whole stack is snapshotted by tests/test_snapshots.py.
    machine = the_state_machine(template)
    assert {"definition": definition(template), "substitutions": machine["DefinitionSubstitutions"]} == json_snapshot


def test_the_months_behind_alarm_reads_what_the_last_bucket_check_writes(kit: KitAssembly) -> None:
    from lwk_log_export import contract

    from stacks.log_export.months_behind_alarm import MONTHS_BEHIND_THRESHOLD

    resources = kit.templates["log-export"]["Resources"]
    [alarm] = [r["Properties"] for r in resources.values()
               if r["Type"] == "AWS::CloudWatch::Alarm" and contract.MONTHS_BEHIND in json.dumps(r)]  # fmt: skip
    namespaces = {
        r["Properties"]["Environment"]["Variables"]["POWERTOOLS_METRICS_NAMESPACE"]
        for r in resources.values()
        if r["Type"] == "AWS::Lambda::Function"
    }
    [namespace] = namespaces
    [query] = [m["Expression"] for m in alarm["Metrics"]]
    # The same namespace, metric and dimension names as the handler's EMF line (test_handlers.py).
    assert f'MAX({contract.MONTHS_BEHIND}) FROM SCHEMA("{namespace}", {contract.LOG_GROUP_DIMENSION}, service)' in query
    assert f"WHERE service = '{contract.SERVICE_NAME}'" in query
    assert alarm["Threshold"] == MONTHS_BEHIND_THRESHOLD
    assert alarm["ComparisonOperator"] == "GreaterThanOrEqualToThreshold"
    assert alarm["TreatMissingData"] == "notBreaching" and alarm["AlarmActions"]
