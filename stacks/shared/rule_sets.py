"""What the kit accepts from rule sets nobody here wrote: AWS Control Tower's proactive controls
(Guard rules, cdklabs' cdk-validator-cfnguard) and checkov. One table, read by
tests/test_rule_sets.py, which runs both over the synthesized templates of both profiles (see
support/rule_sets.py for why not on every synth) and fails on a finding no row accepts, and on a
row that no longer accepts any finding.

A row is one rule on the resources whose construct path (under the stack, as `cdk synth` reports
it) matches `paths`: patterns, so that the same resource built by a shared construct in every
workload (and in a fork's new one) is one row. `profiles` names the profiles where the finding is
expected: a row for the default profile alone keeps the hardened profile from regressing.
`false_positive` marks a rule that is wrong about the resource, as opposed to a control the kit
deliberately does not apply.
"""

from __future__ import annotations

from dataclasses import dataclass
from fnmatch import fnmatchcase

from stacks.settings.common import DEFAULT, HARDENED

GUARD = "control-tower"
CHECKOV = "checkov"
BOTH = (DEFAULT, HARDENED)


@dataclass(frozen=True)
class Acceptance:
    tool: str
    rule: str
    paths: tuple[str, ...]
    reason: str
    profiles: tuple[str, ...] = BOTH
    false_positive: bool = False

    def accepts(self, tool: str, rule: str, path: str, profile: str) -> bool:
        return (
            tool == self.tool
            and rule == self.rule
            and profile in self.profiles
            and any(fnmatchcase(path, pattern) for pattern in self.paths)
        )


FUNCTIONS = ("*/Function/Resource",)
LOG_GROUPS = ("*/LogGroup/Resource", "*/ExecutionLogs/Resource")
ACCESS_LOG_BUCKETS = ("*/AccessLogs/Resource",)
DATA_BUCKETS = ("*/Bucket/Resource",)
# The keys of the alarm topics and of the kept failures, and the hardened profile's own keys.
KEYS = ("*/Key/Resource", "KitKeys/*Key/Resource")
DEAD_LETTER_QUEUES = ("*/DeadLetterQueue/Resource", "*/DeadLetters/Resource")

