"""`make deploy-local` / `e2e-local` / `destroy-local`: the real CDK CLI against a local AWS emulator.

    python -m local.cli deploy [-c key=value ...]   start the emulator, bootstrap, `cdk deploy 'lwk-<stage>-*'`
    python -m local.cli e2e                         run every workflow against the running deployment
    python -m local.cli destroy                     `cdk destroy 'lwk-<stage>-*'`, then stop the emulator

Every workload stack of the stage is deployed; the deploy identity (`lwk-github`) is not: it is per
account, an OIDC provider and roles only a real account's STS can use (docs/deploy-pipeline.md).

The emulator keeps running between `deploy` and `destroy` (its state lives in memory); its port and
process are kept in `.cache/local/state/<emulator>/emulator.json`. A `deploy` first stops any emulator a
previous run left behind. Nothing here reads or writes the user's AWS or CDK set-up: every command
gets fake credentials, its own CDK_HOME and TMPDIR, and the endpoint, in its own environment only.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from local.emulators import STATE_ROOT, EmulatorError, Running, emulator, free_port, load_running, save_running
from stacks.settings.common import APP_NAME
from stacks.workloads import KEYS

REPO_ROOT = Path(__file__).resolve().parents[1]
REGION = "us-east-1"
DEFAULT_EMULATOR = "ministack"
# Distinct per emulator: the CDK CLI caches the account of an access key (see FIELD-NOTES), and a
# key nobody uses for AWS can never be mistaken for a real one.
FAKE_ACCESS_KEYS = {"ministack": "LWKLOCALMINISTACKKEY", "localstack": "LWKLOCALLOCALSTACKKEY"}
FAKE_SECRET = f"{APP_NAME}-local-emulator-fake-secret"
# What a user's shell may carry that would send the CLI or boto3 elsewhere, or change what they do.
_STRIPPED_PREFIXES = ("AWS_", "CDK_", "LWK_")
# Per stack, from the first line after asset publishing (change set, or destroy) to its ✅ line.
_STACK_LINE = re.compile(
    r"^\s*(?P<stack>[A-Za-z][A-Za-z0-9-]*): (?:creating CloudFormation changeset|deploying|destroying)\.\.\."
)
_DONE_LINE = re.compile(r"^\s*✅\s+(?P<stack>[A-Za-z][A-Za-z0-9-]*)(?::\s*destroyed)?\s*(?:\(no changes\))?\s*$")


def local_settings(now: datetime | None = None) -> list[str]:
    """The settings a local deploy adds to cdk.json's, so that `make e2e-local` runs in seconds: each
    workload's own (`local_settings(now)` in its local/workflows/ module). `-c` values given to the
    command win over these."""
    from local.e2e import workflow

    return [
        setting
        for key in KEYS
        if (checks := workflow(key)) is not None and hasattr(checks, "local_settings")
        for setting in checks.local_settings(now or datetime.now(UTC))
    ]


def workload_stacks(settings: Sequence[str]) -> str:
    """The stage's workload stacks as a pattern the CDK CLI selects by (`lwk-dev-*`): the stage is the
    last `kit.stage=` among the settings, else cdk.json's."""
    from stacks.settings.common import APP_NAME

    stage = json.loads((REPO_ROOT / "cdk.json").read_text())["context"]["kit"]["stage"]
    for setting in settings:
        if setting.startswith("kit.stage="):
            stage = setting.removeprefix("kit.stage=")
    return f"{APP_NAME}-{stage}-*"


class LocalDeployError(RuntimeError):
    """A local deploy step failed; the message says which and where its output is."""


def state_dir(emulator_name: str) -> Path:
    # The test suite keeps its deployment apart from one a user started with `make deploy-local`.
    return Path(os.environ.get("LWK_LOCAL_STATE_DIR") or STATE_ROOT) / emulator_name


def cli_environment(emulator_name: str, endpoint: str) -> dict[str, str]:
    """The environment of every CDK CLI, boto3 and emulator call: the user's, minus AWS/CDK settings."""
    state = state_dir(emulator_name)
    env = {k: v for k, v in os.environ.items() if not k.startswith(_STRIPPED_PREFIXES)}
    env.update(
        AWS_ACCESS_KEY_ID=FAKE_ACCESS_KEYS[emulator_name],
        AWS_SECRET_ACCESS_KEY=FAKE_SECRET,
        AWS_REGION=REGION,
        AWS_DEFAULT_REGION=REGION,
        AWS_ENDPOINT_URL=endpoint,
        AWS_CONFIG_FILE=os.devnull,
        AWS_SHARED_CREDENTIALS_FILE=os.devnull,
        AWS_EC2_METADATA_DISABLED="true",
        CDK_HOME=str(state / "cdk-home"),
        CDK_DISABLE_CLI_TELEMETRY="true",
        TMPDIR=str(state / "tmp"),
        # Lambda code runs on this machine in the emulator: bundle wheels for this machine.
        LWK_BUNDLING_ARCH="host",
        PATH=os.pathsep.join([str(Path(sys.executable).parent), os.environ.get("PATH", "")]),
        JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION=os.environ.get(
            "JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20"
        ),
    )
    return env


