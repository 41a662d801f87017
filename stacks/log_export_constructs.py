"""Constructs of the log export workload: bucket, handlers, state machine, schedule, notice topic."""

from __future__ import annotations

import json
from collections.abc import Sequence

import aws_cdk as cdk
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_logs as logs
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_sns as sns
from aws_cdk import aws_stepfunctions as sfn
from constructs import Construct

from stacks.settings import CommonSettings, LogExportSettings
from stacks.settings.log_export import export_prefix
from stacks.shared.alarm_topic import mail_topic
from stacks.shared.bundling import python_code
from stacks.shared.kit_function import KitFunction, log_retention
from stacks.shared.nag import acknowledge, logical_id, nag_text
from stacks.shared.private_bucket import PrivateBucket

WORKLOAD = "log-export"
# The completion record BucketCheck writes beside each exported month (log_exporter/layout.py).
COMPLETION_RECORD = "_export-completed.json"
# What LogsExport's Retry matches: the handler re-raises CloudWatch Logs' error under this name.
LIMIT_EXCEEDED = "LimitExceededException"


class ExportBucket(Construct):
    """The bucket exports land in: a PrivateBucket (SSE-S3, TLS only, versioned, access-logged) whose
    objects move to Glacier Instant Retrieval after `archive_after_days`.

    Its policy lets CloudWatch Logs (`logs.<region>.amazonaws.com`), acting for one of this account's
    log groups in this region, read the bucket ACL and put objects under the configured log groups'
    prefixes with the `bucket-owner-full-control` ACL. The `grant_*` methods give the handlers the rest.
    """

    def __init__(
        self, scope: Construct, construct_id: str, *, log_groups: Sequence[str], archive_after_days: int
    ) -> None:
        super().__init__(scope, construct_id)
        self.prefixes = [export_prefix(group) for group in log_groups]
        self.bucket = PrivateBucket(
            self,
            "Storage",
            lifecycle_rules=[
                s3.LifecycleRule(
                    id="ArchiveOldExports",
                    transitions=[
                        s3.Transition(
                            # Millisecond reads (Athena, a download) at about a sixth of Standard's price.
                            storage_class=s3.StorageClass.GLACIER_INSTANT_RETRIEVAL,
                            transition_after=cdk.Duration.days(archive_after_days),
                        )
                    ],
                )
            ],
        ).bucket
        stack = cdk.Stack.of(self)
        logs_service = iam.ServicePrincipal(f"logs.{stack.region}.amazonaws.com")
        # Confused-deputy guard: only exports of the configured log groups of this account may use it
        # (the log-group ARN in both of its spellings, with and without the trailing ":*").
        group_arns = [f"arn:{stack.partition}:logs:{stack.region}:{stack.account}:log-group:{group}" for group in log_groups]
        from_own_log_groups = {
            "StringEquals": {"aws:SourceAccount": stack.account},
            "ArnLike": {"aws:SourceArn": [form for arn in group_arns for form in (arn, f"{arn}:*")]},
        }
        self.bucket.add_to_resource_policy(
            iam.PolicyStatement(
                sid="CloudWatchLogsAclCheck",
                principals=[logs_service],
                actions=["s3:GetBucketAcl"],
                resources=[self.bucket.bucket_arn],
                conditions=from_own_log_groups,
            )
        )
        self.bucket.add_to_resource_policy(
            iam.PolicyStatement(
                sid="CloudWatchLogsExportWrite",
                principals=[logs_service],
                actions=["s3:PutObject"],
                # An export writes only under its destination prefix, its write test included.
                resources=self._export_objects(),
                conditions={
                    **from_own_log_groups,
                    # Ownership is BUCKET_OWNER_ENFORCED (ACLs off), which still accepts this one canned
                    # ACL; CloudWatch Logs sends it, so the condition holds and refuses any other writer.
                    "StringEquals": {**from_own_log_groups["StringEquals"], "s3:x-amz-acl": "bucket-owner-full-control"},
                },
            )
        )

    def _export_objects(self, suffix: str = "*") -> list[str]:
        return [self.bucket.arn_for_objects(f"{prefix}/{suffix}") for prefix in self.prefixes]

    def grant_export_write(self, grantee: iam.IGrantable) -> iam.Grant:
        """PutObject under the log groups' prefixes: CreateExportTask checks its caller may write there."""
        return iam.Grant.add_to_principal(grantee=grantee, actions=["s3:PutObject"], resource_arns=self._export_objects())

    def grant_completion_records(self, grantee: iam.IGrantable) -> None:
        """See which keys exist and write the months' completion records; never read exported logs."""
        iam.Grant.add_to_principal(grantee=grantee, actions=["s3:ListBucket"], resource_arns=[self.bucket.bucket_arn])
        iam.Grant.add_to_principal(
            grantee=grantee, actions=["s3:PutObject"], resource_arns=self._export_objects(f"*/{COMPLETION_RECORD}")
        )


