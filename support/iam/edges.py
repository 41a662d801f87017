"""Every edge where an AWS service principal or a kit role acts on a kit resource, derived from the
synthesized templates alone (a forked workload's stack is covered without writing anything), each
with the negative twins that must be denied.

What an edge is made of comes from AWS's documented behaviour, per integration:
- CloudWatch alarm actions: `cloudwatch.amazonaws.com` publishes to the topic (topic policy) and uses
  the topic's KMS key (`kms:GenerateDataKey*`, `kms:Decrypt`, key policy).
- EventBridge rule targets / Scheduler schedules: the service assumes the target role (trust policy,
  `aws:SourceArn` = the rule / the schedule group), the role then calls the target (identity policy +
  the target's resource policy) and sends to the dead-letter queue (rule: the service itself, queue
  policy; schedule: the role). A schedule with a customer-managed key: Scheduler decrypts its input
  in the role's name, so the role needs `kms:Decrypt` on that key (Scheduler user guide, "Encryption
  at rest", execution role permissions).
- Step Functions: the service assumes the state machine role; the role calls each Task's resource.
  A state machine with a customer-managed key (Step Functions developer guide, "Data at rest
  encryption"): the role uses the key for the machine's executions (`kms:Decrypt`,
  `kms:GenerateDataKey`, encryption context `aws:states:stateMachineArn`) and, when it logs, for log
  delivery (`kms:GenerateDataKey`, encryption context `SourceArn` = `arn:<partition>:logs:<region>:
  <account>:*`, as AWS's example policy names it), and `delivery.logs.amazonaws.com` decrypts with
  it. StartExecution asks nothing of its caller's key permissions (same guide, "Required permissions
  for API callers").
- Lambda: the service assumes the execution role; the role writes the function's logs, sends to its
  dead-letter queue, invokes its async destinations, polls its event sources, checkpoints a durable
  execution; every one of those with the target's key where it has one.
- CloudWatch Logs export: `logs.<region>.amazonaws.com` reads the bucket ACL and puts the export objects.
- S3 server access logging: `logging.s3.amazonaws.com` puts log objects under the target prefix.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from support.iam.resolve import ACCOUNT, OTHER_ACCOUNT, PARTITION, REGION, ResolvedTemplate

OTHER_REGION = "ap-southeast-2"
NOT_KIT = "not-a-kit-resource"
# Services whose kit resources are TLS-only (every bucket, queue and topic policy denies plain HTTP).
TLS_ONLY_SERVICES = {"s3", "sqs", "sns"}
# What a role (or service) must be allowed to call on a target, by the target ARN's service.
INVOKE_ACTION = {
    "lambda": "lambda:InvokeFunction",
    "states": "states:StartExecution",
    "sns": "sns:Publish",
    "sqs": "sqs:SendMessage",
    "events": "events:PutEvents",
}
# KMS actions a sender needs on the key of an encrypted queue or topic (SQS and SNS developer guides).
SEND_KEY_ACTIONS = ("kms:GenerateDataKey", "kms:Decrypt")


# Twins the engine allows that the kit has not narrowed, each with why ((edge kind, change) -> reason).
# tests/permissions fails when one is no longer needed, so the list cannot outlive its reason.
ACCEPTED_WIDE = {
    ("access logging -> log bucket key", "another account"): "CDK grants logging.s3.amazonaws.com the "
    "log bucket's key without conditions; whether S3 log delivery sends aws:SourceAccount/SourceArn to "
    "KMS is not documented, and a guard it does not satisfy would silently drop every access log. The "
    "bucket policy, which S3 must also pass, names the logged bucket and account.",
    ("access logging -> log bucket key", "another source ARN"): "as above",
    ("log delivery -> state machine key", "another account"): "aws-cdk-lib lets delivery.logs.amazonaws.com "
    "kms:Decrypt* with a state machine's key without conditions, as the statement in the Step Functions "
    'guide ("Data at rest encryption", step 3) does; which source keys log delivery sends to KMS there is '
    "not documented, and a guard it does not satisfy would silently drop the execution logs.",
}


@dataclass(frozen=True)
class Edge:
    """One request AWS will make: `principal` calls `action` on `resource`."""

    kind: str
    stack: str
    source: str  # what acts: a logical id, for the report
    principal: str
    action: str
    resource: str
    identity_policies: tuple[tuple[str, Mapping[str, Any]], ...] = ()
    resource_policy: Mapping[str, Any] | None = None
    context: Mapping[str, str] = field(default_factory=dict)

    @property
    def label(self) -> str:
        return f"{self.stack}: {self.kind}: {self.source} -> {self.action} {self.resource}"

    @property
    def is_service(self) -> bool:
        return self.principal.endswith(".amazonaws.com")

    def simulation(self) -> dict[str, Any]:
        request_account = _account_of(self.resource) or ACCOUNT
        simulation: dict[str, Any] = {
            "request": {
                "principal": self.principal,
                "action": self.action,
                "resource": {"resource": self.resource, "accountId": request_account},
                "contextVariables": dict(self.context),
            },
            "identityPolicies": [{"name": name, "policy": policy} for name, policy in self.identity_policies],
        }
        if self.resource_policy is not None:
            simulation["resourcePolicy"] = self.resource_policy
        return simulation


@dataclass(frozen=True)
class Twin:
    """A negative twin: the edge changed in one way that must be denied."""

    edge: Edge
    change: str  # "another account", "another source ARN", "plain HTTP", "another service"
    request: Edge


def _account_of(arn: str) -> str | None:
    parts = arn.split(":")
    if len(parts) > 4 and parts[0] == "arn" and parts[4]:
        return parts[4]
    if arn.startswith("arn:") and ":s3:::" in arn:
        return ACCOUNT  # bucket ARNs carry no account; the kit's buckets are in the kit's account
    return None


def _service_of(arn: str) -> str:
    return arn.split(":")[2] if arn.startswith("arn:") else ""


def _as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


class Kit:
    """The resolved templates of every stack, indexed by what the edges need."""

    def __init__(self, templates: Mapping[str, Mapping[str, Any]]) -> None:
        self.stacks = [ResolvedTemplate(name, template) for name, template in templates.items()]

    # ---- lookups across stacks
    def _find(self, arn_or_name: str, kinds: Iterable[str]) -> tuple[ResolvedTemplate, str] | None:
        wanted = set(kinds)
        for stack in self.stacks:
            for logical_id, resource in stack.resources.items():
                if resource["Type"] not in wanted:
                    continue
                values = {stack.ref(logical_id)}
                try:
                    values.add(stack.get_att(logical_id, "Arn"))
                except Exception:
                    pass
                if arn_or_name in values:
                    return stack, logical_id
        return None

    def role_arn_policies(self, role_arn: str) -> tuple[tuple[str, Mapping[str, Any]], ...]:
        """The identity policies attached to a kit role (inline, AWS::IAM::Policy, kit managed policies)."""
        found = self._find(role_arn, ["AWS::IAM::Role"])
        if found is None:
            raise LookupError(f"{role_arn} is not a role of the kit")
        stack, role_id = found
        props = stack.props(role_id)
        policies: list[tuple[str, Mapping[str, Any]]] = [
            (str(p["PolicyName"]), stack.policy(p["PolicyDocument"])) for p in props.get("Policies", [])
        ]
        for logical_id, resource in stack.resources.items():
            if resource["Type"] in {"AWS::IAM::Policy", "AWS::IAM::ManagedPolicy"}:
                attached = resource.get("Properties", {}).get("Roles", [])
                if {"Ref": role_id} in attached:
                    policies.append((logical_id, stack.policy(resource["Properties"]["PolicyDocument"])))
        for managed in props.get("ManagedPolicyArns", []):
            arn = stack.value(managed)
            kit_policy = self._find(arn, ["AWS::IAM::ManagedPolicy"])
            if kit_policy is None:
                # An AWS managed policy: its document is not in the template; the engine cannot see it.
                raise LookupError(f"{role_arn} has the AWS managed policy {arn}: attach a kit policy instead")
            mstack, mid = kit_policy
            policies.append((mid, mstack.policy(mstack.props(mid)["PolicyDocument"])))
        return tuple(policies)

    def trust_policy(self, role_arn: str) -> Mapping[str, Any]:
        found = self._find(role_arn, ["AWS::IAM::Role"])
        if found is None:
            raise LookupError(f"{role_arn} is not a role of the kit")
        stack, role_id = found
        return stack.policy(stack.props(role_id)["AssumeRolePolicyDocument"])

    def resource_policy(self, arn: str) -> Mapping[str, Any] | None:
        """The resource-based policy AWS evaluates for a request on `arn` (None: the resource has none)."""
        service = _service_of(arn)
        if service == "s3":
            bucket = arn.split(":::", 1)[1].split("/", 1)[0]
            for stack in self.stacks:
                for _, resource in stack.of_type("AWS::S3::BucketPolicy").items():
                    if stack.value(resource["Properties"]["Bucket"]) == bucket:
                        return stack.policy(resource["Properties"]["PolicyDocument"])
            return None
        if service in {"sqs", "sns"}:
            kind, key = {"sqs": ("AWS::SQS::QueuePolicy", "Queues"), "sns": ("AWS::SNS::TopicPolicy", "Topics")}[
                service
            ]
            for stack in self.stacks:
                for _, resource in stack.of_type(kind).items():
                    targets = [
                        self._queue_arn(v) if service == "sqs" else v for v in stack.value(resource["Properties"][key])
                    ]
                    if arn in targets:
                        return stack.policy(resource["Properties"]["PolicyDocument"])
            return None
        if service == "kms":
            found = self._find(arn, ["AWS::KMS::Key"])
            if found is None:
                return None
            stack, key_id = found
            return stack.policy(stack.props(key_id)["KeyPolicy"])
        if service == "lambda":
            return self._lambda_policy(arn)
        return None

    def _lambda_policy(self, arn: str) -> Mapping[str, Any] | None:
        """The function policy Lambda builds from AWS::Lambda::Permission resources (AddPermission):
        one statement per permission, on exactly the (qualified or unqualified) ARN it names."""
        statements = []
        for stack in self.stacks:
            for logical_id, resource in stack.of_type("AWS::Lambda::Permission").items():
                props = stack.value(resource["Properties"])
                if stack.function_arn(props["FunctionName"]) != arn:
                    continue
                principal = props["Principal"]
                statement: dict[str, Any] = {
                    "Sid": logical_id,
                    "Effect": "Allow",
                    "Principal": {"Service": principal} if principal.endswith(".amazonaws.com") else {"AWS": principal},
                    "Action": props["Action"],
                    "Resource": arn,
                }
                condition: dict[str, Any] = {}
                if "SourceArn" in props:
                    condition.setdefault("ArnLike", {})["AWS:SourceArn"] = props["SourceArn"]
                if "SourceAccount" in props:
                    condition.setdefault("StringEquals", {})["AWS:SourceAccount"] = props["SourceAccount"]
                if condition:
                    statement["Condition"] = condition
                statements.append(statement)
        return {"Version": "2012-10-17", "Statement": statements} if statements else None

    @staticmethod
    def _queue_arn(queue: str) -> str:
        if queue.startswith("arn:"):
            return queue
        host, account, name = re.fullmatch(r"https://([^/]+)/(\d+)/(.+)", queue).groups()  # type: ignore[union-attr]
        region = host.split(".")[1]
        return f"arn:{PARTITION}:sqs:{region}:{account}:{name}"

    def key_of(self, arn: str) -> str | None:
        """The customer-managed KMS key ARN that encrypts a kit queue, topic or bucket, if any."""
        service = _service_of(arn)
        kinds = {"sqs": "AWS::SQS::Queue", "sns": "AWS::SNS::Topic", "s3": "AWS::S3::Bucket"}
        if service not in kinds:
            return None
        target = arn.split(":::", 1)[1].split("/", 1)[0] if service == "s3" else arn
        found = self._find(target, [kinds[service]])
        if found is None:
            return None
        stack, logical_id = found
        props = stack.props(logical_id)
        key: Any = props.get("KmsMasterKeyId")
        if service == "s3":
            for rule in props.get("BucketEncryption", {}).get("ServerSideEncryptionConfiguration", []):
                key = rule.get("ServerSideEncryptionByDefault", {}).get("KMSMasterKeyID", key)
        if key is None:
            return None
        value = str(stack.value(key))
        if value.startswith("alias/aws/") or ":alias/aws/" in value:
            return None  # an AWS managed key: its policy is AWS's own
        if not value.startswith("arn:"):
            value = f"arn:{PARTITION}:kms:{REGION}:{ACCOUNT}:key/{value}"
        return value


# ---- edge derivation ---------------------------------------------------------------------------


def _service_context(source_arn: str | None) -> dict[str, str]:
    context = {"aws:SourceAccount": ACCOUNT, "aws:SecureTransport": "true"}
    if source_arn:
        context["aws:SourceArn"] = source_arn
    return context


def _role_context(role_arn: str) -> dict[str, str]:
    return {"aws:PrincipalArn": role_arn, "aws:PrincipalAccount": ACCOUNT, "aws:SecureTransport": "true"}


def _service_edge(kit: Kit, kind: str, stack: str, source: str, principal: str, action: str, resource: str,
                  source_arn: str | None) -> Edge:  # fmt: skip
    return Edge(
        kind,
        stack,
        source,
        principal,
        action,
        resource,
        (),
        kit.resource_policy(resource),
        _service_context(source_arn),
    )


def _role_edge(kit: Kit, kind: str, stack: str, source: str, role_arn: str, action: str, resource: str) -> Edge:
    return Edge(
        kind, stack, source, role_arn, action, resource, kit.role_arn_policies(role_arn),
        kit.resource_policy(resource), _role_context(role_arn),
    )  # fmt: skip


def _trust_edge(
    kit: Kit, kind: str, stack: str, source: str, service: str, role_arn: str, source_arn: str | None
) -> Edge:
    return Edge(
        kind, stack, source, service, "sts:AssumeRole", role_arn, (), kit.trust_policy(role_arn),
        _service_context(source_arn) if source_arn else {"aws:SecureTransport": "true"},
    )  # fmt: skip


def _role_calls_target(kit: Kit, kind: str, stack: str, source: str, role_arn: str, target: str, action: str,
                       key_actions: Iterable[str] = SEND_KEY_ACTIONS) -> Iterator[Edge]:  # fmt: skip
    yield _role_edge(kit, kind, stack, source, role_arn, action, target)
    key = kit.key_of(target)
    if key:
        for key_action in key_actions:
            yield _role_edge(kit, f"{kind} (key)", stack, source, role_arn, key_action, key)


def _alarm_edges(kit: Kit, t: ResolvedTemplate) -> Iterator[Edge]:
    for alarm_id in t.of_type("AWS::CloudWatch::Alarm"):
        props = t.props(alarm_id)
        alarm_arn = t.get_att(alarm_id, "Arn")
        actions = {str(t.value(a)) for key in ("AlarmActions", "OKActions", "InsufficientDataActions")
                   for a in props.get(key, [])}  # fmt: skip
        for topic in sorted(a for a in actions if _service_of(a) == "sns"):
            yield _service_edge(
                kit,
                "alarm -> topic",
                t.stack_name,
                alarm_id,
                "cloudwatch.amazonaws.com",
                "sns:Publish",
                topic,
                alarm_arn,
            )
            key = kit.key_of(topic)
            if key:
                for action in SEND_KEY_ACTIONS:
                    yield _service_edge(
                        kit,
                        "alarm -> topic key",
                        t.stack_name,
                        alarm_id,
                        "cloudwatch.amazonaws.com",
                        action,
                        key,
                        alarm_arn,
                    )


def _rule_edges(kit: Kit, t: ResolvedTemplate) -> Iterator[Edge]:
    for rule_id in t.of_type("AWS::Events::Rule"):
        rule_arn = t.get_att(rule_id, "Arn")
        for target in t.props(rule_id).get("Targets", []):
            target_arn = str(t.value(target["Arn"]))
            action = INVOKE_ACTION[_service_of(target_arn)]
            if "RoleArn" in target:
                role = str(t.value(target["RoleArn"]))
                yield _trust_edge(
                    kit, "rule -> role trust", t.stack_name, rule_id, "events.amazonaws.com", role, rule_arn
                )
                yield from _role_calls_target(
                    kit, "rule role -> target", t.stack_name, rule_id, role, target_arn, action
                )
            else:
                yield _service_edge(
                    kit, "rule -> target", t.stack_name, rule_id, "events.amazonaws.com", action, target_arn, rule_arn
                )
            dlq = target.get("DeadLetterConfig", {}).get("Arn")
            if dlq:
                dlq_arn = str(t.value(dlq))
                yield _service_edge(
                    kit,
                    "rule -> dead-letter queue",
                    t.stack_name,
                    rule_id,
                    "events.amazonaws.com",
                    "sqs:SendMessage",
                    dlq_arn,
                    rule_arn,
                )
                key = kit.key_of(dlq_arn)
                if key:
                    for key_action in SEND_KEY_ACTIONS:
                        yield _service_edge(
                            kit,
                            "rule -> dead-letter queue key",
                            t.stack_name,
                            rule_id,
                            "events.amazonaws.com",
                            key_action,
                            key,
                            rule_arn,
                        )


def _schedule_edges(kit: Kit, t: ResolvedTemplate) -> Iterator[Edge]:
    for schedule_id in t.of_type("AWS::Scheduler::Schedule"):
        props = t.props(schedule_id)
        group = t.value(props.get("GroupName", "default"))
        group_arn = f"arn:{PARTITION}:scheduler:{REGION}:{ACCOUNT}:schedule-group/{group}"
        target = props["Target"]
        role = str(t.value(target["RoleArn"]))
        target_arn = str(t.value(target["Arn"]))
        yield _trust_edge(
            kit, "schedule -> role trust", t.stack_name, schedule_id, "scheduler.amazonaws.com", role, group_arn
        )
        yield from _role_calls_target(kit, "schedule role -> target", t.stack_name, schedule_id, role, target_arn,
                                      INVOKE_ACTION[_service_of(target_arn)])  # fmt: skip
        key = props.get("KmsKeyArn")
        if key:
            yield _role_edge(kit, "schedule role -> schedule key", t.stack_name, schedule_id, role, "kms:Decrypt",
                             str(t.value(key)))  # fmt: skip
        dlq = target.get("DeadLetterConfig", {}).get("Arn")
        if dlq:
            yield from _role_calls_target(kit, "schedule role -> dead-letter queue", t.stack_name, schedule_id, role,
                                          str(t.value(dlq)), "sqs:SendMessage")  # fmt: skip


def _task_targets(definition: Mapping[str, Any]) -> Iterator[tuple[str, str]]:
    """(action, resource ARN) of every Task of a state machine definition, nested branches included."""
    for state in definition.get("States", {}).values():
        for branch in state.get("Branches", []):
            yield from _task_targets(branch)
        for nested in (state.get("Iterator"), state.get("ItemProcessor")):
            if nested:
                yield from _task_targets(nested)
        if state.get("Type") != "Task":
            continue
        resource = re.sub(r"\.(sync(:2)?|waitForTaskToken)$", "", state["Resource"])
        parameters = state.get("Parameters", state.get("Arguments", {}))
        integration = resource.split(":::", 1)[1] if ":states:::" in resource else None
        if integration is None:
            yield "lambda:InvokeFunction", resource  # a function ARN as the Task resource
        elif integration == "lambda:invoke":
            yield "lambda:InvokeFunction", parameters["FunctionName"]
        elif integration == "sns:publish":
            yield "sns:Publish", parameters["TopicArn"]
        elif integration == "sqs:sendMessage":
            yield "sqs:SendMessage", Kit._queue_arn(parameters["QueueUrl"])
        elif integration == "states:startExecution":
            yield "states:StartExecution", parameters["StateMachineArn"]
        else:
            raise NotImplementedError(f"the permission check does not model the Task integration {integration!r} yet")


def _state_machine_edges(kit: Kit, t: ResolvedTemplate) -> Iterator[Edge]:
    for machine_id in t.of_type("AWS::StepFunctions::StateMachine"):
        props = t.props(machine_id)
        machine_arn = t.ref(machine_id)
        role = str(t.value(props["RoleArn"]))
        text = t.value(props["DefinitionString"]) if "DefinitionString" in props else json.dumps(props["Definition"])
        for name, value in t.value(props.get("DefinitionSubstitutions", {})).items():
            text = text.replace("${" + name + "}", str(value))
        yield _trust_edge(
            kit, "state machine -> role trust", t.stack_name, machine_id, "states.amazonaws.com", role, machine_arn
        )
        for action, target in sorted(set(_task_targets(json.loads(text)))):
            yield from _role_calls_target(
                kit, "state machine role -> task", t.stack_name, machine_id, role, target, action
            )
        encryption = props.get("EncryptionConfiguration", {})
        if encryption.get("Type") == "CUSTOMER_MANAGED_KMS_KEY":
            yield from _state_machine_key_edges(kit, t, machine_id, role, str(t.value(encryption["KmsKeyId"])))


def _state_machine_key_edges(kit: Kit, t: ResolvedTemplate, machine_id: str, role: str, key: str) -> Iterator[Edge]:
    props = t.props(machine_id)
    executions = {"kms:EncryptionContext:aws:states:stateMachineArn": t.ref(machine_id)}
    for action in ("kms:Decrypt", "kms:GenerateDataKey"):
        edge = _role_edge(kit, "state machine role -> its key", t.stack_name, machine_id, role, action, key)
        yield replace(edge, context={**edge.context, **executions})
    if props.get("LoggingConfiguration", {}).get("Level", "OFF") == "OFF":
        return
    delivery = {"kms:EncryptionContext:SourceArn": f"arn:{PARTITION}:logs:{REGION}:{ACCOUNT}:*"}
    edge = _role_edge(kit, "state machine role -> its key (log delivery)", t.stack_name, machine_id, role,
                      "kms:GenerateDataKey", key)  # fmt: skip
    yield replace(edge, context={**edge.context, **delivery})
    yield _service_edge(kit, "log delivery -> state machine key", t.stack_name, machine_id,
                        "delivery.logs.amazonaws.com", "kms:Decrypt", key, None)  # fmt: skip


def _function_edges(kit: Kit, t: ResolvedTemplate) -> Iterator[Edge]:
    configs = {
        t.function_arn(t.props(c)["FunctionName"]) + ":" + str(t.value(t.props(c)["Qualifier"])): c
        for c in t.of_type("AWS::Lambda::EventInvokeConfig")
    }
    for function_id in t.of_type("AWS::Lambda::Function"):
        props = t.props(function_id)
        function_arn = t.get_att(function_id, "Arn")
        role = str(t.value(props["Role"]))
        yield _trust_edge(kit, "function -> role trust", t.stack_name, function_id, "lambda.amazonaws.com", role, None)
        log_group = props.get("LoggingConfig", {}).get("LogGroup")
        log_group_name = str(t.value(log_group)) if log_group else f"/aws/lambda/{t.name(function_id)}"
        stream = f"arn:{PARTITION}:logs:{REGION}:{ACCOUNT}:log-group:{log_group_name}:log-stream:2026/11/30/[$LATEST]0"
        for action in ("logs:CreateLogStream", "logs:PutLogEvents"):
            yield _role_edge(kit, "function role -> its log group", t.stack_name, function_id, role, action, stream)
        if props.get("TracingConfig", {}).get("Mode") == "Active":
            for action in ("xray:PutTraceSegments", "xray:PutTelemetryRecords"):
                yield _role_edge(kit, "function role -> X-Ray", t.stack_name, function_id, role, action, "*")
        if props.get("DurableConfig"):
            execution = f"{function_arn}:live/durable-execution/run-1/0"
            for action in ("lambda:CheckpointDurableExecution", "lambda:GetDurableExecutionState"):
                yield _role_edge(
                    kit, "durable function role -> its executions", t.stack_name, function_id, role, action, execution
                )
        dlq = props.get("DeadLetterConfig", {}).get("TargetArn")
        if dlq:
            target = str(t.value(dlq))
            yield from _role_calls_target(kit, "function role -> dead-letter target", t.stack_name, function_id, role,
                                          target, INVOKE_ACTION[_service_of(target)])  # fmt: skip
        for qualified, config_id in configs.items():
            if not (qualified.startswith(function_arn + ":") or qualified == function_arn):
                continue
            destinations = t.value(t.props(config_id).get("DestinationConfig", {}))
            for outcome in ("OnSuccess", "OnFailure"):
                target = destinations.get(outcome, {}).get("Destination")
                if target:
                    yield from _role_calls_target(kit, f"function role -> {outcome} destination", t.stack_name,
                                                  config_id, role, target, INVOKE_ACTION[_service_of(target)])  # fmt: skip
    for mapping_id in t.of_type("AWS::Lambda::EventSourceMapping"):
        props = t.props(mapping_id)
        source = str(t.value(props["EventSourceArn"]))
        if _service_of(source) != "sqs":
            raise NotImplementedError(f"the permission check does not model {source} event sources yet")
        function = t.function_arn(props["FunctionName"]).split(":function:")[1].split(":")[0]
        function_id = next(f for f in t.of_type("AWS::Lambda::Function") if t.name(f) == function)
        role = str(t.value(t.props(function_id)["Role"]))
        for action in ("sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes"):
            yield _role_edge(kit, "function role -> event source", t.stack_name, mapping_id, role, action, source)
        key = kit.key_of(source)
        if key:
            yield _role_edge(
                kit, "function role -> event source key", t.stack_name, mapping_id, role, "kms:Decrypt", key
            )


def _access_log_edges(kit: Kit, t: ResolvedTemplate) -> Iterator[Edge]:
    for bucket_id in t.of_type("AWS::S3::Bucket"):
        logging = t.props(bucket_id).get("LoggingConfiguration")
        if not logging:
            continue
        target = t.value(logging["DestinationBucketName"])
        prefix = t.value(logging.get("LogFilePrefix", ""))
        key = f"arn:{PARTITION}:s3:::{target}/{prefix}2026-11-30-12-00-00-0123456789ABCDEF"
        source = t.get_att(bucket_id, "Arn")
        yield _service_edge(kit, "access logging -> log bucket", t.stack_name, bucket_id, "logging.s3.amazonaws.com",
                            "s3:PutObject", key, source)  # fmt: skip
        key_arn = kit.key_of(key)
        if key_arn:  # an SSE-KMS log bucket: S3 encrypts each log object with its key
            yield _service_edge(kit, "access logging -> log bucket key", t.stack_name, bucket_id,
                                "logging.s3.amazonaws.com", "kms:GenerateDataKey", key_arn, source)  # fmt: skip


def _log_group_key_edges(kit: Kit, t: ResolvedTemplate) -> Iterator[Edge]:
    """CloudWatch Logs uses a log group's key with the log group's ARN as encryption context
    (CloudWatch Logs user guide, "Encrypt log data in CloudWatch Logs using AWS KMS")."""
    for group_id in t.of_type("AWS::Logs::LogGroup"):
        key = t.props(group_id).get("KmsKeyId")
        if not key:
            continue
        key_arn = str(t.value(key))
        group_arn = f"arn:{PARTITION}:logs:{REGION}:{ACCOUNT}:log-group:{t.name(group_id)}"
        for action in ("kms:Encrypt", "kms:Decrypt", "kms:GenerateDataKey", "kms:ReEncryptFrom", "kms:DescribeKey"):
            yield Edge("logs -> log group key", t.stack_name, group_id, f"logs.{REGION}.amazonaws.com", action, key_arn, (),
                       kit.resource_policy(key_arn), {"kms:EncryptionContext:aws:logs:arn": group_arn, "aws:SecureTransport": "true"})  # fmt: skip


def _granted(policies: Iterable[tuple[str, Mapping[str, Any]]], action: str) -> Iterator[str]:
    """Resources an Allow statement names for exactly `action` (used only to find which log groups a
    role may export, i.e. where an edge starts, never to decide whether an edge is allowed)."""
    for _, policy in policies:
        for statement in _as_list(policy.get("Statement")):
            if statement.get("Effect") == "Allow" and action in _as_list(statement.get("Action")):
                yield from (str(r) for r in _as_list(statement.get("Resource")))


def _log_export_edges(kit: Kit, t: ResolvedTemplate) -> Iterator[Edge]:
    """A function allowed to create export tasks exports the log groups it is granted into the buckets
    its environment names: CloudWatch Logs then reads each bucket's ACL and writes the export."""
    buckets = {t.ref(b) for b in t.of_type("AWS::S3::Bucket")}
    for function_id in t.of_type("AWS::Lambda::Function"):
        props = t.props(function_id)
        role = str(t.value(props["Role"]))
        groups = sorted({g.removesuffix(":*") for g in _granted(kit.role_arn_policies(role), "logs:CreateExportTask")})
        if not groups:
            continue
        environment = t.value(props.get("Environment", {}).get("Variables", {}))
        for bucket in sorted(buckets & {str(v) for v in environment.values()}):
            service = f"logs.{REGION}.amazonaws.com"
            for group_arn in groups:
                yield _service_edge(kit, "logs export -> bucket ACL", t.stack_name, function_id, service,
                                    "s3:GetBucketAcl", f"arn:{PARTITION}:s3:::{bucket}", group_arn)  # fmt: skip


