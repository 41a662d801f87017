"""The customer-managed KMS keys of one stack, made only under the `hardened` profile.

The shared constructs (KitLogGroup, KitFunction, PrivateBucket) ask `KitKeys.of(self)` for a key: under
the default profile the answer is None and they keep AWS-owned encryption (templates unchanged);
under `hardened` the stack's one KitKeys makes each key on first use. A workload passes nothing.

The profile reaches the constructs through the construct tree: the kit app publishes the validated
`kit.profile` with `use_profile` before any stack exists, so every construct reads the same value.
"""

from __future__ import annotations

from typing import Any

import aws_cdk as cdk
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from constructs import Construct, IConstruct

from stacks.settings.common import HARDENED, PROFILES
from stacks.shared.managed_policies import ManagedPoliciesOnly
from stacks.shared.nag import PROFILE_CONTEXT_KEY

_ID = "KitKeys"


def use_profile(app: cdk.App, profile: str) -> None:
    """Publish the validated `kit.profile` to every construct of `app`; call it before adding stacks.

    Under `hardened` it also renders every IAM policy as a managed policy (ManagedPoliciesOnly) and
    puts every DynamoDB table into an AWS Backup plan (BackUpEveryTable).
    """
    if profile not in PROFILES:
        raise ValueError(f"unknown profile {profile!r}")
    app.node.set_context(PROFILE_CONTEXT_KEY, profile)
    if profile == HARDENED:
        cdk.Aspects.of(app).add(ManagedPoliciesOnly())
        # Imported here: it builds on KitKeys, defined below.
        from stacks.shared.table_backups import BackUpEveryTable

        cdk.Aspects.of(app).add(BackUpEveryTable())


def profile_of(scope: IConstruct) -> str:
    """The profile the app was built with (`default` when nobody published one, e.g. a bare test stack)."""
    return str(scope.node.try_get_context(PROFILE_CONTEXT_KEY) or PROFILES[0])


class KitKeys(Construct):
    """Up to two rotated customer-managed keys per stack, each created on first use:

    - `logs_key_for(log_group_name)`: encrypts the stack's log groups. CloudWatch Logs (the regional
      service principal) may use it only for the log groups registered here: the key policy names
      each one in a `kms:EncryptionContext:aws:logs:arn` condition. It is deleted with the stack,
      like the log groups (KMS waits 7 days).
    - `data_key`: encrypts the stack's data (buckets; workloads may use it for their tables and
      queues). It is retained with the data, which outlives the stack: deleting the key would make
      that data unreadable.
    """

    @classmethod
    def of(cls, scope: IConstruct) -> KitKeys | None:
        """The keys of `scope`'s stack under the hardened profile; None under the default one."""
        if profile_of(scope) != HARDENED:
            return None
        stack = cdk.Stack.of(scope)
        existing = stack.node.try_find_child(_ID)
        return existing if isinstance(existing, KitKeys) else cls(stack, _ID)

    def __init__(self, scope: Construct, construct_id: str) -> None:
        super().__init__(scope, construct_id)
        self._logs_key: kms.Key | None = None
        self._data_key: kms.Key | None = None

    def logs_key_for(self, log_group_name: str) -> kms.IKey:
        """The key for log group `log_group_name`, which CloudWatch Logs may now use it for."""
        stack = cdk.Stack.of(self)
        if self._logs_key is None:
            self._logs_key = self._key(
                "LogsKey",
                description=f"Encrypts the log groups of {stack.stack_name}",
                # The log groups go with the stack; a key left behind would protect nothing.
                removal_policy=cdk.RemovalPolicy.DESTROY,
            )
        # One statement per log group: CloudWatch Logs may use the key for exactly the log groups
        # that were given it, which the key policy lists one by one.
        self._logs_key.add_to_resource_policy(
            iam.PolicyStatement(
                principals=[iam.ServicePrincipal(f"logs.{stack.region}.amazonaws.com")],
                # The actions CloudWatch Logs' guide lists for a log group's key.
                actions=["kms:Encrypt*", "kms:Decrypt*", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:Describe*"],
                resources=["*"],  # in a key policy, "*" is this key
                conditions={
                    "ArnEquals": {
                        "kms:EncryptionContext:aws:logs:arn": stack.format_arn(
                            service="logs",
                            resource="log-group",
                            resource_name=log_group_name,
                            arn_format=cdk.ArnFormat.COLON_RESOURCE_NAME,
                        )
                    }
                },
            )
        )
        return self._logs_key

    @property
    def data_key(self) -> kms.Key:
        """The key for the stack's data; retained with it."""
        if self._data_key is None:
            self._data_key = self._key(
                "DataKey",
                description=f"Encrypts the data of {cdk.Stack.of(self).stack_name}",
                removal_policy=cdk.RemovalPolicy.RETAIN,
            )
        return self._data_key

    def _key(self, construct_id: str, **options: Any) -> kms.Key:
        return kms.Key(self, construct_id, enable_key_rotation=True, pending_window=cdk.Duration.days(7), **options)
