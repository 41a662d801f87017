"""The ETL's business metrics: EMF lines of the real durable handler, once per run across replays."""

from __future__ import annotations

import io
import json
import os
from collections import Counter
from contextlib import redirect_stdout
from typing import Any

import pytest
from aws_durable_execution_sdk_python import DurableContext, durable_execution
from hypothesis import given, settings
from hypothesis import strategies as st
from lwk_durable_etl import contract
from lwk_durable_etl.config import load_config
from lwk_durable_etl.metrics import emit_run_metrics
from lwk_durable_etl.workflow import run_etl

from stacks.settings.common import APP_NAME
from support.emf import emf_points
from support.etl_datasets import write_dataset
from tests.durable_etl.conftest import Aws


def test_a_run_writes_its_counts_once_though_the_handler_replays(
    aws: Aws, run_execution: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    dataset = write_dataset(aws.s3, aws.bucket, "metered", records=300, objects=2, invalid_every=50)
    execution = run_execution({"datasetId": "metered", "batchSize": 100})
    assert execution.result.status.value == "SUCCEEDED", execution.result.error
    # The rate-limit wait alone makes the coordinator run again from the top.
    assert Counter(execution.event_types())["InvocationCompleted"] >= 2

    points = emf_points(capsys.readouterr().out)
    names = Counter((p.name, tuple(sorted(p.dimensions))) for p in points)
    assert names == {
        (contract.RECORDS_READ, ("service",)): 1,
        (contract.RECORDS_LOADED, ("service",)): 1,
        (contract.RECORDS_REJECTED, ("service",)): 1,
        (contract.REJECTED_PERCENT, ("service",)): 1,
        (contract.RECORDS_REJECTED, (contract.REASON_DIMENSION, "service")): len(contract.REJECT_REASONS),
    }
    value = {p.name: p.value for p in points if list(p.dimensions) == ["service"]}
    rejected = len(dataset.rejects)
    assert value == {
        contract.RECORDS_READ: 300,
        contract.RECORDS_LOADED: 300 - rejected,
        contract.RECORDS_REJECTED: rejected,
        contract.REJECTED_PERCENT: pytest.approx(100 * rejected / 300),
    }
    by_reason = {
        p.dimensions[contract.REASON_DIMENSION]: p.value for p in points if contract.REASON_DIMENSION in p.dimensions
    }
    assert by_reason == {"duplicate": 0, "invalid": rejected}
    for point in points:
        assert point.namespace == os.environ["POWERTOOLS_METRICS_NAMESPACE"]
        assert point.namespace.startswith(f"{APP_NAME}-")
        # Bounded: the service and a reason of the enum, never the dataset, run or record.
        assert point.dimensions["service"] == contract.SERVICE_NAME
        assert set(point.dimensions) <= {"service", contract.REASON_DIMENSION}


def test_an_empty_dataset_reports_zero_not_a_division_by_zero(
    aws: Aws, run_execution: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    aws.put("nothing/a.csv", "id,name,amount\nx1,,1\nx1,n,2\n")
    execution = run_execution({"datasetId": "nothing"})
    assert execution.result.status.value == "SUCCEEDED", execution.result.error
    points = {
        (p.name, p.dimensions.get(contract.REASON_DIMENSION)): p.value for p in emf_points(capsys.readouterr().out)
    }
    assert points[(contract.RECORDS_REJECTED, None)] == 2
    assert points[(contract.REJECTED_PERCENT, None)] == 100
    assert points[(contract.RECORDS_REJECTED, "duplicate")] == 1
    assert points[(contract.RECORDS_REJECTED, "invalid")] == 1


def test_metrics_outside_a_step_would_count_every_replay(
    aws: Aws, run_execution: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    # Why the run writes its metrics in a step: the same call at the top of the handler, before
    # the run's waits, prints once per invocation; the run's own step prints once.
    write_dataset(aws.s3, aws.bucket, "twice", records=40, objects=2)

    def body(event: dict[str, Any], context: DurableContext) -> dict[str, Any]:
        emit_run_metrics(
            namespace=os.environ["POWERTOOLS_METRICS_NAMESPACE"], read=-1, loaded=0, rejected=0, duplicates=0
        )
        return run_etl(event, context, load_config(os.environ))

    execution = run_execution({"datasetId": "twice"}, handler=durable_execution(body))
    assert execution.result.status.value == "SUCCEEDED", execution.result.error
    invocations = Counter(execution.event_types())["InvocationCompleted"]
    assert invocations >= 2
    reads = [p.value for p in emf_points(capsys.readouterr().out) if p.name == contract.RECORDS_READ]
    assert Counter(reads) == {-1: invocations, 40: 1}


@settings(max_examples=40, deadline=None)
@given(
    read=st.integers(min_value=0, max_value=10**15),
    rejected_share=st.floats(min_value=0, max_value=1),
    duplicate_share=st.floats(min_value=0, max_value=1),
)
def test_any_counts_make_valid_bounded_metric_lines(read: int, rejected_share: float, duplicate_share: float) -> None:
    rejected = int(read * rejected_share)
    duplicates = int(rejected * duplicate_share)
    out = io.StringIO()
    with redirect_stdout(out):
        emit_run_metrics(
            namespace=f"{APP_NAME}-test", read=read, loaded=read - rejected, rejected=rejected, duplicates=duplicates
        )
    text = out.getvalue()
    for line in text.splitlines():
        json.loads(line, parse_constant=lambda name: pytest.fail(f"{name} is not JSON"))  # no NaN/Infinity
    points = emf_points(text)
    percent = [p.value for p in points if p.name == contract.REJECTED_PERCENT]
    assert len(percent) == 1 and 0 <= percent[0] <= 100
    by_reason = {
        p.dimensions[contract.REASON_DIMENSION]: p.value for p in points if contract.REASON_DIMENSION in p.dimensions
    }
    assert set(by_reason) == set(contract.REJECT_REASONS) and sum(by_reason.values()) == rejected
