"""`make cost` (tools/cost.py): the figures follow the settings, and each page's cost table is the
command's output for the defaults."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from stacks.settings import KitSettings, SettingsError, settings_from_context
from stacks.workloads import KEYS
from tests.conftest import KitAssembly, cdk_json_context
from tools import cost

REPO_ROOT = Path(__file__).resolve().parents[1]
BLOCK = re.compile(r"<!-- make cost: begin -->\n(.*?)\n<!-- make cost: end -->", re.DOTALL)


def _default_report(kit: KitAssembly) -> dict[str, str]:
    return cost.report(kit.templates, settings_from_context(cdk_json_context()))


@pytest.mark.parametrize("workload", [key for key in KEYS if key in cost.USAGE])
def test_the_page_s_cost_table_is_the_command_s_output_for_the_defaults(kit: KitAssembly, workload: str) -> None:
    page = (REPO_ROOT / "docs" / f"{workload}.md").read_text()
    block = BLOCK.search(page)
    assert block, f"docs/{workload}.md has no '<!-- make cost: begin -->' block: paste `make cost`'s section there"
    assert block.group(1) == _default_report(kit)[workload]


def test_a_setting_changes_the_price_before_deploy(kit: KitAssembly) -> None:
    default = settings_from_context(cdk_json_context())
    smaller = settings_from_context({**cdk_json_context(), "kit.durableEtl.batchSize": "100"})
    longer = settings_from_context({**cdk_json_context(), "kit.logRetentionDays": "365"})

    def total(settings: KitSettings, key: str) -> float:
        usage = cost.usage_for(key, {})
        lines = cost.workload_lines(kit.templates[key], key, settings.of(key), settings.common, usage)
        return sum(line.usd for line in lines)

    # Ten times the batches: ten times the durable operations and S3 requests.
    assert total(smaller, "durable-etl") > total(default, "durable-etl")
    for key in KEYS:
        assert total(longer, key) > total(default, key)


def test_usage_inputs_are_named_and_checked() -> None:
    assert cost.usage_for("destinations", {"destinations.jobsPerMonth": 5})["jobsPerMonth"] == 5
    with pytest.raises(SystemExit, match="has no input 'jobs'"):
        cost.usage_for("destinations", {"destinations.jobs": 5})


def test_a_value_synth_refuses_is_refused_before_anything_is_priced(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SettingsError, match="batchSize"):
        cost.main(["-c", "kit.durableEtl.batchSize=0"])
    assert capsys.readouterr().out == ""


def test_every_price_is_positive_and_dated() -> None:
    assert all(price > 0 for price in cost.PRICES.values())
    assert re.fullmatch(r"\d{4}-\d{2}", cost.PRICES_DATE)
    assert all(url.startswith("https://aws.amazon.com/") for url in cost.PRICE_SOURCES)