class NoticeTopic(Construct):
    """The SNS topic for export and failure notices, encrypted with `key`, TLS-only, with an optional
    e-mail subscription. Publishers are granted with `topic.grant_publish`."""

    def __init__(self, scope: Construct, construct_id: str, *, key: kms.IKey, email: str | None) -> None:
        super().__init__(scope, construct_id)
        self.topic = mail_topic(
            self,
            "Topic",
            key=key,
            email=email,
            undelivered_mail="An e-mail copy of an export notice; the execution history keeps every export and "
            "failure, so a dead-letter queue of undelivered mails would have no reader.",
        )


class ExportHandlers(Construct):
    """The three Lambda functions (one asset, lambdas/log_export) the state machine calls.

    bucket_check may list the bucket's keys, write the months' completion records and read the export
    tasks; logs_export may create export tasks of the configured log groups and write under their
    prefixes (CreateExportTask demands it of its caller); export_status may read the export tasks. No
    function may read exported logs.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        common: CommonSettings,
        settings: LogExportSettings,
        exports: ExportBucket,
    ) -> None:
        super().__init__(scope, construct_id)
        code = python_code("log_export")
        environment = {
            "EXPORT_BUCKET": exports.bucket.bucket_name,
            "LOG_GROUPS": json.dumps(list(settings.log_groups)),
            "MONTHS_BACK": str(settings.months_back),
        }

        def function(construct_id: str, entry: str, description: str, **options: object) -> KitFunction:
            created = KitFunction(
                self,
                construct_id,
                common=common,
                workload=WORKLOAD,
                code=code,
                handler=f"log_exporter.handlers.{entry}",
                description=f"Log export: {description}",
                **options,  # type: ignore[arg-type]
            )
            acknowledge(
                created.function,
                "Serverless::Serverless-LambdaDLQ",
                "Only the state machine invokes this function, synchronously; a dead-letter queue receives "
                "failed asynchronous invocations only. A failure here is the task's error, which the "
                "state machine's Catch turns into a failure notice.",
            )
            return created

        self.bucket_check = function(
            "BucketCheck",
            "bucket_check",
            "records finished exports and picks the next log group and month",
            environment=environment,
            # One S3 listing per (log group, month): up to 480 with the largest settings.
            timeout=cdk.Duration.seconds(120),
        )
        self.logs_export = function(
            "LogsExport",
            "logs_export",
            "creates the CloudWatch Logs export task of one log group and month",
            environment=environment,
        )
        self.export_status = function(
            "ExportStatus", "export_status", "reports the status of one CloudWatch Logs export task", environment={}
        )
        self._allow_bucket_check(exports)
        self._allow_logs_export(exports, settings.log_groups)
        self._allow_describe_export_tasks(self.export_status)

    def _allow_bucket_check(self, exports: ExportBucket) -> None:
        exports.grant_completion_records(self.bucket_check.role)
        self._allow_describe_export_tasks(self.bucket_check)
        for prefix in exports.prefixes:
            acknowledge(
                self.bucket_check.role.node.find_child("DefaultPolicy"),
                f"AwsSolutions::AwsSolutions-IAM5[Resource::<{logical_id(exports.bucket)}.Arn>/{prefix}/*/"
                f"{COMPLETION_RECORD}]",
                "PutObject only on the completion record of each month of this log group; the '*' is the "
                "month (YYYY-MM), which is only known at run time.",
            )

    def _allow_logs_export(self, exports: ExportBucket, log_groups: Sequence[str]) -> None:
        stack = cdk.Stack.of(self)
        group_arns = [
            stack.format_arn(
                service="logs", resource="log-group", resource_name=group, arn_format=cdk.ArnFormat.COLON_RESOURCE_NAME
            )
            for group in log_groups
        ]
        # Log group actions are authorized against either ARN form; both name this group only.
        iam.Grant.add_to_principal(
            grantee=self.logs_export.role,
            actions=["logs:CreateExportTask"],
            resource_arns=[form for arn in group_arns for form in (arn, f"{arn}:*")],
        )
        exports.grant_export_write(self.logs_export.role)
        policy = self.logs_export.role.node.find_child("DefaultPolicy")
        for group, prefix in zip(log_groups, exports.prefixes, strict=True):
            acknowledge(
                policy,
                f"AwsSolutions::AwsSolutions-IAM5[Resource::<{logical_id(exports.bucket)}.Arn>/{prefix}/*]",
                "CreateExportTask requires its caller to be allowed to write where the export goes; the "
                "keys carry the month and the export task id, so PutObject is granted under this log "
                "group's prefix only.",
            )
        for arn in group_arns:
            acknowledge(
                policy,
                # Spelled from the ARN itself: with an account and region set, cdk-nag writes them out.
                f"AwsSolutions::AwsSolutions-IAM5[Resource::{nag_text(policy, f'{arn}:*')}]",
                "The ':*' form of this one log group's ARN, which log group actions may be authorized "
                "against; it names no other log group.",
            )

    @staticmethod
    def _allow_describe_export_tasks(function: KitFunction) -> None:
        # A policy of its own, so that the acknowledgement of its "*" covers nothing else.
        policy = iam.Policy(
            function,
            "DescribeExportTasksPolicy",
            roles=[function.role],
            statements=[iam.PolicyStatement(actions=["logs:DescribeExportTasks"], resources=["*"])],
        )
        acknowledge(
            policy,
            "AwsSolutions::AwsSolutions-IAM5[Resource::*]",
            "logs:DescribeExportTasks supports no resource-level permissions; this policy holds only that "
            "read-only action.",
        )


# Placeholders of the definition, filled by CloudFormation (DefinitionSubstitutions). A Resource that
# is one whole placeholder keeps the definition a plain string that cfn-lint and asl-validator can read.
BUCKET_CHECK = "BucketCheckArn"
LOGS_EXPORT = "LogsExportArn"
EXPORT_STATUS = "ExportStatusArn"
NOTICE_TOPIC = "NoticeTopicArn"
SNS_PUBLISH = "SnsPublish"

# Lambda's own transient faults, retried as AWS recommends for every Lambda task.
_LAMBDA_SERVICE_RETRY = {
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
}
_ON_ERROR = [{"ErrorEquals": ["States.ALL"], "ResultPath": "$.error", "Next": "NotifyFailure"}]


def _lambda_task(function: str, parameters: dict[str, str], result_path: str, next_state: str) -> dict:
    return {
        "Type": "Task",
        "Resource": f"${{{function}}}",
        "Parameters": parameters,
        "ResultPath": result_path,
        "Retry": [_LAMBDA_SERVICE_RETRY],
        "Catch": _ON_ERROR,
        "Next": next_state,
    }


def _notice(subject: str, message: str, next_state: str) -> dict:
    return {
        "Type": "Task",
        "Resource": f"${{{SNS_PUBLISH}}}",
        "Parameters": {"TopicArn": f"${{{NOTICE_TOPIC}}}", "Subject": subject, "Message.$": message},
        "ResultPath": None,
        "Next": next_state,
    }


def export_definition(settings: LogExportSettings) -> dict:
    """The state machine's definition (Amazon States Language, JSONPath), with `${...}` placeholders."""
    logs_export = _lambda_task(
        LOGS_EXPORT, {"logGroup.$": "$.check.logGroup", "month.$": "$.check.month"}, "$.export", "CountExport"
    )
    # CloudWatch Logs runs one export task per account at a time; another one (a run started by hand,
    # another tool) makes CreateExportTask fail with LimitExceededException until it has ended.
    logs_export["Retry"].append(
        {
            "ErrorEquals": [LIMIT_EXCEEDED],
            "IntervalSeconds": settings.retry_interval_seconds,
            "MaxAttempts": settings.retry_max_attempts,
            "BackoffRate": settings.retry_backoff_rate,
        }
    )
    notify_failure = _notice(
        "Log export: run failed",
        "States.Format('Log export run {} failed with {}: {}', $$.Execution.Name, $.error.Error, $.error.Cause)",
        "RunFailed",
    )
    # If even the notice fails, the run still fails with the error that led here.
    notify_failure["Catch"] = [{"ErrorEquals": ["States.ALL"], "ResultPath": "$.notifyError", "Next": "RunFailed"}]
    notify_exported = _notice(
        "Log export: month exported",
        "States.Format('Exported {} {} to {} (export task {}); exports started in this run: {}.', "
        "$.export.logGroup, $.export.month, $.export.destination, $.export.taskId, $.exportsStarted)",
        "BucketCheck",
    )
    notify_exported["Catch"] = _ON_ERROR
    return {
        "Comment": "Exports CloudWatch Logs log groups to S3, one closed month per export task",
        "QueryLanguage": "JSONPath",
        "StartAt": "StartRun",
        "States": {
            # The execution input is ignored: the run's state starts here.
            "StartRun": {"Type": "Pass", "Parameters": {"exportsStarted": 0}, "Next": "BucketCheck"},
            # The run's start time fixes which months it considers, however long it runs.
            "BucketCheck": _lambda_task(
                BUCKET_CHECK, {"runStartedAt.$": "$$.Execution.StartTime"}, "$.check", "ResultCheck"
            ),
            "ResultCheck": {
                "Type": "Choice",
                "Choices": [
                    {"Variable": "$.check.action", "StringEquals": "fin", "Next": "AllExported"},
                    {
                        "Variable": "$.exportsStarted",
                        "NumericGreaterThanEquals": settings.max_exports_per_run,
                        "Next": "RunBoundReached",
                    },
                ],
                "Default": "LogsExport",
            },
            "AllExported": {"Type": "Succeed"},
            # What is left waits for the next run: a run never grows past the bound.
            "RunBoundReached": {"Type": "Succeed"},
            "LogsExport": logs_export,
            # Rebuilds the state: the run's count, the export under way, and its status checks so far.
            "CountExport": {
                "Type": "Pass",
                "Parameters": {
                    "exportsStarted.$": "States.MathAdd($.exportsStarted, 1)",
                    "export.$": "$.export",
                    "polls": {"count": 1},
                },
                "Next": "WaitForExport",
            },
            "WaitForExport": {"Type": "Wait", "Seconds": settings.poll_interval_seconds, "Next": "ExportStatus"},
            # FAILED and CANCELLED come back as errors (ExportTaskFailed, ExportTaskCancelled): caught,
            # never retried.
            "ExportStatus": _lambda_task(EXPORT_STATUS, {"taskId.$": "$.export.taskId"}, "$.status", "ExportFinished"),
            "ExportFinished": {
                "Type": "Choice",
                "Choices": [
                    {"Variable": "$.status.code", "StringEquals": "COMPLETED", "Next": "NotifyExported"},
                    {
                        "Variable": "$.polls.count",
                        "NumericGreaterThanEquals": settings.max_polls,
                        "Next": "ExportStillRunning",
                    },
                ],
                "Default": "CountPoll",
            },
            "CountPoll": {
                "Type": "Pass",
                "Parameters": {"count.$": "States.MathAdd($.polls.count, 1)"},
                "ResultPath": "$.polls",
                "Next": "WaitForExport",
            },
            "ExportStillRunning": {
                "Type": "Pass",
                "Parameters": {
                    "Error": "ExportStillRunning",
                    "Cause.$": (
                        "States.Format('Export task {} of {} {} was still running after {} status checks "
                        f"{settings.poll_interval_seconds} s apart; the next run records it once it has "
                        "completed and does not start it again meanwhile.', "
                        "$.export.taskId, $.export.logGroup, $.export.month, $.polls.count)"
                    ),
                },
                "ResultPath": "$.error",
                "Next": "NotifyFailure",
            },
            "NotifyExported": notify_exported,
            "NotifyFailure": notify_failure,
            "RunFailed": {"Type": "Fail", "ErrorPath": "$.error.Error", "CausePath": "$.error.Cause"},
        },
    }