ACCEPTED: tuple[Acceptance, ...] = (
    # ---- Lambda functions
    Acceptance(GUARD, "lambda_inside_vpc_check", FUNCTIONS,
               "CT.LAMBDA.PR.3: the functions reach only AWS APIs (S3, DynamoDB, SQS, Logs) over TLS with IAM; "
               "a VPC would add NAT gateways or a set of interface endpoints per stack and protect nothing here."),
    Acceptance(CHECKOV, "CKV_AWS_117", FUNCTIONS,
               "Lambda inside a VPC: as CT.LAMBDA.PR.3 above, the functions talk to AWS APIs only."),
    Acceptance(CHECKOV, "CKV_AWS_115", FUNCTIONS,
               "Reserved concurrency per function: it takes capacity away from the account's pool; the "
               "workloads bound their fan-out themselves (ETL shard concurrency, SQS batch settings)."),
    Acceptance(CHECKOV, "CKV_AWS_116", FUNCTIONS,
               "A Lambda DLQ applies to asynchronous invokes only: these functions are invoked synchronously "
               "(Step Functions tasks, durable-function chained invokes, the custom runtime's callers) or "
               "keep failures with an on-failure destination, which AWS recommends over "
               "a DLQ.", false_positive=True),
    Acceptance(CHECKOV, "CKV_AWS_173", FUNCTIONS,
               "Lambda encrypts environment variables at rest with a KMS key by default; the kit's hold resource "
               "names and settings, never secrets, so a customer key adds nothing.",
               false_positive=True),
    # ---- log groups
    Acceptance(GUARD, "cloudwatch_log_group_retention_period_check", LOG_GROUPS,
               "CT.CLOUDWATCH.PR.2 wants 365 days or more: retention is the setting kit.logRetentionDays "
               "(60 by default: long enough for the log export's retry run, short for cost; README), and the log "
               "export workload archives to S3 what "
               "must be kept longer. Set it to 365 or more to meet the control."),
    Acceptance(GUARD, "cloudwatch_log_group_encrypted_check", LOG_GROUPS,
               "CT.CLOUDWATCH.PR.5: under the default profile logs are encrypted by CloudWatch Logs' own keys; "
               "kit.profile=hardened puts every log group under the stack's customer-managed logs key.",
               profiles=(DEFAULT,)),
    Acceptance(CHECKOV, "CKV_AWS_158", LOG_GROUPS,
               "Log group KMS key: as CT.CLOUDWATCH.PR.5, default profile only; hardened adds the key.",
               profiles=(DEFAULT,)),
    # ---- S3
    Acceptance(GUARD, "s3_bucket_default_encryption_kms_check", (*DATA_BUCKETS, *ACCESS_LOG_BUCKETS),
               "CT.S3.PR.10: the default profile encrypts buckets with SSE-S3; kit.profile=hardened uses SSE-KMS "
               "with the stack's data key (access-log buckets too).", profiles=(DEFAULT,)),
    Acceptance(GUARD, "s3_bucket_object_lock_enabled_check", (*DATA_BUCKETS, *ACCESS_LOG_BUCKETS),
               "CT.S3.PR.9: Object Lock would stop the workloads' own lifecycle expiry and the ETL's cleanup of "
               "its staging objects, and makes the stack impossible to delete; versioning keeps overwritten "
               "objects instead."),
    Acceptance(GUARD, "s3_event_notifications_enabled_check", (*DATA_BUCKETS, *ACCESS_LOG_BUCKETS),
               "CT.S3.PR.4: nothing in the kit reacts to these buckets' object events (the ETL runs on a schedule "
               "or on demand); a notification with no consumer is not a control."),
    Acceptance(GUARD, "s3_bucket_logging_enabled_check", ACCESS_LOG_BUCKETS,
               "CT.S3.PR.2 on the access-log bucket itself: logging it to another bucket would need a bucket for "
               "that one in turn; S3 documents that a log bucket must not log to itself."),
    Acceptance(CHECKOV, "CKV_AWS_18", ACCESS_LOG_BUCKETS,
               "Access logging of the access-log bucket: as CT.S3.PR.2 above, there is no end to that chain."),
    Acceptance(GUARD, "s3_bucket_versioning_enabled_check", ACCESS_LOG_BUCKETS,
               "CT.S3.PR.11 on the access-log bucket: under the default profile access logs are append-only "
               "objects written by S3 itself; hardened versions them too (NIST 800-53 AU-9).",
               profiles=(DEFAULT,)),
    Acceptance(CHECKOV, "CKV_AWS_21", ACCESS_LOG_BUCKETS,
               "Versioning of the access-log bucket: as CT.S3.PR.11 above, default profile only.",
               profiles=(DEFAULT,)),
    # ---- DynamoDB, SQS, KMS
    Acceptance(CHECKOV, "CKV_AWS_119", ("*/Table/Resource",),
               "DynamoDB encrypts every table at rest with an AWS owned key; kit.profile=hardened uses the "
               "stack's customer-managed data key.", profiles=(DEFAULT,)),
    Acceptance(CHECKOV, "CKV_AWS_27", DEAD_LETTER_QUEUES,
               "The queue has SqsManagedSseEnabled: true (SSE-SQS); this checkov version only accepts "
               "KmsMasterKeyId.", profiles=(DEFAULT,), false_positive=True),
    Acceptance(GUARD, "sqs_dlq_check", DEAD_LETTER_QUEUES,
               "CT.SQS.PR.2 on a dead-letter queue: it is the end of the line and alarms on depth; a dead-letter "
               "queue of its own would only move messages out of sight.", false_positive=True),
    Acceptance(GUARD, "kms_create_grant_aws_service_check", KEYS,
               "CT.KMS.PR.3 wants a Deny of kms:CreateGrant unless for an AWS resource: the key policies name "
               "their service principals under source conditions (proved by tests/permissions); the extra Deny "
               "could not be proved safe here, without an account, for the services that use these keys "
               "through grants (Lambda, CloudWatch Logs, SNS)."),
)  # fmt: skip


def acceptance_for(tool: str, rule: str, path: str, profile: str) -> Acceptance | None:
    """The row that accepts this finding, if any."""
    return next((a for a in ACCEPTED if a.accepts(tool, rule, path, profile)), None)