def derive_edges(templates: Mapping[str, Mapping[str, Any]]) -> list[Edge]:
    """Every edge of every stack (`templates`: stack name -> synthesized template)."""
    kit = Kit(templates)
    edges: list[Edge] = []
    for t in kit.stacks:
        for derive in (_alarm_edges, _rule_edges, _schedule_edges, _state_machine_edges, _function_edges,
                       _access_log_edges, _log_export_edges, _log_group_key_edges):  # fmt: skip
            edges.extend(derive(kit, t))
    return edges


# ---- negative twins ----------------------------------------------------------------------------


def _swap_account(arn: str) -> str:
    return arn.replace(f":{ACCOUNT}:", f":{OTHER_ACCOUNT}:")


def _other_source(arn: str) -> str:
    """A source ARN of the same type that is not the kit's: another name, or for a guard that names a
    whole type in the account and region (alarm names are generated at deploy time), another region."""
    cut = max(arn.rfind(":"), arn.rfind("/"))
    return arn[: cut + 1] + NOT_KIT


def negative_twins(edge: Edge) -> list[Twin]:
    """The requests that must be denied for `edge` to be no wider than it needs to be."""
    twins: list[Twin] = []
    context = dict(edge.context)
    if edge.is_service:
        if "aws:SourceAccount" in context:
            other = {**context, "aws:SourceAccount": OTHER_ACCOUNT}
            if "aws:SourceArn" in other:
                other["aws:SourceArn"] = _swap_account(other["aws:SourceArn"])
            twins.append(Twin(edge, "another account", replace(edge, context=other)))
        if "aws:SourceArn" in context:
            source = context["aws:SourceArn"]
            other_source = (source.replace(f":{REGION}:", f":{OTHER_REGION}:")
                            if ":cloudwatch:" in source else _other_source(source))  # fmt: skip
            twins.append(
                Twin(edge, "another source ARN", replace(edge, context={**context, "aws:SourceArn": other_source}))
            )
        logs_context = context.get("kms:EncryptionContext:aws:logs:arn")
        if logs_context:
            for change, other_group in (
                ("another account", _swap_account(logs_context)),
                ("another source ARN", _other_source(logs_context)),
            ):
                twins.append(
                    Twin(
                        edge,
                        change,
                        replace(edge, context={**context, "kms:EncryptionContext:aws:logs:arn": other_group}),
                    )
                )
        if edge.action == "sts:AssumeRole":
            twins.append(Twin(edge, "another service", replace(edge, principal="ec2.amazonaws.com")))
    else:
        other_role = _swap_account(edge.principal).replace(f"::{ACCOUNT}:", f"::{OTHER_ACCOUNT}:")
        other = {**context, "aws:PrincipalArn": other_role, "aws:PrincipalAccount": OTHER_ACCOUNT}
        if edge.resource != "*":
            twins.append(Twin(edge, "another account", replace(edge, principal=other_role, context=other)))
        # A role's key use bound to one resource by encryption context: the same call for another must fail.
        for key, value in context.items():
            if key.startswith("kms:EncryptionContext:"):
                other_context = {**context, key: _other_source(value)}
                twins.append(Twin(edge, "another source ARN", replace(edge, context=other_context)))
    if _service_of(edge.resource) in TLS_ONLY_SERVICES:
        twins.append(Twin(edge, "plain HTTP", replace(edge, context={**context, "aws:SecureTransport": "false"})))
    return twins
