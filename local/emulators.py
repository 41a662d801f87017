"""The local AWS emulators `make deploy-local` can deploy into, each started on 127.0.0.1 and a free port.

MiniStack (default): pure Python, runs Lambda code on the host; installed into its own pinned
virtualenv (`.cache/local/venv-ministack`) because it pins botocore exactly. LocalStack: for users with
Docker; started as a pinned image with the Docker CLI (Lambda runs in containers it starts through the
Docker socket). Both are reached with `AWS_ENDPOINT_URL=http://127.0.0.1:<port>`.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from stacks.settings.common import APP_NAME

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows has no fcntl; the local deploy needs Linux anyway
    fcntl = None  # type: ignore[assignment]

LOCAL_DIR = Path(__file__).resolve().parent
# Under .cache/ (git-ignored, skipped by the repository's linters): the emulator's virtualenv, and
# each emulator's state (port, process, CDK_HOME, TMPDIR, cdk.out, logs, timings).
CACHE_DIR = LOCAL_DIR.parent / ".cache" / "local"
STATE_ROOT = CACHE_DIR / "state"
START_TIMEOUT_SECONDS = 120
STOP_TIMEOUT_SECONDS = 15

# localstack-core 2026.3.0 is the newest release on PyPI (November 2026); its image carries the same tag.
LOCALSTACK_IMAGE = os.environ.get("LOCALSTACK_IMAGE", "localstack/localstack:2026.3.0")


# From the (already cleaned) environment of the local deploy into MiniStack's, besides its AWS_* values.
_EMULATOR_PASSES = ("PATH", "HOME", "LANG", "LC_ALL", "TZ")
# Read by local/ministack/serve.py: the process whose end stops the emulator (the test run's).
STOP_WITH_VARIABLE = "LWK_EMULATOR_STOP_WITH_PID"


class EmulatorError(RuntimeError):
    """The emulator could not be installed, started or stopped."""


@dataclass(frozen=True)
class Running:
    """What a started emulator leaves in its state file, so later commands can reach and stop it."""

    emulator: str
    port: int
    pid: int | None = None  # MiniStack: the launcher's process (group leader)
    container: str | None = None  # LocalStack: the container name

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.port}"


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def port_in_use(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        return probe.connect_ex(("127.0.0.1", port)) == 0


def _wait_healthy(url: str, deadline: float, alive: Callable[[], bool]) -> None:
    while time.monotonic() < deadline:
        if not alive():
            raise EmulatorError(f"the emulator exited before {url} answered")
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return
        except (urllib.error.URLError, OSError):
            pass
        time.sleep(0.3)
    raise EmulatorError(f"{url} did not answer within {START_TIMEOUT_SECONDS} s")


class MiniStack:
    name = "ministack"
    venv = CACHE_DIR / "venv-ministack"
    requirements = LOCAL_DIR / "ministack" / "requirements.txt"
    launcher = LOCAL_DIR / "ministack" / "serve.py"

    @property
    def python(self) -> Path:
        return self.venv / "bin" / "python"

    def install(self) -> None:
        """Create or refresh MiniStack's virtualenv from the pinned requirements (once per change)."""
        marker = self.venv / ".installed"
        wanted = hashlib.sha256(self.requirements.read_bytes()).hexdigest()
        if marker.is_file() and marker.read_text() == wanted:
            return
        self.venv.parent.mkdir(parents=True, exist_ok=True)
        with (self.venv.parent / "venv-ministack.lock").open("w") as lock:
            if fcntl is not None:
                fcntl.flock(lock, fcntl.LOCK_EX)
            if marker.is_file() and marker.read_text() == wanted:
                return
            shutil.rmtree(self.venv, ignore_errors=True)
            # The base interpreter, not the project's venv: a venv made from a venv's python is fine,
            # but this keeps the emulator's packages out of the project's environment entirely.
            base = getattr(sys, "_base_executable", sys.executable)
            _run([base, "-m", "venv", str(self.venv)], "create MiniStack's virtualenv")
            _run(
                [str(self.python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
                 "--requirement", str(self.requirements)],
                f"install MiniStack from {self.requirements.relative_to(LOCAL_DIR.parent)}",
            )  # fmt: skip
            marker.write_text(wanted)

    def start(self, port: int, state_dir: Path, environ: dict[str, str], stop_with: int | None = None) -> Running:
        """MiniStack on 127.0.0.1:`port`; with `stop_with`, it stops by itself once that process is gone."""
        tmpdir = state_dir / "tmp"
        tmpdir.mkdir(parents=True, exist_ok=True)
        # Only what it needs: MiniStack reads many variables (SERVICES, PERSIST_STATE, AUTH, ...), and its
        # functions inherit its environment, so nothing else of the user's shell may reach it.
        env = {
            **{k: v for k, v in environ.items() if k in _EMULATOR_PASSES or k.startswith("AWS_")},
            "BIND_HOST": "127.0.0.1",
            "GATEWAY_PORT": str(port),
            "TMPDIR": str(tmpdir),
            "MINISTACK_REGION": environ["AWS_REGION"],
            "LOG_LEVEL": "WARNING",
            **({STOP_WITH_VARIABLE: str(stop_with)} if stop_with else {}),
            # Functions reach the emulator at the same address as the CLI does.
            "AWS_ENDPOINT_URL": f"http://127.0.0.1:{port}",
        }
        log = (state_dir / "emulator.log").open("ab")
        process = subprocess.Popen(
            [str(self.python), str(self.launcher)],
            cwd=state_dir,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group: stopping it also stops its Lambda workers
        )
        running = Running(self.name, port, pid=process.pid)
        try:
            _wait_healthy(
                f"{running.endpoint}/_ministack/health",
                time.monotonic() + START_TIMEOUT_SECONDS,
                lambda: process.poll() is None,
            )
        except EmulatorError:
            self.stop(running)
            raise EmulatorError(f"MiniStack did not start; its log: {state_dir / 'emulator.log'}") from None
        return running

    def stop(self, running: Running) -> None:
        if running.pid is None or not self._is_launcher(running.pid):
            return  # gone already, or the id now belongs to another process: never signal that one
        try:
            os.killpg(running.pid, signal.SIGTERM)
        except ProcessLookupError:
            return
        deadline = time.monotonic() + STOP_TIMEOUT_SECONDS
        while time.monotonic() < deadline and _group_alive(running.pid):
            _reap(running.pid)
            time.sleep(0.2)
        if _group_alive(running.pid):
            os.killpg(running.pid, signal.SIGKILL)
            _reap(running.pid)

    def _is_launcher(self, pid: int) -> bool:
        try:
            command_line = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
        except OSError:
            return False
        return str(self.launcher).encode() in command_line


class LocalStack:
    """LocalStack in Docker (not runnable on a machine without a Docker engine, such as this kit's CI)."""

    name = "localstack"

    def install(self) -> None:
        if shutil.which("docker") is None:
            raise EmulatorError("EMULATOR=localstack needs Docker (the docker CLI and a running engine)")
        if not os.environ.get("LOCALSTACK_AUTH_TOKEN"):
            # Since March 2026 the localstack/localstack image refuses to start without one.
            raise EmulatorError("EMULATOR=localstack needs LOCALSTACK_AUTH_TOKEN (free LocalStack account)")
        present = subprocess.run(["docker", "image", "inspect", LOCALSTACK_IMAGE], capture_output=True, check=False)
        if present.returncode != 0:
            _run(["docker", "pull", "--quiet", LOCALSTACK_IMAGE], f"pull {LOCALSTACK_IMAGE}")

    def start(self, port: int, state_dir: Path, environ: dict[str, str], stop_with: int | None = None) -> Running:
        container = f"{APP_NAME}-localstack-{port}"
        _run(
            [
                "docker", "run", "--detach", "--rm", "--name", container,
                "--publish", f"127.0.0.1:{port}:4566",
                "--env", "LOCALSTACK_AUTH_TOKEN",
                "--env", f"AWS_DEFAULT_REGION={environ['AWS_REGION']}",
                # Lambda functions run in containers LocalStack starts through the host's Docker socket.
                "--volume", "/var/run/docker.sock:/var/run/docker.sock",
                LOCALSTACK_IMAGE,
            ],
            "start LocalStack",
            env={**os.environ, "LOCALSTACK_AUTH_TOKEN": os.environ.get("LOCALSTACK_AUTH_TOKEN", "")},
        )  # fmt: skip
        running = Running(self.name, port, container=container)

        def alive() -> bool:
            probe = subprocess.run(["docker", "inspect", container], capture_output=True, check=False)
            return probe.returncode == 0

        try:
            _wait_healthy(f"{running.endpoint}/_localstack/health", time.monotonic() + START_TIMEOUT_SECONDS, alive)
        except EmulatorError:
            self.stop(running)
            raise
        return running

    def stop(self, running: Running) -> None:
        if running.container:
            subprocess.run(["docker", "stop", running.container], capture_output=True, check=False)


EMULATORS: dict[str, type[MiniStack] | type[LocalStack]] = {"ministack": MiniStack, "localstack": LocalStack}


def emulator(name: str) -> MiniStack | LocalStack:
    if name not in EMULATORS:
        raise EmulatorError(f"EMULATOR={name!r}: allowed are {', '.join(EMULATORS)}")
    return EMULATORS[name]()


def _group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _reap(pid: int) -> None:
    # When this process started the emulator, collect it so it does not linger as a zombie.
    try:
        os.waitpid(pid, os.WNOHANG)
    except ChildProcessError:
        pass


def _run(command: list[str], what: str, env: dict[str, str] | None = None) -> None:
    result = subprocess.run(command, capture_output=True, text=True, check=False, env=env)
    if result.returncode != 0:
        raise EmulatorError(f"could not {what}:\n{(result.stderr or result.stdout).strip()[-3000:]}")


def save_running(state_dir: Path, running: Running) -> None:
    (state_dir / "emulator.json").write_text(json.dumps(running.__dict__, indent=2) + "\n")


def load_running(state_dir: Path) -> Running | None:
    path = state_dir / "emulator.json"
    if not path.is_file():
        return None
    return Running(**json.loads(path.read_text()))
