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
from collections.abc import Iterator
from contextlib import contextmanager
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

    def __init__(self, invocations: list[QueuedInvocation], *, wait_for_more: bool = False) -> None:
        self.queue = deque(invocations)
        self.result_status = {i.request_id: i.result_status for i in invocations}
        self.results: list[PostedResult] = []
        self.next_calls = 0
        # With wait_for_more, `next` on an empty queue waits for `submit` (as Lambda holds a
        # runtime between invocations) until `close_queue`; one runtime then serves many tests.
        self.wait_for_more = wait_for_more
        self.changed = threading.Condition()
        api = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                if self.path != f"{API_PREFIX}/invocation/next":
                    self._reply(404, b'{"errorType":"NotFound"}')
                    return
                with api.changed:
                    api.next_calls += 1
                    api.changed.notify_all()
                    api.changed.wait_for(lambda: api.queue or not api.wait_for_more)
                if not api.queue:
                    self._reply(500, b'{"errorType":"Test.QueueEmpty","errorMessage":"no more invocations"}')
                    return
                invocation = api.queue.popleft()
                self._reply(200, invocation.event, invocation.headers())

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", "0"))
                body = self.rfile.read(length)
                result = PostedResult(self.path, {k.lower(): v for k, v in self.headers.items()}, body)
                with api.changed:
                    api.results.append(result)
                    api.changed.notify_all()
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

    def submit(self, invocations: list[QueuedInvocation], timeout: float = 30.0) -> list[PostedResult]:
        """Queues `invocations` and returns what the runtime posted for them, once it has asked for
        the next invocation after the last one (so its log of them is complete)."""
        with self.changed:
            posted, asked = len(self.results), self.next_calls
            self.result_status.update({i.request_id: i.result_status for i in invocations})
            self.queue.extend(invocations)
            self.changed.notify_all()
            if not self.changed.wait_for(lambda: self.next_calls >= asked + len(invocations), timeout):
                raise TimeoutError(f"the runtime answered {self.next_calls - asked} of {len(invocations)} invocations")
            return self.results[posted:]

    def close_queue(self) -> None:
        """From now on `next` on an empty queue answers 500: the runtime under test exits."""
        with self.changed:
            self.wait_for_more = False
            self.changed.notify_all()

    def __enter__(self) -> FakeRuntimeApi:
        self._thread.start()
        return self

    def __exit__(self, *exc: type[BaseException] | BaseException | TracebackType | None) -> None:
        self.close_queue()
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)


@dataclass(frozen=True)
class RuntimeRun:
    returncode: int
    stderr: str
    results: list[PostedResult]
    next_calls: int


def _environment(api: FakeRuntimeApi, task_root: Path, handler: str, tmp_dir: Path) -> dict[str, str]:
    return {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "LANG": "C.UTF-8",
        "TMPDIR": str(tmp_dir),
        "AWS_LAMBDA_RUNTIME_API": api.address,
        "LAMBDA_TASK_ROOT": str(task_root),
        "_HANDLER": handler,
    }


@dataclass
class ServingRuntime:
    """One runtime process that serves whatever is submitted, and its log file so far."""

    api: FakeRuntimeApi
    process: subprocess.Popen[bytes]
    log_path: Path
    log_read: int = 0

    def invoke(self, invocations: list[QueuedInvocation]) -> tuple[list[PostedResult], bytes]:
        """The results of `invocations` and what the runtime logged while serving them."""
        results = self.api.submit(invocations)
        log = self.log_path.read_bytes()
        self.log_read, new_log = len(log), log[self.log_read :]
        return results, new_log


@contextmanager
def serving_runtime(
    bootstrap: Path, *, task_root: Path, handler: str, tmp_dir: Path, log_path: Path
) -> Iterator[ServingRuntime]:
    """Starts `bootstrap` against a FakeRuntimeApi that waits for more work; stops both at the end."""
    with FakeRuntimeApi([], wait_for_more=True) as api, log_path.open("wb") as log:
        process = subprocess.Popen(
            [str(bootstrap)], env=_environment(api, task_root, handler, tmp_dir), cwd=task_root,
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=log, start_new_session=True,
        )  # fmt: skip
        try:
            with api.changed:
                if not api.changed.wait_for(lambda: api.next_calls >= 1, timeout=30):
                    raise TimeoutError("the runtime never asked for an invocation")
            yield ServingRuntime(api, process, log_path)
        finally:
            api.close_queue()
            try:
                process.wait(timeout=10)
            finally:
                if process.poll() is None:
                    os.killpg(process.pid, signal.SIGKILL)
                    process.wait(timeout=5)


def run_runtime(
    bootstrap: Path,
    invocations: list[QueuedInvocation],
    *,
    task_root: Path,
    handler: str,
    tmp_dir: Path,
    timeout: float = 60.0,
    environment: dict[str, str] | None = None,
) -> RuntimeRun:
    """Runs `bootstrap` against a fresh FakeRuntimeApi until it exits (at the latest after `timeout`);
    `environment` adds variables (the function's own, as the stack sets them)."""
    with FakeRuntimeApi(invocations) as api:
        process = subprocess.Popen(
            [str(bootstrap)], env={**_environment(api, task_root, handler, tmp_dir), **(environment or {})}, cwd=task_root, stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True,
        )  # fmt: skip
        try:
            _, stderr = process.communicate(timeout=timeout)
        finally:
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGKILL)
                process.communicate(timeout=5)
        return RuntimeRun(process.returncode, stderr.decode(errors="replace"), list(api.results), api.next_calls)
