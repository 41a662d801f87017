#!/usr/bin/env python3
"""Fail `make synth` on any cdk-nag finding that is not acknowledged, warnings included, and say how
to fix it where the kit has the fix: `python tools/nag_findings.py cdk.out/validation-report.json`.

aws-cdk-lib fails the synth on a rule of error level and only prints one of warning level (DDB3,
point-in-time recovery, is one), each with just "Acknowledge with ...". The kit treats both alike:
the fix first (a shared construct that already does it right, or the doc section), the
acknowledgement second (stacks/shared/nag.py `acknowledge`, with a reason specific to the resource).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

ACCEPTING = "docs/ARCHITECTURE.md, 'Accepting a cdk-nag finding'"

# Rule (without its granular [...] part) -> what in the kit already does it right.
FIXES: dict[str, str] = {
    "AwsSolutions-S1": "build the bucket with stacks/shared/private_bucket.py (PrivateBucket: access logs, TLS only)",
    "AwsSolutions-S2": "build the bucket with stacks/shared/private_bucket.py (PrivateBucket: public access blocked)",
    "AwsSolutions-S10": "build the bucket with stacks/shared/private_bucket.py (PrivateBucket: TLS only)",
    "AwsSolutions-SQS3": "build the queue with stacks/shared/encrypted_queue.py (EncryptedQueue: its own dead-letter queue)",
    "AwsSolutions-SQS4": "build the queue with stacks/shared/encrypted_queue.py (EncryptedQueue: TLS only)",
    "Serverless-SQSRedrivePolicy": "build the queue with stacks/shared/encrypted_queue.py (EncryptedQueue: a redrive policy)",
    "AwsSolutions-SNS2": "build the topic with stacks/shared/alarm_topic.py (AlarmTopic: KMS-encrypted)",
    "AwsSolutions-SNS3": "build the topic with stacks/shared/alarm_topic.py (AlarmTopic: TLS only)",
    "AwsSolutions-DDB3": "turn on point-in-time recovery and backups with stacks/shared/table_backups.py",
    "AwsSolutions-IAM4": "grant with the resources' grant_* methods instead of a managed policy (KitFunction's role has none)",
    "AwsSolutions-IAM5": (
        "narrow the grant: stacks/shared/prefix_access.py (PrefixAccess) for objects under a prefix, a resource's "
        "grant_* for one resource; a wildcard that must stay is documented in docs/security.md and acknowledged"
    ),
    "AwsSolutions-L1": "choose the runtime in KitFunction(runtime=...) (stacks/shared/kit_function.py)",
    "Serverless-LambdaLatestVersion": "choose the runtime in KitFunction(runtime=...) (stacks/shared/kit_function.py)",
    "Serverless-LambdaTracing": "build the function with stacks/shared/kit_function.py (KitFunction: X-Ray on)",
    "Serverless-LambdaLogLevel": "build the function with stacks/shared/kit_function.py (KitFunction: JSON logs, levels)",
    "Serverless-LambdaStructuredLogging": "build the function with stacks/shared/kit_function.py (KitFunction: JSON logs)",
    "Serverless-LambdaDefaultMemorySize": "set memory_size on KitFunction (stacks/shared/kit_function.py)",
    "Serverless-LambdaDefaultTimeout": "set timeout on KitFunction (stacks/shared/kit_function.py)",
    "Serverless-LambdaDLQ": (
        "keep what an asynchronous invocation cannot process: an on-failure destination or a dead-letter queue "
        "built with stacks/shared/encrypted_queue.py (docs/security.md, 'Nothing is lost')"
    ),
    "Serverless-LambdaEventSourceMappingDestination": "subscribe with stacks/shared/sqs_event_source.py",
    "Serverless-EventBusDLQ": "give the rule's or schedule's target a dead-letter queue (stacks/shared/encrypted_queue.py)",
    "AwsSolutions-SF1": "log the state machine's executions at level ALL to a KitLogGroup (stacks/shared/kit_log_group.py)",
    "AwsSolutions-SF2": "turn on X-Ray tracing for the state machine",
}


def fix_for(rule_name: str) -> str:
    return FIXES.get(rule_name.split("[", 1)[0], f"see {ACCEPTING}")


def open_findings(report: dict[str, Any]) -> list[str]:
    """One line per unacknowledged finding: where, which rule and severity, the fix, the acknowledgement."""
    lines = []
    for plugin in report.get("pluginReports", []):
        for violation in plugin.get("violations", []):
            rule = violation["ruleName"]
            for construct in violation.get("violatingConstructs", []):
                lines.append(
                    f"{construct['constructPath']}: {rule} ({violation.get('severity', 'error')}): "
                    f"{violation.get('description', '').split('. ')[0]}.\n"
                    f"    fix: {fix_for(rule)}\n"
                    f"    or, where this resource is right as it is, acknowledge it with a specific reason: "
                    f'acknowledge(<construct>, "{plugin["pluginName"]}::{rule}", "<why>") ({ACCEPTING})'
                )
    return lines


def main(argv: list[str] | None = None) -> int:
    args = argv if argv is not None else sys.argv[1:]
    if len(args) != 1:
        print("usage: nag_findings.py <cdk.out>/validation-report.json", file=sys.stderr)
        return 2
    path = Path(args[0])
    if not path.is_file():
        return 0  # no policy validation ran (the synth failed before it): nothing to add
    findings = open_findings(json.loads(path.read_text()))
    if findings:
        print(f"cdk-nag: {len(findings)} finding(s) not fixed or acknowledged:", file=sys.stderr)
        for line in findings:
            print(f"  {line}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
