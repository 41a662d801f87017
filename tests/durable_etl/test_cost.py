"""The durable ETL's usage model (tools/durable_etl_cost.py): its price follows its settings."""

from __future__ import annotations

import pytest

from stacks.kit_settings import settings_from_context
from stacks.settings import SettingsError
from tests.conftest import KitAssembly, cdk_json_context
from tests.test_cost import total_usd
from tools import cost

WORKLOAD = "durable-etl"


def test_a_smaller_batch_size_costs_more_before_deploy(kit: KitAssembly) -> None:
    default = settings_from_context(cdk_json_context())
    smaller = settings_from_context({**cdk_json_context(), "kit.durableEtl.batchSize": "100"})
    # Ten times the batches: ten times the durable operations and S3 requests.
    assert total_usd(kit, smaller, WORKLOAD) > total_usd(kit, default, WORKLOAD)


def test_a_batch_size_synth_refuses_is_refused_before_anything_is_priced(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SettingsError, match="batchSize"):
        cost.main(["-c", "kit.durableEtl.batchSize=0"])
    assert capsys.readouterr().out == ""
