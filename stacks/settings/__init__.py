"""The kit's settings foundation: the `kit` context with its `-c` overrides, the common settings and the
typed reader every workload's settings use. The kit's whole settings (every registered workload's)
are read one layer up, by the registry's `stacks/kit_settings.py`.

All settings live under one context key, `kit`, in `cdk.json`. A single value can be overridden on
the command line with its dotted path: `./cdk synth -c kit.stage=prod`.
"""

from __future__ import annotations

import copy
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

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

CONTEXT_KEY = "kit"

__all__ = [
    "CONTEXT_KEY",
    "CommonSettings",
    "SettingsError",
    "SettingsReader",
    "check_context_depth",
    "merge_overrides",
    "read_common",
]


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


def merge_overrides(context: Mapping[str, Any]) -> dict[str, Any]:
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
