"""Batches of JSON Lines in the run's work prefix: write, read, and remove a failed run's work."""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any


def encode_lines(entries: Iterable[Any]) -> bytes:
    """One JSON document per line, ASCII only: every character outside ASCII is escaped (`\\u2028`,
    a lone surrogate `\\ud800`), so no line separator other than the "\\n" written here can appear,
    and text that is not valid UTF-8 (a lone surrogate from a JSON source) is staged as it came."""
    return "".join(json.dumps(entry, separators=(",", ":")) + "\n" for entry in entries).encode("ascii")


def put_lines(s3: Any, bucket: str, key: str, entries: Iterable[Any]) -> None:
    s3.put_object(Bucket=bucket, Key=key, Body=encode_lines(entries), ContentType="application/x-ndjson")


def read_lines(s3: Any, bucket: str, key: str, **json_options: Any) -> Iterator[Any]:
    body = s3.get_object(Bucket=bucket, Key=key)["Body"].read()
    # On "\n" only: str.splitlines() would also cut at U+2028, U+0085, U+001C.. inside a record's text.
    for line in body.split(b"\n"):
        if line:
            yield json.loads(line, **json_options)


class BatchWriter:
    """Writes batches in the background so that parsing goes on while S3 answers.

    At most `in_flight` batches wait in memory; `close()` waits for all and raises the first
    failure, so a step never reports a batch that was not written.
    """

    def __init__(self, s3: Any, bucket: str, *, threads: int = 8, in_flight: int = 16) -> None:
        self._s3, self._bucket, self._in_flight = s3, bucket, in_flight
        self._pool = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="etl-put")
        self._pending: list[Future[None]] = []

    def write(self, key: str, entries: list[Any]) -> None:
        self._pending.append(self._pool.submit(put_lines, self._s3, self._bucket, key, entries))
        if len(self._pending) >= self._in_flight:
            self._pending.pop(0).result()

    def close(self) -> None:
        try:
            for future in self._pending:
                future.result()
        finally:
            self._pending.clear()
            self._pool.shutdown(wait=True, cancel_futures=True)

    def __enter__(self) -> BatchWriter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def put_json(s3: Any, bucket: str, key: str, value: Any) -> None:
    s3.put_object(Bucket=bucket, Key=key, Body=json.dumps(value, separators=(",", ":")).encode(),
                  ContentType="application/json")  # fmt: skip


def get_json(s3: Any, bucket: str, key: str) -> Any | None:
    """The JSON document at `key`, or None when there is none."""
    try:
        body = s3.get_object(Bucket=bucket, Key=key)["Body"].read()
    except s3.exceptions.NoSuchKey:
        return None
    return json.loads(body)


def list_keys(s3: Any, bucket: str, prefix: str) -> list[str]:
    """Every key under `prefix`, in key order."""
    pages = s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix)
    return sorted(entry["Key"] for page in pages for entry in page.get("Contents", []))


def delete_prefix(s3: Any, bucket: str, prefix: str) -> int:
    """Remove every version of every object under `prefix` (the bucket is versioned), return how many."""
    removed = 0
    for page in s3.get_paginator("list_object_versions").paginate(Bucket=bucket, Prefix=prefix):
        targets = [
            {"Key": v["Key"], "VersionId": v["VersionId"]}
            for v in (*page.get("Versions", []), *page.get("DeleteMarkers", []))
        ]
        for start in range(0, len(targets), 1000):
            chunk = targets[start : start + 1000]
            response = s3.delete_objects(Bucket=bucket, Delete={"Objects": chunk, "Quiet": True})
            if response.get("Errors"):
                first = response["Errors"][0]
                raise RuntimeError(f"could not delete s3://{bucket}/{first['Key']}: {first.get('Message')}")
            removed += len(chunk)
    return removed