@dataclass
class CdkRun:
    """One CDK CLI command: its exit code, and seconds per stack from the CLI's own progress lines."""

    returncode: int
    seconds_per_stack: dict[str, float] = field(default_factory=dict)
    total_seconds: float = 0.0


def run_cdk(arguments: Sequence[str], env: dict[str, str], log_path: Path) -> CdkRun:
    """Run `npx cdk ...`, echoing its output, timing each stack from `<stack>: deploying...` to `✅`."""
    command = ["npx", "--no-install", "cdk", *arguments]
    started_at: dict[str, float] = {}
    run = CdkRun(returncode=1)
    begin = time.monotonic()
    with log_path.open("a") as log:
        log.write(f"$ {' '.join(command)}\n")
        process = subprocess.Popen(
            command, cwd=REPO_ROOT, env=env, stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, bufsize=1,
        )  # fmt: skip
        assert process.stdout is not None
        for line in process.stdout:
            now = time.monotonic()
            sys.stdout.write(line)
            log.write(line)
            if (match := _STACK_LINE.match(line)) and match["stack"] not in started_at:
                started_at[match["stack"]] = now
            elif (match := _DONE_LINE.match(line)) and match["stack"] in started_at:
                run.seconds_per_stack[match["stack"]] = round(now - started_at[match["stack"]], 1)
        run.returncode = process.wait()
    run.total_seconds = round(time.monotonic() - begin, 1)
    return run


def _cdk_common(state: Path) -> list[str]:
    # Its own cdk.out: the host-architecture assets never mix with `make synth`'s arm64 ones.
    return ["--output", str(state / "cdk.out"), "--no-notices"]


def _record(state: Path, phase: str, run: CdkRun) -> None:
    timings_path = state / "timings.json"
    timings = json.loads(timings_path.read_text()) if timings_path.is_file() else {}
    timings[phase] = {"total": run.total_seconds, "stacks": run.seconds_per_stack}
    timings_path.write_text(json.dumps(timings, indent=2) + "\n")
    for stack, seconds in run.seconds_per_stack.items():
        print(f"{phase}: {stack} {seconds:.1f} s")


def _stop_recorded(emulator_name: str) -> Running | None:
    """Stop the emulator this state folder records as running, forget it, and return what it was."""
    state = state_dir(emulator_name)
    running = load_running(state)
    if running is None:
        return None
    emulator(running.emulator).stop(running)
    (state / "emulator.json").unlink(missing_ok=True)
    return running


def stop_leftover(emulator_name: str) -> None:
    """Stop an emulator a previous run left running (after a crash, or a deploy never destroyed)."""
    running = _stop_recorded(emulator_name)
    if running is not None:
        print(f"Stopped the {running.emulator} a previous run left on port {running.port}.")


