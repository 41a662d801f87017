"""One parse of each botocore data file per test process, instead of one per boto3 session.

botocore reads and parses a service's JSON model (hundreds of kilobytes for S3, DynamoDB, Step
Functions) for every new session, and the suite makes sessions by the thousand: a fixture's
clients, every in-process handler invocation, moto's own. Profiling the suite put 29% of its
samples in `Session.create_client`, most of that in JSON parsing of the same files. Models are
read-only data (botocore already hands the same parsed object to every client of a session), so
the suite shares each parsed file across sessions. Only the suite does this: the Lambda code and
the benchmarks build clients as they would in Lambda.
"""

from __future__ import annotations

import functools
import threading
from typing import Any

from botocore.loaders import JSONFileLoader

_lock = threading.Lock()


def share_parsed_models() -> None:
    """Cache `JSONFileLoader.load_file` by path for the rest of this process (idempotent)."""
    if getattr(JSONFileLoader.load_file, "shared_by_path", False):
        return
    parse = JSONFileLoader.load_file
    parsed: dict[str, Any] = {}

    @functools.wraps(parse)
    def load_file(self: JSONFileLoader, file_path: str) -> Any:
        if file_path not in parsed:
            loaded = parse(self, file_path)
            with _lock:
                parsed.setdefault(file_path, loaded)
        return parsed[file_path]

    load_file.shared_by_path = True  # type: ignore[attr-defined]
    JSONFileLoader.load_file = load_file
