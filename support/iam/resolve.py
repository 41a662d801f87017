"""Resolve a synthesized template's intrinsics to the concrete names and ARNs CloudFormation would give
its resources, in one fixed account and region, so that a policy engine can compare real strings.

Physical names follow CloudFormation's documented return values (`Ref` / `Fn::GetAtt` of each resource
type); a name the template does not set is made up from the stack name and the logical id, as
CloudFormation does (its random suffix left out: any name would do, as long as it is the same
everywhere the template refers to it).
"""

from __future__ import annotations

import json
import re
import zlib
from collections.abc import Mapping
from typing import Any

ACCOUNT = "123456789012"
REGION = "eu-west-1"
PARTITION = "aws"
# The account every "another account" negative twin uses.
OTHER_ACCOUNT = "210987654321"


class UnresolvableError(ValueError):
    """A template value the resolver cannot turn into a concrete string (the message says which)."""


class ResolvedTemplate:
    """One stack's template with every `Ref`, `Fn::GetAtt`, `Fn::Join`, `Fn::Sub`, `Fn::Select`,
    `Fn::Split` and pseudo parameter resolvable to a concrete value."""

    def __init__(self, stack_name: str, template: Mapping[str, Any]) -> None:
        self.stack_name = stack_name
        self.template = template
        self.resources: Mapping[str, Any] = template.get("Resources", {})
        self.pseudo = {
            "AWS::AccountId": ACCOUNT,
            "AWS::Region": REGION,
            "AWS::Partition": PARTITION,
            "AWS::StackName": stack_name,
            "AWS::URLSuffix": "amazonaws.com",
            "AWS::NoValue": None,
            "AWS::StackId": f"arn:{PARTITION}:cloudformation:{REGION}:{ACCOUNT}:stack/{stack_name}/0",
        }

    # ---- resources
    def of_type(self, resource_type: str) -> dict[str, Mapping[str, Any]]:
        return {lid: r for lid, r in self.resources.items() if r["Type"] == resource_type}

    def props(self, logical_id: str) -> Mapping[str, Any]:
        properties: Mapping[str, Any] = self.resources[logical_id].get("Properties", {})
        return properties

    def _generated_name(self, logical_id: str, *, lower: bool = False, limit: int = 64) -> str:
        name = f"{self.stack_name}-{logical_id}"[:limit]
        return name.lower() if lower else name

    def name(self, logical_id: str) -> str:
        """The physical name of a resource: the one the template sets, or a CloudFormation-style one."""
        resource = self.resources[logical_id]
        kind, props = resource["Type"], resource.get("Properties", {})
        explicit = {
            "AWS::S3::Bucket": "BucketName",
            "AWS::SQS::Queue": "QueueName",
            "AWS::SNS::Topic": "TopicName",
            "AWS::Lambda::Function": "FunctionName",
            "AWS::IAM::Role": "RoleName",
            "AWS::Logs::LogGroup": "LogGroupName",
            "AWS::StepFunctions::StateMachine": "StateMachineName",
            "AWS::Events::Rule": "Name",
            "AWS::Scheduler::Schedule": "Name",
            "AWS::Scheduler::ScheduleGroup": "Name",
            "AWS::DynamoDB::Table": "TableName",
            "AWS::CloudWatch::Alarm": "AlarmName",
            "AWS::Lambda::Alias": "Name",
            "AWS::IAM::ManagedPolicy": "ManagedPolicyName",
        }.get(kind)
        if explicit and explicit in props:
            return str(self.value(props[explicit]))
        if kind == "AWS::S3::Bucket":
            return self._generated_name(logical_id, lower=True, limit=63)
        if kind == "AWS::KMS::Key":
            # A key id is a UUID; any fixed one per key keeps every reference equal.
            digits = f"{zlib.crc32(f'{self.stack_name}/{logical_id}'.encode()):012d}"
            return f"00000000-0000-4000-8000-{digits}"
        if kind == "AWS::Logs::LogGroup":
            return f"/aws/{self._generated_name(logical_id)}"
        return self._generated_name(logical_id)

    def ref(self, logical_id: str) -> str:
        if logical_id in self.pseudo:
            value = self.pseudo[logical_id]
            if value is None:
                raise UnresolvableError("AWS::NoValue has no string value")
            return value
        if logical_id not in self.resources:
            raise UnresolvableError(f"{self.stack_name}: Ref to unknown {logical_id!r} (a parameter?)")
        kind = self.resources[logical_id]["Type"]
        if kind in {
            "AWS::SNS::Topic",
            "AWS::StepFunctions::StateMachine",
            "AWS::IAM::ManagedPolicy",
            "AWS::Lambda::Alias",
            "AWS::Lambda::Version",
        }:
            return self.get_att(logical_id, "Arn")
        if kind == "AWS::SQS::Queue":
            return f"https://sqs.{REGION}.amazonaws.com/{ACCOUNT}/{self.name(logical_id)}"
        if kind == "AWS::IAM::OIDCProvider":
            # Ref is the provider's ARN, named after the issuer URL without its scheme.
            issuer = str(self.value(self.props(logical_id)["Url"])).removeprefix("https://")
            return f"arn:{PARTITION}:iam::{ACCOUNT}:oidc-provider/{issuer}"
        return self.name(logical_id)

    def get_att(self, logical_id: str, attribute: str) -> str:
        if logical_id not in self.resources:
            raise UnresolvableError(f"{self.stack_name}: Fn::GetAtt of unknown {logical_id!r}")
        kind, props = self.resources[logical_id]["Type"], self.props(logical_id)
        name = self.name(logical_id)
        region_account = f"{REGION}:{ACCOUNT}"
        arns = {
            "AWS::S3::Bucket": f"arn:{PARTITION}:s3:::{name}",
            "AWS::SQS::Queue": f"arn:{PARTITION}:sqs:{region_account}:{name}",
            "AWS::SNS::Topic": f"arn:{PARTITION}:sns:{region_account}:{name}",
            "AWS::KMS::Key": f"arn:{PARTITION}:kms:{region_account}:key/{name}",
            "AWS::Lambda::Function": f"arn:{PARTITION}:lambda:{region_account}:function:{name}",
            "AWS::IAM::Role": f"arn:{PARTITION}:iam::{ACCOUNT}:role/{name}",
            "AWS::IAM::ManagedPolicy": f"arn:{PARTITION}:iam::{ACCOUNT}:policy/{name}",
            "AWS::Logs::LogGroup": f"arn:{PARTITION}:logs:{region_account}:log-group:{name}:*",
            "AWS::StepFunctions::StateMachine": f"arn:{PARTITION}:states:{region_account}:stateMachine:{name}",
            "AWS::Events::Rule": f"arn:{PARTITION}:events:{region_account}:rule/{name}",
            "AWS::DynamoDB::Table": f"arn:{PARTITION}:dynamodb:{region_account}:table/{name}",
            "AWS::CloudWatch::Alarm": f"arn:{PARTITION}:cloudwatch:{region_account}:alarm:{name}",
            "AWS::Scheduler::ScheduleGroup": f"arn:{PARTITION}:scheduler:{region_account}:schedule-group/{name}",
        }
        if kind == "AWS::Scheduler::Schedule":
            group = self.value(props.get("GroupName", "default"))
            arns[kind] = f"arn:{PARTITION}:scheduler:{region_account}:schedule/{group}/{name}"
        if kind == "AWS::Lambda::Version":
            if attribute == "Version":
                return "1"
            return f"{self.function_arn(props['FunctionName'])}:1"
        if kind == "AWS::Lambda::Alias" and attribute == "Arn":
            return f"{self.function_arn(props['FunctionName'])}:{self.value(props['Name'])}"
        if attribute == "Arn" and kind in arns:
            return arns[kind]
        if (kind, attribute) in {
            ("AWS::SQS::Queue", "QueueName"),
            ("AWS::SNS::Topic", "TopicName"),
            ("AWS::StepFunctions::StateMachine", "Name"),
            ("AWS::KMS::Key", "KeyId"),
        }:
            return name
        if (kind, attribute) == ("AWS::SQS::Queue", "QueueUrl"):
            return self.ref(logical_id)
        if (kind, attribute) == ("AWS::SNS::Topic", "TopicArn"):
            return arns[kind]
        if (kind, attribute) == ("AWS::DynamoDB::Table", "StreamArn"):
            return f"{arns[kind]}/stream/1970-01-01T00:00:00.000"
        raise UnresolvableError(f"{self.stack_name}: Fn::GetAtt {logical_id}.{attribute} ({kind}) is not modelled")

    def function_arn(self, function_name: Any) -> str:
        """A Lambda FunctionName property (name, ARN or partial ARN) as the function's ARN."""
        value = str(self.value(function_name))
        if value.startswith("arn:"):
            return value
        return f"arn:{PARTITION}:lambda:{REGION}:{ACCOUNT}:function:{value}"

    # ---- values
    def value(self, node: Any) -> Any:
        """`node` with every intrinsic replaced by its concrete value (lists and maps recursively)."""
        if isinstance(node, list):
            return [self.value(item) for item in node]
        if not isinstance(node, dict):
            return node
        if len(node) == 1:
            ((key, arg),) = node.items()
            if key == "Ref":
                return self.ref(arg)
            if key == "Fn::GetAtt":
                logical_id, attribute = arg if isinstance(arg, list) else arg.split(".", 1)
                return self.get_att(logical_id, attribute)
            if key == "Fn::Join":
                separator, parts = arg
                return str(separator).join(str(part) for part in self.value(parts))
            if key == "Fn::Select":
                index, items = arg
                return self.value(items)[int(self.value(index))]
            if key == "Fn::Split":
                separator, text = arg
                return str(self.value(text)).split(separator)
            if key == "Fn::Sub":
                return self._sub(arg)
            if key.startswith("Fn::") or key == "Condition":
                raise UnresolvableError(f"{self.stack_name}: intrinsic {key} is not modelled")
        return {key: self.value(item) for key, item in node.items()}

    def _sub(self, arg: Any) -> str:
        text, variables = (arg, {}) if isinstance(arg, str) else (arg[0], self.value(arg[1]))

        def replace(match: re.Match[str]) -> str:
            expression = match.group(1)
            if expression.startswith("!"):
                return "${" + expression[1:] + "}"
            if expression in variables:
                return str(variables[expression])
            if "." in expression:
                logical_id, attribute = expression.split(".", 1)
                return self.get_att(logical_id, attribute)
            return self.ref(expression)

        return re.sub(r"\$\{([^}]+)\}", replace, text)

    def policy(self, document: Any) -> dict[str, Any]:
        """A policy document with its intrinsics resolved (a deep copy)."""
        resolved: dict[str, Any] = json.loads(json.dumps(self.value(document)))
        return resolved
