"""Numbers of the Lambda Destinations workload on this machine.

    python bench/destinations.py [--smoke]

- the Lambda asset (handlers + Powertools + pydantic for arm64): files, unzipped and zipped size;
- a cold import of the failure handler (what an init phase pays for Powertools and pydantic);
- records parsed and turned into kept-failure messages per second (the failure handler's CPU work);
- the replay command against moto: kept failures re-invoked and removed per second.

`--smoke` parses 200 records, replays 20 messages and imports once (seconds), so the suite keeps
this script working.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path
from unittest import mock

REPO_ROOT = Path(__file__).resolve().parents[1]
ASSET_ROOT = REPO_ROOT / "lambdas" / "destinations"
sys.path[:0] = [str(REPO_ROOT), str(ASSET_ROOT)]
os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")

# (records parsed, messages replayed, cold imports): full, and --smoke.
FULL_SIZES = (20_000, 300, 5)
SMOKE_SIZES = (200, 20, 1)


def asset_size() -> None:
    import aws_cdk as cdk

    from stacks.destinations import DestinationsSettings, DestinationsStack
    from stacks.settings import CommonSettings

    with tempfile.TemporaryDirectory() as outdir:
        # cdk.json's feature flags: the kit's constructs are written for them.
        context = json.loads((REPO_ROOT / "cdk.json").read_text())["context"]
        app = cdk.App(outdir=outdir, context=context, builtin_cloud_formation_validation=False)
        DestinationsStack(
            app,
            "bench-destinations",
            common=CommonSettings(stage="bench", tags={}, log_retention_days=7, alarm_email=None),
            settings=DestinationsSettings(max_retry_attempts=2, max_event_age_seconds=3600, failed_queue_depth_alarm=1),
        )
        app.synth()
        (asset,) = [p for p in Path(outdir).glob("asset.*") if p.is_dir()]
        files = [p for p in asset.rglob("*") if p.is_file()]
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
            for path in files:
                archive.write(path, path.relative_to(asset))
        unzipped = sum(p.stat().st_size for p in files)
    print(f"asset files: {len(files)}")
    print(f"asset unzipped MB: {unzipped / 1e6:.1f}")
    print(f"asset zipped MB: {len(buffer.getvalue()) / 1e6:.1f}")


def cold_import(runs: int) -> None:
    timings = []
    for _ in range(runs):
        started = time.perf_counter()
        subprocess.run(
            [sys.executable, "-c", "import lwk_destinations.handlers"], cwd=ASSET_ROOT, check=True
        )  # fmt: skip
        timings.append(time.perf_counter() - started)
    baseline = []
    for _ in range(runs):
        started = time.perf_counter()
        subprocess.run([sys.executable, "-c", "pass"], check=True)
        baseline.append(time.perf_counter() - started)
    extra_ms = (statistics.median(timings) - statistics.median(baseline)) * 1000
    print(f"cold import of the failure handler ms (median of {runs}, interpreter start excluded): {extra_ms:.0f}")


def parse_throughput(records: int) -> None:
    from lwk_destinations.kept import KeptFailure
    from lwk_destinations.records import parse_failure_body

    record = {
        "version": "1.0",
        "timestamp": "2026-11-27T09:03:00.000Z",
        "requestContext": {
            "requestId": "7b5e3a2c-0000-4000-8000-000000000000",
            "functionArn": "arn:aws:lambda:eu-west-1:123456789012:function:worker:live",
            "condition": "RetriesExhausted",
            "approximateInvokeCount": 3,
        },
        "requestPayload": {"Success": False, "orderId": "o-1", "lines": list(range(20))},
        "responseContext": {"statusCode": 200, "executedVersion": "7", "functionError": "Unhandled"},
        "responsePayload": {"errorMessage": "the job reported failure", "errorType": "JobFailedError",
                            "stackTrace": ["  File \"/var/task/worker.py\", line 1"] * 5},
    }  # fmt: skip
    body = json.dumps(record)  # as Lambda writes it to the failure-records queue
    started = time.perf_counter()
    for _ in range(records):
        KeptFailure.from_record(*parse_failure_body(body)).to_message_body()
    elapsed = time.perf_counter() - started
    print(f"failure records parsed and kept per second (CPU only): {records / elapsed:,.0f}")


def replay_throughput(messages: int) -> None:
    import boto3
    from lwk_destinations.ops.replay import replay
    from moto import mock_aws
    from moto.awslambda.models import LambdaBackend

    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        os.environ[name] = "bench"
    accepted = []

    def accept_async(backend, function_name, qualifier, body, headers, response_headers):  # type: ignore[no-untyped-def]
        accepted.append(body)
        return ""

    with mock.patch.object(LambdaBackend, "invoke", accept_async), mock_aws():
        sqs = boto3.client("sqs", region_name="eu-west-1")
        lambda_client = boto3.client("lambda", region_name="eu-west-1")
        queue_url = sqs.create_queue(QueueName="kept")["QueueUrl"]
        body = (
            '{"schemaVersion":1,"requestId":"r","functionArn":"arn:aws:lambda:eu-west-1:123456789012:function:w:live",'
            '"condition":"RetriesExhausted","approximateInvokeCount":3,"failedAt":"2026-11-27T09:03:00Z",'
            '"requestPayload":{"Success":true},"error":{"type":"JobFailedError","message":"m","functionError":"Unhandled"}}'
        )
        for start in range(0, messages, 10):
            sqs.send_message_batch(
                QueueUrl=queue_url, Entries=[{"Id": str(i), "MessageBody": body} for i in range(start, start + 10)]
            )
        started = time.perf_counter()
        report = replay(
            sqs=sqs,
            lambda_client=lambda_client,
            s3=boto3.client("s3", region_name="eu-west-1"),
            queue_url=queue_url,
            function="w",
            wait_seconds=0,
            out=lambda _: None,
        )
        elapsed = time.perf_counter() - started
    assert len(report.replayed) == len(accepted) == messages
    print(f"replayed and removed per second against moto ({messages} messages): {messages / elapsed:,.0f}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--smoke", action="store_true", help="tiny sizes, seconds: checks that the bench runs")
    records, messages, imports = SMOKE_SIZES if parser.parse_args().smoke else FULL_SIZES
    asset_size()
    cold_import(imports)
    parse_throughput(records)
    replay_throughput(messages)
