"""The kit's typed settings, read once from CDK context and validated before any construct exists.

All settings live under one context key, `kit`, in `cdk.json`. A single value can be overridden on
the command line with its dotted path: `npx cdk synth -c kit.logExport.monthsBack=6`.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from .common import CommonSettings, read_common
from .custom_runtime import CustomRuntimeSettings, read_custom_runtime
from .destinations import DestinationsSettings, read_destinations
from .log_export import LogExportSettings, read_log_export
from .reader import SettingsError, SettingsReader

if TYPE_CHECKING:
    from stacks.durable_etl.settings import DurableEtlSettings

CONTEXT_KEY = "kit"

__all__ = [
    "CONTEXT_KEY",
    "CommonSettings",
    "CustomRuntimeSettings",
    "DestinationsSettings",
    "DurableEtlSettings",
    "KitSettings",
    "LogExportSettings",
    "SettingsError",
    "settings_from_context",
]


@dataclass(frozen=True)
class KitSettings:
    common: CommonSettings
    durable_etl: DurableEtlSettings
    log_export: LogExportSettings
    destinations: DestinationsSettings
    custom_runtime: CustomRuntimeSettings


def _parse_cli_value(raw: Any) -> Any:
    # `-c key=value` hands every value over as a string; JSON gives numbers, booleans and lists back.
    if not isinstance(raw, str):
        return raw
    try:
        return json.loads(raw)
    except ValueError:
        return raw


def _merge_overrides(context: Mapping[str, Any]) -> dict[str, Any]:
    base = _parse_cli_value(context.get(CONTEXT_KEY, {}))
    if not isinstance(base, Mapping):
        raise SettingsError(f"{CONTEXT_KEY}: {json.dumps(base)} is not an object")
    merged = copy.deepcopy(dict(base))
    for key in sorted(k for k in context if k.startswith(CONTEXT_KEY + ".")):
        *parents, leaf = key.split(".")[1:]
        target = merged
        for part in parents:
            target = target.setdefault(part, {})
            if not isinstance(target, dict):
                raise SettingsError(f"{key}: cannot override inside a value that is not an object")
        target[leaf] = _parse_cli_value(context[key])
    return merged


def __getattr__(name: str) -> Any:
    # Workload settings live with their workload (stacks/<workload>/settings.py), which imports
    # this package's reader: imported on first use, not here, so neither import starts a cycle.
    if name == "DurableEtlSettings":
        from stacks.durable_etl.settings import DurableEtlSettings

        return DurableEtlSettings
    raise AttributeError(name)


def settings_from_context(context: Mapping[str, Any]) -> KitSettings:
    """Validate the `kit` context (with `-c kit.a.b=value` overrides) into typed settings."""
    from stacks.durable_etl.settings import read_durable_etl

    root = SettingsReader(_merge_overrides(context), CONTEXT_KEY)
    readers = {
        "durableEtl": root.child("durableEtl"),
        "logExport": root.child("logExport"),
        "destinations": root.child("destinations"),
        "customRuntime": root.child("customRuntime"),
    }
    common = read_common(root)
    settings = KitSettings(
        common=common,
        durable_etl=read_durable_etl(readers["durableEtl"]),
        log_export=read_log_export(readers["logExport"], stage=common.stage),
        destinations=read_destinations(readers["destinations"]),
        custom_runtime=read_custom_runtime(readers["customRuntime"]),
    )
    for reader in (root, *readers.values()):
        reader.done()
    return settings
