"""Every alarm of every registered stack has a runbook entry on its workload's page.

An alarm's name in AWS starts with its stack's name and its logical id; the logical id without its
8-character hash (`MonitoringFailedExecutions`) is what the runbook row names. Each row says what the
alarm means, the first three things to look at (a dashboard widget, a saved Logs Insights query, a
command) and how to recover without losing data.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from stacks.workloads import KEYS
from tests.conftest import KitAssembly

REPO_ROOT = Path(__file__).resolve().parents[1]
RUNBOOK = re.compile(r"^## Runbook\b.*?(?=^## |\Z)", re.MULTILINE | re.DOTALL)
ROW = re.compile(r"^\|\s*`([A-Za-z0-9]+)`\s*\|(.*)\|\s*$", re.MULTILINE)


def alarm_ids(template: dict[str, Any]) -> set[str]:
    return {
        re.sub(r"[0-9A-F]{8}$", "", logical_id)
        for logical_id, resource in template["Resources"].items()
        if resource["Type"] == "AWS::CloudWatch::Alarm"
    }


def runbook_rows(page: str) -> dict[str, list[str]]:
    """Alarm id -> the row's other cells, from the page's `## Runbook` section."""
    section = RUNBOOK.search(page)
    assert section, "no '## Runbook' section"
    return {m.group(1): [cell.strip() for cell in m.group(2).split(" | ")] for m in ROW.finditer(section.group(0))}


def missing_runbook_entries(template: dict[str, Any], page: str) -> list[str]:
    rows = runbook_rows(page)
    problems = [f"{alarm}: no runbook row" for alarm in sorted(alarm_ids(template) - set(rows))]
    for alarm, cells in rows.items():
        if len(cells) != 3 or not all(cells):
            problems.append(f"{alarm}: a row needs meaning | first three things to look at | recovery")
            continue
        look = cells[1]
        if not ("dashboard" in look.lower() and "query" in look.lower() and re.search(r"`(aws |\.venv|make )", look)):
            problems.append(f"{alarm}: look at a dashboard widget, a saved query and a command")
    return problems


@pytest.mark.parametrize("workload", KEYS)
def test_every_alarm_has_a_runbook_entry_on_its_page(kit: KitAssembly, workload: str) -> None:
    page = (REPO_ROOT / "docs" / f"{workload}.md").read_text()
    assert missing_runbook_entries(kit.templates[workload], page) == []


def test_the_check_notices_an_alarm_without_an_entry(kit: KitAssembly) -> None:
    workload = next(key for key in KEYS if alarm_ids(kit.templates[key]))
    page = (REPO_ROOT / "docs" / f"{workload}.md").read_text()
    first = sorted(alarm_ids(kit.templates[workload]))[0]
    without = "\n".join(line for line in page.splitlines() if not line.startswith(f"| `{first}`"))
    assert missing_runbook_entries(kit.templates[workload], without) == [f"{first}: no runbook row"]
