"""Record every AWS call a Lambda handler makes while its tests run it under moto, as IAM requests of
the function's role on the synthesized template's resources, and evaluate them with the engine.

moto ignores IAM, so a handler test passes whatever the role allows. With `AwsCallRecorder` around a
run of the real handler, each call becomes evidence: the (service, operation, parameters) botocore
sends, attributed to the function whose handler is on the call stack. `handler_edges` turns the
evidence into edges of the template: the moto-side names the harness put into the function's
environment are mapped back to the template's values of the same variables, and each call becomes
the IAM action(s) and resource ARN(s) AWS authorizes it as. A CloudWatch Logs export task also yields
the Logs service's own writes into the destination bucket.

Recording wraps `BaseClient._make_api_call`, the one place every botocore client call passes (an event
hook would have to be registered on each client's emitter, and clients built before the recorder
started would escape it).
"""

from __future__ import annotations

import json
import os
import sys
import threading
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, replace
from types import FrameType
from typing import Any

import botocore.client

from support.iam.edges import Edge, Kit, _role_context, _service_context
from support.iam.resolve import ACCOUNT, PARTITION, REGION


@dataclass(frozen=True)
class AwsCall:
    handler: str  # the template Handler string of the function that made the call
    service: str  # botocore's service name (s3, dynamodb, logs, ...)
    operation: str  # the API operation (PutObject, BatchWriteItem, ...)
    params: Mapping[str, Any]
    environment: Mapping[str, str]  # the function's environment variables when it made the call


class AwsCallRecorder:
    """Context manager: records the AWS calls of the handlers named in `environments` (handler string
    -> the names of its template environment variables)."""

    def __init__(self, environments: Mapping[str, Iterable[str]], *, on_the_stack_only: bool = False) -> None:
        self.environments = {handler: tuple(names) for handler, names in environments.items()}
        # Only calls made while a handler runs (not the test's own setup and checks around it).
        self.on_the_stack_only = on_the_stack_only
        self.calls: list[AwsCall] = []
        self.unattributed: list[tuple[str, str]] = []  # (service, operation) of calls no handler made
        self._real = botocore.client.BaseClient._make_api_call
        self._real_start = threading.Thread.start

    def _handler_on_stack(self) -> str | None:
        if len(self.environments) == 1 and not self.on_the_stack_only:
            # One function under test: its worker threads (a durable map, a thread pool) count too.
            return next(iter(self.environments))
        return self.attribution()

    def attribution(self) -> str | None:
        """The handler running on this thread's stack (the innermost one: a coordinator running a
        child execution in process is not its child), else the one that started this thread (a
        thread pool, a durable map's worker)."""
        frame: FrameType | None = sys._getframe(1)
        while frame is not None:
            name = f"{frame.f_globals.get('__name__')}.{frame.f_code.co_name}"
            if name in self.environments:
                return name
            frame = frame.f_back
        return getattr(threading.current_thread(), "_lwk_handler", None)

    def __enter__(self) -> AwsCallRecorder:
        recorder, real, real_start = self, self._real, self._real_start

        def start(thread: threading.Thread) -> None:
            thread._lwk_handler = recorder.attribution()  # type: ignore[attr-defined]
            real_start(thread)

        threading.Thread.start = start  # type: ignore[method-assign, assignment]

        def recording(client: Any, operation: str, params: dict[str, Any]) -> Any:
            handler = recorder._handler_on_stack()
            if handler is not None:
                environment = {n: os.environ[n] for n in recorder.environments[handler] if n in os.environ}
                recorder.calls.append(
                    AwsCall(handler, client.meta.service_model.service_name, operation, json.loads(json.dumps(params, default=str)), environment)
                )  # fmt: skip
            else:
                recorder.unattributed.append((client.meta.service_model.service_name, operation))
            return real(client, operation, params)

        botocore.client.BaseClient._make_api_call = recording
        return self

    def __exit__(self, *exc: object) -> None:
        botocore.client.BaseClient._make_api_call = self._real
        threading.Thread.start = self._real_start  # type: ignore[method-assign]


def function_environments(templates: Mapping[str, Mapping[str, Any]]) -> dict[str, tuple[str, ...]]:
    """Handler string -> environment variable names, for every function of every template."""
    environments: dict[str, tuple[str, ...]] = {}
    for template in templates.values():
        for resource in template.get("Resources", {}).values():
            if resource["Type"] == "AWS::Lambda::Function" and "Handler" in resource["Properties"]:
                variables = resource["Properties"].get("Environment", {}).get("Variables", {})
                environments[resource["Properties"]["Handler"]] = tuple(variables)
    return environments


