"""One CloudFormation-template-to-moto resolver for every workload's tests and benchmarks.

moto's own CloudFormation cannot run here (it imports API Gateway, which needs packages the kit does
not install), so `deploy` reads the synthesized template and makes the calls CloudFormation would,
in dependency order, with values taken from the template only (names, environment, redrive
policies, batch sizes, handler strings, ...):

    deployment = deploy(kit.templates["order-intake"])        # inside support.stand_ins.mocked_aws()
    deployment.outputs["FailedRequestsQueueUrl"]
    deployment.function("WorkerFunction").environment          # a logical-id prefix is enough
    deployment.ref("KeptFailuresQueue"), deployment.attribute("KeptFailuresQueue", "Arn")

Resource types without a creator below (policies, alarms, log groups' subscriptions, ...) are not
created; a reference to one resolves to a placeholder naming its logical id. Pass `types` to create
fewer, or `creators` to add or replace one (a `Creator` gets the deployment's boto3 clients, the
logical id and the resolved properties, and returns the `Ref` value and the `Fn::GetAtt` values).

Convention: every stand-in runs in `REGION` under `ACCOUNT` (moto's default account); the fake
credentials of `support.stand_ins` use the same region.
"""

from __future__ import annotations

import io
import json
import re
import zipfile
from collections.abc import Callable, Collection, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from stacks.settings.common import APP_NAME

REGION = "us-east-1"
ACCOUNT = "123456789012"  # moto's default account
PSEUDO_PARAMETERS = {
    "AWS::Partition": "aws",
    "AWS::Region": REGION,
    "AWS::AccountId": ACCOUNT,
    "AWS::URLSuffix": "amazonaws.com",
    "AWS::StackName": f"{APP_NAME}-test",
    "AWS::NoValue": "",
}


class Unresolved(LookupError):
    """A `Ref` or `Fn::GetAtt` to a resource that has not been created (yet)."""


def resources_of_type(template: Mapping[str, Any], kind: str) -> dict[str, dict[str, Any]]:
    """The template's resources of one type, by logical id."""
    return {lid: r for lid, r in template["Resources"].items() if r["Type"] == kind}


