"""What the shared constructs promise, checked in every stack that uses them."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk.assertions import Match, Template

from stacks.kit_settings import settings_from_context
from stacks.settings.common import DEFAULT, HARDENED
from stacks.shared.alarm_topic import AlarmTopic
from stacks.shared.encrypted_queue import EncryptedQueue
from stacks.shared.kit_function import KitFunction
from stacks.shared.kit_keys import use_profile
from stacks.shared.nag import DROP_ACKNOWLEDGEMENTS_KEY, add_nag_checks
from stacks.shared.prefix_access import PrefixAccess
from stacks.shared.private_bucket import PrivateBucket
from stacks.shared.sqs_event_source import EventSourceError, subscribe
from tests.conftest import REPO_ROOT, KitAssembly, cdk_json_context


def test_cloudwatch_may_use_alarm_keys_only_for_this_accounts_alarms(kit: KitAssembly) -> None:
    checked = 0
    for workload, template in kit.templates.items():
        for resource in template["Resources"].values():
            if resource["Type"] != "AWS::KMS::Key":
                continue
            for statement in resource["Properties"]["KeyPolicy"]["Statement"]:
                if statement.get("Principal") == {"Service": "cloudwatch.amazonaws.com"}:
                    assert statement["Condition"]["StringEquals"] == {"aws:SourceAccount": {"Ref": "AWS::AccountId"}}
                    assert "aws:SourceArn" in statement["Condition"]["ArnLike"], workload
                    checked += 1
    # One such statement per alarm topic key: every stack with alarms has one.
    topics = sum(r["Type"] == "AWS::SNS::Topic" for t in kit.templates.values() for r in t["Resources"].values())
    assert checked >= min(topics, 1)


def test_every_bucket_is_private_encrypted_and_tls_only(kit: KitAssembly) -> None:
    buckets = 0
    for workload, template in kit.templates.items():
        resources = template["Resources"]
        tls_only = {
            policy["Properties"]["Bucket"]["Ref"]
            for policy in resources.values()
            if policy["Type"] == "AWS::S3::BucketPolicy"
            and any(
                s["Effect"] == "Deny" and s.get("Condition") == {"Bool": {"aws:SecureTransport": "false"}}
                for s in policy["Properties"]["PolicyDocument"]["Statement"]
            )
        }
        for logical_id, bucket in resources.items():
            if bucket["Type"] != "AWS::S3::Bucket":
                continue
            properties = bucket["Properties"]
            assert properties["PublicAccessBlockConfiguration"] == {
                "BlockPublicAcls": True,
                "BlockPublicPolicy": True,
                "IgnorePublicAcls": True,
                "RestrictPublicBuckets": True,
            }, f"{workload}/{logical_id}"
            assert properties["BucketEncryption"]["ServerSideEncryptionConfiguration"], f"{workload}/{logical_id}"
            assert logical_id in tls_only, f"{workload}/{logical_id} accepts plain HTTP"
            buckets += 1
    assert buckets == sum(
        r["Type"] == "AWS::S3::Bucket" for t in kit.templates.values() for r in t["Resources"].values()
    )


DATA = ("AWS::S3::Bucket", "AWS::DynamoDB::Table")


def test_cdk_destroy_leaves_only_the_data_behind(kit: KitAssembly) -> None:
    """Buckets and tables outlive their stack (README, Deploy); keys, queues, topics, log groups do not."""
    retained, keys = set(), 0
    for workload, template in kit.templates.items():
        for logical_id, resource in template["Resources"].items():
            policy = resource.get("DeletionPolicy", "Delete")
            assert (policy == "Retain") == (resource["Type"] in DATA), f"{workload}/{logical_id}: {policy}"
            if policy == "Retain":
                retained.add((workload, resource["Type"]))
            if resource["Type"] == "AWS::KMS::Key":
                assert resource["Properties"]["PendingWindowInDays"] == 7, f"{workload}/{logical_id}"
                keys += 1
    # Every alarm topic is encrypted with a key of its own stack, so the check above saw at least those.
    topics = sum(r["Type"] == "AWS::SNS::Topic" for t in kit.templates.values() for r in t["Resources"].values())
    assert keys >= topics > 0


# --- The building blocks forks add most: each nag-clean out of the box --------------------------


def _probe_app(
    outdir: Path, *, drop: str = "", profile: str = DEFAULT, validate: bool = False, **queue_options: Any
) -> tuple[cdk.App, cdk.Stack]:
    """A stack with an encrypted queue feeding a function that writes under one prefix of a bucket.

    `validate`: CDK's built-in CloudFormation validation too. It costs seconds a synth and the suite
    cfn-lints templates instead (test_the_probe_template_passes_cfn_lint, tests/test_lint.py)."""
    app = cdk.App(
        outdir=str(outdir),
        context={**cdk_json_context(), DROP_ACKNOWLEDGEMENTS_KEY: drop},
        builtin_cloud_formation_validation=validate,
    )
    use_profile(app, profile)
    stack = cdk.Stack(app, "Probe")
    common = settings_from_context({**cdk_json_context(), "kit.profile": profile}).common
    topic = AlarmTopic(stack, "Alarms", email=None)
    queue = EncryptedQueue(
        stack, "Intake", alarm_topic=topic, visibility_timeout=cdk.Duration.minutes(3), **queue_options
    )
    function = KitFunction(
        stack,
        "Worker",
        common=common,
        workload="probe",
        code=lambda_.Code.from_inline("def handler(event, context):\n    return {}\n"),
        handler="index.handler",
        environment={},
        description="probe",
    )
    subscribe(function, queue, batch_size=50, max_batching_window=cdk.Duration.seconds(5), max_concurrency=4)
    bucket = PrivateBucket(stack, "Store")
    PrefixAccess(stack, "Results", bucket=bucket.bucket, prefix="results/", role=function.role, read=True, write=True)
    add_nag_checks(app, profile=profile)
    return app, stack


@dataclass(frozen=True)
class Probe:
    outdir: Path
    template: dict[str, Any]
    suppressed: set[tuple[str, str]]  # (resource path, "<pack>::<rule>") of each suppressed finding
    acknowledged: set[tuple[str, str]]  # (construct path, rule id exactly as acknowledged)


def _nag_results(outdir: Path) -> tuple[set[tuple[str, str]], set[tuple[str, str]]]:
    report = json.loads((outdir / "validation-report.json").read_text())
    assert not [v for plugin in report["pluginReports"] for v in plugin["violations"]]
    suppressed = {
        (construct["constructPath"], f"{plugin['pluginName']}::{violation['ruleName']}")
        for plugin in report["pluginReports"]
        for violation in plugin["suppressedViolations"]
        for construct in violation["violatingConstructs"]
    }
    acknowledged: set[tuple[str, str]] = set()
    for metadata_file in outdir.glob("*.metadata.json"):
        for construct_path, entries in json.loads(metadata_file.read_text()).items():
            for entry in entries:
                if entry["type"] == "aws:cdk:acknowledged-rules":
                    acknowledged.update((construct_path.lstrip("/"), rule_id) for rule_id in entry["data"])
    return suppressed, acknowledged


@pytest.fixture(scope="module")
def probe(tmp_path_factory: pytest.TempPathFactory) -> Probe:
    outdir = tmp_path_factory.mktemp("probe")
    app, stack = _probe_app(outdir)
    template = app.synth().get_stack_by_name(stack.stack_name).template  # raises on an open finding
    return Probe(outdir, template, *_nag_results(outdir))


def test_the_probe_template_passes_cfn_lint(probe: Probe) -> None:
    # The kit's templates are cfn-linted in tests/test_lint.py; the building blocks alone are too.
    (template,) = probe.outdir.glob("Probe.template.json")
    result = subprocess.run(
        [str(Path(sys.executable).parent / "cfn-lint"), "--format", "parseable", "--", str(template)],
        cwd=REPO_ROOT, capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr


def test_encrypted_queue_keeps_what_fails_and_alarms(probe: Probe) -> None:
    template = Template.from_json(probe.template)
    template.resource_count_is("AWS::SQS::Queue", 2)
    queues = template.find_resources("AWS::SQS::Queue")
    (dlq_id,) = [lid for lid, q in queues.items() if "RedrivePolicy" not in q["Properties"]]
    (key_id,) = template.find_resources(
        "AWS::KMS::Key", {"Properties": {"Description": "Encrypts the queue Probe/Intake"}}
    )
    key_arn = {"Fn::GetAtt": [key_id, "Arn"]}
    template.has_resource_properties(
        "AWS::SQS::Queue",
        {
            "RedrivePolicy": {"deadLetterTargetArn": {"Fn::GetAtt": [dlq_id, "Arn"]}, "maxReceiveCount": 5},
            "KmsMasterKeyId": key_arn,
            "VisibilityTimeout": 180,
        },
    )
    template.has_resource_properties("AWS::SQS::Queue", {"MessageRetentionPeriod": 1209600, "KmsMasterKeyId": key_arn})
    template.has_resource_properties(
        "AWS::CloudWatch::Alarm",
        {
            "MetricName": "ApproximateNumberOfMessagesVisible",
            "Dimensions": [{"Name": "QueueName", "Value": {"Fn::GetAtt": [dlq_id, "QueueName"]}}],
            "Threshold": 1,
            "ComparisonOperator": "GreaterThanOrEqualToThreshold",
            "AlarmActions": [{"Ref": Match.string_like_regexp("AlarmsTopic")}],
        },
    )
    policies = template.find_resources("AWS::SQS::QueuePolicy")
    assert len(policies) == 2  # TLS only, on both queues
    for policy in policies.values():
        (statement,) = policy["Properties"]["PolicyDocument"]["Statement"]
        assert statement["Effect"] == "Deny" and statement["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}


def test_event_source_reports_partial_batch_failures(probe: Probe) -> None:
    Template.from_json(probe.template).has_resource_properties(
        "AWS::Lambda::EventSourceMapping",
        {
            "BatchSize": 50,
            "MaximumBatchingWindowInSeconds": 5,
            "FunctionResponseTypes": ["ReportBatchItemFailures"],
            "ScalingConfig": {"MaximumConcurrency": 4},
        },
    )


def test_prefix_access_names_only_the_prefix(probe: Probe) -> None:
    policies = Template.from_json(probe.template).find_resources("AWS::IAM::Policy")
    (policy,) = [p for lid, p in policies.items() if lid.startswith("ResultsPolicy")]
    objects, listing = policy["Properties"]["PolicyDocument"]["Statement"]
    assert objects["Action"] == ["s3:GetObject", "s3:PutObject"]
    assert objects["Resource"]["Fn::Join"][1][-1] == "/results/*"
    assert listing["Action"] == "s3:ListBucket"
    assert listing["Condition"] == {"StringLike": {"s3:prefix": ["results/*"]}}


# (construct that acknowledges, start of the rule id it acknowledges)
PROBE_ACKNOWLEDGEMENTS = [
    ("Probe/Intake/DeadLetterQueue", "Serverless::Serverless-SQSRedrivePolicy"),
    ("Probe/Worker/Function", "Serverless::Serverless-LambdaDLQ"),
    (
        "Probe/Worker/Function/SqsEventSource:ProbeIntakeQueue9698E0F9",
        "Serverless::Serverless-LambdaEventSourceMappingDestination",
    ),
    ("Probe/Results/Policy", "AwsSolutions::AwsSolutions-IAM5[Resource::<StoreBucket"),
]


def test_the_shared_constructs_acknowledge_nothing_else(probe: Probe) -> None:
    # KitFunction's own acknowledgements (runtime, X-Ray) are tested with the kit's stacks.
    kit_function = {"AwsSolutions::AwsSolutions-L1", "Serverless::Serverless-LambdaLatestVersion"}
    shared = {
        (p, r)
        for p, r in probe.acknowledged
        if any(p == path for path, _ in PROBE_ACKNOWLEDGEMENTS) and r not in kit_function
    }
    assert len(shared) == len(PROBE_ACKNOWLEDGEMENTS)
    for path, rule in PROBE_ACKNOWLEDGEMENTS:
        (rule_id,) = [r for p, r in shared if p == path and r.startswith(rule)]
        assert (f"{path}/Resource", rule_id) in probe.suppressed


@pytest.mark.parametrize(
    ("path", "rule"),
    PROBE_ACKNOWLEDGEMENTS,
    ids=["dead-letter-queue", "function-dlq", "event-source-destination", "prefix-access"],
)
def test_each_acknowledgement_still_suppresses_a_finding(probe: Probe, tmp_path: Path, path: str, rule: str) -> None:
    (rule_id,) = [r for p, r in probe.acknowledged if p == path and r.startswith(rule)]
    app, _ = _probe_app(tmp_path, drop=f"{path}|{rule_id}")
    with pytest.raises(Exception, match=re.escape(rule.split("::")[1].split("[")[0])):
        app.synth()


def test_the_shared_constructs_leave_nothing_open_under_the_hardened_profile(tmp_path: Path) -> None:
    app, _ = _probe_app(tmp_path / "hardened", profile=HARDENED)
    app.synth()  # raises on an open finding of any pack, NIST 800-53 R5 included
    suppressed, acknowledged = _nag_results(tmp_path / "hardened")
    nist = ("Probe/Worker/Function", "NIST.800.53.R5::NIST.800.53.R5-LambdaDLQ")
    assert nist in acknowledged and ("Probe/Worker/Function/Resource", nist[1]) in suppressed
    dropped, _ = _probe_app(tmp_path / "dropped", profile=HARDENED, drop="|".join(nist))
    with pytest.raises(Exception, match="NIST.800.53.R5-LambdaDLQ"):
        dropped.synth()


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"batch_size": 0}, "batch_size 0 is not from 1 to 10000"),
        ({"batch_size": 11}, "needs a max_batching_window"),
        ({"max_concurrency": 1}, "max_concurrency 1 is not from 2 to 1000"),
        ({"visibility": 60}, "less than 6 times the function's timeout"),
    ],
)
def test_event_source_refuses_unsafe_settings(options: dict[str, Any], message: str) -> None:
    stack = cdk.Stack(cdk.App(context=cdk_json_context()), "Refused")
    topic = AlarmTopic(stack, "Alarms", email=None)
    visibility = cdk.Duration.seconds(options.pop("visibility", 180))
    queue = EncryptedQueue(stack, "Intake", alarm_topic=topic, visibility_timeout=visibility)
    function = KitFunction(
        stack,
        "Worker",
        common=settings_from_context(cdk_json_context()).common,
        workload="probe",
        code=lambda_.Code.from_inline("def handler(event, context):\n    return {}\n"),
        handler="index.handler",
        environment={},
        description="probe",
    )
    with pytest.raises(EventSourceError, match=message):
        subscribe(function, queue, **options)


def test_prefix_access_refuses_a_prefix_that_could_match_its_neighbours() -> None:
    stack = cdk.Stack(cdk.App(context=cdk_json_context()), "Refused")
    bucket = PrivateBucket(stack, "Store")
    role = iam.Role(stack, "Role", assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"))
    with pytest.raises(ValueError, match="ending in '/'"):
        PrefixAccess(stack, "Exports", bucket=bucket.bucket, prefix="exports", role=role, read=True)
    with pytest.raises(ValueError, match="grants nothing"):
        PrefixAccess(stack, "Nothing", bucket=bucket.bucket, prefix="exports/", role=role)
