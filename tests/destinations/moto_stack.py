"""Create the synthesized destinations stack's Lambda and SQS resources in moto.

moto's CloudFormation cannot run here (it imports API Gateway, which needs packages this project
does not install), so this reads the template itself and makes the calls CloudFormation would, for
the resource types the asynchronous path depends on: KMS keys, SQS queues, IAM roles, Lambda
functions, versions, aliases and event-invoke configs. Everything else (log groups, policies,
alarms, topics) has no effect on that path and is skipped. Values come from the template only:
retry count, maximum age, destinations, handler strings, environment, redrive policy.

moto keeps no DeadLetterConfig for functions, so the deployment remembers it (dead_letter_targets)
for the dispatcher to use, as Lambda would from the function's configuration.
"""

from __future__ import annotations

import io
import json
import re
import zipfile
from dataclasses import dataclass, field
from typing import Any

ACCOUNT = "123456789012"
REGION = "eu-west-1"

_HANDLED_TYPES = (
    "AWS::KMS::Key",
    "AWS::SQS::Queue",
    "AWS::IAM::Role",
    "AWS::Lambda::Function",
    "AWS::Lambda::Version",
    "AWS::Lambda::Alias",
    "AWS::Lambda::EventInvokeConfig",
)


class _NotYet(Exception):
    """A reference to a resource that has not been created yet."""


@dataclass
class Deployment:
    """What was created: physical ids by logical id, the stack outputs, and the DLQ of each function."""

    refs: dict[str, str] = field(default_factory=dict)
    attributes: dict[tuple[str, str], str] = field(default_factory=dict)
    outputs: dict[str, str] = field(default_factory=dict)
    # Function name -> dead-letter target ARN, from each function's DeadLetterConfig.
    dead_letter_targets: dict[str, str] = field(default_factory=dict)
    function_names: dict[str, str] = field(default_factory=dict)  # logical id -> name


def _empty_zip() -> bytes:
    # moto keeps the code but never runs it; the dispatcher runs the real handlers from the source tree.
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("placeholder.txt", "code runs from lambdas/destinations in the tests")
    return buffer.getvalue()


class _Resolver:
    def __init__(self, deployment: Deployment, skipped: set[str]) -> None:
        self._deployment = deployment
        # Resources this helper does not create resolve to their logical id: nothing here uses them.
        self._skipped = skipped

    def __call__(self, value: Any) -> Any:
        if isinstance(value, list):
            return [self(item) for item in value]
        if not isinstance(value, dict):
            return value
        if len(value) == 1:
            (key, argument), = value.items()
            if key == "Ref":
                return self._ref(argument)
            if key == "Fn::GetAtt":
                return self._attribute(argument[0], argument[1])
            if key == "Fn::Join":
                separator, parts = argument
                return separator.join(str(part) for part in self(parts))
            if key == "Fn::Select":
                index, items = argument
                return self(items)[int(index)]
            if key == "Fn::Split":
                separator, text = argument
                return self(text).split(separator)
            if key == "Fn::Sub" and isinstance(argument, str):
                return re.sub(r"\$\{([^}]+)\}", lambda match: self._ref(match.group(1)), argument)
        return {key: self(item) for key, item in value.items()}

    def _ref(self, name: str) -> str:
        pseudo = {
            "AWS::Region": REGION, "AWS::AccountId": ACCOUNT, "AWS::Partition": "aws", "AWS::URLSuffix": "amazonaws.com"
        }  # fmt: skip
        if name in pseudo:
            return pseudo[name]
        if name in self._skipped:
            return name
        if name not in self._deployment.refs:
            raise _NotYet(name)
        return self._deployment.refs[name]

    def _attribute(self, logical_id: str, attribute: str) -> str:
        if logical_id in self._skipped:
            return f"{logical_id}.{attribute}"
        if (logical_id, attribute) not in self._deployment.attributes:
            raise _NotYet(f"{logical_id}.{attribute}")
        return self._deployment.attributes[(logical_id, attribute)]