# ---- calls as IAM requests -------------------------------------------------------------------------
# The IAM action an operation is authorized as, where it is not "<service>:<Operation>" (Service
# Authorization Reference, "Actions defined by ..." tables).
S3_ACTIONS = {
    "ListObjectsV2": "s3:ListBucket",
    "ListObjects": "s3:ListBucket",
    "HeadBucket": "s3:ListBucket",
    "ListObjectVersions": "s3:ListBucketVersions",
    "HeadObject": "s3:GetObject",
}
# SQS batch operations are authorized as the single-message action ("Amazon SQS batch actions",
# SQS developer guide: "setting permissions for SendMessage, DeleteMessage, or ChangeMessageVisibility
# sets permissions for the corresponding batch versions").
SQS_ACTIONS = {
    "SendMessageBatch": "sqs:SendMessage",
    "DeleteMessageBatch": "sqs:DeleteMessage",
    "ChangeMessageVisibilityBatch": "sqs:ChangeMessageVisibility",
}
# Operations that authorize on "*" (no resource-level permissions).
WILDCARD_OPERATIONS = {("logs", "DescribeExportTasks"), ("xray", "PutTraceSegments"), ("xray", "PutTelemetryRecords")}


# KMS actions the caller's role needs on the target's customer-managed key (SQS, SNS and S3 guides).
IMPLIED_KEY_ACTIONS = {
    "sqs:SendMessage": ("kms:GenerateDataKey", "kms:Decrypt"),
    "sqs:ReceiveMessage": ("kms:Decrypt",),
    "sns:Publish": ("kms:GenerateDataKey", "kms:Decrypt"),
    "s3:PutObject": ("kms:GenerateDataKey",),
    "s3:GetObject": ("kms:Decrypt",),
}


@dataclass(frozen=True)
class IamRequest:
    action: str
    resource: str
    context: Mapping[str, str]


def _queue_arn(url: str) -> str:
    return f"arn:{PARTITION}:sqs:{REGION}:{ACCOUNT}:{url.rstrip('/').rsplit('/', 1)[1]}"


def iam_requests(call: AwsCall) -> Iterator[IamRequest]:
    """The IAM requests AWS authorizes `call` as, on template-side resources."""
    service, operation, params = call.service, call.operation, call.params
    if (service, operation) in WILDCARD_OPERATIONS:
        yield IamRequest(f"{service}:{operation}", "*", {})
    elif service == "s3":
        bucket = f"arn:{PARTITION}:s3:::{params['Bucket']}"
        if operation == "DeleteObjects":
            for item in params["Delete"]["Objects"]:
                action = "s3:DeleteObjectVersion" if item.get("VersionId") else "s3:DeleteObject"
                yield IamRequest(action, f"{bucket}/{item['Key']}", {})
        elif operation == "DeleteObject" and params.get("VersionId"):
            yield IamRequest("s3:DeleteObjectVersion", f"{bucket}/{params['Key']}", {})
        elif operation == "GetObject" and params.get("VersionId"):
            yield IamRequest("s3:GetObjectVersion", f"{bucket}/{params['Key']}", {})
        elif operation == "CopyObject":
            source = params["CopySource"]
            source = source if isinstance(source, str) else f"{source['Bucket']}/{source['Key']}"
            yield IamRequest("s3:GetObject", f"arn:{PARTITION}:s3:::{source}", {})
            yield IamRequest("s3:PutObject", f"{bucket}/{params['Key']}", {})
        elif "Key" in params:
            yield IamRequest(S3_ACTIONS.get(operation, f"s3:{operation}"), f"{bucket}/{params['Key']}", {})
        else:
            yield IamRequest(
                S3_ACTIONS.get(operation, f"s3:{operation}"), bucket, {"s3:prefix": params.get("Prefix", "")}
            )
    elif service == "dynamodb":
        tables = params["RequestItems"].keys() if "RequestItems" in params else [params["TableName"]]
        for table in tables:
            yield IamRequest(f"dynamodb:{operation}", f"arn:{PARTITION}:dynamodb:{REGION}:{ACCOUNT}:table/{table}", {})
    elif service == "sqs":
        yield IamRequest(SQS_ACTIONS.get(operation, f"sqs:{operation}"), _queue_arn(params["QueueUrl"]), {})
    elif service == "sns":
        yield IamRequest(f"sns:{operation}", params.get("TopicArn") or params["TargetArn"], {})
    elif service == "logs" and "logGroupName" in params:
        yield IamRequest(
            f"logs:{operation}", f"arn:{PARTITION}:logs:{REGION}:{ACCOUNT}:log-group:{params['logGroupName']}", {}
        )
    elif service == "lambda" and operation == "Invoke":
        name = params["FunctionName"]
        arn = name if name.startswith("arn:") else f"arn:{PARTITION}:lambda:{REGION}:{ACCOUNT}:function:{name}"
        yield IamRequest(
            "lambda:InvokeFunction", arn + (f":{params['Qualifier']}" if params.get("Qualifier") else ""), {}
        )
    elif service == "stepfunctions":
        arn = params.get("stateMachineArn") or params["executionArn"]
        yield IamRequest(f"states:{operation}", arn, {})
    else:
        raise NotImplementedError(f"the call recorder does not model {service}:{operation} yet")


