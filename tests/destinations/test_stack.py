"""The synthesized destinations template: what matters to behaviour and security."""

from __future__ import annotations

import importlib
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk.assertions import Match, Template

from stacks.destinations import DestinationsSettings, DestinationsStack
from stacks.settings import CommonSettings
from stacks.settings.common import APP_NAME
from tests.conftest import KitAssembly, cdk_json_context

SETTINGS = cdk_json_context()["kit"]["destinations"]


@pytest.fixture(scope="module")
def template(kit: KitAssembly) -> Template:
    return kit.template("destinations")


def _logical_id(template: Template, resource_type: str, path_part: str) -> str:
    (logical_id,) = [
        logical_id
        for logical_id, resource in template.find_resources(resource_type).items()
        if logical_id.startswith(path_part)
    ]
    return logical_id


def test_the_event_invoke_config_is_on_the_worker_alias_with_both_destinations_and_the_settings(
    template: Template,
) -> None:
    worker_alias = _logical_id(template, "AWS::Lambda::Alias", "WorkerLiveAlias")
    success_alias = _logical_id(template, "AWS::Lambda::Alias", "SuccessHandlerLiveAlias")
    records = _logical_id(template, "AWS::SQS::Queue", "FailureRecordsQueue")
    template.resource_count_is("AWS::Lambda::EventInvokeConfig", 1)  # none on $LATEST
    template.has_resource_properties(
        "AWS::Lambda::EventInvokeConfig",
        {
            "FunctionName": {"Ref": _logical_id(template, "AWS::Lambda::Function", "WorkerFunction")},
            "Qualifier": {"Fn::Select": [7, {"Fn::Split": [":", {"Ref": worker_alias}]}]},
            "MaximumRetryAttempts": SETTINGS["maxRetryAttempts"],
            "MaximumEventAgeInSeconds": SETTINGS["maxEventAgeSeconds"],
            "DestinationConfig": {
                "OnSuccess": {"Destination": {"Ref": success_alias}},
                # A queue: its message bodies reach the failure handler as text, never parsed into floats.
                "OnFailure": {"Destination": {"Fn::GetAtt": [records, "Arn"]}},
            },
        },
    )
    template.has_resource_properties("AWS::Lambda::Alias", {"Name": "live", "FunctionVersion": Match.any_value()})


def test_destinations_are_wired_directly_not_through_eventbridge(template: Template) -> None:
    template.resource_count_is("AWS::Events::Rule", 0)


def test_the_worker_may_invoke_the_success_alias_and_send_to_the_records_queue_only(template: Template) -> None:
    worker_policy = _logical_id(template, "AWS::IAM::Policy", "WorkerRoleDefaultPolicy")
    statements = template.find_resources("AWS::IAM::Policy")[worker_policy]["Properties"]["PolicyDocument"]["Statement"]
    granted = [
        (s["Action"], s["Resource"]) for s in statements if not str(s["Action"]).startswith(("xray:", "['logs:"))
    ]
    assert sorted(granted, key=str) == sorted(
        [
            ("lambda:InvokeFunction", {"Ref": _logical_id(template, "AWS::Lambda::Alias", "SuccessHandlerLiveAlias")}),
            (
                "sqs:SendMessage",
                {"Fn::GetAtt": [_logical_id(template, "AWS::SQS::Queue", "FailureRecordsQueue"), "Arn"]},
            ),
            (
                ["kms:Decrypt", "kms:GenerateDataKey"],
                {"Fn::GetAtt": [_logical_id(template, "AWS::KMS::Key", "FailureRecordsKey"), "Arn"]},
            ),
        ],
        key=str,
    )


def test_the_failed_requests_queue_is_encrypted_kept_14_days_with_its_own_dlq(template: Template) -> None:
    key = _logical_id(template, "AWS::KMS::Key", "KeptFailuresKey")
    dlq = _logical_id(template, "AWS::SQS::Queue", "KeptFailuresDeadLetterQueue")
    template.has_resource_properties("AWS::KMS::Key", {"EnableKeyRotation": True})
    template.has_resource_properties(
        "AWS::SQS::Queue",
        {
            "KmsMasterKeyId": {"Fn::GetAtt": [key, "Arn"]},
            "MessageRetentionPeriod": 14 * 24 * 3600,
            "RedrivePolicy": {
                "deadLetterTargetArn": {"Fn::GetAtt": [dlq, "Arn"]},
                "maxReceiveCount": Match.any_value(),
            },
        },
    )
    assert template.find_resources("AWS::SQS::Queue")[dlq]["Properties"]["KmsMasterKeyId"] == {
        "Fn::GetAtt": [key, "Arn"]
    }