class TemplateResolver:
    """Resolves a template value against the physical ids and attributes it has been told about.

    `placeholders` are logical ids that will never be created: they resolve to their own name
    (`Ref`) or `<logical id>.<attribute>` (`Fn::GetAtt`) instead of raising `Unresolved`.
    """

    def __init__(self, *, placeholders: Iterable[str] = (), region: str = REGION, account: str = ACCOUNT) -> None:
        self.pseudo = {**PSEUDO_PARAMETERS, "AWS::Region": region, "AWS::AccountId": account}
        self.refs: dict[str, str] = {}
        self.attributes: dict[tuple[str, str], str] = {}
        self.placeholders = set(placeholders)

    def add(self, logical_id: str, ref: str, **attributes: str) -> None:
        """Record what `Ref: logical_id` and `Fn::GetAtt: [logical_id, name]` resolve to."""
        self.refs[logical_id] = ref
        self.attributes.update({(logical_id, name): value for name, value in attributes.items()})

    def ref(self, name: str) -> str:
        if name in self.pseudo:
            return self.pseudo[name]
        if name in self.refs:
            return self.refs[name]
        if name in self.placeholders:
            return name
        raise Unresolved(name)

    def attribute(self, logical_id: str, name: str) -> str:
        if (logical_id, name) in self.attributes:
            return self.attributes[(logical_id, name)]
        if logical_id in self.placeholders:
            return f"{logical_id}.{name}"
        if logical_id in self.refs:
            raise KeyError(
                f"{logical_id} has no attribute {name!r} in this stand-in (known: {self._names(logical_id)})"
            )
        raise Unresolved(f"{logical_id}.{name}")

    def _names(self, logical_id: str) -> list[str]:
        return sorted(name for lid, name in self.attributes if lid == logical_id)

    def resolve(self, value: Any) -> Any:
        """`value` with every intrinsic function replaced by what it stands for here."""
        if isinstance(value, list):
            return [self.resolve(item) for item in value]
        if not isinstance(value, dict):
            return value
        if len(value) == 1:
            ((key, argument),) = value.items()
            if key == "Ref":
                return self.ref(argument)
            if key == "Fn::GetAtt":
                logical_id, name = argument.split(".", 1) if isinstance(argument, str) else argument
                return self.attribute(logical_id, name)
            if key == "Fn::Join":
                separator, parts = argument
                return separator.join(str(part) for part in self.resolve(parts))
            if key == "Fn::Select":
                index, items = argument
                return self.resolve(items)[int(index)]
            if key == "Fn::Split":
                separator, text = argument
                return str(self.resolve(text)).split(separator)
            if key == "Fn::Sub":
                text, variables = (argument, {}) if isinstance(argument, str) else argument
                return self._sub(text, self.resolve(variables))
            if key.startswith("Fn::"):
                raise NotImplementedError(f"{key} is not resolved by this stand-in: {value}")
        return {key: self.resolve(item) for key, item in value.items()}

    def _sub(self, text: str, variables: Mapping[str, Any]) -> str:
        def one(match: re.Match[str]) -> str:
            name = match.group(1)
            if name in variables:
                return str(variables[name])
            if "." in name and name.split(".", 1)[0] not in self.pseudo:
                return self.attribute(*name.split(".", 1))
            return self.ref(name)

        return re.sub(r"\$\{([^}!]+)\}", one, text)

    def substitute(self, text: str, substitutions: Mapping[str, Any]) -> str:
        """`${name}` placeholders filled as CloudFormation fills a state machine's DefinitionSubstitutions."""
        for name, value in substitutions.items():
            text = text.replace("${" + name + "}", str(self.resolve(value)))
        if "${" in text:
            raise AssertionError(f"a placeholder has no substitution: {re.findall(r'\$\{[^}]*\}', text)}")
        return text

    def state_machine_definition(self, properties: Mapping[str, Any]) -> str:
        """An `AWS::StepFunctions::StateMachine`'s definition as Step Functions receives it."""
        definition = self.resolve(properties["DefinitionString"])
        return self.substitute(definition, properties.get("DefinitionSubstitutions", {}))


@dataclass(frozen=True)
class Function:
    """A Lambda function created from the template, with what Lambda would hand its runtime."""

    logical_id: str
    name: str
    arn: str
    handler: str
    environment: dict[str, str]
    # Lambda keeps a function's DeadLetterConfig; moto does not, so it is kept here.
    dead_letter_target: str | None


@dataclass(frozen=True)
class EventSourceMapping:
    """An `AWS::Lambda::EventSourceMapping` as the template declares it (not created in moto)."""

    logical_id: str
    function_name: str
    event_source_arn: str
    batch_size: int | None
    maximum_batching_window_seconds: int
    function_response_types: tuple[str, ...]
    maximum_concurrency: int | None
    enabled: bool