class ExportStateMachine(Construct):
    """The Standard, JSONPath state machine of `export_definition`, logging every event to CloudWatch
    Logs (`/aws/vendedlogs/states/<name>`, with execution data) with X-Ray tracing on, and an alarm on
    failed runs. Its role may invoke the three handlers and publish to the notice topic.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        common: CommonSettings,
        settings: LogExportSettings,
        handlers: ExportHandlers,
        notices: sns.ITopic,
    ) -> None:
        super().__init__(scope, construct_id)
        name = f"{common.name_prefix}-{WORKLOAD}"
        self.log_group = logs.LogGroup(
            self,
            "ExecutionLogs",
            # The prefix AWS recommends for vended logs: it keeps Logs' resource policy from growing.
            log_group_name=f"/aws/vendedlogs/states/{name}",
            retention=log_retention(common.log_retention_days),
            removal_policy=cdk.RemovalPolicy.DESTROY,
        )
        stack = cdk.Stack.of(self)
        self.state_machine = sfn.StateMachine(
            self,
            "StateMachine",
            state_machine_name=name,
            state_machine_type=sfn.StateMachineType.STANDARD,
            definition_body=sfn.DefinitionBody.from_string(json.dumps(export_definition(settings), indent=2)),
            definition_substitutions={
                BUCKET_CHECK: handlers.bucket_check.function.function_arn,
                LOGS_EXPORT: handlers.logs_export.function.function_arn,
                EXPORT_STATUS: handlers.export_status.function.function_arn,
                NOTICE_TOPIC: notices.topic_arn,
                SNS_PUBLISH: f"arn:{stack.partition}:states:::sns:publish",
            },
            logs=sfn.LogOptions(destination=self.log_group, level=sfn.LogLevel.ALL, include_execution_data=True),
            tracing_enabled=True,
        )
        # CDK's role trust lets any state machine of the account assume the role: narrow it to this one,
        # by its name (its ARN would make the role depend on the state machine that depends on it).
        own_arn = f"arn:{stack.partition}:states:{stack.region}:{stack.account}:stateMachine:{name}"
        trust = self.state_machine.role.node.default_child
        assert isinstance(trust, iam.CfnRole)
        trust.add_property_override("AssumeRolePolicyDocument.Statement.0.Condition.ArnLike.aws:SourceArn", own_arn)
        for function in (handlers.bucket_check, handlers.logs_export, handlers.export_status):
            function.function.grant_invoke(self.state_machine)
        notices.grant_publish(self.state_machine)
        role_policy = self.state_machine.role.node.find_child("DefaultPolicy")
        acknowledge(
            role_policy,
            "AwsSolutions::AwsSolutions-IAM5[Resource::*]",
            "The X-Ray actions and the CloudWatch Logs log-delivery actions that Step Functions logging "
            "needs support no resource-level permissions; CDK puts exactly those on '*' here.",
        )
        acknowledge(
            role_policy,
            "AwsSolutions::AwsSolutions-IAM5[Action::kms:GenerateDataKey*]",
            "Publishing to the encrypted notice topic needs SNS to generate data keys with the topic's key; "
            "grant_publish allows the GenerateDataKey actions on that one key only.",
        )
        for function in (handlers.bucket_check, handlers.logs_export, handlers.export_status):
            acknowledge(
                role_policy,
                f"AwsSolutions::AwsSolutions-IAM5[Resource::<{logical_id(function.function)}.Arn>:*]",
                "grant_invoke covers the function and its qualified ARNs (versions, aliases) of this one "
                "function only.",
            )
        self.failed_runs_alarm = cloudwatch.Alarm(
            self,
            "FailedRuns",
            alarm_description=f"A run of {name} failed: the failure notice and the execution history say why.",
            metric=self.state_machine.metric_failed(period=cdk.Duration.minutes(5), statistic="Sum"),
            threshold=1,
            evaluation_periods=1,
            comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
            treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
        )


class MonthlySchedule(Construct):
    """An EventBridge rule that starts the state machine on `expression` (input `{}`), possibly
    disabled, and an alarm when it fails to start it. Its target role may start executions of that one
    state machine."""

    def __init__(
        self, scope: Construct, construct_id: str, *, state_machine: sfn.IStateMachine, expression: str, enabled: bool
    ) -> None:
        super().__init__(scope, construct_id)
        stack = cdk.Stack.of(self)
        # Named, so that the role's trust can name the rule (its ARN would make the two depend on each
        # other): only this rule of this account may start executions through the role.
        rule_name = f"{stack.stack_name}-monthly-start"
        start_role = iam.Role(
            self,
            "StartRole",
            assumed_by=iam.ServicePrincipal(
                "events.amazonaws.com",
                conditions={
                    "StringEquals": {
                        "aws:SourceAccount": stack.account,
                        "aws:SourceArn": f"arn:{stack.partition}:events:{stack.region}:{stack.account}:rule/{rule_name}",
                    }
                },
            ),
            description=f"EventBridge rule {rule_name} starts the log export state machine",
        )
        self.rule = events.Rule(
            self,
            "Rule",
            rule_name=rule_name,
            description="Starts the log export state machine",
            schedule=events.Schedule.expression(expression),
            enabled=enabled,
            targets=[
                targets.SfnStateMachine(state_machine, input=events.RuleTargetInput.from_object({}), role=start_role)
            ],
        )
        acknowledge(
            self.rule,
            "Serverless::Serverless-EventBusDLQ",
            "The event is a constant '{}' that only says 'run now': a queued copy would hold nothing to "
            "replay. A start that fails after EventBridge's retries raises the FailedStarts alarm, and "
            "the fix is one start-execution (README, Log export).",
        )
        self.failed_starts_alarm = cloudwatch.Alarm(
            self,
            "FailedStarts",
            alarm_description="EventBridge could not start the log export state machine on schedule.",
            metric=cloudwatch.Metric(
                namespace="AWS/Events",
                metric_name="FailedInvocations",
                dimensions_map={"RuleName": self.rule.rule_name},
                period=cdk.Duration.minutes(5),
                statistic="Sum",
            ),
            threshold=1,
            evaluation_periods=1,
            comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
            treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
        )
