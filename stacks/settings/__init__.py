"""The kit's typed settings, read once from CDK context and validated before any construct exists.

All settings live under one context key, `kit`, in `cdk.json`. A single value can be overridden on
the command line with its dotted path: `npx cdk synth -c kit.logExport.monthsBack=6`.
"""

from __future__ import annotations

import copy
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .common import CommonSettings, read_common
from .reader import (
    MAX_DEPTH,
    SettingsError,
    SettingsReader,
    depth_beyond,
    depth_beyond_text,
    parse_json_text,
    shorten,
    show,
)

if TYPE_CHECKING:
    from stacks.custom_runtime.settings import CustomRuntimeSettings
    from stacks.destinations.settings import DestinationsSettings
    from stacks.durable_etl.settings import DurableEtlSettings
    from stacks.github_deploy.settings import GithubSettings
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
    "check_context_depth",
    "settings_from_context",
]


@dataclass(frozen=True)
class KitSettings:
    """The common settings, each registered workload's settings (by workload key) and the deploy
    identity's (`kit.github`, stacks/github_deploy/)."""

    common: CommonSettings
    workloads: Mapping[str, Any]
    github: GithubSettings

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


# The CDK app hands its context to Python through jsii, recursively: a few hundred levels of nesting
# end in a RecursionError (a few thousand: Node runs out of memory) before any setting is read. No
# setting is nested more than MAX_DEPTH levels below `kit`, so anything twice as deep is refused first.
CONTEXT_DEPTH_LIMIT = 2 * MAX_DEPTH
# Where the CDK CLI puts the context: the environment, or a file when it is too large for that.
_CONTEXT_SOURCES = ("CDK_CONTEXT_JSON", "CONTEXT_OVERFLOW_LOCATION_ENV")


def check_context_depth(context: Mapping[str, Any] | None = None) -> None:
    """Refuse a CDK context (given, or the CLI's) nested deeper than any setting, before the app reads it."""
    texts = [os.environ.get(_CONTEXT_SOURCES[0], "")]
    if overflow := os.environ.get(_CONTEXT_SOURCES[1]):
        try:
            texts.append(Path(overflow).read_text())
        except (OSError, UnicodeDecodeError):
            pass  # the CDK app reports a context file it cannot read itself
    if any(depth_beyond_text(text, CONTEXT_DEPTH_LIMIT) for text in texts) or (
        context is not None and depth_beyond(context, CONTEXT_DEPTH_LIMIT)
    ):
        raise SettingsError(
            f"the CDK context (cdk.json, -c values) is nested more than {CONTEXT_DEPTH_LIMIT} levels deep; "
            f"no setting is nested more than {MAX_DEPTH} below {CONTEXT_KEY}"
        )


def _parse_cli_value(raw: Any) -> Any:
    # `-c key=value` hands every value over as a string; JSON gives numbers, booleans and lists back.
    return parse_json_text(raw) if isinstance(raw, str) else raw


def _merge_overrides(context: Mapping[str, Any]) -> dict[str, Any]:
    base = _parse_cli_value(context.get(CONTEXT_KEY, {}))
    if not isinstance(base, Mapping):
        raise SettingsError(f"{CONTEXT_KEY}: {show(base)} is not an object")
    if depth_beyond(base, MAX_DEPTH):
        # Checked before the copy below, which would recurse as deep as the value goes.
        raise SettingsError(f"{CONTEXT_KEY}: is nested more than {MAX_DEPTH} levels deep; no setting is")
    merged = copy.deepcopy(dict(base))
    for key in sorted(k for k in context if k.startswith(CONTEXT_KEY + ".")):
        *parents, leaf = key.split(".")[1:]
        if len(parents) >= MAX_DEPTH:
            raise SettingsError(f"{shorten(key)}: is nested more than {MAX_DEPTH} levels deep; no setting is")
        target = merged
        for part in parents:
            target = target.setdefault(part, {})
            if not isinstance(target, dict):
                raise SettingsError(f"{shorten(key)}: cannot override inside a value that is not an object")
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

    Each workload of `stacks.workloads.WORKLOADS` reads `kit.<contextKey>`, the deploy identity reads
    `kit.github`; any other key is refused.
    """
    # Imported here: the registry imports every workload's stack, and those import this package.
    from stacks.github_deploy import CONTEXT_KEY as GITHUB_CONTEXT_KEY
    from stacks.github_deploy import read_github
    from stacks.workloads import WORKLOADS

    root = SettingsReader(_merge_overrides(context), CONTEXT_KEY)
    common = read_common(root)
    readers = {workload.key: root.child(workload.context_key) for workload in WORKLOADS}
    github = root.child(GITHUB_CONTEXT_KEY)
    settings = KitSettings(
        common=common,
        workloads={workload.key: workload.read_settings(readers[workload.key], common) for workload in WORKLOADS},
        github=read_github(github),
    )
    for reader in (root, *readers.values(), github):
        reader.done()
    return settings
