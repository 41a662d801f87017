"""The three Lambda functions the log export state machine calls, and their permissions."""

from __future__ import annotations

import json
from collections.abc import Sequence

import aws_cdk as cdk
from aws_cdk import aws_iam as iam
from constructs import Construct

from stacks.log_export import export_timing as timing
from stacks.log_export.export_bucket import ExportBucket
from stacks.log_export.settings import LogExportSettings
from stacks.settings.common import CommonSettings
from stacks.shared.bundling import python_code
from stacks.shared.contracts import load_contract
from stacks.shared.kit_function import KitFunction
from stacks.shared.nag import acknowledge, logical_id, nag_text

contract = load_contract("log-export")

WORKLOAD = "log-export"


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
            contract.BUCKET_VARIABLE: exports.bucket.bucket_name,
            contract.LOG_GROUPS_VARIABLE: json.dumps(list(settings.log_groups)),
            contract.MONTHS_BACK_VARIABLE: str(settings.months_back),
        }

        def function(construct_id: str, handler: str, description: str, **options: object) -> KitFunction:
            created = KitFunction(
                self,
                construct_id,
                common=common,
                workload=WORKLOAD,
                code=code,
                handler=handler,
                description=f"Log export: {description}",
                **options,  # type: ignore[arg-type]
            )
            for rule_id in ("Serverless::Serverless-LambdaDLQ", "NIST.800.53.R5::NIST.800.53.R5-LambdaDLQ"):
                acknowledge(
                    created.function,
                    rule_id,
                    "Only the state machine invokes this function, synchronously; a dead-letter queue receives "
                    "failed asynchronous invocations only. A failure here is the task's error, which the "
                    "state machine's Catch turns into a failure notice.",
                )
            return created

        self.bucket_check = function(
            "BucketCheck",
            contract.BUCKET_CHECK_HANDLER,
            "records finished exports and picks the next log group and month",
            environment=environment,
            # One S3 listing per (log group, month): up to 480 with the largest settings.
            timeout=cdk.Duration.seconds(timing.BUCKET_CHECK_TIMEOUT_SECONDS),
        )
        self.logs_export = function(
            "LogsExport",
            contract.LOGS_EXPORT_HANDLER,
            "creates the CloudWatch Logs export task of one log group and month",
            environment=environment,
            timeout=cdk.Duration.seconds(timing.TASK_TIMEOUT_SECONDS),
        )
        self.export_status = function(
            "ExportStatus",
            contract.EXPORT_STATUS_HANDLER,
            "reports the status of one CloudWatch Logs export task",
            environment={},
            timeout=cdk.Duration.seconds(timing.TASK_TIMEOUT_SECONDS),
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
                f"{contract.COMPLETION_RECORD}]",
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
        for prefix in exports.prefixes:
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
