"""Replay kept failures: re-invoke the worker asynchronously with each kept request payload.

Run from the repository root with the project's virtualenv:

    python -m lambdas.destinations.replay --queue-url URL --function WORKER_ALIAS_ARN [--dry-run]

A message is deleted only after Lambda accepted its re-invocation (HTTP 202). A message whose
re-invocation was refused stays in the queue and is made visible again when the run ends, so the
next run sees it. `--dry-run` lists the kept failures and changes nothing (each listing still counts
as one receive towards the queue's redrive limit: SQS has no way to read without receiving).

A kept failure too big for the queue was written whole to the offload bucket; its message is a
summary that points there, and replay reads the whole copy back before it re-invokes. A copy whose
payload had to be cut (nested deeper than any serializer could write) is listed, never replayed.

Permissions needed: sqs:ReceiveMessage, sqs:DeleteMessage, sqs:ChangeMessageVisibility on the
queue, kms:Decrypt on its key, s3:GetObject on the offload bucket's kept-failures/ prefix,
lambda:InvokeFunction on the worker alias; the stack's ReplayPolicyArn output is a managed policy
with exactly these.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import boto3
from botocore.exceptions import BotoCoreError, ClientError

from ..aws import read_offloaded
from ..errors import UnreadableKeptFailureError
from ..kept import KeptFailure

SQS_BATCH = 10
ACCEPTED = 202


@dataclass
class ReplayReport:
    listed: list[str] = field(default_factory=list)
    replayed: list[str] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)
    unreadable: list[str] = field(default_factory=list)
    # Re-invoked, but the delete failed: the message will come back and be replayed again.
    not_removed: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not (self.refused or self.unreadable or self.not_removed)


def _error_text(error: Exception) -> str:
    if isinstance(error, ClientError):
        details = error.response.get("Error", {})
        return f"{details.get('Code', 'Error')}: {details.get('Message', '')}".strip()
    return f"{type(error).__name__}: {error}"


def _describe(kept: KeptFailure) -> str:
    # Ids, outcome, sizes: never payload content or the error's message (they may hold business or
    # personal data); read those from the message itself (or the offloaded copy) when needed.
    where = (
        f"offloaded={kept.offloaded.key} ({kept.offloaded.bytes} bytes)"
        if kept.offloaded
        else (f"payload={kept.payload_bytes} bytes")
    )
    notes = f"  truncated: {'; '.join(kept.truncated)}" if kept.truncated else ""
    return (
        f"{kept.failed_at.isoformat()}  {kept.condition}  invokes={kept.approximate_invoke_count}  "
        f"request={kept.request_id}  error={kept.error.type[:120]} ({len(kept.error.message)} characters)  {where}{notes}"
    )


def replay(
    *,
    sqs: Any,
    lambda_client: Any,
    s3: Any,
    queue_url: str,
    function: str,
    dry_run: bool = False,
    limit: int | None = None,
    visibility_timeout: int = 300,
    wait_seconds: int = 2,
    out: Callable[[str], None] = print,
) -> ReplayReport:
    """Replay (or list) up to `limit` kept failures; see the module docstring for the guarantees."""
    report = ReplayReport()
    seen: set[str] = set()
    # Messages left in the queue: kept invisible while the run lasts (so that it does not read
    # them twice), released when it ends.
    held: list[str] = []
    try:
        while limit is None or len(seen) < limit:
            wanted = SQS_BATCH if limit is None else min(SQS_BATCH, limit - len(seen))
            messages = sqs.receive_message(
                QueueUrl=queue_url,
                MaxNumberOfMessages=wanted,
                VisibilityTimeout=visibility_timeout,
                WaitTimeSeconds=wait_seconds,
            ).get("Messages", [])
            if not messages:
                break
            came_back = False
            for message in messages:
                message_id, receipt = message["MessageId"], message["ReceiptHandle"]
                if message_id in seen:
                    # The run outlasted the visibility timeout: everything has been seen once.
                    came_back = True
                    held.append(receipt)
                    continue
                seen.add(message_id)
                try:
                    kept = KeptFailure.from_message_body(message["Body"])
                except UnreadableKeptFailureError as error:
                    report.unreadable.append(message_id)
                    held.append(receipt)
                    out(f"unreadable {message_id}: {error}")
                    continue
                if dry_run:
                    report.listed.append(message_id)
                    held.append(receipt)
                    out(f"kept {message_id}  {_describe(kept)}")
                    continue
                try:
                    kept = _whole(kept, s3)
                except (UnreadableKeptFailureError, ClientError, BotoCoreError) as error:
                    report.unreadable.append(message_id)
                    held.append(receipt)
                    out(f"unreadable {message_id}: offloaded copy: {_error_text(error)}")
                    continue
                if not kept.replayable:
                    report.unreadable.append(message_id)
                    held.append(receipt)
                    out(f"kept {message_id}: not replayed, the kept payload is not whole ({'; '.join(kept.truncated)})")
                    continue
                try:
                    status = lambda_client.invoke(
                        FunctionName=function,
                        InvocationType="Event",
                        Payload=(kept.request_payload_json or "null").encode(),
                    )["StatusCode"]
                except (ClientError, BotoCoreError) as error:
                    report.refused.append(message_id)
                    held.append(receipt)
                    out(f"kept {message_id}: re-invoke refused ({_error_text(error)})")
                    continue
                if status != ACCEPTED:
                    report.refused.append(message_id)
                    held.append(receipt)
                    out(f"kept {message_id}: re-invoke answered HTTP {status}, not {ACCEPTED}")
                    continue
                try:
                    sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=receipt)
                except (ClientError, BotoCoreError) as error:
                    report.not_removed.append(message_id)
                    out(f"replayed {message_id} but could not remove it: {_error_text(error)}")
                    continue
                report.replayed.append(message_id)
                out(f"replayed {message_id} (request {kept.request_id})")
            if came_back:
                break
    finally:
        _release(sqs, queue_url, held)
    return report


def _whole(kept: KeptFailure, s3: Any) -> KeptFailure:
    """The whole kept failure: the message itself, or the offloaded copy it points to."""
    if kept.offloaded is None:
        return kept
    whole = KeptFailure.from_message_body(read_offloaded(kept.offloaded, s3=s3))
    if whole.request_id != kept.request_id:
        raise UnreadableKeptFailureError(
            f"{kept.offloaded.key} holds request {whole.request_id}, not {kept.request_id}"
        )
    return whole


def _release(sqs: Any, queue_url: str, receipts: list[str]) -> None:
    for start in range(0, len(receipts), SQS_BATCH):
        batch = receipts[start : start + SQS_BATCH]
        # Best effort: a message not released reappears once its visibility timeout ends anyway.
        try:
            sqs.change_message_visibility_batch(
                QueueUrl=queue_url,
                Entries=[
                    {"Id": str(index), "ReceiptHandle": receipt, "VisibilityTimeout": 0}
                    for index, receipt in enumerate(batch)
                ],
            )
        except (ClientError, BotoCoreError):
            pass


def _summary(report: ReplayReport, dry_run: bool) -> str:
    if dry_run:
        return f"{len(report.listed)} kept failure(s) listed; dry run: nothing invoked, nothing removed."
    parts = [f"{len(report.replayed)} replayed and removed", f"{len(report.refused)} kept (re-invoke refused)"]
    if report.unreadable:
        parts.append(f"{len(report.unreadable)} unreadable (left in the queue)")
    if report.not_removed:
        parts.append(f"{len(report.not_removed)} replayed but not removed (will be replayed again)")
    return "; ".join(parts) + "."


def _positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"{value} is not a whole number of 1 or more")
    return value


def _arguments(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m lambdas.destinations.replay",
        description="Re-invoke the worker asynchronously with the requests kept in the failed-requests queue.",
    )
    parser.add_argument("--queue-url", required=True, help="the stack output FailedRequestsQueueUrl")
    parser.add_argument("--function", required=True, help="the stack output WorkerAliasArn (or any function ARN/name)")
    parser.add_argument("--dry-run", action="store_true", help="list the kept failures; invoke and remove nothing")
    parser.add_argument("--limit", type=_positive, default=None, help="handle at most this many messages")
    parser.add_argument("--region", default=None, help="AWS region (default: the usual AWS configuration)")
    parser.add_argument(
        "--visibility-timeout", type=_positive, default=300, help="seconds a message stays hidden during the run"
    )
    parser.add_argument("--wait-seconds", type=int, choices=range(0, 21), default=2, metavar="0..20",
                        help="SQS long-poll wait per receive")  # fmt: skip
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = _arguments(argv)
    session = boto3.session.Session(region_name=args.region)
    try:
        report = replay(
            sqs=session.client("sqs"),
            lambda_client=session.client("lambda"),
            s3=session.client("s3"),
            queue_url=args.queue_url,
            function=args.function,
            dry_run=args.dry_run,
            limit=args.limit,
            visibility_timeout=args.visibility_timeout,
            wait_seconds=args.wait_seconds,
        )
    except (ClientError, BotoCoreError) as error:
        print(f"replay stopped: {_error_text(error)}", file=sys.stderr)
        return 2
    print(_summary(report, args.dry_run))
    return 0 if report.ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