@dataclass
class Deployment:
    """What `deploy` created: physical ids, attributes, outputs, functions, and the clients used."""

    template: Mapping[str, Any]
    resolver: TemplateResolver
    clients: Mapping[str, Any]
    outputs: dict[str, Any] = field(default_factory=dict)
    created: dict[str, str] = field(default_factory=dict)  # logical id -> resource type
    functions: dict[str, Function] = field(default_factory=dict)  # by logical id
    event_source_mappings: dict[str, EventSourceMapping] = field(default_factory=dict)  # by logical id

    def ref(self, logical_id: str) -> str:
        return self.resolver.refs[self.logical_id(logical_id)]

    def attribute(self, logical_id: str, name: str) -> str:
        return self.resolver.attribute(self.logical_id(logical_id), name)

    def logical_id(self, name: str, among: Collection[str] | None = None) -> str:
        """The created resource's logical id: `name` itself, or `name` plus the 8-hex hash CDK adds
        (`WorkerFunction` -> `WorkerFunctionAF8A26AF`), or else the one that starts with `name`."""
        candidates = self.created if among is None else among
        if name in candidates:
            return name
        hashed = [lid for lid in candidates if re.fullmatch(re.escape(name) + "[0-9A-F]{8}", lid)]
        found = hashed or [lid for lid in candidates if lid.startswith(name)]
        if len(found) != 1:
            raise KeyError(f"{len(found)} created resources match {name!r}: {found}")
        return found[0]

    def function(self, name: str) -> Function:
        """A function by logical id, or by the construct path's id without CDK's hash."""
        return self.functions[self.logical_id(name, among=self.functions)]

    @property
    def dead_letter_targets(self) -> dict[str, str]:
        """Function name -> dead-letter target ARN, from each function's DeadLetterConfig."""
        return {f.name: f.dead_letter_target for f in self.functions.values() if f.dead_letter_target}


Created = tuple[str, dict[str, str]]  # (what Ref returns, Fn::GetAtt values by attribute name)
Creator = Callable[[Deployment, str, dict[str, Any]], Created]


def _empty_zip() -> bytes:
    # moto keeps the code but never runs it: tests run the real handlers from lambdas/ in process.
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("placeholder.txt", "the tests run this function's code from lambdas/ in process")
    return buffer.getvalue()


def _name(logical_id: str, limit: int) -> str:
    # CloudFormation generates "<stack>-<logical id>-<suffix>"; the logical id alone is unique here.
    return logical_id[:limit]


def _kms_key(d: Deployment, lid: str, p: dict[str, Any]) -> Created:
    key = d.clients["kms"].create_key(Description=p.get("Description", ""))["KeyMetadata"]
    return key["KeyId"], {"Arn": key["Arn"], "KeyId": key["KeyId"]}


