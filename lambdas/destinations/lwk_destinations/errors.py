"""Typed errors of the destinations workload. Their messages never carry payload content."""

from __future__ import annotations


class ConfigError(RuntimeError):
    """The function was deployed without the environment it needs, or with a wrong value."""


class MalformedRecordError(ValueError):
    """The event is not the invocation record this destination expects.

    Raised (never swallowed) so that Lambda retries the destination and then hands the event to
    the function's dead-letter queue, where it can be read; a malformed record is never dropped.
    """


class InvalidJobRequestError(ValueError):
    """The event is not a job request. Retrying will not help; replay after fixing the payload."""


class JobFailedError(RuntimeError):
    """The job ran and failed."""


class UnreadableKeptFailureError(ValueError):
    """A message in the queue of failed requests is not a kept failure (or its offloaded copy is gone)."""
