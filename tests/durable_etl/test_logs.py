"""No payload content in any log of the ETL (issue 12): ids, counts, sizes and error types only.

Markers are planted in every place a record's content can be: field values, extra fields, values
that get a record rejected (the reason names the value, but reasons go to the rejects objects in
S3), a line that does not parse, and the event of a run that fails. Every log line the coordinator
and its worker executions write (Powertools JSON on stdout, the SDK's and the libraries' logging)
is captured, and must hold none of them.
"""

from __future__ import annotations

import json
import logging
from typing import Any

import pytest

from tests.durable_etl.conftest import Aws

MARKERS = [f"PAYLOAD-MARKER-{n}" for n in range(6)]


def test_no_record_content_reaches_the_logs_of_a_fanned_out_run(
    aws: Aws, run_execution: Any, monkeypatch: pytest.MonkeyPatch, capfd: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
) -> None:  # fmt: skip
    # INFO: the functions' application log level in the template (DEBUG would add botocore's wire logs,
    # which Lambda never emits at INFO).
    caplog.set_level(logging.INFO)
    monkeypatch.setenv("SHARD_KILOBYTES", "16")  # several shards: the worker executions log too
    good = "".join(
        json.dumps({"id": f"r{i:04d}", "name": f"{MARKERS[0]} {i}", "amount": i, "note": MARKERS[1] * 3,
                    "nested": {"deep": [MARKERS[2]]}}) + "\n"
        for i in range(400)
    )  # fmt: skip
    rejected = json.dumps({"id": "bad1", "name": "n", "amount": MARKERS[3]}) + "\n"
    rejected += json.dumps({"id": "bad2", "name": "n", "amount": 1, "updatedAt": MARKERS[4]}) + "\n"
    aws.put("marked/a.jsonl", good + rejected)
    aws.put("marked/b.csv", "id,name,amount\n" + "".join(f"c{i},{MARKERS[0]},{i}\n" for i in range(300)))

    execution = run_execution({"datasetId": "marked", "batchSize": 50})
    assert execution.result.status.value == "SUCCEEDED", execution.result.error
    summary = json.loads(execution.result.result)
    assert summary["shards"] > 1 and summary["recordsRejected"] == 2
    # The reasons, with the values, are kept where a person can read them: the rejects objects.
    rejects = "".join(aws.s3.get_object(Bucket=aws.bucket, Key=k)["Body"].read().decode()
                      for k in aws.keys(f"_etl/marked/{summary['runId']}/rejects/"))  # fmt: skip
    assert MARKERS[3] in rejects and MARKERS[4] in rejects

    # A run that fails on a line that does not parse: its error names the object and line only.
    aws.put("broken/a.jsonl", json.dumps({"id": "x", "name": MARKERS[5]})[:-3] + "\n")
    failed = run_execution({"datasetId": "broken"})
    assert failed.result.error.type == "lwk_durable_etl.errors.UnparseableRecordError"
    assert MARKERS[5] not in failed.result.error.message

    out, err = capfd.readouterr()
    logged = out + err + "\n".join(record.getMessage() for record in caplog.records)
    assert "Loaded" in logged and "records rejected" in logged  # the logs were captured at all
    found = [marker for marker in MARKERS if marker in logged]
    assert found == [], f"payload content in the logs: {found}"