@pytest.mark.parametrize(
    "queue",
    ["KeptFailuresQueue", "KeptFailuresDeadLetterQueue", "FailureRecordsQueue", "FailureRecordsDeadLetterQueue"],
)
def test_the_queues_refuse_requests_without_tls(template: Template, queue: str) -> None:
    queue_id = _logical_id(template, "AWS::SQS::Queue", queue)
    template.has_resource_properties(
        "AWS::SQS::QueuePolicy",
        {
            "Queues": [{"Ref": queue_id}],
            "PolicyDocument": {
                "Statement": Match.array_with(
                    [
                        Match.object_like(
                            {
                                "Effect": "Deny",
                                "Condition": {"Bool": {"aws:SecureTransport": "false"}},
                                "Action": "sqs:*",
                            }
                        )
                    ]
                )
            },
        },
    )


def test_the_success_handler_fails_into_the_dlq_the_failure_handler_reads_the_records_queue(
    template: Template,
) -> None:
    dlq = _logical_id(template, "AWS::SQS::Queue", "KeptFailuresDeadLetterQueue")
    functions = template.find_resources("AWS::Lambda::Function")
    dead_letter = {logical_id: f["Properties"].get("DeadLetterConfig") for logical_id, f in functions.items()}
    assert dead_letter == {
        _logical_id(template, "AWS::Lambda::Function", "WorkerFunction"): None,
        _logical_id(template, "AWS::Lambda::Function", "SuccessHandlerFunction"): {
            "TargetArn": {"Fn::GetAtt": [dlq, "Arn"]}
        },
        # Invoked by its SQS event source (synchronously): the records queue's redrive keeps what fails.
        _logical_id(template, "AWS::Lambda::Function", "FailureHandlerFunction"): None,
    }
    template.has_resource_properties(
        "AWS::Lambda::EventSourceMapping",
        {
            "FunctionName": {"Ref": _logical_id(template, "AWS::Lambda::Function", "FailureHandlerFunction")},
            "EventSourceArn": {"Fn::GetAtt": [_logical_id(template, "AWS::SQS::Queue", "FailureRecordsQueue"), "Arn"]},
            "FunctionResponseTypes": ["ReportBatchItemFailures"],
        },
    )


def test_only_the_failure_handler_may_write_to_the_failed_requests_queue(template: Template) -> None:
    queue = _logical_id(template, "AWS::SQS::Queue", "KeptFailuresQueue")
    writers = [
        logical_id
        for logical_id, policy in template.find_resources("AWS::IAM::Policy").items()
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]
        if statement["Action"] == "sqs:SendMessage"
        and {"Fn::GetAtt": [queue, "Arn"]} in _as_list(statement["Resource"])
    ]
    assert writers == [_logical_id(template, "AWS::IAM::Policy", "FailureHandlerRoleDefaultPolicy")]


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def test_the_worker_logs_where_the_log_export_workload_looks(template: Template) -> None:
    # The log export's settings in cdk.json name it as the group to export, where both are registered.
    template.has_resource_properties("AWS::Logs::LogGroup", {"LogGroupName": f"/{APP_NAME}/dev/destinations/worker"})


def test_every_handler_string_names_a_handler_in_the_asset(template: Template) -> None:
    for function in template.find_resources("AWS::Lambda::Function").values():
        module_name, _, attribute = function["Properties"]["Handler"].rpartition(".")
        assert callable(getattr(importlib.import_module(module_name), attribute))


def test_the_depth_alarm_uses_the_setting(template: Template) -> None:
    queue = _logical_id(template, "AWS::SQS::Queue", "KeptFailuresQueue")
    template.has_resource_properties(
        "AWS::CloudWatch::Alarm",
        {
            "MetricName": "ApproximateNumberOfMessagesVisible",
            "Threshold": SETTINGS["failedQueueDepthAlarm"],
            "Dimensions": [{"Name": "QueueName", "Value": {"Fn::GetAtt": [queue, "QueueName"]}}],
            "AlarmActions": [{"Ref": Match.string_like_regexp("^AlarmsTopic")}],
        },
    )


def _alarms_on_topic(template: Template) -> list[dict[str, Any]]:
    return [
        alarm["Properties"]
        for alarm in template.find_resources("AWS::CloudWatch::Alarm").values()
        if alarm["Properties"].get("AlarmActions") == [{"Ref": _logical_id(template, "AWS::SNS::Topic", "AlarmsTopic")}]
    ]


