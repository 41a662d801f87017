"""A loopback stand-in for Lambda's Runtime API that sends what the emulator never does.

The emulator never sends `Lambda-Runtime-Trace-Id`; this server hands out queued invocations with
whatever headers a test chooses, records every result the runtime posts, and answers 500 to `next`
once the queue is empty: the Runtime API's "container error, exit promptly", so a runtime under
test ends by itself.
"""

from __future__ import annotations

import os
import signal
import subprocess
import threading
import uuid
from collections import deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import TracebackType

API_PREFIX = "/2018-06-01/runtime"


@dataclass(frozen=True)
class QueuedInvocation:
    event: bytes
    trace_id: str | None = None
    deadline_ms: int = 1_900_000_000_000
    request_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    # What the API answers to the runtime's post of this invocation's result.
    result_status: int = 202

    def headers(self) -> dict[str, str]:
        headers = {
            "Lambda-Runtime-Aws-Request-Id": self.request_id,
            "Lambda-Runtime-Deadline-Ms": str(self.deadline_ms),
            "Lambda-Runtime-Invoked-Function-Arn": "arn:aws:lambda:eu-west-1:123456789012:function:bash",
        }
        if self.trace_id is not None:
            headers["Lambda-Runtime-Trace-Id"] = self.trace_id
        return headers


@dataclass(frozen=True)
class PostedResult:
    path: str
    headers: dict[str, str]
    body: bytes

    @property
    def request_id(self) -> str:
        return self.path.split("/")[-2]

    @property
    def kind(self) -> str:
        """`response`, `error` (of an invocation) or `init-error`."""
        return "init-error" if self.path == f"{API_PREFIX}/init/error" else self.path.rsplit("/", 1)[-1]


class FakeRuntimeApi:
    """Serves `invocations` in order on 127.0.0.1 (a free port); a context manager."""

    def __init__(self, invocations: list[QueuedInvocation]) -> None:
        self.queue = deque(invocations)
        self.result_status = {i.request_id: i.result_status for i in invocations}
        self.results: list[PostedResult] = []
        self.next_calls = 0
        api = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                if self.path != f"{API_PREFIX}/invocation/next":
                    self._reply(404, b'{"errorType":"NotFound"}')
                    return
                api.next_calls += 1
                if not api.queue:
                    self._reply(500, b'{"errorType":"Test.QueueEmpty","errorMessage":"no more invocations"}')
                    return
                invocation = api.queue.popleft()
                self._reply(200, invocation.event, invocation.headers())

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", "0"))
                body = self.rfile.read(length)
                result = PostedResult(self.path, {k.lower(): v for k, v in self.headers.items()}, body)
                api.results.append(result)
                status = 202 if result.kind == "init-error" else api.result_status.get(result.request_id, 404)
                self._reply(status, b'{"status":"OK"}' if status == 202 else b'{"errorType":"Test.Refused"}')

            def _reply(self, status: int, body: bytes, headers: dict[str, str] | None = None) -> None:
                self.send_response(status)
                for name, value in (headers or {}).items():
                    self.send_header(name, value)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: object) -> None:
                pass  # keep test output for failures

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.address = f"127.0.0.1:{self._server.server_address[1]}"
        self._thread = threading.Thread(target=self._server.serve_forever, name="fake-runtime-api", daemon=True)

    def __enter__(self) -> FakeRuntimeApi:
        self._thread.start()
        return self

    def __exit__(self, *exc: type[BaseException] | BaseException | TracebackType | None) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)


@dataclass(frozen=True)
class RuntimeRun:
    returncode: int
    stderr: str
    results: list[PostedResult]
    next_calls: int


def run_runtime(
    bootstrap: Path,
    invocations: list[QueuedInvocation],
    *,
    task_root: Path,
    handler: str,
    tmp_dir: Path,
    timeout: float = 60.0,
) -> RuntimeRun:
    """Runs `bootstrap` against a fresh FakeRuntimeApi until it exits (at the latest after `timeout`)."""
    with FakeRuntimeApi(invocations) as api:
        environment = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "LANG": "C.UTF-8",
            "TMPDIR": str(tmp_dir),
            "AWS_LAMBDA_RUNTIME_API": api.address,
            "LAMBDA_TASK_ROOT": str(task_root),
            "_HANDLER": handler,
        }
        process = subprocess.Popen(
            [str(bootstrap)], env=environment, cwd=task_root, stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True,
        )  # fmt: skip
        try:
            _, stderr = process.communicate(timeout=timeout)
        finally:
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGKILL)
                process.communicate(timeout=5)
        return RuntimeRun(process.returncode, stderr.decode(errors="replace"), list(api.results), api.next_calls)