def deploy(template: dict[str, Any], *, clients: dict[str, Any]) -> Deployment:
    """Create the template's asynchronous-path resources with the given moto-backed clients."""
    deployment = Deployment()
    waiting = {
        logical_id: resource
        for logical_id, resource in template["Resources"].items()
        if resource["Type"] in _HANDLED_TYPES
    }
    resolve = _Resolver(deployment, skipped=set(template["Resources"]) - set(waiting))
    while waiting:
        created = []
        for logical_id, resource in waiting.items():
            try:
                properties = resolve(resource.get("Properties", {}))
            except _NotYet:
                continue
            _create(logical_id, resource["Type"], properties, deployment, clients)
            created.append(logical_id)
        if not created:
            raise AssertionError(f"unresolvable references among {sorted(waiting)}")
        for logical_id in created:
            del waiting[logical_id]
    for name, output in template.get("Outputs", {}).items():
        try:
            deployment.outputs[name] = resolve(output["Value"])
        except _NotYet:
            raise AssertionError(f"output {name} names a resource that was not created") from None
    return deployment


def _create(
    logical_id: str, kind: str, properties: dict[str, Any], deployment: Deployment, clients: dict[str, Any]
) -> None:
    refs, attributes = deployment.refs, deployment.attributes
    if kind == "AWS::KMS::Key":
        metadata = clients["kms"].create_key(Description=properties.get("Description", ""))["KeyMetadata"]
        refs[logical_id], attributes[(logical_id, "Arn")] = metadata["KeyId"], metadata["Arn"]
    elif kind == "AWS::SQS::Queue":
        queue_attributes = {"MessageRetentionPeriod": str(properties.get("MessageRetentionPeriod", 345600))}
        if "KmsMasterKeyId" in properties:
            queue_attributes["KmsMasterKeyId"] = properties["KmsMasterKeyId"]
        if "RedrivePolicy" in properties:
            queue_attributes["RedrivePolicy"] = json.dumps(properties["RedrivePolicy"])
        url = clients["sqs"].create_queue(QueueName=logical_id, Attributes=queue_attributes)["QueueUrl"]
        arn = clients["sqs"].get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        refs[logical_id], attributes[(logical_id, "Arn")] = url, arn
    elif kind == "AWS::IAM::Role":
        role = clients["iam"].create_role(
            RoleName=logical_id, AssumeRolePolicyDocument=json.dumps(properties["AssumeRolePolicyDocument"])
        )["Role"]
        refs[logical_id], attributes[(logical_id, "Arn")] = role["RoleName"], role["Arn"]
    elif kind == "AWS::Lambda::Function":
        function = clients["lambda"].create_function(
            FunctionName=logical_id,
            Runtime=properties["Runtime"],
            Role=properties["Role"],
            Handler=properties["Handler"],
            Code={"ZipFile": _empty_zip()},
            Timeout=properties.get("Timeout", 3),
            MemorySize=properties.get("MemorySize", 128),
            Architectures=properties.get("Architectures", ["x86_64"]),
            Environment=properties.get("Environment", {"Variables": {}}),
        )
        refs[logical_id], attributes[(logical_id, "Arn")] = function["FunctionName"], function["FunctionArn"]
        deployment.function_names[logical_id] = function["FunctionName"]
        if "DeadLetterConfig" in properties:
            deployment.dead_letter_targets[function["FunctionName"]] = properties["DeadLetterConfig"]["TargetArn"]
    elif kind == "AWS::Lambda::Version":
        version = clients["lambda"].publish_version(FunctionName=properties["FunctionName"])
        refs[logical_id], attributes[(logical_id, "Version")] = version["FunctionArn"], version["Version"]
    elif kind == "AWS::Lambda::Alias":
        alias = clients["lambda"].create_alias(
            FunctionName=properties["FunctionName"],
            Name=properties["Name"],
            FunctionVersion=properties["FunctionVersion"],
        )
        refs[logical_id] = alias["AliasArn"]
    elif kind == "AWS::Lambda::EventInvokeConfig":
        arguments = {
            key: properties[key]
            for key in ("MaximumRetryAttempts", "MaximumEventAgeInSeconds", "DestinationConfig")
            if key in properties
        }
        clients["lambda"].put_function_event_invoke_config(
            FunctionName=properties["FunctionName"], Qualifier=properties["Qualifier"], **arguments
        )
        refs[logical_id] = f"{properties['FunctionName']}:{properties['Qualifier']}"
