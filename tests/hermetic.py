"""Processes the suite starts (the CDK CLI, benchmarks, README commands) see nothing of the shell's
AWS or CDK set-up, and the CLI keeps its caches in a CDK home of the suite's own.

Why: the CLI maps an access key to an account through `<CDK home>/cache/accounts_partitions.json`
(`~/.cdk` unless `CDK_HOME` says otherwise). A shell's key (or moto's `testing`, left behind by a
test) that the cache knows makes the CLI set `CDK_DEFAULT_ACCOUNT` without asking AWS, and the
templates then come out for that account. A profile, a region or an endpoint would steer it too.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
CDK_CLI = REPO_ROOT / "node_modules" / ".bin" / "cdk"
# The shell settings that change what AWS SDKs, the CDK CLI, CDK apps, Powertools or the kit itself
# (LWK_BUNDLING_ARCH picks the bundled wheels' platform) do.
SHELL_SETTINGS = ("AWS_", "CDK_", "POWERTOOLS_", "LWK_")
# Nothing to read from `~/.aws`, no instance metadata to ask: no credentials at all.
NO_AWS = {
    "AWS_CONFIG_FILE": os.devnull,
    "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
    "AWS_EC2_METADATA_DISABLED": "true",
}


def node_major_version() -> str:
    node = shutil.which("node")
    if node is None:
        return "20"
    result = subprocess.run([node, "-p", "process.versions.node.split('.')[0]"], capture_output=True, text=True)
    return result.stdout.strip() or "20"


def clean_environment(*, cdk_home: Path, path: str | None = None, **extra: str) -> dict[str, str]:
    """This process's environment without any AWS/CDK/Powertools setting, with `cdk_home` as the
    CDK home and this interpreter's venv first on PATH (cdk.json runs `python3 app.py`)."""
    environment = {name: value for name, value in os.environ.items() if not name.startswith(SHELL_SETTINGS)}
    environment.update(NO_AWS)
    environment["CDK_HOME"] = str(cdk_home)
    environment["CDK_DISABLE_CLI_TELEMETRY"] = "true"  # nothing to send it to, and nothing to wait for
    environment["PATH"] = (
        path if path is not None else os.pathsep.join([str(Path(sys.executable).parent), os.environ.get("PATH", "")])
    )
    environment["JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION"] = node_major_version()
    environment.update(extra)
    return environment


def run_cdk(
    arguments: list[str], *, cdk_home: Path, timeout: float = 600, **extra: str
) -> subprocess.CompletedProcess[str]:
    """The pinned CDK CLI in the repository, in a clean environment with its own CDK home."""
    return subprocess.run(
        [str(CDK_CLI), *arguments],
        cwd=REPO_ROOT,
        env=clean_environment(cdk_home=cdk_home, **extra),
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def guarded_variables() -> dict[str, str]:
    """The variables a test must leave as it found them: changed, they reach every later test of its
    worker (and the processes those start)."""
    return {name: value for name, value in os.environ.items() if name.startswith(SHELL_SETTINGS)}


class EnvironmentLeak(AssertionError):
    """A test left AWS/CDK/Powertools variables changed behind it."""


@contextmanager
def environment_left_as_found() -> Iterator[None]:
    """Raises `EnvironmentLeak` if the block leaves a guarded variable changed, after putting the
    variables back as they were, so that one leak cannot change the tests that follow it."""
    before = guarded_variables()
    yield
    after = guarded_variables()
    if after == before:
        return
    changed = sorted(name for name in before.keys() | after.keys() if before.get(name) != after.get(name))
    for name in after.keys() - before.keys():
        del os.environ[name]
    os.environ.update(before)
    raise EnvironmentLeak(
        f"left changed behind it: {', '.join(changed)}. Set variables with monkeypatch (never undo it "
        "mid-test) or a context manager that restores them."
    )