def _sqs_queue(d: Deployment, lid: str, p: dict[str, Any]) -> Created:
    sqs = d.clients["sqs"]
    names = (
        "MessageRetentionPeriod",
        "VisibilityTimeout",
        "DelaySeconds",
        "ReceiveMessageWaitTimeSeconds",
        "MaximumMessageSize",
        "KmsMasterKeyId",
        "KmsDataKeyReusePeriodSeconds",
        "SqsManagedSseEnabled",
        "FifoQueue",
        "ContentBasedDeduplication",
    )
    attributes = {
        name: str(p[name]).lower() if isinstance(p[name], bool) else str(p[name]) for name in names if name in p
    }
    for name in ("RedrivePolicy", "RedriveAllowPolicy"):
        if name in p:
            attributes[name] = json.dumps(p[name])
    name = p.get("QueueName") or _name(lid, 75) + (".fifo" if p.get("FifoQueue") else "")
    url = sqs.create_queue(QueueName=name, Attributes=attributes)["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    return url, {"Arn": arn, "QueueName": name, "QueueUrl": url}


def _sns_topic(d: Deployment, lid: str, p: dict[str, Any]) -> Created:
    name = p.get("TopicName") or _name(lid, 256)
    arn = d.clients["sns"].create_topic(Name=name)["TopicArn"]
    return arn, {"TopicArn": arn, "TopicName": name}


def _s3_bucket(d: Deployment, lid: str, p: dict[str, Any]) -> Created:
    name = p.get("BucketName") or _name(lid.lower(), 63)
    d.clients["s3"].create_bucket(Bucket=name)  # us-east-1 takes no LocationConstraint
    if p.get("VersioningConfiguration", {}).get("Status") == "Enabled":
        d.clients["s3"].put_bucket_versioning(Bucket=name, VersioningConfiguration={"Status": "Enabled"})
    arn = f"arn:aws:s3:::{name}"
    domain = f"{name}.s3.amazonaws.com"
    return name, {"Arn": arn, "DomainName": domain, "RegionalDomainName": f"{name}.s3.{REGION}.amazonaws.com"}


def _iam_role(d: Deployment, lid: str, p: dict[str, Any]) -> Created:
    role = d.clients["iam"].create_role(
        RoleName=p.get("RoleName") or _name(lid, 64),
        AssumeRolePolicyDocument=json.dumps(p["AssumeRolePolicyDocument"]),
    )["Role"]
    return role["RoleName"], {"Arn": role["Arn"], "RoleId": role["RoleId"]}


def _lambda_function(d: Deployment, lid: str, p: dict[str, Any]) -> Created:
    environment = {k: str(v) for k, v in p.get("Environment", {}).get("Variables", {}).items()}
    created = d.clients["lambda"].create_function(
        FunctionName=p.get("FunctionName") or _name(lid, 64),
        Runtime=p.get("Runtime", "provided.al2023"),
        Role=p["Role"],
        Handler=p.get("Handler", "bootstrap"),
        Code={"ZipFile": _empty_zip()},
        Timeout=p.get("Timeout", 3),
        MemorySize=p.get("MemorySize", 128),
        Architectures=p.get("Architectures", ["x86_64"]),
        Environment={"Variables": environment},
    )
    d.functions[lid] = Function(
        logical_id=lid,
        name=created["FunctionName"],
        arn=created["FunctionArn"],
        handler=created["Handler"],
        environment=environment,
        dead_letter_target=p.get("DeadLetterConfig", {}).get("TargetArn"),
    )
    return created["FunctionName"], {"Arn": created["FunctionArn"]}


def _lambda_version(d: Deployment, lid: str, p: dict[str, Any]) -> Created:
    version = d.clients["lambda"].publish_version(FunctionName=p["FunctionName"])
    return version["FunctionArn"], {"Version": version["Version"], "FunctionArn": version["FunctionArn"]}


def _lambda_alias(d: Deployment, lid: str, p: dict[str, Any]) -> Created:
    alias = d.clients["lambda"].create_alias(
        FunctionName=p["FunctionName"], Name=p["Name"], FunctionVersion=p["FunctionVersion"]
    )
    return alias["AliasArn"], {"AliasArn": alias["AliasArn"]}


def _lambda_event_invoke_config(d: Deployment, lid: str, p: dict[str, Any]) -> Created:
    names = ("MaximumRetryAttempts", "MaximumEventAgeInSeconds", "DestinationConfig")
    d.clients["lambda"].put_function_event_invoke_config(
        FunctionName=p["FunctionName"], Qualifier=p["Qualifier"], **{k: p[k] for k in names if k in p}
    )
    return f"{p['FunctionName']}:{p['Qualifier']}", {}


def _lambda_event_source_mapping(d: Deployment, lid: str, p: dict[str, Any]) -> Created:
    # Kept as the template declares it, not created in moto: moto would invoke the function once
    # per message and ignore partial batch responses. support.sqs_poller polls with these settings.
    d.event_source_mappings[lid] = EventSourceMapping(
        logical_id=lid,
        function_name=p["FunctionName"],
        event_source_arn=p["EventSourceArn"],
        batch_size=p.get("BatchSize"),
        maximum_batching_window_seconds=p.get("MaximumBatchingWindowInSeconds", 0),
        function_response_types=tuple(p.get("FunctionResponseTypes", ())),
        maximum_concurrency=p.get("ScalingConfig", {}).get("MaximumConcurrency"),
        enabled=p.get("Enabled", True),
    )
    return f"esm-{lid}", {"Id": f"esm-{lid}"}


def _dynamodb_table(d: Deployment, lid: str, p: dict[str, Any]) -> Created:
    names = (
        "AttributeDefinitions",
        "KeySchema",
        "BillingMode",
        "ProvisionedThroughput",
        "GlobalSecondaryIndexes",
        "LocalSecondaryIndexes",
        "StreamSpecification",
    )
    table = d.clients["dynamodb"].create_table(
        TableName=p.get("TableName") or _name(lid, 255), **{k: p[k] for k in names if k in p}
    )["TableDescription"]
    attributes = {"Arn": table["TableArn"]}
    if "LatestStreamArn" in table:
        attributes["StreamArn"] = table["LatestStreamArn"]
    return table["TableName"], attributes


def _log_group(d: Deployment, lid: str, p: dict[str, Any]) -> Created:
    name = p.get("LogGroupName") or _name(lid, 512)
    d.clients["logs"].create_log_group(logGroupName=name)
    return name, {"Arn": f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group:{name}:*"}


def _state_machine(d: Deployment, lid: str, p: dict[str, Any]) -> Created:
    machine = d.clients["stepfunctions"].create_state_machine(
        name=p.get("StateMachineName") or _name(lid, 80),
        definition=d.resolver.substitute(p["DefinitionString"], p.get("DefinitionSubstitutions", {})),
        roleArn=p["RoleArn"],
    )
    arn = machine["stateMachineArn"]
    return arn, {"Arn": arn, "Name": arn.rsplit(":", 1)[-1]}


CREATORS: dict[str, Creator] = {
    "AWS::KMS::Key": _kms_key,
    "AWS::SQS::Queue": _sqs_queue,
    "AWS::SNS::Topic": _sns_topic,
    "AWS::S3::Bucket": _s3_bucket,
    "AWS::IAM::Role": _iam_role,
    "AWS::Lambda::Function": _lambda_function,
    "AWS::Lambda::Version": _lambda_version,
    "AWS::Lambda::Alias": _lambda_alias,
    "AWS::Lambda::EventInvokeConfig": _lambda_event_invoke_config,
    "AWS::Lambda::EventSourceMapping": _lambda_event_source_mapping,
    "AWS::DynamoDB::Table": _dynamodb_table,
    "AWS::Logs::LogGroup": _log_group,
    "AWS::StepFunctions::StateMachine": _state_machine,
}
SERVICES = ("kms", "sqs", "sns", "s3", "iam", "lambda", "dynamodb", "logs", "stepfunctions")


def deploy(
    template: Mapping[str, Any],
    *,
    types: Collection[str] | None = None,
    creators: Mapping[str, Creator] | None = None,
    region: str = REGION,
) -> Deployment:
    """Create the template's resources (of `types`, default: every type with a creator) in moto.

    Call it inside `support.stand_ins.mocked_aws()`. Raises if references form a cycle or name a
    resource that is neither created nor a placeholder, and if an output names one that was not created.
    """
    import boto3  # imported late: the module stays importable where boto3's import cost is unwanted

    known = {**CREATORS, **(creators or {})}
    wanted = set(known) if types is None else set(types)
    if missing := wanted - set(known):
        raise ValueError(f"no creator for {sorted(missing)}: pass one in `creators`")
    waiting = {lid: r for lid, r in template["Resources"].items() if r["Type"] in wanted}
    resolver = TemplateResolver(placeholders=set(template["Resources"]) - set(waiting), region=region)
    clients = {service: boto3.client(service, region_name=region) for service in SERVICES}
    deployment = Deployment(template=template, resolver=resolver, clients=clients)
    while waiting:
        done = []
        for lid, resource in waiting.items():
            properties = resource.get("Properties", {})
            try:
                resolved = resolver.resolve(properties)
            except Unresolved:
                continue
            ref, attributes = known[resource["Type"]](deployment, lid, resolved)
            resolver.add(lid, ref, **attributes)
            deployment.created[lid] = resource["Type"]
            done.append(lid)
        if not done:
            raise AssertionError(f"unresolvable references among {sorted(waiting)}")
        for lid in done:
            del waiting[lid]
    for name, output in template.get("Outputs", {}).items():
        try:
            deployment.outputs[name] = resolver.resolve(output["Value"])
        except Unresolved:
            raise AssertionError(f"output {name} names a resource that was not created") from None
    return deployment
