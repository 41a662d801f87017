"""`make cost` (tools/cost.py): the figures follow the settings, and each page's cost table is the
command's output for the defaults."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from stacks.kit_settings import KitSettings, settings_from_context
from stacks.settings import SettingsError
from stacks.workloads import KEYS
from tests.conftest import KitAssembly, cdk_json_context
from tools import cost

REPO_ROOT = Path(__file__).resolve().parents[1]
BLOCK = re.compile(r"<!-- make cost: begin -->\n(.*?)\n<!-- make cost: end -->", re.DOTALL)


def total_usd(kit: KitAssembly, settings: KitSettings, key: str) -> float:
    """A workload's monthly total at its default usage, under `settings`."""
    usage = cost.usage_for(key, {})
    return sum(
        line.usd for line in cost.workload_lines(kit.templates[key], key, settings.of(key), settings.common, usage)
    )


def _default_report(kit: KitAssembly) -> dict[str, str]:
    return cost.report(kit.templates, settings_from_context(cdk_json_context()))


@pytest.mark.parametrize("workload", [key for key in KEYS if cost.usage_model(key) is not None])
def test_the_page_s_cost_table_is_the_command_s_output_for_the_defaults(kit: KitAssembly, workload: str) -> None:
    page = (REPO_ROOT / "docs" / f"{workload}.md").read_text()
    block = BLOCK.search(page)
    assert block, f"docs/{workload}.md has no '<!-- make cost: begin -->' block: paste `make cost`'s section there"
    assert block.group(1) == _default_report(kit)[workload]


def test_a_longer_log_retention_costs_more_in_every_workload(kit: KitAssembly) -> None:
    default = settings_from_context(cdk_json_context())
    longer = settings_from_context({**cdk_json_context(), "kit.logRetentionDays": "365"})
    for key in KEYS:
        assert total_usd(kit, longer, key) > total_usd(kit, default, key), key


def test_an_unknown_usage_input_is_refused_naming_the_known_ones() -> None:
    key = next((k for k in KEYS if cost.usage_model(k) is not None), None)
    if key is None:
        pytest.skip("no workload has a usage model")
    with pytest.raises(SystemExit, match="has no input 'noSuchInput'"):
        cost.usage_for(key, {f"{key}.noSuchInput": 5})


def test_a_value_synth_refuses_is_refused_before_anything_is_priced(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SettingsError, match="logRetentionDays"):
        cost.main(["-c", "kit.logRetentionDays=45"])
    assert capsys.readouterr().out == ""


def test_every_price_is_positive_and_dated() -> None:
    assert all(price > 0 for price in cost.PRICES.values())
    assert re.fullmatch(r"\d{4}-\d{2}", cost.PRICES_DATE)
    assert all(url.startswith("https://aws.amazon.com/") for url in cost.PRICE_SOURCES)
