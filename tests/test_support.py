"""The shared support: the template-to-moto resolver, the import-path helper, the contract loader."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from stacks.shared import contracts
from stacks.workloads import KEYS
from support import cfn, paths
from support.stand_ins import fake_aws_environment, mocked_aws
from tests.conftest import KitAssembly


def test_resolver_handles_the_intrinsics_cdk_emits() -> None:
    resolver = cfn.TemplateResolver(placeholders={"Skipped"})
    resolver.add("Queue", "https://queue.example/q", Arn="arn:aws:sqs:us-east-1:123456789012:q")
    value = {
        "join": {"Fn::Join": ["", ["arn:", {"Ref": "AWS::Partition"}, ":s3:::", {"Ref": "Skipped"}]]},
        "getatt": {"Fn::GetAtt": ["Queue", "Arn"]},
        "dotted": {"Fn::GetAtt": "Queue.Arn"},
        "select": {"Fn::Select": [5, {"Fn::Split": [":", {"Fn::GetAtt": ["Queue", "Arn"]}]}]},
        "sub": {"Fn::Sub": "${AWS::Region}/${Queue}/${Queue.Arn}/${x}/${!Literal}"},
        "sub_vars": {"Fn::Sub": ["${Name}-${AWS::AccountId}", {"Name": {"Ref": "Queue"}}]},
        "list": [{"Ref": "AWS::Region"}, 3, True],
    }
    resolver.add("x", "X")
    assert resolver.resolve(value) == {
        "join": "arn:aws:s3:::Skipped",
        "getatt": "arn:aws:sqs:us-east-1:123456789012:q",
        "dotted": "arn:aws:sqs:us-east-1:123456789012:q",
        "select": "q",
        "sub": "us-east-1/https://queue.example/q/arn:aws:sqs:us-east-1:123456789012:q/X/${!Literal}",
        "sub_vars": "https://queue.example/q-123456789012",
        "list": ["us-east-1", 3, True],
    }


def test_resolver_refuses_what_it_cannot_know() -> None:
    resolver = cfn.TemplateResolver()
    resolver.add("Queue", "url", Arn="arn")
    with pytest.raises(cfn.Unresolved):
        resolver.resolve({"Ref": "NotCreatedYet"})
    with pytest.raises(KeyError, match="no attribute 'QueueName'"):
        resolver.resolve({"Fn::GetAtt": ["Queue", "QueueName"]})
    with pytest.raises(NotImplementedError, match="Fn::If"):
        resolver.resolve({"Fn::If": ["Cond", "a", "b"]})
    with pytest.raises(AssertionError, match="no substitution"):
        resolver.substitute('{"Resource": "${Missing}"}', {})


def test_deploy_refuses_a_reference_cycle() -> None:
    template: dict[str, Any] = {
        "Resources": {
            "A": {"Type": "AWS::SNS::Topic", "Properties": {"TopicName": {"Ref": "B"}}},
            "B": {"Type": "AWS::SNS::Topic", "Properties": {"TopicName": {"Ref": "A"}}},
        }
    }
    with mocked_aws(), pytest.raises(AssertionError, match="unresolvable references among \\['A', 'B'\\]"):
        cfn.deploy(template)


def test_stand_ins_share_one_region() -> None:
    assert fake_aws_environment()["AWS_DEFAULT_REGION"] == cfn.REGION == cfn.PSEUDO_PARAMETERS["AWS::Region"]


@pytest.mark.parametrize("key", KEYS)
def test_deploy_creates_each_workloads_stack_from_its_template(kit: KitAssembly, key: str) -> None:
    template = kit.templates[key]
    with mocked_aws():
        deployment = cfn.deploy(template)
        sqs = deployment.clients["sqs"]
        for queue_id, queue in cfn.resources_of_type(template, "AWS::SQS::Queue").items():
            url = deployment.ref(queue_id)
            attributes = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
            declared = queue["Properties"]
            assert attributes["MessageRetentionPeriod"] == str(declared.get("MessageRetentionPeriod", 345600))
            assert ('"maxReceiveCount"' in attributes.get("RedrivePolicy", "")) == ("RedrivePolicy" in declared)
        for function in deployment.functions.values():
            declared_env = template["Resources"][function.logical_id]["Properties"].get("Environment", {})
            assert set(function.environment) == set(declared_env.get("Variables", {})), function.logical_id
            assert function.arn.startswith(f"arn:aws:lambda:{cfn.REGION}:{cfn.ACCOUNT}:function:")
        functions = deployment.clients["lambda"].list_functions()["Functions"]
        assert {f["FunctionName"] for f in functions} == {f.name for f in deployment.functions.values()}
        declared_dlqs = [
            lid for lid, f in cfn.resources_of_type(template, "AWS::Lambda::Function").items()
            if "DeadLetterConfig" in f["Properties"]
        ]  # fmt: skip
        assert len(deployment.dead_letter_targets) == len(declared_dlqs)


def test_use_lambda_code_puts_the_asset_root_on_the_path_once(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys, "path", [p for p in sys.path if "lambdas" not in p])
    name = next(p.name for p in sorted(paths.LAMBDAS.iterdir()) if p.is_dir())  # any workload's code
    root = paths.use_lambda_code(name)
    paths.use_lambda_code(name)
    assert root == paths.REPO_ROOT / "lambdas" / name
    assert sys.path.count(str(root)) == 1 and sys.path[0] == str(root)
    with pytest.raises(FileNotFoundError, match="no Lambda code for workload 'nope'"):
        paths.use_lambda_code("nope")


def test_load_contract_reads_the_file_without_importing_the_package(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    package = tmp_path / "probe_work" / "lwk_probe_work"
    package.mkdir(parents=True)
    (package / "__init__.py").write_text("raise ImportError('the package itself is never imported')\n")
    (package / "contract.py").write_text(
        "from dataclasses import dataclass\n"
        "QUEUE_VARIABLE = 'QUEUE_URL'\n"
        "@dataclass(frozen=True)\n"
        "class Bounds:\n    low: int = 1\n"
    )
    monkeypatch.setattr(contracts, "LAMBDAS", tmp_path)
    monkeypatch.delitem(sys.modules, "_lwk_contract_probe_work", raising=False)
    contract = contracts.load_contract("probe-work")
    assert contract.QUEUE_VARIABLE == "QUEUE_URL" and contract.Bounds().low == 1
    assert contracts.load_contract("probe_work") is contract
    with pytest.raises(FileNotFoundError, match="has no contract"):
        contracts.load_contract("missing")


def _contract_files() -> list[Path]:
    return sorted(paths.LAMBDAS.glob("*/lwk_*/contract.py"))


@pytest.mark.parametrize("contract", _contract_files(), ids=lambda p: p.parent.name)
def test_every_contract_imports_the_standard_library_only(contract: Path) -> None:
    # -S: no site-packages, so any third-party import fails; -I: nothing from the environment.
    result = subprocess.run(
        [sys.executable, "-S", "-I", str(contract)], capture_output=True, text=True, timeout=60, check=False
    )
    assert result.returncode == 0, result.stderr


def _queue_template(response_types: list[str]) -> dict[str, Any]:
    """A queue (redrive after 2 receives) feeding one function through an event source mapping."""
    role = {"Type": "AWS::IAM::Role", "Properties": {"AssumeRolePolicyDocument": {"Statement": []}}}
    return {
        "Resources": {
            "Dlq": {"Type": "AWS::SQS::Queue", "Properties": {}},
            "Queue": {
                "Type": "AWS::SQS::Queue",
                "Properties": {
                    "RedrivePolicy": {"deadLetterTargetArn": {"Fn::GetAtt": ["Dlq", "Arn"]}, "maxReceiveCount": 2}
                },
            },
            "Role": role,
            "Fn": {
                "Type": "AWS::Lambda::Function",
                "Properties": {
                    "Role": {"Fn::GetAtt": ["Role", "Arn"]},
                    "Handler": "lwk_probe.handlers.handler",
                    "Runtime": "python3.13",
                },
            },
            "Mapping": {
                "Type": "AWS::Lambda::EventSourceMapping",
                "Properties": {
                    "FunctionName": {"Ref": "Fn"},
                    "EventSourceArn": {"Fn::GetAtt": ["Queue", "Arn"]},
                    "BatchSize": 3,
                    "FunctionResponseTypes": response_types,
                },
            },
        }
    }


def _depths(deployment: cfn.Deployment) -> tuple[int, int]:
    sqs = deployment.clients["sqs"]
    return tuple(  # type: ignore[return-value]
        int(
            sqs.get_queue_attributes(QueueUrl=deployment.ref(q), AttributeNames=["ApproximateNumberOfMessages"])[
                "Attributes"
            ]["ApproximateNumberOfMessages"]
        )
        for q in ("Queue", "Dlq")
    )


@pytest.mark.parametrize(
    ("response_types", "response", "expected"),
    [
        # Only the named message is retried, twice, then moved to the dead-letter queue.
        (["ReportBatchItemFailures"], "fail-second", {"deleted": 2, "retried": 2, "dlq": 1}),
        # A response naming an id that is not in the batch fails the whole batch.
        (["ReportBatchItemFailures"], "unknown-id", {"deleted": 0, "retried": 6, "dlq": 3}),
        # Without ReportBatchItemFailures Lambda ignores the response: all deleted, the failure is lost.
        ([], "fail-second", {"deleted": 3, "retried": 0, "dlq": 0}),
    ],
)
def test_sqs_poller_follows_lambdas_partial_batch_rules(
    response_types: list[str], response: str, expected: dict[str, int]
) -> None:
    from support.sqs_poller import SqsPoller

    with mocked_aws():
        deployment = cfn.deploy(_queue_template(response_types))
        for body in ("one", "two", "three"):
            deployment.clients["sqs"].send_message(QueueUrl=deployment.ref("Queue"), MessageBody=body)
        poller = SqsPoller(deployment, "probe")
        batches: list[list[str]] = []

        def handler(event: dict[str, Any]) -> dict[str, Any]:
            records = event["Records"]
            batches.append([r["body"] for r in records])
            failed = [r["messageId"] for r in records if r["body"] == "two"] if response == "fail-second" else ["nope"]
            return {"batchItemFailures": [{"itemIdentifier": i} for i in failed]}

        poller.invoke = handler
        result = poller.poll()
        assert batches[0] == ["one", "two", "three"]  # BatchSize 3 from the template
        assert (result.deleted, result.retried) == (expected["deleted"], expected["retried"])
        assert _depths(deployment) == (0, expected["dlq"])


def test_sqs_poller_retries_the_whole_batch_when_the_handler_raises() -> None:
    from support.sqs_poller import SqsPoller

    with mocked_aws():
        deployment = cfn.deploy(_queue_template(["ReportBatchItemFailures"]))
        deployment.clients["sqs"].send_message(QueueUrl=deployment.ref("Queue"), MessageBody="one")
        poller = SqsPoller(deployment, "probe")

        def handler(event: dict[str, Any]) -> dict[str, Any]:
            raise RuntimeError("configuration missing")

        poller.invoke = handler
        result = poller.poll()
        assert (result.deleted, result.retried, len(result.handler_errors)) == (0, 2, 2)
        assert _depths(deployment) == (0, 1)


def test_botocore_models_are_parsed_once_per_process_and_clients_still_work() -> None:
    import boto3
    from botocore.loaders import JSONFileLoader

    from support.botocore_models import share_parsed_models

    share_parsed_models()  # conftest did it already; a second call changes nothing
    assert getattr(JSONFileLoader.load_file, "shared_by_path", False)
    first = boto3.session.Session(region_name="eu-west-1").client("sqs")
    second = boto3.session.Session(region_name="eu-west-1").client("sqs")
    assert first.meta.service_model._service_description is second.meta.service_model._service_description
    assert second.meta.service_model.operation_model("SendMessage").name == "SendMessage"
