"""The errors the ETL raises on purpose, each naming what was wrong and what is allowed."""

from __future__ import annotations

from typing import NoReturn


class EtlError(Exception):
    """Base of the ETL's own errors. `retryable` says whether a step that raised it may run again."""

    retryable = False


class EtlInputError(EtlError):
    """The event or the dataset is unusable as given; running again cannot help."""


class InvalidEventError(EtlInputError):
    """The execution's input event is not `{"datasetId": str, "batchSize": int (optional)}`."""


class EmptyDatasetError(EtlInputError):
    """The dataset's prefix holds no .jsonl or .csv object, or they hold no record."""


class UnparseableRecordError(EtlInputError):
    """A source object has a line that is not a record (bad JSON, wrong column count, not UTF-8)."""


class SourceChangedError(EtlInputError):
    """An object the run was extracting disappeared from the dataset's prefix meanwhile."""


class VerificationError(EtlError):
    """The table does not hold what was transformed: rows were lost or overwritten."""


class UnprocessedItemsError(EtlError):
    """DynamoDB left items unwritten after every back-off; the load step runs again."""

    retryable = True


class UnprocessedKeysError(EtlError):
    """DynamoDB left keys unread after every back-off; the verify step runs again."""

    retryable = True


class ConfigurationError(EtlError):
    """The function's environment is incomplete or invalid (a deployment problem)."""


def _subclasses(cls: type[EtlError]) -> list[type[EtlError]]:
    return [cls, *(sub for direct in cls.__subclasses__() for sub in _subclasses(direct))]


def _qualified(cls: type) -> str:
    return f"{cls.__module__}.{cls.__qualname__}"


def error_class(error_type: str | None) -> type[EtlError] | None:
    """The ETL error class a checkpointed error type names, if it is one of ours."""
    return {_qualified(cls): cls for cls in _subclasses(EtlError)}.get(error_type or "")


def reraise_as_etl_error(error: Exception) -> NoReturn:
    """Raise the ETL error a durable operation failed with, else `error` itself.

    The SDK records a failed step's exception by type name and message only, and a child context
    or map reports the step's wrapper instead; turning it back into our class keeps the error a
    person sees typed across every level (and every replay: it is rebuilt from the checkpoint).
    """
    cls = error_class(getattr(error, "error_type", None))
    if cls is None:
        raise error
    raise cls(getattr(error, "message", None) or str(error)) from error
