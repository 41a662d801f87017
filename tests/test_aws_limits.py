"""The strict stand-ins refuse what AWS refuses, and accept what AWS accepts (support/aws_limits.py).

Each limit: just under passes, just over raises the error AWS raises. A control shows plain moto
is more lenient where the stand-in adds a check, so the patch is what makes the difference.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from moto import mock_aws

from support.aws_limits import (
    DYNAMODB_ITEM_MAX_BYTES,
    DYNAMODB_MAX_NESTING_LEVELS,
    LAMBDA_ASYNC_MAX_PAYLOAD_BYTES,
    SNS_DEFAULT_MAX_MESSAGE_BYTES,
    STATES_MAX_PAYLOAD_BYTES,
    check_dynamodb_item,
    strict_aws_limits,
)

REGION = "us-east-1"


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    for name, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": REGION,
    }.items():
        monkeypatch.setenv(name, value)
    with mock_aws():
        yield


@pytest.fixture
def table(aws: None) -> Any:
    client = boto3.client("dynamodb", region_name=REGION)
    client.create_table(
        TableName="t",
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
        AttributeDefinitions=[
            {"AttributeName": "pk", "AttributeType": "S"},
            {"AttributeName": "sk", "AttributeType": "S"},
        ],
        BillingMode="PAY_PER_REQUEST",
    )
    return client


def _nested(levels: int) -> dict[str, Any]:
    """A top-level attribute value whose innermost scalar sits at `levels` (top level = 1)."""
    value: dict[str, Any] = {"S": "leaf"}
    for _ in range(levels - 1):
        value = {"M": {"a": value}}
    return value


def _item(**attributes: dict[str, Any]) -> dict[str, Any]:
    return {"pk": {"S": "p"}, "sk": {"S": "s"}, **attributes}


def _error(call: Any) -> tuple[str, str]:
    with pytest.raises(ClientError) as caught:
        call()
    return caught.value.response["Error"]["Code"], caught.value.response["Error"]["Message"]


# --- DynamoDB ------------------------------------------------------------------------------------


def test_nesting_32_levels_pass_33_refused(table: Any) -> None:
    with strict_aws_limits():
        table.put_item(TableName="t", Item=_item(doc=_nested(DYNAMODB_MAX_NESTING_LEVELS)))
        code, message = _error(lambda: table.put_item(TableName="t", Item=_item(doc=_nested(33))))
    assert code == "ValidationException"
    assert "Nesting Levels have exceeded supported limits" in message


def test_plain_moto_accepts_the_too_deep_item(table: Any) -> None:
    table.put_item(TableName="t", Item=_item(doc=_nested(33)))  # the leniency the stand-in removes


@pytest.mark.parametrize(
    ("number", "accepted"),
    [
        ("1" * 38, True),
        ("1" * 39, False),
        ("0.00000" + "9" * 38, True),  # leading zeros are not significant
        ("1" + "0" * 50, True),  # nor trailing ones
        ("9.9999999999999999999999999999999999999E+125", True),
        ("1E+126", False),
        ("-9.9999999999999999999999999999999999999E+125", True),
        ("-1E+126", False),
        ("1E-130", True),
        ("1E-131", False),
        ("-1E-131", False),
        ("0", True),
    ],
)
def test_number_precision_and_magnitude(table: Any, number: str, accepted: bool) -> None:
    item = _item(n={"N": number})
    with strict_aws_limits():
        if accepted:
            table.put_item(TableName="t", Item=item)
        else:
            code, message = _error(lambda: table.put_item(TableName="t", Item=item))
            assert code == "ValidationException"
            assert "38 significant digits" in message or "supported range" in message


def test_plain_moto_accepts_39_digits(table: Any) -> None:
    table.put_item(TableName="t", Item=_item(n={"N": "1" * 39}))


def test_item_size_counts_names_and_stops_at_400_kib(table: Any) -> None:
    base = check_dynamodb_item(_item(data={"S": ""}))
    fits = _item(data={"S": "x" * (DYNAMODB_ITEM_MAX_BYTES - base)})
    assert check_dynamodb_item(fits) == DYNAMODB_ITEM_MAX_BYTES
    with pytest.raises(Exception, match="Item size has exceeded"):
        check_dynamodb_item(_item(data={"S": "x" * (DYNAMODB_ITEM_MAX_BYTES - base + 1)}))
    # Multi-byte characters count in UTF-8 bytes, not characters.
    with pytest.raises(Exception, match="Item size has exceeded"):
        check_dynamodb_item(_item(data={"S": "é" * (DYNAMODB_ITEM_MAX_BYTES // 2)}))
    with strict_aws_limits():
        code, _ = _error(lambda: table.put_item(TableName="t", Item=_item(data={"S": "x" * 409_600})))
    assert code == "ValidationException"


def test_key_sizes(table: Any) -> None:
    with strict_aws_limits():
        table.put_item(TableName="t", Item={"pk": {"S": "p" * 2048}, "sk": {"S": "s" * 1024}})
        code, message = _error(lambda: table.put_item(TableName="t", Item={"pk": {"S": "p" * 2049}, "sk": {"S": "s"}}))
        assert (code, "hashkey" in message) == ("ValidationException", True)
        code, message = _error(lambda: table.put_item(TableName="t", Item={"pk": {"S": "p"}, "sk": {"S": "s" * 1025}}))
        assert (code, "range keys" in message) == ("ValidationException", True)


def test_attribute_names(table: Any) -> None:
    with strict_aws_limits():
        table.put_item(TableName="t", Item=_item(**{"n" * 65535: {"S": "v"}}))
        code, _ = _error(lambda: table.put_item(TableName="t", Item=_item(**{"n" * 65536: {"S": "v"}})))
        assert code == "ValidationException"
        code, _ = _error(lambda: table.put_item(TableName="t", Item=_item(doc={"M": {"": {"S": "v"}}})))
        assert code == "ValidationException"


def test_one_bad_item_fails_the_whole_batch_and_writes_nothing(table: Any) -> None:
    good = [{"PutRequest": {"Item": {"pk": {"S": f"good{i}"}, "sk": {"S": "s"}}}} for i in range(3)]
    bad = {"PutRequest": {"Item": {"pk": {"S": "bad"}, "sk": {"S": "s"}, "n": {"N": "1" * 39}}}}
    with strict_aws_limits():
        code, _ = _error(lambda: table.batch_write_item(RequestItems={"t": [*good, bad]}))
        assert code == "ValidationException"
        assert table.scan(TableName="t")["Count"] == 0
        table.batch_write_item(RequestItems={"t": good})
        assert table.scan(TableName="t")["Count"] == 3


def test_plain_moto_writes_part_of_a_bad_batch(table: Any) -> None:
    good = {"PutRequest": {"Item": {"pk": {"S": "good"}, "sk": {"S": "s"}}}}
    too_deep = {"PutRequest": {"Item": {"pk": {"S": "bad"}, "sk": {"S": "s"}, "doc": _nested(40)}}}
    table.batch_write_item(RequestItems={"t": [good, too_deep]})
    assert table.scan(TableName="t")["Count"] == 2


def test_transactions_and_updates(table: Any) -> None:
    with strict_aws_limits():
        code, _ = _error(
            lambda: table.transact_write_items(
                TransactItems=[
                    {"Put": {"TableName": "t", "Item": _item()}},
                    {"Put": {"TableName": "t", "Item": {"pk": {"S": "q"}, "sk": {"S": "s"}, "d": _nested(33)}}},
                ]
            )
        )
        assert code == "ValidationException"
        assert table.scan(TableName="t")["Count"] == 0
        code, _ = _error(
            lambda: table.update_item(
                TableName="t",
                Key={"pk": {"S": "p"}, "sk": {"S": "s"}},
                UpdateExpression="SET n = :n",
                ExpressionAttributeValues={":n": {"N": "1E+126"}},
            )  # fmt: skip
        )
        assert code == "ValidationException"


# --- SQS -----------------------------------------------------------------------------------------


def test_sqs_counts_bytes_and_attributes_against_the_queue_limit(aws: None) -> None:
    sqs = boto3.client("sqs", region_name=REGION)
    url = sqs.create_queue(QueueName="q", Attributes={"MaximumMessageSize": "262144"})["QueueUrl"]
    attributes = {"kind": {"DataType": "String", "StringValue": "x"}}  # 4 + 6 + 1 bytes
    with strict_aws_limits():
        sqs.send_message(QueueUrl=url, MessageBody="a" * (262_144 - 11), MessageAttributes=attributes)
        code, message = _error(
            lambda: sqs.send_message(QueueUrl=url, MessageBody="a" * (262_144 - 10), MessageAttributes=attributes)
        )
        assert code == "InvalidParameterValue" and "shorter than 262144 bytes" in message
        # 131,073 two-byte characters: under the limit in characters, over it in bytes.
        code, _ = _error(lambda: sqs.send_message(QueueUrl=url, MessageBody="é" * 131_073))
        assert code == "InvalidParameterValue"
    sqs.send_message(QueueUrl=url, MessageBody="é" * 131_073)  # plain moto counts characters


def test_sqs_default_queue_takes_1_mib(aws: None) -> None:
    sqs = boto3.client("sqs", region_name=REGION)
    url = sqs.create_queue(QueueName="q")["QueueUrl"]
    with strict_aws_limits():
        sqs.send_message(QueueUrl=url, MessageBody="a" * 1_048_576)
        code, _ = _error(lambda: sqs.send_message(QueueUrl=url, MessageBody="a" * 1_048_577))
        assert code == "InvalidParameterValue"
        code, _ = _error(
            lambda: sqs.send_message_batch(
                QueueUrl=url,
                Entries=[{"Id": "a", "MessageBody": "é" * 262_144}, {"Id": "b", "MessageBody": "é" * 262_145}],
            )
        )
        assert code == "AWS.SimpleQueueService.BatchRequestTooLong" or "BatchRequestTooLong" in code


# The SendMessage reference's allowed set, written as the intervals it lists (not the stand-in's regex).
SQS_ALLOWED = ((0x9, 0x9), (0xA, 0xA), (0xD, 0xD), (0x20, 0xD7FF), (0xE000, 0xFFFD), (0x10000, 0x10FFFF))
SQS_EDGES = sorted(
    {bound + step for low, high in SQS_ALLOWED for bound in (low, high) for step in (-1, 0, 1)} - {-1, 0x110000}
)


def _sqs_allows(code_point: int) -> bool:
    return any(low <= code_point <= high for low, high in SQS_ALLOWED)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(code_point=st.one_of(st.sampled_from(SQS_EDGES), st.integers(0, 0x10FFFF)), at=st.integers(0, 3))
def test_sqs_refuses_exactly_the_characters_outside_its_documented_set(aws: None, code_point: int, at: int) -> None:
    sqs = boto3.client("sqs", region_name=REGION)
    url = sqs.create_queue(QueueName=f"chars-{code_point}-{at}")["QueueUrl"]
    body = "ok" * at + chr(code_point) + "ok"
    with strict_aws_limits():
        if _sqs_allows(code_point):
            sqs.send_message(QueueUrl=url, MessageBody=body)
            (received,) = sqs.receive_message(QueueUrl=url)["Messages"]
            assert received["Body"] == body
            sqs.delete_message(QueueUrl=url, ReceiptHandle=received["ReceiptHandle"])
        else:
            code, _ = _error(lambda: sqs.send_message(QueueUrl=url, MessageBody=body))
            assert code == "InvalidMessageContents"
        # A batch reports the refused entry alone and sends the others.
        answer = sqs.send_message_batch(
            QueueUrl=url, Entries=[{"Id": "plain", "MessageBody": "ok"}, {"Id": "probe", "MessageBody": body}]
        )
        refused = {entry["Id"]: entry["Code"] for entry in answer.get("Failed", [])}
        assert refused == ({} if _sqs_allows(code_point) else {"probe": "InvalidMessageContents"})
        assert {entry["Id"] for entry in answer.get("Successful", [])} == {"plain", "probe"} - set(refused)
    sqs.delete_queue(QueueUrl=url)


def test_plain_moto_takes_characters_sqs_refuses(aws: None) -> None:
    sqs = boto3.client("sqs", region_name=REGION)
    url = sqs.create_queue(QueueName="chars")["QueueUrl"]
    for character in ("\ufffe", "\uffff", "\x00", "\x1f"):  # a lone surrogate makes moto fail
        sqs.send_message(QueueUrl=url, MessageBody=f"a{character}b")  # the control: no error


# --- SNS -----------------------------------------------------------------------------------------


def test_sns_message_limit_in_bytes(aws: None) -> None:
    sns = boto3.client("sns", region_name=REGION)
    topic = sns.create_topic(Name="t")["TopicArn"]
    with strict_aws_limits():
        sns.publish(TopicArn=topic, Message="a" * SNS_DEFAULT_MAX_MESSAGE_BYTES)
        code, message = _error(
            lambda: sns.publish(TopicArn=topic, Message="é" * (SNS_DEFAULT_MAX_MESSAGE_BYTES // 2 + 1))
        )
        assert (code, message) == ("InvalidParameter", "Invalid parameter: Message too long")
        code, _ = _error(
            lambda: sns.publish(
                TopicArn=topic,
                Message="a" * (SNS_DEFAULT_MAX_MESSAGE_BYTES - 5),
                MessageAttributes={"k": {"DataType": "String", "StringValue": "v"}},
            )  # fmt: skip
        )
        assert code == "InvalidParameter"
    sns.publish(TopicArn=topic, Message="é" * (SNS_DEFAULT_MAX_MESSAGE_BYTES // 2 + 1))  # plain moto: characters


# --- Step Functions ------------------------------------------------------------------------------


def _state_machine(sfn: Any, definition: dict[str, Any]) -> str:
    iam = boto3.client("iam", region_name=REGION)
    role = iam.create_role(RoleName="r", AssumeRolePolicyDocument="{}")["Role"]["Arn"]
    return sfn.create_state_machine(name="m", definition=json.dumps(definition), roleArn=role)["stateMachineArn"]


def test_start_execution_input_limit(aws: None) -> None:
    sfn = boto3.client("stepfunctions", region_name=REGION)
    arn = _state_machine(sfn, {"StartAt": "Done", "States": {"Done": {"Type": "Succeed"}}})
    padding = STATES_MAX_PAYLOAD_BYTES - len(json.dumps({"p": ""}))
    with strict_aws_limits():
        sfn.start_execution(stateMachineArn=arn, name="fits", input=json.dumps({"p": "a" * padding}))
        code, _ = _error(
            lambda: sfn.start_execution(stateMachineArn=arn, name="over", input=json.dumps({"p": "a" * (padding + 1)}))
        )
    assert code == "ValidationException"


def _run(sfn: Any, arn: str, name: str) -> dict[str, Any]:
    execution = sfn.start_execution(stateMachineArn=arn, name=name, input="{}")["executionArn"]
    for _ in range(200):
        described = sfn.describe_execution(executionArn=execution)
        if described["status"] != "RUNNING":
            return described
        import time

        time.sleep(0.01)
    raise AssertionError("execution did not finish")


@pytest.mark.parametrize(("extra", "status"), [(0, "SUCCEEDED"), (1, "FAILED")])
def test_state_output_limit_is_256_kib_inclusive(monkeypatch: pytest.MonkeyPatch, extra: int, status: str) -> None:
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)
    with mock_aws(config={"stepfunctions": {"execute_state_machine": True}}):
        sfn = boto3.client("stepfunctions", region_name=REGION)
        # A Pass state's output: exactly the limit in UTF-8 bytes, or one byte more.
        size = STATES_MAX_PAYLOAD_BYTES - len(json.dumps({"p": ""}, separators=(",", ":"))) + extra
        arn = _state_machine(
            sfn, {"StartAt": "Big", "States": {"Big": {"Type": "Pass", "Result": {"p": "a" * size}, "End": True}}}
        )
        with strict_aws_limits():
            described = _run(sfn, arn, f"run{extra}")
    assert described["status"] == status
    if status == "FAILED":
        assert described["error"] == "States.DataLimitExceeded"


# --- Lambda --------------------------------------------------------------------------------------


def test_async_invoke_payload_limit(aws: None) -> None:
    from moto.awslambda.models import LambdaBackend

    accepted: list[int] = []

    def invoke(self: Any, function_name: str, qualifier: Any, body: Any, headers: Any, response_headers: Any) -> str:
        accepted.append(len(body))
        return ""

    client = boto3.client("lambda", region_name=REGION)
    iam = boto3.client("iam", region_name=REGION)
    role = iam.create_role(RoleName="r", AssumeRolePolicyDocument="{}")["Role"]["Arn"]
    client.create_function(
        FunctionName="f",
        Runtime="python3.13",
        Role=role,
        Handler="x.handler",
        Code={"ZipFile": b"PK\x05\x06" + b"\0" * 18},
    )
    padding = LAMBDA_ASYNC_MAX_PAYLOAD_BYTES - len(json.dumps({"p": ""}))
    with pytest.MonkeyPatch.context() as patch, strict_aws_limits():
        patch.setattr(LambdaBackend, "invoke", invoke)  # moto would need Docker to run it
        assert (
            client.invoke(FunctionName="f", InvocationType="Event", Payload=json.dumps({"p": "a" * padding}))[
                "StatusCode"
            ]
            == 202
        )
        code, _ = _error(
            lambda: client.invoke(
                FunctionName="f", InvocationType="Event", Payload=json.dumps({"p": "a" * (padding + 1)})
            )
        )
    assert code == "RequestTooLargeException"
    assert accepted == [LAMBDA_ASYNC_MAX_PAYLOAD_BYTES]