def deploy(emulator_name: str, context: Sequence[str], stop_with: int | None = None) -> Running:
    """Start the emulator (stopping a leftover one), bootstrap, deploy every stack, print the outputs.

    The emulator keeps running for `e2e` and `destroy`; with `stop_with` (a test run's process id)
    it also stops by itself when that process ends, so a killed test run leaves nothing behind.
    """
    chosen = emulator(emulator_name)
    stop_leftover(emulator_name)
    state = state_dir(emulator_name)
    for stale in ("cdk.out", "tmp", "timings.json", "outputs.json", "cdk.log", "emulator.log"):
        path = state / stale
        shutil.rmtree(path, ignore_errors=True) if path.is_dir() else path.unlink(missing_ok=True)
    (state / "tmp").mkdir(parents=True, exist_ok=True)
    print(f"Setting up {emulator_name} (its own pinned environment) ...")
    chosen.install()
    port = free_port()
    env_for_emulator = cli_environment(emulator_name, f"http://127.0.0.1:{port}")
    running = chosen.start(port, state, env_for_emulator, stop_with=stop_with)
    save_running(state, running)
    print(f"{emulator_name} is listening on {running.endpoint}")
    env = cli_environment(emulator_name, running.endpoint)
    try:
        log = state / "cdk.log"
        bootstrap = run_cdk(["bootstrap", f"aws://{account_id(env)}/{REGION}", *_cdk_common(state)], env, log)
        if bootstrap.returncode != 0:
            raise LocalDeployError(f"cdk bootstrap failed (exit {bootstrap.returncode}); see {log}")
        _record(state, "bootstrap", bootstrap)
        settings = [*local_settings(), *context]
        (state / "context.json").write_text(json.dumps(settings, indent=2) + "\n")
        print("Settings on top of cdk.json: " + " ".join(settings))
        context_args = [arg for pair in settings for arg in ("-c", pair)]
        deployed = run_cdk(
            ["deploy", workload_stacks(settings), "--require-approval", "never", "--progress", "events",
             "--outputs-file", str(state / "outputs.json"), *context_args, *_cdk_common(state)],
            env,
            log,
        )  # fmt: skip
        if deployed.returncode != 0:
            raise LocalDeployError(f"cdk deploy failed (exit {deployed.returncode}); see {log}")
        _record(state, "deploy", deployed)
    except BaseException:
        chosen.stop(running)
        (state / "emulator.json").unlink(missing_ok=True)
        raise
    print_outputs(state)
    prefix = " ".join(
        f"{key}={env[key]}"
        for key in ("AWS_ENDPOINT_URL", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_REGION", "AWS_CONFIG_FILE")
    )
    print(f"\n{emulator_name} keeps running until `make destroy-local`. To try the docs' commands against it,")
    print(f"prefix them (nothing is exported into your shell):\n  env {prefix} aws ...")
    return running


def update(emulator_name: str, context: Sequence[str]) -> CdkRun:
    """`cdk deploy` of the stage's stacks again with changed settings, into the running emulator."""
    state, running = _require_running(emulator_name)
    env = cli_environment(emulator_name, running.endpoint)
    # The deploy's settings again (else the update would revert them), then the changes.
    settings = [*json.loads((state / "context.json").read_text()), *context]
    context_args = [arg for pair in settings for arg in ("-c", pair)]
    updated = run_cdk(
        ["deploy", workload_stacks(settings), "--require-approval", "never", "--progress", "events",
         "--outputs-file", str(state / "outputs.json"), *context_args, *_cdk_common(state)],
        env,
        state / "cdk.log",
    )  # fmt: skip
    if updated.returncode != 0:
        raise LocalDeployError(f"cdk deploy (update) failed (exit {updated.returncode}); see {state / 'cdk.log'}")
    _record(state, "update", updated)
    return updated


def destroy(emulator_name: str) -> CdkRun | None:
    """`cdk destroy` of the stage's stacks, then stop the emulator (also when the destroy failed)."""
    if load_running(state_dir(emulator_name)) is None:
        print(f"No local {emulator_name} deployment is running: nothing to destroy.")
        return None
    try:
        return destroy_stacks(emulator_name)
    finally:
        stop(emulator_name)


def destroy_stacks(emulator_name: str) -> CdkRun:
    state, running = _require_running(emulator_name)
    env = cli_environment(emulator_name, running.endpoint)
    settings = json.loads((state / "context.json").read_text()) if (state / "context.json").is_file() else []
    destroyed = run_cdk(["destroy", workload_stacks(settings), "--force", *_cdk_common(state)], env, state / "cdk.log")
    if destroyed.returncode != 0:
        raise LocalDeployError(f"cdk destroy failed (exit {destroyed.returncode}); see {state / 'cdk.log'}")
    _record(state, "destroy", destroyed)
    return destroyed


def stop(emulator_name: str) -> None:
    running = _stop_recorded(emulator_name)
    if running is not None:
        print(f"Stopped {running.emulator}; port {running.port} is free again.")


def account_id(env: dict[str, str]) -> str:
    """The emulator's account, as STS reports it to the fake credentials."""
    from local.e2e import client_for

    return str(client_for(env, "sts").get_caller_identity()["Account"])


def _require_running(emulator_name: str) -> tuple[Path, Running]:
    state = state_dir(emulator_name)
    running = load_running(state)
    if running is None:
        raise LocalDeployError(f"no local {emulator_name} deployment is running: run `make deploy-local` first")
    return state, running


def print_outputs(state: Path) -> None:
    outputs = json.loads((state / "outputs.json").read_text())
    print("\nStack outputs:")
    for stack, values in sorted(outputs.items()):
        print(f"  {stack}")
        for key, value in sorted(values.items()):
            print(f"    {key} = {value}")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m local.cli", description=__doc__.splitlines()[0])
    parser.add_argument("command", choices=["deploy", "update", "e2e", "destroy"])
    parser.add_argument("--emulator", default=os.environ.get("EMULATOR") or DEFAULT_EMULATOR)
    parser.add_argument("-c", "--context", action="append", default=[], help="CDK context key=value")
    args = parser.parse_args(argv)
    try:
        if args.command == "deploy":
            deploy(args.emulator, args.context)
        elif args.command == "update":
            update(args.emulator, args.context)
        elif args.command == "destroy":
            destroy(args.emulator)
        else:
            from local.e2e import run_all

            state, running = _require_running(args.emulator)
            report = run_all(cli_environment(args.emulator, running.endpoint), args.emulator)
            (state / "e2e.json").write_text(json.dumps(report.as_dict(), indent=2) + "\n")
            return 0 if report.passed else 1
    except (EmulatorError, LocalDeployError) as error:
        print(f"{args.command}-local: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
