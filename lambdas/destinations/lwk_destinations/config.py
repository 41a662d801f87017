"""`load_config(environ)`: the one place the functions read their environment."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from . import contract
from .errors import ConfigError


@dataclass(frozen=True)
class KeepTarget:
    queue_url: str
    offload_bucket: str


@dataclass(frozen=True)
class Config:
    # Payload content (and error messages) in the logs: only when kit.destinations.logPayloads is on.
    log_payloads: bool
    # Where the failure handler keeps failures; None in the functions that keep none.
    kept_failures_queue_url: str | None
    offload_bucket: str | None

    def keep_target(self) -> KeepTarget:
        """Where the failure handler keeps failures, or ConfigError naming the missing variable."""
        if not self.kept_failures_queue_url:
            raise ConfigError(f"environment variable {contract.KEPT_FAILURES_QUEUE_URL_ENV} is not set")
        if not self.offload_bucket:
            raise ConfigError(f"environment variable {contract.OFFLOAD_BUCKET_ENV} is not set")
        return KeepTarget(queue_url=self.kept_failures_queue_url, offload_bucket=self.offload_bucket)


def _flag(environ: Mapping[str, str], name: str) -> bool:
    value = environ.get(name, "false")
    if value not in ("true", "false"):
        raise ConfigError(f"environment variable {name} must be 'true' or 'false' (got {len(value)} characters)")
    return value == "true"


def load_config(environ: Mapping[str, str]) -> Config:
    return Config(
        log_payloads=_flag(environ, contract.LOG_PAYLOADS_ENV),
        kept_failures_queue_url=environ.get(contract.KEPT_FAILURES_QUEUE_URL_ENV) or None,
        offload_bucket=environ.get(contract.OFFLOAD_BUCKET_ENV) or None,
    )
