"""Typed errors of the __Title__ function. Messages name what is wrong, never the payload's content."""

from __future__ import annotations


class ConfigError(RuntimeError):
    """An environment variable is missing or outside its bounds: the deployment is wrong."""


class RecordError(ValueError):
    """A message cannot become an item. It is reported as a batch item failure, retried, and after
    the queue's maxReceiveCount kept whole in its dead-letter queue."""
