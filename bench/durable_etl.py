"""Durable ETL numbers on this machine: throughput, checkpoint sizes, cold import time.

1. records/s through the SDK's local runner against moto S3 + DynamoDB in this process (waits
   fast-forwarded), for 100,000 and 1,000,000 records in mixed JSON Lines/CSV objects;
2. the largest checkpointed step result in bytes for both (it must not grow with the dataset),
   and, for comparison, the largest map result the SDK checkpoints for the whole batch set;
3. the cold import time of the handler module against `import boto3`, each in a fresh interpreter.

Run from the repository root: `python bench/durable_etl.py [--records 100000 1000000] [--smoke]`
(`--smoke`: 2,000 records and one import run, a few seconds, so the suite keeps this script working). moto's
DynamoDB dominates the time (about 0.6 ms per item written and checked), so the whole script takes
about 13 minutes and 3 GB of memory; its throughput is a floor set by the emulator, not Lambda's.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
ASSET_ROOT = REPO_ROOT / "lambdas" / "durable_etl"
sys.path[:0] = [str(REPO_ROOT), str(ASSET_ROOT)]

BUCKET, TABLE, REGION = "lwk-bench-source", "lwk-bench-target", "eu-west-1"
BATCH_SIZE = 1000  # the same for both sizes, so that only the dataset grows (1M records = 1,000 batches)
IMPORT_RUNS = 7


def _environment() -> None:
    os.environ.update(
        AWS_ACCESS_KEY_ID="bench", AWS_SECRET_ACCESS_KEY="bench", AWS_DEFAULT_REGION=REGION,
        SOURCE_BUCKET=BUCKET, TARGET_TABLE=TABLE, DEFAULT_BATCH_SIZE=str(BATCH_SIZE),
        RATE_LIMIT_WAIT_SECONDS="300", OFF_PEAK_HOUR="2", OFF_PEAK_TIME_ZONE="UTC", MAP_CONCURRENCY="4",
        EXTRACT_RECORDS_PER_STEP="250000",
    )  # fmt: skip


def run_pipeline(records: int) -> dict[str, object]:
    import boto3
    from aws_durable_execution_sdk_python_testing.runner import DurableFunctionTestRunner
    from moto import mock_aws

    from lwk_durable_etl.handlers import handler
    from tests.durable_etl.datasets import write_dataset

    with mock_aws():
        s3, dynamodb = boto3.client("s3"), boto3.client("dynamodb")
        s3.create_bucket(Bucket=BUCKET, CreateBucketConfiguration={"LocationConstraint": REGION})
        s3.put_bucket_versioning(Bucket=BUCKET, VersioningConfiguration={"Status": "Enabled"})
        dynamodb.create_table(
            TableName=TABLE, BillingMode="PAY_PER_REQUEST",
            AttributeDefinitions=[{"AttributeName": n, "AttributeType": "S"} for n in ("datasetId", "id")],
            KeySchema=[{"AttributeName": "datasetId", "KeyType": "HASH"}, {"AttributeName": "id", "KeyType": "RANGE"}],
        )  # fmt: skip
        write_dataset(s3, BUCKET, "bench", records=records, objects=max(4, records // 50_000), invalid_every=1000)
        started = time.perf_counter()
        with DurableFunctionTestRunner(handler=handler, invocation_timeout=3600) as runner:
            result = runner.run(input=json.dumps({"datasetId": "bench"}), execution_timeout=3 * 86400)
        elapsed = time.perf_counter() - started
    if result.status.value != "SUCCEEDED":
        raise SystemExit(f"the {records}-record run failed: {result.error}")
    operations = result.get_all_operations()

    def largest(kind: str) -> tuple[int, str]:
        return max((len(op.result or ""), op.name or "") for op in operations if op.operation_type.value == kind)

    summary = json.loads(result.result)
    phases = {
        op.name: (op.end_timestamp - op.start_timestamp).total_seconds()
        for op in result.operations
        if op.operation_type.value != "WAIT" and op.start_timestamp and op.end_timestamp
    }
    return {
        "phases": phases,
        "records": records,
        "seconds": elapsed,
        "loaded": summary["recordsLoaded"],
        "rejected": summary["recordsRejected"],
        "batches": summary["batches"],
        "operations": len(operations),
        "largest_step": largest("STEP"),
        "largest_context": largest("CONTEXT"),
    }


def _import_seconds(statement: str, runs: int) -> float:
    # -S: no site-packages scan beyond the paths given, like Lambda's /var/task-first import path.
    program = (
        "import sys, time; sys.path[:0] = {paths!r}; t = time.perf_counter(); {statement}; "
        "print(time.perf_counter() - t)"
    ).format(paths=[str(ASSET_ROOT), *sys.path[2:]], statement=statement)
    timings = [
        float(subprocess.run([sys.executable, "-S", "-c", program], check=True, capture_output=True, text=True).stdout)
        for _ in range(runs)
    ]
    return statistics.median(timings)


def main() -> None:
    sys.stdout.reconfigure(line_buffering=True)  # progress shows as it comes, also through a pipe
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, nargs="+", default=[100_000, 1_000_000])
    parser.add_argument("--smoke", action="store_true", help="tiny sizes, seconds: checks that the bench runs")
    arguments = parser.parse_args()
    sizes, import_runs = ([2_000], 1) if arguments.smoke else (arguments.records, IMPORT_RUNS)
    _environment()
    handler_import = _import_seconds("import lwk_durable_etl.handlers", import_runs)
    boto3_import = _import_seconds("import boto3", import_runs)
    print(f"cold import lwk_durable_etl.handlers: {handler_import * 1000:.0f} ms (median of {import_runs} fresh interpreters)")
    print(f"cold import boto3:                    {boto3_import * 1000:.0f} ms")
    for records in sizes:
        numbers = run_pipeline(records)
        step_bytes, step_name = numbers["largest_step"]
        context_bytes, context_name = numbers["largest_context"]
        print(
            f"{records:>9,} records: {numbers['seconds']:.1f} s, {records / numbers['seconds']:,.0f} records/s "
            f"({numbers['batches']} batches of {BATCH_SIZE}, {numbers['loaded']:,} loaded, {numbers['rejected']:,} "
            f"rejected, {numbers['operations']} operations)"
        )
        phases = ", ".join(f"{name} {seconds:.1f} s" for name, seconds in numbers["phases"].items())
        print(f"{records:>9,} records: phases (waits skipped) {phases}")
        print(f"{records:>9,} records: largest step result {step_bytes} bytes ({step_name})")
        print(f"{records:>9,} records: largest map/context result {context_bytes:,} bytes ({context_name})")


if __name__ == "__main__":
    main()
