"""THE registry of the kit's workloads: each one is registered here, and only here.

The app (`stacks/kit_app.py`) builds one stack per entry, the settings reader
(`stacks/settings/__init__.py`) reads `kit.<contextKey>` for each entry and refuses any other key,
and the tests take the workload names, stack names and counts from `WORKLOADS`. Adding a workload
(`make workload NAME=<name>` does all of it) is: its package `stacks/<workload>/`, one import and
one `Workload(...)` line below, and its defaults under `kit.<contextKey>` in cdk.json.

A workload key is kebab case (`order-intake`); its Python name is snake case (`order_intake`: the
folders `stacks/order_intake/`, `lambdas/order_intake/lwk_order_intake/`, `tests/order_intake/`) and its
context key camel case (`orderIntake`, under `kit` in cdk.json).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

import aws_cdk as cdk
from constructs import Construct

from stacks.custom_runtime import CustomRuntimeStack, read_custom_runtime
from stacks.destinations import DestinationsStack, read_destinations
from stacks.durable_etl import DurableEtlStack, read_durable_etl
from stacks.github_deploy import CONTEXT_KEY as GITHUB_CONTEXT_KEY
from stacks.github_deploy import STACK_KEY as GITHUB_STACK_KEY
from stacks.log_export import LogExportStack, read_log_export
from stacks.settings.common import CommonSettings
from stacks.settings.reader import SettingsReader

KEY_PATTERN = r"[a-z][a-z0-9]*(-[a-z][a-z0-9]*)*"


class WorkloadStack(Protocol):
    """The one stack signature: `Stack(scope, id, *, env, common, settings)`."""

    def __call__(
        self, scope: Construct, construct_id: str, *, env: cdk.Environment | None, common: CommonSettings, settings: Any
    ) -> cdk.Stack: ...


# `read_<workload>(reader, common)`: the workload's settings from its `kit.<contextKey>` reader, with the
# common settings for what depends on them. One signature for every workload, stamped or sample.
SettingsReaderFn = Callable[[SettingsReader, CommonSettings], Any]


@dataclass(frozen=True)
class Workload:
    key: str
    stack: WorkloadStack
    read_settings: SettingsReaderFn

    def __post_init__(self) -> None:
        if not re.fullmatch(KEY_PATTERN, self.key):
            raise ValueError(f"workload key {self.key!r} is not kebab case ({KEY_PATTERN})")
        if GITHUB_STACK_KEY in (self.key, self.context_key) or self.context_key == GITHUB_CONTEXT_KEY:
            raise ValueError(f"workload key {self.key!r} is taken by the deploy identity (stacks/github_deploy/)")

    @property
    def python_name(self) -> str:
        """`order_intake`: the folder under stacks/, lambdas/ and tests/; `lwk_order_intake` is its Lambda package."""
        return self.key.replace("-", "_")

    @property
    def context_key(self) -> str:
        """`orderIntake`: its settings live under `kit.orderIntake` in cdk.json."""
        first, *rest = self.key.split("-")
        return first + "".join(part.capitalize() for part in rest)

    def stack_name(self, name_prefix: str) -> str:
        """`lwk-dev-order-intake` for the prefix `lwk-dev`."""
        return f"{name_prefix}-{self.key}"


WORKLOADS: tuple[Workload, ...] = (
    # One entry per workload: `make workload` adds one, `make remove-workload` removes one.
    Workload("durable-etl", DurableEtlStack, read_durable_etl),
    Workload("log-export", LogExportStack, read_log_export),
    Workload("destinations", DestinationsStack, read_destinations),
    Workload("custom-runtime", CustomRuntimeStack, read_custom_runtime),
)

KEYS: tuple[str, ...] = tuple(w.key for w in WORKLOADS)


def workload(key: str) -> Workload:
    """The registered workload with this key; KeyError naming the known ones otherwise."""
    for candidate in WORKLOADS:
        if key in (candidate.key, candidate.python_name, candidate.context_key):
            return candidate
    raise KeyError(f"no workload {key!r}; registered: {', '.join(KEYS)}")
