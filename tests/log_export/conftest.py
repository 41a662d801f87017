"""Fixtures of the log export tests: moto, in-process handlers, and the synthesized templates."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from support.log_export_run import (
    NOTICE_EMAIL,
    SMALL_BOUND,
    TWO_GROUPS,
    ExportFaults,
    LogExportWorld,
    Recorder,
    install_export_faults,
    install_recorder,
    mocked_aws,
    outside_the_last_minute_of_a_month,
    synth_log_export,
)


@pytest.fixture
def aws() -> Iterator[None]:
    outside_the_last_minute_of_a_month()
    with mocked_aws():
        yield


@pytest.fixture
def recorder(monkeypatch: pytest.MonkeyPatch) -> Recorder:
    return install_recorder(monkeypatch)


@pytest.fixture
def export_faults(monkeypatch: pytest.MonkeyPatch) -> ExportFaults:
    return install_export_faults(monkeypatch)


@pytest.fixture
def world_factory(aws: None, recorder: Recorder) -> Callable[[dict[str, Any]], LogExportWorld]:
    return LogExportWorld


@pytest.fixture(scope="session")
def template(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """The stack as cdk.json configures it (one log group, 3 months back, the seed's Retry values)."""
    return synth_log_export(tmp_path_factory.mktemp("log-export"))


@pytest.fixture(scope="session")
def two_group_template(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """Two log groups, 3 months back, at most 4 exports per run and 3 status checks per export, the
    schedule off, notices by e-mail."""
    return synth_log_export(
        tmp_path_factory.mktemp("log-export-two-groups"),
        {
            "kit.logExport.logGroups": json.dumps(TWO_GROUPS),
            "kit.logExport.maxExportsPerRun": str(SMALL_BOUND),
            "kit.logExport.maxPolls": "3",
            "kit.logExport.schedule.enabled": "false",
            "kit.logExport.schedule.expression": "cron(30 1 5 * ? *)",
            "kit.logExport.notificationEmail": NOTICE_EMAIL,
        },
    )
