"""The schedule that starts the durable ETL."""

from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_scheduler as scheduler
from aws_cdk import aws_scheduler_targets as scheduler_targets
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from stacks.shared.kit_keys import KitKeys

from .settings import DurableEtlSettings

SCHEDULE_RETRY_ATTEMPTS = 3
SCHEDULE_MAX_EVENT_AGE = cdk.Duration.hours(1)


class EtlSchedule(Construct):
    """An EventBridge Scheduler schedule that starts the ETL through the `live` alias, asynchronously.

    Cron/rate expression and IANA time zone from settings; created disabled unless
    `schedule.enabled`. Scheduler retries a failed delivery and then sends the event to the
    dead-letter queue. Its role (`role`) may invoke the alias and send to that queue; under the
    hardened profile the schedule's input is encrypted with the stack's data key, which the role may
    decrypt with (Scheduler decrypts the input in the role's name).
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        settings: DurableEtlSettings,
        alias: lambda_.IFunction,
        dead_letters: sqs.IQueue,
    ) -> None:
        super().__init__(scope, construct_id)
        keys = KitKeys.of(self)
        # A group of its own: Scheduler's delivery metrics are per group, so the ETL's alarms count
        # this schedule's lost starts only (in the default group they would count every schedule's).
        # It holds no data, only the schedule the stack owns: removed with the stack (retained, its
        # generated name would make the next deploy after a destroy fail).
        self.group = scheduler.ScheduleGroup(self, "Group", removal_policy=cdk.RemovalPolicy.DESTROY)
        self.schedule = scheduler.Schedule(
            self,
            "Schedule",
            description=f"Starts the durable ETL of dataset {settings.schedule_dataset_id}",
            schedule=scheduler.ScheduleExpression.expression(
                settings.schedule_expression, cdk.TimeZone.of(settings.time_zone)
            ),
            enabled=settings.schedule_enabled,
            schedule_group=self.group,
            # CDK grants the target's role kms:Decrypt on it, all the Scheduler guide asks of that role.
            key=None if keys is None else keys.data_key,
            target=scheduler_targets.LambdaInvoke(
                alias,
                input=scheduler.ScheduleTargetInput.from_object({"datasetId": settings.schedule_dataset_id}),
                retry_attempts=SCHEDULE_RETRY_ATTEMPTS,
                max_event_age=SCHEDULE_MAX_EVENT_AGE,
                dead_letter_queue=dead_letters,
            ),
        )
        self.role = _target_role(self.schedule)


def _target_role(schedule: scheduler.Schedule) -> iam.Role:
    """The execution role CDK made for `schedule`'s target, found by the ARN the schedule names (the
    target keeps the role to itself; passing one in would change the default profile's template)."""
    stack = cdk.Stack.of(schedule)
    cfn_schedule = schedule.node.default_child
    assert isinstance(cfn_schedule, scheduler.CfnSchedule)
    target = cfn_schedule.target
    assert isinstance(target, scheduler.CfnSchedule.TargetProperty)
    wanted = stack.resolve(target.role_arn)
    (role,) = (c for c in stack.node.find_all() if isinstance(c, iam.Role) and stack.resolve(c.role_arn) == wanted)
    return role
