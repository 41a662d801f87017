"""Custom runtime benchmark: the looping bootstrap against the seed's loop-less one, through AWS's
Runtime Interface Emulator on loopback (downloaded on first use into .cache/rie/).

For each: median and 95th percentile latency of one invoke (the emulator's HTTP round trip), the
invocations per second over the whole run, how many times the runtime was initialised and the init
time the emulator reported, and how many temporary files were left behind. The echo handler, so the
numbers are the runtime's own cost. The emulator restarts a process where Lambda would start a new
execution environment, so a re-init costs far more on Lambda than it does here.

    python bench/custom_runtime.py [--invocations 1000] [--smoke]

`--smoke` sends 20 invocations each (a few seconds), so the suite keeps this script working.
"""

from __future__ import annotations

import argparse
import re
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from stacks.settings.common import APP_NAME
from support.custom_runtime_emulator import SAM_CLI_VERSION, Emulator, emulator_binary
from support.paths import REPO_ROOT

SOURCE_DIR = REPO_ROOT / "lambdas" / "custom_runtime"
BOOTSTRAP = SOURCE_DIR / "bootstrap"
# The seed's bootstrap without its loop, kept beside the tests that show what it costs.
LOOPLESS_BOOTSTRAP = REPO_ROOT / "tests" / "custom_runtime" / "fixtures" / "bootstrap_without_loop"

# The emulator's log: "26 Nov 2026 23:42:47,172 [INFO] (rapid) INVOKE START(requestId: ...)".
LOG_TIME = re.compile(r"^\d+ \w+ \d+ (\d+):(\d+):(\d+),(\d+) ")
INIT_REPORT = re.compile(r"INIT REPORT\(durationMs: ([0-9.]+)\)")
INVOKE_END_MARKERS = ("INVOKE RTDONE", "Invoke DONE failed")


def runtime_phases(log: str) -> tuple[list[float], float]:
    """From the emulator's log: each invoke phase in ms (its start to the runtime being done with
    it, by the log's clock) and the init time it reported in all."""
    invokes, started = [], None
    for line in log.splitlines():
        clock = LOG_TIME.match(line)
        if not clock:
            continue
        hours, minutes, seconds, millis = map(int, clock.groups())
        at = ((hours * 60 + minutes) * 60 + seconds) * 1000 + millis
        if "INVOKE START" in line:
            started = at
        elif started is not None and any(marker in line for marker in INVOKE_END_MARKERS):
            invokes.append(float((at - started) % 86_400_000))  # a phase may span midnight
            started = None
    return invokes, sum(map(float, INIT_REPORT.findall(log)))


def measure(binary: Path, bootstrap: Path, invocations: int) -> str:
    with tempfile.TemporaryDirectory(prefix=f"{APP_NAME}-bench-rie-") as scratch:
        runtime_tmp = Path(scratch) / "tmp"
        runtime_tmp.mkdir()
        with Emulator(
            binary,
            bootstrap=bootstrap,
            task_root=SOURCE_DIR,
            handler="function.handler",
            log_path=Path(scratch) / "emulator.log",
            tmp_dir=runtime_tmp,
        ) as emulator:
            latencies, answered, failed = [], 0, 0
            started = time.perf_counter()
            for n in range(invocations):
                event = f'{{"n": {n}}}'.encode()
                before = time.perf_counter()
                result = emulator.invoke(event)
                latencies.append(time.perf_counter() - before)
                answered += result.body == event
                failed += result.status != 200
            elapsed = time.perf_counter() - started
            inits = emulator.init_count()
        invoke_phases, init_ms = runtime_phases(emulator.log())
        left_behind = len(list(runtime_tmp.iterdir()))
    p95 = statistics.quantiles(latencies, n=20)[-1]
    return (
        f"median {statistics.median(latencies) * 1000:.1f} ms per invoke (p95 {p95 * 1000:.1f} ms), "
        f"{invocations / elapsed:.1f} invocations/s; runtime time per event: invoke phase median "
        f"{statistics.median(invoke_phases):.0f} ms + init {init_ms / invocations:.1f} ms on average; "
        f"{inits} init(s), {init_ms:.0f} ms in all; {answered} answered, {failed} reported as failed; "
        f"{left_behind} temporary file(s) left"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--invocations", type=int, default=1000)
    parser.add_argument("--smoke", action="store_true", help="20 invocations: checks that the bench runs")
    arguments = parser.parse_args()
    invocations = 20 if arguments.smoke else arguments.invocations
    binary = emulator_binary()
    print(f"custom runtime: Runtime Interface Emulator from aws-sam-cli {SAM_CLI_VERSION}, echo handler, "
          f"{invocations} sequential invocations each")  # fmt: skip
    print(f"looping bootstrap:   {measure(binary, BOOTSTRAP, invocations)}")
    print(f"loop-less bootstrap: {measure(binary, LOOPLESS_BOOTSTRAP, invocations)}")


if __name__ == "__main__":
    main()
