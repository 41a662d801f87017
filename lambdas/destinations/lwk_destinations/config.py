"""`load_config(environ)`: the one place the functions read their environment."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from . import contract
from .errors import ConfigError


@dataclass(frozen=True)
class Config:
    # Where the failure handler keeps failures; None in the functions that do not keep any.
    kept_failures_queue_url: str | None

    def keep_target(self) -> str:
        """The queue URL the failure handler needs, or ConfigError naming the missing variable."""
        if not self.kept_failures_queue_url:
            raise ConfigError(f"environment variable {contract.KEPT_FAILURES_QUEUE_URL_ENV} is not set")
        return self.kept_failures_queue_url


def load_config(environ: Mapping[str, str]) -> Config:
    return Config(kept_failures_queue_url=environ.get(contract.KEPT_FAILURES_QUEUE_URL_ENV) or None)
