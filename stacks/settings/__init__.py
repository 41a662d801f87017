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
from .reader import SettingsError, SettingsReader

if TYPE_CHECKING:
    from stacks.custom_runtime.settings import CustomRuntimeSettings
    from stacks.destinations.settings import DestinationsSettings
    from stacks.durable_etl.settings import DurableEtlSettings
    from stacks.log_export.settings import LogExportSettings

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
    """The common settings and each registered workload's settings (by workload key)."""

    common: CommonSettings
    workloads: Mapping[str, Any]

    def of(self, key: str) -> Any:
        """The settings of workload `key` (`durable-etl`)."""
        return self.workloads[key]

    def __getattr__(self, python_name: str) -> Any:
        # `settings.durable_etl`: the workload's settings by its Python name.
        workloads = self.__dict__.get("workloads", {})
        key = python_name.replace("_", "-")
        if key in workloads:
            return workloads[key]
        raise AttributeError(f"KitSettings has no attribute or workload {python_name!r}")


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
    if name == "DestinationsSettings":
        from stacks.destinations.settings import DestinationsSettings

        return DestinationsSettings
    if name == "LogExportSettings":
        from stacks.log_export.settings import LogExportSettings

        return LogExportSettings
    if name == "CustomRuntimeSettings":
        from stacks.custom_runtime.settings import CustomRuntimeSettings

        return CustomRuntimeSettings
    raise AttributeError(name)


def settings_from_context(context: Mapping[str, Any]) -> KitSettings:
    """Validate the `kit` context (with `-c kit.a.b=value` overrides) into typed settings.

    Each workload of `stacks.workloads.WORKLOADS` reads `kit.<contextKey>`; any other key is refused.
    """
    # Imported here: the registry imports every workload's stack, and those import this package.
    from stacks.workloads import WORKLOADS

    root = SettingsReader(_merge_overrides(context), CONTEXT_KEY)
    common = read_common(root)
    readers = {workload.key: root.child(workload.context_key) for workload in WORKLOADS}
    settings = KitSettings(
        common=common,
        workloads={workload.key: workload.read_settings(readers[workload.key], common) for workload in WORKLOADS},
    )
    for reader in (root, *readers.values()):
        reader.done()
    return settings
