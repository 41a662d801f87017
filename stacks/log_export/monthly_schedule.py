"""The EventBridge rule that starts the log export state machine, and its alarm."""

from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_iam as iam
from aws_cdk import aws_stepfunctions as sfn
from constructs import Construct

from stacks.shared.nag import acknowledge


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
            "the fix is one start-execution (docs/log-export.md).",
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
