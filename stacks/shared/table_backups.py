"""Under the hardened profile, every DynamoDB table of the kit is in an AWS Backup plan."""

from __future__ import annotations

import aws_cdk as cdk
import jsii
from aws_cdk import IAspect
from aws_cdk import aws_backup as backup
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_iam as iam
from constructs import Construct, IConstruct

from stacks.shared.kit_keys import KitKeys
from stacks.shared.nag import acknowledge

_ID = "TableBackups"


class TableBackups(Construct):
    """A backup vault (encrypted with the stack's data key, retained with the backups it holds) and a
    plan that backs up the stack's tables daily and keeps each backup 35 days (AWS Backup's
    `daily35DayRetention` preset). Tables join with `add`."""

    @classmethod
    def of(cls, scope: IConstruct) -> TableBackups:
        stack = cdk.Stack.of(scope)
        existing = stack.node.try_find_child(_ID)
        return existing if isinstance(existing, TableBackups) else cls(stack, _ID)

    def __init__(self, scope: Construct, construct_id: str) -> None:
        super().__init__(scope, construct_id)
        keys = KitKeys.of(self)
        self.vault = backup.BackupVault(
            self,
            "Vault",
            encryption_key=keys.data_key if keys else None,
            # Recovery points are data: they outlive the stack like the tables they copy.
            removal_policy=cdk.RemovalPolicy.RETAIN,
        )
        self.plan = backup.BackupPlan.daily35_day_retention(self, "Plan", self.vault)
        # One role for every selection (the one each selection would make has a trust without
        # conditions): AWS Backup assumes it for this account's jobs only, the confused-deputy guard
        # of AWS Backup's guide ("Cross-service confused deputy prevention").
        self.role = iam.Role(
            self,
            "Role",
            assumed_by=iam.ServicePrincipal(
                "backup.amazonaws.com", conditions={"StringEquals": {"aws:SourceAccount": cdk.Stack.of(self).account}}
            ),
            managed_policies=[
                iam.ManagedPolicy.from_aws_managed_policy_name("service-role/AWSBackupServiceRolePolicyForBackup")
            ],
        )
        acknowledge(
            self.role,
            "AwsSolutions::AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/"
            "AWSBackupServiceRolePolicyForBackup]",
            "AWS Backup's own service-role policy: AWS keeps it to what Backup needs to copy each resource "
            "type (DynamoDB here); the role can be assumed by backup.amazonaws.com for this account only.",
        )
        self._tables: list[str] = []

    def add(self, table: dynamodb.CfnTable) -> None:
        self.plan.add_selection(
            f"Table{len(self._tables)}", resources=[backup.BackupResource.from_arn(table.attr_arn)], role=self.role
        )
        self._tables.append(table.logical_id)


@jsii.implements(IAspect)
class BackUpEveryTable:
    """Puts each DynamoDB table into its stack's TableBackups (NIST 800-53 CP-9, cdk-nag's
    DynamoDBInBackupPlan): a workload's table, a fork's new one, without a line in the workload."""

    def visit(self, node: IConstruct) -> None:
        if isinstance(node, dynamodb.CfnTable):
            TableBackups.of(node).add(node)
