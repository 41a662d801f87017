"""State transitions, Lambda invocations and list-price cost of the log export workflow, per exported
month, measured on the synthesized state machine and compared with the seed's design.

Measured: the stack is synthesized for 5 log groups with monthsBack=1 (a monthly run in steady state:
one month per log group) and its DefinitionString runs in moto's ASL interpreter with the real handlers
in process, for exports that CloudWatch Logs reports RUNNING for 0, 1, 3 and 9 status checks (done
within 30 s, 1 min, 2 min, 5 min with 30 s polls). Billed transitions = states entered + Lambda
retries (Step Functions bills every retry as a transition).

The seed (BucketCheck -> ResultCheck -> LogsExport -> BucketCheck, Retry on LimitExceededException
60 s x 10^n) is modelled, in its best case: its check never misjudges a month. It starts the next
export at once, so each export but a run's first meets the previous one still running and retries
until it has ended: 60 s, then 600 s more, then 6,000 s more.

Prices: us-east-1 list prices (Step Functions Standard, Lambda arm64, SNS e-mail, CloudWatch alarms,
KMS), free tiers left out so the figures compare.

    python bench/log_export.py [--smoke]

`--smoke` runs 2 log groups and the shortest export only (seconds), so the suite keeps this script
working.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT))

import os  # noqa: E402

os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")

import pytest  # noqa: E402

from stacks.settings.common import APP_NAME  # noqa: E402
from support.log_export_run import (  # noqa: E402
    LogExportWorld,
    closed_months,
    install_export_faults,
    install_recorder,
    mocked_aws,
    resources_of_type,
    synth_log_export,
)

GROUPS = [f"/{APP_NAME}/bench/service-{n}" for n in range(1, 6)]
RUNNING_CHECKS = (0, 1, 3, 9)
SMOKE_GROUPS, SMOKE_RUNNING_CHECKS = GROUPS[:2], (0,)
POLL_SECONDS = 30
RUNS_PER_YEAR = 12

# List prices, us-east-1 (USD).
PER_TRANSITION = 0.025 / 1000
PER_REQUEST = 0.20 / 1_000_000
PER_ARM_GB_SECOND = 0.0000133334
LAMBDA_GB, LAMBDA_SECONDS = 0.25, 0.3  # 256 MB; a generous 300 ms per invocation
PER_EMAIL = 2.00 / 100_000
PER_LOG_GB = 0.50  # CloudWatch Logs ingestion (vended logs, first tier)
ALARM_MONTH, KMS_KEY_MONTH, CUSTOM_METRIC_MONTH = 0.10, 1.00, 0.30
# The default schedule's second run each month (the 9th) retries what failed; with nothing to retry it
# is StartRun, BucketCheck, ResultCheck, AllExported: 4 transitions and 1 invocation.
RETRY_RUN_TRANSITIONS, RETRY_RUN_INVOCATIONS = 4, 1


def per_invocation() -> float:
    return PER_REQUEST + LAMBDA_GB * LAMBDA_SECONDS * PER_ARM_GB_SECOND


def seed_retries(export_seconds: float) -> int:
    """LimitExceededException retries before the previous export has ended (0 if it is already done)."""
    retries, waited, interval = 0, 0.0, 60.0
    while waited < export_seconds:
        retries, waited, interval = retries + 1, waited + interval, interval * 10
    return retries


def seed_run(exports: int, export_seconds: float) -> tuple[int, int, float]:
    """(transitions, invocations, seconds spent in back-off) of one seed run exporting `exports` months."""
    retries = seed_retries(export_seconds) * (exports - 1)
    waited = sum(60 * 10**n for n in range(seed_retries(export_seconds))) * (exports - 1)
    # Per month BucketCheck, ResultCheck, LogsExport; at the end BucketCheck, ResultCheck, Succeed.
    return 3 * exports + 3 + retries, 2 * exports + 1 + retries, waited


def measure(template: dict, groups: list[str], running_checks: int) -> dict[str, float]:
    with pytest.MonkeyPatch.context() as monkeypatch, mocked_aws():
        recorder = install_recorder(monkeypatch)
        faults = install_export_faults(monkeypatch)
        faults.running_checks = running_checks
        world = LogExportWorld(template)
        for group in groups:
            world.add_log_group(group, dict.fromkeys(closed_months(1), 10))
        run = world.run(timeout=120)
        assert run.status == "SUCCEEDED", (run.error, run.cause)
        lambda_states = sum(1 for s in run.states if s in {"BucketCheck", "LogsExport", "ExportStatus"})
        transitions = len(run.states) + (run.lambda_attempts - lambda_states)
        return {
            "exports": len(recorder.calls("logs_export")),
            "transitions": transitions,
            "invocations": run.lambda_attempts,
            "waited": sum(recorder.waits) + sum(recorder.retry_sleeps),
            "log_kb": run.history_bytes / 1024,
        }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--smoke", action="store_true", help="2 log groups, one export length: checks that the bench runs"
    )
    smoke = parser.parse_args().smoke
    groups, running_checks = (SMOKE_GROUPS, SMOKE_RUNNING_CHECKS) if smoke else (GROUPS, RUNNING_CHECKS)
    with tempfile.TemporaryDirectory() as outdir:
        template = synth_log_export(
            Path(outdir), {"kit.logExport.logGroups": json.dumps(groups), "kit.logExport.monthsBack": "1"}
        )
    print(f"log export: one monthly run for {len(groups)} log groups (monthsBack=1), {POLL_SECONDS} s polls")
    print("checks  design  transitions/month  invocations/month  run wall time  USD/year (workflow)")
    for checks in running_checks:
        mine = measure(template, groups, checks)
        exports = int(mine["exports"])
        export_seconds = (checks + 1) * POLL_SECONDS
        seed_t, seed_i, seed_wait = seed_run(exports, export_seconds)
        for design, transitions, invocations, waited in (
            ("mine", mine["transitions"], mine["invocations"], mine["waited"]),
            ("seed", seed_t, seed_i, seed_wait),
        ):
            yearly = RUNS_PER_YEAR * (
                transitions * PER_TRANSITION + invocations * per_invocation() + exports * PER_EMAIL
            )
            if design == "mine":
                log_kb = mine["log_kb"]
            print(
                f"{checks + 1:>6}  {design:<6}  {transitions / exports:>17.1f}  {invocations / exports:>17.1f}"
                f"  {waited / 60:>10.0f} min  {yearly:>19.4f}"
            )
    log_cost = RUNS_PER_YEAR * log_kb / 1024 / 1024 * PER_LOG_GB
    print(
        f"execution logs (level ALL, with data): {log_kb:.0f} KB per run at the longest exports, {log_cost:.4f} USD/year"
    )
    retry_runs = RUNS_PER_YEAR * (RETRY_RUN_TRANSITIONS * PER_TRANSITION + RETRY_RUN_INVOCATIONS * per_invocation())
    print(f"the monthly retry run with nothing to retry: {retry_runs:.4f} USD/year")
    alarms = len(resources_of_type(template, "AWS::CloudWatch::Alarm"))
    metrics = len(resources_of_type(template, "AWS::Logs::MetricFilter"))
    fixed = RUNS_PER_YEAR * (alarms * ALARM_MONTH + metrics * CUSTOM_METRIC_MONTH + KMS_KEY_MONTH)
    print(
        f"fixed per year: {alarms} alarms + {metrics} custom metric (troubled exports) + 1 KMS key "
        f"(shared with the stack's alarm topic) = {fixed:.2f} USD"
    )
    print("free tiers (4,000 transitions, 1M Lambda requests, 1,000 e-mails a month) cover the workflow here")


if __name__ == "__main__":
    main()
