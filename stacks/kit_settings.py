"""The kit's settings, read once from CDK context and validated before any construct exists.

All settings live under one context key, `kit`, in `cdk.json`. A single value can be overridden on
the command line with its dotted path: `./cdk synth -c kit.stage=prod`. The common settings and
the reader are the foundation's (stacks/settings/); each registered workload reads `kit.<contextKey>`
with its own reader, and any other key is refused. This module sits on the registry's layer.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from stacks.github_deploy import CONTEXT_KEY as GITHUB_CONTEXT_KEY
from stacks.github_deploy import GithubSettings, read_github
from stacks.settings import CONTEXT_KEY, CommonSettings, SettingsReader, merge_overrides, read_common
from stacks.workloads import WORKLOADS

__all__ = ["KitSettings", "settings_from_context"]


@dataclass(frozen=True)
class KitSettings:
    """The common settings and each registered workload's settings (by workload key)."""

    common: CommonSettings
    workloads: Mapping[str, Any]
    # The deploy identity's settings (`kit.github`, stacks/github_deploy/): not a workload.
    github: GithubSettings

    def of(self, key: str) -> Any:
        """The settings of workload `key` (`order-intake`)."""
        return self.workloads[key]

    def __getattr__(self, python_name: str) -> Any:
        # `settings.order_intake`: the workload's settings by its Python name.
        workloads = self.__dict__.get("workloads", {})
        key = python_name.replace("_", "-")
        if key in workloads:
            return workloads[key]
        raise AttributeError(f"KitSettings has no attribute or workload {python_name!r}")


def settings_from_context(context: Mapping[str, Any], *, read: set[str] | None = None) -> KitSettings:
    """Validate the `kit` context (with `-c kit.a.b=value` overrides) into typed settings.

    Each workload of `stacks.workloads.WORKLOADS` reads `kit.<contextKey>`, the deploy identity reads
    `kit.github`; any other key is refused.
    `read`, if given, receives every dotted key the kit read (given or left to its default).
    """
    root = SettingsReader(merge_overrides(context), CONTEXT_KEY, read=read)
    common = read_common(root, workloads=tuple(workload.key for workload in WORKLOADS))
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
