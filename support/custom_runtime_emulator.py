"""AWS's Lambda Runtime Interface Emulator, run locally without Docker or SAM.

The emulator binary ships inside the `aws-sam-cli` wheel. `emulator_binary()` downloads that one
pinned, hash-checked wheel with pip into a cache directory and extracts only the binary for this
machine. `Emulator` runs it as a subprocess on loopback with a bootstrap as its runtime command and
invokes it over HTTP, as `sam local invoke` would, minus the container.

Part of the custom runtime workload: it goes with it when the workload is removed.
"""

from __future__ import annotations

import json
import os
import platform
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Any

from stacks.shared.build_cache import build_once
from support.paths import REPO_ROOT

# Gitignored with the rest of .cache/; `make clean` removes it.
CACHE_DIR = REPO_ROOT / ".cache" / "rie"

SAM_CLI_VERSION = "1.170.0"
# sha256 of aws_sam_cli-1.170.0-py3-none-any.whl on PyPI: pip refuses any other file.
SAM_CLI_WHEEL_SHA256 = "24ebaf5ecba38dc1758089968cb89ab61e124b84e92a344fc7a2771a47f4d0bf"
_ARCH_BY_MACHINE = {"x86_64": "x86_64", "amd64": "x86_64", "aarch64": "arm64", "arm64": "arm64"}

INVOKE_PATH = "/2015-03-31/functions/function/invocations"
# The emulator logs this once per runtime process it starts (its "init" phase).
INIT_LOG_MARKER = "INIT START"


class EmulatorError(RuntimeError):
    """The emulator could not be fetched, started or reached."""


def emulator_binary(cache_dir: Path = CACHE_DIR) -> Path:
    """Path of the emulator for this machine, downloaded and extracted on first use."""
    arch = _ARCH_BY_MACHINE.get(platform.machine().lower())
    if arch is None:
        raise EmulatorError(f"no Runtime Interface Emulator build for machine type {platform.machine()!r}")

    def fetch(staging: Path) -> None:
        # The wheel goes to a folder of this process's own: other pytest workers may fetch at the same time.
        downloads = staging.with_suffix(".downloads")
        shutil.rmtree(downloads, ignore_errors=True)
        downloads.mkdir()
        requirement = downloads / "sam-cli-requirement.txt"
        requirement.write_text(f"aws-sam-cli=={SAM_CLI_VERSION} --hash=sha256:{SAM_CLI_WHEEL_SHA256}\n")
        try:
            download = subprocess.run(
                [sys.executable, "-m", "pip", "download", "--quiet", "--no-deps", "--only-binary=:all:",
                 "--require-hashes", "--requirement", str(requirement), "--dest", str(downloads)],
                capture_output=True, text=True, timeout=300,
            )  # fmt: skip
            if download.returncode != 0:
                raise EmulatorError(f"pip could not download aws-sam-cli {SAM_CLI_VERSION}: {download.stderr.strip()}")
            wheel = downloads / f"aws_sam_cli-{SAM_CLI_VERSION}-py3-none-any.whl"
            member = f"samcli/local/rapid/aws-lambda-rie-{arch}"
            with zipfile.ZipFile(wheel) as archive, archive.open(member) as source, staging.open("wb") as target:
                shutil.copyfileobj(source, target, 1 << 20)
            staging.chmod(0o755)
        finally:
            shutil.rmtree(downloads, ignore_errors=True)

    return build_once(cache_dir / f"aws-lambda-rie-{arch}-{SAM_CLI_VERSION}", fetch)


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _child_pids(pid: int) -> list[int]:
    children: list[int] = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        try:
            children += [int(p) for p in (task / "children").read_text().split()]
        except OSError:
            continue
    return children


@dataclass(frozen=True)
class Invocation:
    status: int
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


