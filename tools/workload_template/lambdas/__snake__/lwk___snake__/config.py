"""The function's configuration, read from its environment variables."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

from . import contract
from .errors import ConfigError


@dataclass(frozen=True)
class Config:
    results_bucket: str
    results_prefix: str


def _required(environ: Mapping[str, str], name: str) -> str:
    value = environ.get(name, "").strip()
    if not value:
        raise ConfigError(f"environment variable {name} is not set")
    return value


def load_config(environ: Mapping[str, str]) -> Config:
    """The configuration from `environ`, or ConfigError naming the variable that is wrong."""
    prefix = _required(environ, contract.RESULTS_PREFIX)
    if not re.fullmatch(contract.RESULTS_PREFIX_PATTERN, prefix):
        raise ConfigError(
            f"environment variable {contract.RESULTS_PREFIX}={prefix!r} is not path segments each ending in '/'"
        )
    return Config(results_bucket=_required(environ, contract.RESULTS_BUCKET), results_prefix=prefix)
