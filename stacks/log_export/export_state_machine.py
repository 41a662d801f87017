"""The Step Functions state machine that runs the export definition, its log group and its alarm."""

from __future__ import annotations

import json

import aws_cdk as cdk
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_iam as iam
from aws_cdk import aws_logs as logs
from aws_cdk import aws_sns as sns
from aws_cdk import aws_stepfunctions as sfn
from constructs import Construct

from stacks.log_export.export_definition import (
    BUCKET_CHECK,
    EXPORT_FAILED_STATE,
    EXPORT_STATUS,
    LOGS_EXPORT,
    NOTICE_TOPIC,
    SNS_PUBLISH,
    export_definition,
)
from stacks.log_export.export_handlers import WORKLOAD, ExportHandlers
from stacks.log_export.settings import LogExportSettings
from stacks.settings.common import CommonSettings
from stacks.shared.kit_keys import KitKeys
from stacks.shared.kit_log_group import KitLogGroup
from stacks.shared.nag import acknowledge, logical_id


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
        self.log_group = KitLogGroup(
            self,
            "ExecutionLogs",
            common=common,
            # The prefix AWS recommends for vended logs: it keeps Logs' resource policy from growing.
            log_group_name=f"/aws/vendedlogs/states/{name}",
        )
        stack = cdk.Stack.of(self)
        keys = KitKeys.of(self)
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
            # Hardened: the definition and execution history (inputs, outputs) under the retained data key.
            # CDK grants the role what the Step Functions guide asks (kms:Decrypt and kms:GenerateDataKey
            # for its executions, kms:GenerateDataKey for its log delivery) and lets log delivery decrypt.
            encryption_configuration=None
            if keys is None
            else sfn.CustomerManagedEncryptionConfiguration(keys.data_key),
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
        self.timed_out_runs_alarm = cloudwatch.Alarm(
            self,
            "TimedOutRuns",
            alarm_description=f"A run of {name} outlasted its own bounds and was stopped: the months it had not "
            "exported yet wait for the next run; the execution history shows where it stood.",
            metric=self.state_machine.metric_timed_out(period=cdk.Duration.minutes(5), statistic="Sum"),
            threshold=1,
            evaluation_periods=1,
            comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
            treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
        )
        # Each (log group, month) a run could not export enters the ExportFailed state once; the run goes
        # on with the others, so this counts each group's trouble as it happens (the notice names it).
        troubled = logs.MetricFilter(
            self,
            "TroubledExportsFilter",
            log_group=self.log_group,
            metric_namespace=f"{common.name_prefix}/LogExport",
            metric_name="TroubledExports",
            filter_pattern=logs.FilterPattern.all(
                logs.FilterPattern.string_value("$.type", "=", "PassStateEntered"),
                logs.FilterPattern.string_value("$.details.name", "=", EXPORT_FAILED_STATE),
            ),
            metric_value="1",
        )
        self.troubled_exports_alarm = cloudwatch.Alarm(
            self,
            "TroubledExports",
            alarm_description=f"{name} could not export a log group's month (a missing log group, a refused, "
            "failed or stuck export): the notice names it; the run went on with the others and the next run "
            "tries it again.",
            metric=troubled.metric(period=cdk.Duration.minutes(5), statistic="Sum"),
            threshold=1,
            evaluation_periods=1,
            comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
            treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
        )