def _to_template(value: Any, mapping: list[tuple[str, str]]) -> Any:
    """`value` with every moto-side environment value replaced by the template's value."""
    if isinstance(value, str):
        for old, new in mapping:
            value = value.replace(old, new)
        return value
    if isinstance(value, list):
        return [_to_template(item, mapping) for item in value]
    if isinstance(value, dict):
        return {_to_template(k, mapping): _to_template(v, mapping) for k, v in value.items()}
    return value


def handler_edges(calls: Iterable[AwsCall], templates: Mapping[str, Mapping[str, Any]]) -> list[Edge]:
    """Each recorded call as an edge of its function's role on the template's resources (deduplicated),
    plus CloudWatch Logs' own writes for every export task a handler created."""
    kit = Kit(templates)
    functions: dict[str, tuple[Any, str]] = {}
    for stack in kit.stacks:
        for function_id in stack.of_type("AWS::Lambda::Function"):
            props = stack.props(function_id)
            if "Handler" in props:
                functions[props["Handler"]] = (stack, function_id)
    edges: dict[tuple[Any, ...], Edge] = {}
    for call in calls:
        stack, function_id = functions[call.handler]
        props = stack.props(function_id)
        role = str(stack.value(props["Role"]))
        template_env = stack.value(props.get("Environment", {}).get("Variables", {}))
        mapping = sorted(
            ((call.environment[n], str(template_env[n])) for n in call.environment
             if n in template_env and len(call.environment[n]) >= 3 and call.environment[n] != str(template_env[n])),
            key=lambda pair: -len(pair[0]),
        )  # fmt: skip
        translated = replace(call, params=_to_template(call.params, mapping))
        for request in iam_requests(translated):
            edge = Edge(
                "handler call", stack.stack_name, f"{function_id} ({call.handler})", role, request.action,
                request.resource, kit.role_arn_policies(role),
                kit.resource_policy(request.resource) if request.resource != "*" else None,
                {**_role_context(role), **request.context},
            )  # fmt: skip
            edges.setdefault(
                (edge.stack, edge.source, edge.action, edge.resource, tuple(sorted(edge.context.items()))), edge
            )
            # The key AWS uses on the role's behalf to encrypt or decrypt what the call writes or reads.
            key = kit.key_of(request.resource) if request.resource != "*" else None
            if key is None:
                continue
            for key_action in IMPLIED_KEY_ACTIONS.get(request.action, ()):
                key_edge = replace(edge, kind="handler call (key)", action=key_action, resource=key,
                                   resource_policy=kit.resource_policy(key), context=_role_context(role))  # fmt: skip
                edges.setdefault((key_edge.stack, key_edge.source, key_action, key), key_edge)
        if (call.service, call.operation) == ("logs", "CreateExportTask"):
            for edge in _export_writes(kit, stack.stack_name, function_id, translated.params):
                edges.setdefault((edge.stack, edge.source, edge.principal, edge.action, edge.resource), edge)
    return list(edges.values())


def _export_writes(kit: Kit, stack: str, function_id: str, params: Mapping[str, Any]) -> Iterator[Edge]:
    """What CloudWatch Logs does for an export task (CreateExportTask API reference and "Exporting log
    data to Amazon S3"): checks the bucket ACL, writes a test object and the export's objects under the
    destination prefix with the bucket-owner-full-control ACL, with the bucket's key if it has one."""
    service = f"logs.{REGION}.amazonaws.com"
    source = f"arn:{PARTITION}:logs:{REGION}:{ACCOUNT}:log-group:{params['logGroupName']}"
    bucket = f"arn:{PARTITION}:s3:::{params['destination']}"
    prefix = params.get("destinationPrefix", "exportedlogs")
    context = _service_context(source)
    yield Edge(
        "logs export -> bucket ACL",
        stack,
        function_id,
        service,
        "s3:GetBucketAcl",
        bucket,
        (),
        kit.resource_policy(bucket),
        context,
    )
    for key in (f"{prefix}/aws-logs-write-test", f"{prefix}/0123abcd-export-task/stream-1/000000.gz"):
        yield Edge(
            "logs export -> bucket objects", stack, function_id, service, "s3:PutObject", f"{bucket}/{key}", (),
            kit.resource_policy(bucket), {**context, "s3:x-amz-acl": "bucket-owner-full-control"},
        )  # fmt: skip
    key_arn = kit.key_of(bucket)
    if key_arn:
        for action in ("kms:GenerateDataKey", "kms:Decrypt"):
            yield Edge(
                "logs export -> bucket key",
                stack,
                function_id,
                service,
                action,
                key_arn,
                (),
                kit.resource_policy(key_arn),
                context,
            )
