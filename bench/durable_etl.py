"""Durable ETL numbers on this machine: per-execution cost as the dataset grows, fan-out throughput.

1. For each dataset size (default 10^4, 10^5, 10^6 records of mixed JSON Lines/CSV, one in 1,000
   invalid), one run through the SDK's local runner against moto S3 + DynamoDB in this process,
   with 1 MB shards so that the run fans out over more shards as it grows: the number of
   executions, and per execution the operations held, the largest checkpointed result and all
   checkpointed bytes (coordinator and children apart), and the checkpointed bytes of all executions
   together (what durable functions bill as data written). Every execution's cost must stay flat:
   past FAN_OUT_PER_EXECUTION units a phase, group executions take the units over.
2. records/s at fan-out widths 1, 4 and 16 for one size (default 10^5 records).
3. The cold import time of the handler module against `import boto3`, each in a fresh interpreter.

Run from the repository root: `python bench/durable_etl.py [--records ...] [--width-records N] [--widths ...]
[--shard-kilobytes K] [--smoke]`
(`--smoke`: 3,000 records, widths 1 and 4, one import run: seconds, so the suite keeps this script
working). moto runs every AWS call in this one Python process (about 0.6 ms per DynamoDB item), so
the numbers are floors set by the emulator and this machine's cores, not Lambda's.
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
from typing import Any

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO_ROOT)]

from stacks.settings.common import APP_NAME  # noqa: E402
from support.paths import use_lambda_code  # noqa: E402

ASSET_ROOT = use_lambda_code("durable-etl")

BUCKET, TABLE, REGION = f"{APP_NAME}-bench-source", f"{APP_NAME}-bench-target", "us-east-1"
BATCH_SIZE = 1000
SHARD_KILOBYTES = 1024  # 1 MB: about 11,000 records a shard, so that larger datasets fan out wider
WORKER = f"{APP_NAME}-bench-worker"
WORKER_ALIAS = f"arn:aws:lambda:{REGION}:123456789012:function:{WORKER}:live"
IMPORT_RUNS = 7


def _environment(width: int, shard_kilobytes: int) -> None:
    from lwk_durable_etl import contract

    os.environ.update({
        "AWS_ACCESS_KEY_ID": "bench", "AWS_SECRET_ACCESS_KEY": "bench", "AWS_DEFAULT_REGION": REGION,
        contract.SOURCE_BUCKET: BUCKET, contract.TARGET_TABLE: TABLE, contract.BATCH_SIZE.name: str(BATCH_SIZE),
        contract.RATE_LIMIT_WAIT_SECONDS.name: "300", contract.OFF_PEAK_HOUR.name: "2",
        contract.OFF_PEAK_TIME_ZONE: "UTC", contract.MAP_CONCURRENCY.name: "4",
        contract.EXTRACT_RECORDS_PER_STEP.name: "250000", contract.SHARD_KILOBYTES.name: str(shard_kilobytes),
        contract.FAN_OUT_WIDTH.name: str(width), contract.WRITE_UNITS_PER_SECOND.name: "40000",
        contract.SHARD_FUNCTION: WORKER_ALIAS,
        contract.METRICS_NAMESPACE: f"{APP_NAME}-bench",
        "POWERTOOLS_LOG_LEVEL": "WARNING",  # the handlers' INFO lines would bury the numbers
    })  # fmt: skip


def run_pipeline(records: int, width: int, shard_kilobytes: int = SHARD_KILOBYTES) -> dict[str, Any]:
    _environment(width, shard_kilobytes)  # first: the handlers' logger takes its level when they are imported
    import boto3
    from aws_durable_execution_sdk_python_testing.runner import DurableFunctionTestRunner
    from lwk_durable_etl import contract, handlers
    from moto import mock_aws

    from support.durable_etl_runs import run_costs
    from support.etl_datasets import write_dataset

    with mock_aws():
        s3, dynamodb = boto3.client("s3", region_name=REGION), boto3.client("dynamodb", region_name=REGION)
        s3.create_bucket(Bucket=BUCKET)
        s3.put_bucket_versioning(Bucket=BUCKET, VersioningConfiguration={"Status": "Enabled"})
        keys = (contract.TABLE_PARTITION_KEY, contract.TABLE_SORT_KEY)
        dynamodb.create_table(
            TableName=TABLE, BillingMode="PAY_PER_REQUEST",
            AttributeDefinitions=[{"AttributeName": n, "AttributeType": "S"} for n in keys],
            KeySchema=[{"AttributeName": keys[0], "KeyType": "HASH"}, {"AttributeName": keys[1], "KeyType": "RANGE"}],
        )  # fmt: skip
        write_dataset(s3, BUCKET, "bench", records=records, objects=max(4, records // 25_000), invalid_every=1000)
        started = time.perf_counter()
        with DurableFunctionTestRunner(handler=handlers.handler, invocation_timeout=3600, region=REGION) as runner:
            runner.register_durable_function(f"{WORKER}:live", handlers.shard, execution_timeout=86400)
            arn = runner.run_async(input=json.dumps({"datasetId": "bench"}), execution_timeout=3 * 86400)
            result = runner.wait_for_result(arn, timeout=6 * 3600)
            elapsed = time.perf_counter() - started
            costs = run_costs(runner, arn)
    if result.status.value != "SUCCEEDED":
        raise SystemExit(f"the {records}-record run failed: {result.error}")
    summary = json.loads(result.result)
    coordinator = next(cost for cost in costs if cost.arn == arn)
    children = [cost for cost in costs if cost.arn != arn]
    return {
        "records": records, "width": width, "seconds": elapsed, "summary": summary, "coordinator": coordinator,
        "children": children,
    }  # fmt: skip


def _import_seconds(statement: str, runs: int) -> float:
    # -S: no site-packages scan beyond the paths given, like Lambda's /var/task-first import path.
    program = (
        f"import sys, time; sys.path[:0] = {[str(ASSET_ROOT), *sys.path[2:]]!r}; t = time.perf_counter(); {statement}; "
        "print(time.perf_counter() - t)"
    )
    timings = [
        float(subprocess.run([sys.executable, "-S", "-c", program], check=True, capture_output=True, text=True).stdout)
        for _ in range(runs)
    ]
    return statistics.median(timings)


def main() -> None:
    sys.stdout.reconfigure(line_buffering=True)  # type: ignore[union-attr]  # progress shows through a pipe
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--records", type=int, nargs="*", default=[10_000, 100_000, 1_000_000], help="none: skip")
    parser.add_argument("--width-records", type=int, default=100_000)
    parser.add_argument("--widths", type=int, nargs="*", default=[1, 4, 16], help="none: skip the throughput runs")
    # Smaller shards make many units of few records: the tree of group executions at a unit count a
    # far larger dataset would have, in minutes (16 KB shards of 10^5 records: about 780 units a phase).
    parser.add_argument("--shard-kilobytes", type=int, default=SHARD_KILOBYTES)
    parser.add_argument("--smoke", action="store_true", help="tiny sizes, seconds: checks that the bench runs")
    arguments = parser.parse_args()
    if arguments.smoke:
        sizes, width_records, widths, import_runs = [3_000], 3_000, [1, 4], 1
    else:
        sizes, width_records, widths, import_runs = (
            arguments.records,
            arguments.width_records,
            arguments.widths,
            IMPORT_RUNS,
        )
    handler_import = _import_seconds("import lwk_durable_etl.handlers", import_runs)
    boto3_import = _import_seconds("import boto3", import_runs)
    print(f"cold import lwk_durable_etl.handlers: {handler_import * 1000:.0f} ms (median of {import_runs})")
    print(f"cold import boto3:                    {boto3_import * 1000:.0f} ms")

    if sizes:
        print(f"\nper execution, as the dataset grows ({arguments.shard_kilobytes:,} KB shards, width 4):")
        print("records     shards units executions | coordinator: ops, largest result, checkpointed"
              " | children (max): ops, largest result, checkpointed | all executions: checkpointed")  # fmt: skip
    for records in sizes:
        n = run_pipeline(records, width=4, shard_kilobytes=arguments.shard_kilobytes)
        c, kids, s = n["coordinator"], n["children"], n["summary"]
        most = (max((k.operations for k in kids), default=0), max((k.largest_result for k in kids), default=0),
                max((k.checkpoint_bytes for k in kids), default=0))  # fmt: skip
        print(f"{records:>9,} {s['shards']:>8} {s['units']:>5} {len(kids) + 1:>10} | {c.operations:>5} ops, "
              f"{c.largest_result:>7,} B, {c.checkpoint_bytes:>9,} B | {most[0]:>5} ops, {most[1]:>7,} B, "
              f"{most[2]:>9,} B | {c.checkpoint_bytes + sum(k.checkpoint_bytes for k in kids):>11,} B"
              f"   ({n['seconds']:.1f} s)")  # fmt: skip

    if widths:
        print(f"\nthroughput at {width_records:,} records by fan-out width (moto in one process: a floor):")
    for width in widths:
        n = run_pipeline(width_records, width=width)
        print(f"width {width:>2}: {n['seconds']:.1f} s, {width_records / n['seconds']:,.0f} records/s")


if __name__ == "__main__":
    main()
