"""The README and docs/ document every `kit.*` setting of cdk.json exactly once, in a settings table."""

from __future__ import annotations

import json
import re
from collections import Counter
from pathlib import Path
from typing import Any

from stacks.kit_settings import settings_from_context
from support.synth_cache import cdk_json_context

REPO_ROOT = Path(__file__).resolve().parents[1]
DOCUMENTS = [REPO_ROOT / "README.md", *sorted((REPO_ROOT / "docs").glob("*.md"))]
# Values that are free-form maps chosen by the user (tag name -> value), not groups of settings.
FREE_FORM_MAPS = {"kit.tags"}
# A settings table row: its first cell is the full dotted key in backticks.
SETTING_ROW = re.compile(r"^\|\s*`(kit\.[A-Za-z0-9.]+)`\s*\|", re.MULTILINE)


def setting_keys(value: Any, path: str) -> list[str]:
    if isinstance(value, dict) and path not in FREE_FORM_MAPS:
        return [key for name, child in value.items() for key in setting_keys(child, f"{path}.{name}")]
    return [path]


def documented_keys() -> Counter[str]:
    return Counter(key for doc in DOCUMENTS for key in SETTING_ROW.findall(doc.read_text()))


def test_the_settings_walk_finds_nested_keys() -> None:
    keys = setting_keys({"stage": "dev", "tags": {"a": "b"}, "w": {"schedule": {"on": True}}}, "kit")
    assert keys == ["kit.stage", "kit.tags", "kit.w.schedule.on"]


def test_every_setting_in_cdk_json_is_documented_exactly_once() -> None:
    keys = setting_keys(json.loads((REPO_ROOT / "cdk.json").read_text())["context"]["kit"], "kit")
    documented = documented_keys()
    counts = {key: documented[key] for key in keys if documented[key] != 1}
    assert counts == {}, "settings documented other than once (key: table rows), in README.md + docs/*.md"


def test_no_settings_table_documents_a_key_the_kit_does_not_read() -> None:
    # cdk.json's keys, and those left to their defaults there (a list a removed workload emptied).
    keys = set(setting_keys(json.loads((REPO_ROOT / "cdk.json").read_text())["context"]["kit"], "kit"))
    read: set[str] = set()
    settings_from_context(cdk_json_context(), read=read)
    assert set(documented_keys()) - keys - read == set()
