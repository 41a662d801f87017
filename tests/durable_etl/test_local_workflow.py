"""The durable ETL's local deploy settings (local/workflows/durable_etl.py): a run the e2e starts loads
within minutes of the deploy."""

from __future__ import annotations

from datetime import UTC, datetime

from local.workflows.durable_etl import local_settings


def test_local_settings_put_the_off_peak_hour_at_most_five_minutes_ahead() -> None:
    assert "kit.durableEtl.offPeakHour=18" in local_settings(datetime(2026, 11, 30, 18, 54, 59, tzinfo=UTC))
    assert "kit.durableEtl.offPeakHour=19" in local_settings(datetime(2026, 11, 30, 18, 55, tzinfo=UTC))
    assert "kit.durableEtl.offPeakHour=0" in local_settings(datetime(2026, 11, 30, 23, 58, tzinfo=UTC))