@pytest.mark.parametrize(
    ("function", "metric"),
    [
        ("WorkerFunction", "AsyncEventsDropped"),
        ("WorkerFunction", "DestinationDeliveryFailures"),
        ("WorkerFunction", "DeadLetterErrors"),
        ("SuccessHandlerFunction", "AsyncEventsDropped"),
        ("SuccessHandlerFunction", "DeadLetterErrors"),
        ("SuccessHandlerFunction", "Errors"),
        ("FailureHandlerFunction", "Errors"),
    ],
)
def test_every_lost_event_metric_and_handler_error_alarms_on_the_topic(
    template: Template, function: str, metric: str
) -> None:
    function_id = _logical_id(template, "AWS::Lambda::Function", function)
    matching = [
        alarm
        for alarm in _alarms_on_topic(template)
        if alarm.get("Namespace") == "AWS/Lambda"
        and alarm.get("MetricName") == metric
        and alarm.get("Dimensions") == [{"Name": "FunctionName", "Value": {"Ref": function_id}}]
    ]
    assert len(matching) == 1
    (alarm,) = matching
    assert (alarm["Threshold"], alarm["ComparisonOperator"], alarm["Statistic"]) == (
        1,
        "GreaterThanOrEqualToThreshold",
        "Sum",
    )


@pytest.mark.parametrize("queue", ["KeptFailuresDeadLetterQueue", "FailureRecordsDeadLetterQueue"])
def test_every_dead_letter_queue_alarms_on_the_topic_from_one_message(template: Template, queue: str) -> None:
    queue_id = _logical_id(template, "AWS::SQS::Queue", queue)
    assert [
        alarm["Threshold"]
        for alarm in _alarms_on_topic(template)
        if alarm.get("MetricName") == "ApproximateNumberOfMessagesVisible"
        and alarm.get("Dimensions") == [{"Name": "QueueName", "Value": {"Fn::GetAtt": [queue_id, "QueueName"]}}]
    ] == [1]


def test_the_replay_policy_grants_what_the_command_does_and_nothing_else(template: Template) -> None:
    (policy,) = template.find_resources("AWS::IAM::ManagedPolicy").values()
    statements = policy["Properties"]["PolicyDocument"]["Statement"]
    assert {(json_action(s["Action"]), str(s["Resource"])) for s in statements} == {
        (
            ("sqs:ChangeMessageVisibility", "sqs:DeleteMessage", "sqs:ReceiveMessage"),
            str({"Fn::GetAtt": [_logical_id(template, "AWS::SQS::Queue", "KeptFailuresQueue"), "Arn"]}),
        ),
        (("kms:Decrypt",), str({"Fn::GetAtt": [_logical_id(template, "AWS::KMS::Key", "KeptFailuresKey"), "Arn"]})),
        (("lambda:InvokeFunction",), str({"Ref": _logical_id(template, "AWS::Lambda::Alias", "WorkerLiveAlias")})),
        (
            ("s3:GetObject",),
            str(
                {
                    "Fn::Join": [
                        "",
                        [
                            {
                                "Fn::GetAtt": [
                                    _logical_id(template, "AWS::S3::Bucket", "KeptFailuresOffloadBucket"),
                                    "Arn",
                                ]
                            },
                            "/kept-failures/*",
                        ],
                    ]
                }
            ),
        ),
    }


def json_action(action: str | list[str]) -> tuple[str, ...]:
    return tuple(sorted(_as_list(action)))


def test_other_settings_reach_the_template() -> None:
    # The stack alone, without the CloudFormation validation that costs seconds per synth.
    app = cdk.App(context=cdk_json_context(), builtin_cloud_formation_validation=False)  # cdk.json feature flags
    stack = DestinationsStack(
        app,
        f"{APP_NAME}-test-destinations",
        common=CommonSettings(stage="test", tags={}, log_retention_days=7, alarm_email=None),
        settings=DestinationsSettings(
            max_retry_attempts=0, max_event_age_seconds=120, failed_queue_depth_alarm=25, log_payloads=True
        ),
    )
    template = Template.from_stack(stack)
    functions = template.find_resources("AWS::Lambda::Function").values()
    assert [f["Properties"]["Environment"]["Variables"]["LOG_PAYLOADS"] for f in functions] == ["true"] * 3

    template.has_resource_properties(
        "AWS::Lambda::EventInvokeConfig", {"MaximumRetryAttempts": 0, "MaximumEventAgeInSeconds": 120}
    )
    template.has_resource_properties(
        "AWS::CloudWatch::Alarm", {"MetricName": "ApproximateNumberOfMessagesVisible", "Threshold": 25}
    )
    template.has_resource_properties("AWS::Logs::LogGroup", {"LogGroupName": f"/{APP_NAME}/test/destinations/worker"})


def test_payload_logging_is_off_by_default(template: Template) -> None:
    functions = template.find_resources("AWS::Lambda::Function").values()
    assert [f["Properties"]["Environment"]["Variables"]["LOG_PAYLOADS"] for f in functions] == ["false"] * 3