class Emulator:
    """One emulator process serving one function; a context manager that always stops it.

    `task_root` and `handler` become the runtime's LAMBDA_TASK_ROOT and _HANDLER. The runtime's
    output and the emulator's own log go to `log_path`. `tmp_dir` is the runtime's TMPDIR.
    """

    def __init__(
        self,
        binary: Path,
        *,
        bootstrap: Path,
        task_root: Path,
        handler: str,
        log_path: Path,
        tmp_dir: Path,
        timeout_seconds: int = 10,
    ) -> None:
        self.binary, self.bootstrap, self.log_path = binary, bootstrap, log_path
        self.invoke_port, self.runtime_api_port = free_port(), free_port()
        self.environment = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "LANG": "C.UTF-8",
            "TMPDIR": str(tmp_dir),
            "LAMBDA_TASK_ROOT": str(task_root),
            "_HANDLER": handler,
            "AWS_LAMBDA_FUNCTION_TIMEOUT": str(timeout_seconds),
        }
        self._process: subprocess.Popen[bytes] | None = None

    def __enter__(self) -> Emulator:
        self.start()
        return self

    def __exit__(self, *exc: type[BaseException] | BaseException | TracebackType | None) -> None:
        self.stop()

    def start(self, ready_timeout: float = 10.0) -> None:
        command = [
            str(self.binary),
            "--runtime-interface-emulator-address", f"127.0.0.1:{self.invoke_port}",
            "--runtime-api-address", f"127.0.0.1:{self.runtime_api_port}",
            "--log-level", "info",
            str(self.bootstrap),
        ]  # fmt: skip
        with self.log_path.open("ab") as log:
            self._process = subprocess.Popen(
                command, env=self.environment, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                cwd=self.environment["LAMBDA_TASK_ROOT"], start_new_session=True,
            )  # fmt: skip
        deadline = time.monotonic() + ready_timeout
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                raise EmulatorError(f"emulator exited with {self._process.returncode}: {self.log()}")
            try:
                socket.create_connection(("127.0.0.1", self.invoke_port), timeout=0.5).close()
                return
            except OSError:
                time.sleep(0.02)
        self.stop()
        raise EmulatorError(f"emulator did not listen on 127.0.0.1:{self.invoke_port} within {ready_timeout} s")

    def invoke(self, payload: bytes | str | dict[str, Any], timeout: float = 20.0) -> Invocation:
        if isinstance(payload, dict):
            payload = json.dumps(payload, ensure_ascii=False)
        data = payload.encode() if isinstance(payload, str) else payload
        request = urllib.request.Request(f"http://127.0.0.1:{self.invoke_port}{INVOKE_PATH}", data=data, method="POST")
        # Loopback only, whatever proxy the environment names.
        opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
        try:
            with opener.open(request, timeout=timeout) as response:
                return Invocation(response.status, response.read())
        except urllib.error.HTTPError as error:
            return Invocation(error.code, error.read())

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def count_in_log(self, marker: str, expected: int | None = None, timeout: float = 5.0) -> int:
        """How often `marker` occurs in the log; waits up to `timeout` for `expected` (output lags)."""
        deadline = time.monotonic() + timeout
        while True:
            count = self.log().count(marker)
            if expected is None or count == expected or time.monotonic() >= deadline:
                return count
            time.sleep(0.02)

    def init_count(self, expected: int | None = None) -> int:
        return self.count_in_log(INIT_LOG_MARKER, expected)

    def stop(self) -> None:
        process = self._process
        if process is None:
            return
        self._process = None
        # The emulator puts each runtime in a process group of its own and kills it when asked to
        # stop; should it die first, the groups recorded here are killed so nothing outlives a test.
        runtime_groups = _child_pids(process.pid)
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait(timeout=5)
        for group in runtime_groups:
            try:
                os.killpg(group, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass


# What the `start_emulator` fixture hands a test: start(handler=..., bootstrap=..., task_root=...).
StartEmulator = Callable[..., Emulator]
