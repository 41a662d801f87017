"""The real bootstrap and handlers under AWS's Runtime Interface Emulator (no Docker, loopback only)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from support.custom_runtime_emulator import StartEmulator
from tests.custom_runtime.layout import LOOPLESS_BOOTSTRAP, SOURCE_DIR

INVOCATIONS = 12


def test_one_runtime_process_serves_every_invocation(start_emulator: StartEmulator) -> None:
    emulator = start_emulator(handler="function.handler")
    events = [{"n": n, "text": 'ünïcödé "quoted" \\ back\nslash\ttab'} for n in range(INVOCATIONS)]

    results = [emulator.invoke(event) for event in events]

    assert [(r.status, r.json()) for r in results] == [(200, event) for event in events]
    # One init for all of them: the emulator started the runtime once, and it loaded its handler once.
    assert emulator.init_count() == 1
    assert emulator.count_in_log('"message":"runtime ready"') == 1


def test_events_and_answers_pass_byte_for_byte_however_large(start_emulator: StartEmulator) -> None:
    emulator = start_emulator(handler="function.handler")
    # Over the kernel's 128 KiB limit for one argument (the tutorial's `curl -d "$RESPONSE"` fails
    # there) and with trailing newlines (which command substitution would strip).
    large = json.dumps({"blob": "x" * 1_500_000, "tail": "é"}).encode() + b"\n\n"
    small = b'{"a": [1, 2, 3]}\n'

    assert [emulator.invoke(p).body for p in (large, small)] == [large, small]


def test_a_failing_invocation_is_reported_and_the_next_one_runs_in_the_same_process(
    start_emulator: StartEmulator,
) -> None:
    emulator = start_emulator(handler="greeting.handler")

    before = emulator.invoke({"name": "Ada"})
    bad_event = {"nom": 'Ada "the first" \\ Lovelace'}
    bad = emulator.invoke(bad_event)
    after = emulator.invoke({"name": "Zoë"})

    assert before.json() == {"greeting": "Hello, Ada!"}
    # The emulator answers a function error with 200 and the error document, as Lambda's Invoke does.
    assert bad.status == 200
    # Its size, none of its content: the message is also written to the function's log.
    assert bad.json() == {
        "errorType": "Function.HandlerError",
        "errorMessage": f"bad input (an event of {len(json.dumps(bad_event, ensure_ascii=False).encode())} bytes): "
        'expected {"name": "..."} with 1 to 64 letters, spaces, apostrophes or hyphens',
    }
    # A non-ASCII letter: the handler got its UTF-8 locale back from the runtime.
    assert after.json() == {"greeting": "Hello, Zoë!"}
    assert emulator.init_count() == 1
    assert emulator.count_in_log('{"level":"ERROR"', expected=1) == 1  # the runtime's output may lag
    errors = [json.loads(line) for line in emulator.log().splitlines() if line.startswith('{"level":"ERROR"')]
    assert [(e["errorType"], e["exitStatus"]) for e in errors] == [("Function.HandlerError", 1)]


@pytest.mark.parametrize(
    ("handler", "problem"),
    [
        ("missing.handler", f"handler file {SOURCE_DIR}/missing.sh does not exist"),
        ("function.missing", f"handler file {SOURCE_DIR}/function.sh defines no function missing"),
        ("no-function-part", "_HANDLER \"no-function-part\" is not 'file.function'"),
        ("../function.handler", "_HANDLER \"../function.handler\" is not 'file.function'"),
    ],
)
def test_a_missing_handler_is_an_init_error(start_emulator: StartEmulator, handler: str, problem: str) -> None:
    emulator = start_emulator(handler=handler)

    result = emulator.invoke({})

    assert result.status == 502
    assert result.json()["errorType"] == "Runtime.InitError"
    assert result.json()["errorMessage"].startswith(problem)
    # It exited non-zero rather than loop without a handler.
    assert emulator.count_in_log("exited: exit status 1", expected=1) == 1
    assert emulator.count_in_log('"message":"runtime ready"') == 0


def test_a_handler_file_that_fails_to_load_is_an_init_error(start_emulator: StartEmulator, tmp_path: Path) -> None:
    task_root = tmp_path / "task"
    task_root.mkdir()
    (task_root / "broken.sh").write_text("handler() { printf ok; }\nfalse\n")
    emulator = start_emulator(handler="broken.handler", task_root=task_root)

    result = emulator.invoke({})

    assert result.status == 502
    assert result.json() == {
        "errorType": "Runtime.InitError",
        "errorMessage": f"sourcing handler file {task_root}/broken.sh failed",
    }


def test_the_seed_bootstrap_without_a_loop_starts_a_new_runtime_for_every_event(
    start_emulator: StartEmulator, runtime_tmp: Path
) -> None:
    emulator = start_emulator(handler="function.handler", bootstrap=LOOPLESS_BOOTSTRAP)

    results = [emulator.invoke({"n": n}) for n in range(3)]

    # The answer still comes back, but each invoke fails: the runtime exited before asking for the
    # next event, which Lambda reports as Runtime.ExitError...
    assert [(r.status, r.json()) for r in results] == [(502, {"n": n}) for n in range(3)]
    assert emulator.count_in_log("Invoke DONE failed: Runtime.ExitError", expected=3) == 3
    # ...and every event pays init again.
    assert emulator.init_count(expected=3) == 3
    # The tutorial's header file stays behind, one per event.
    assert len(list(runtime_tmp.iterdir())) == 3


# Planted in every event: the runtime's and the handlers' log lines (and the emulator's own) must not
# show any of it, for a good event, an echoed one and a refused one alike.
MARKER = "Planted Secret Xq"


@pytest.mark.parametrize(
    ("handler", "event", "status"),
    [
        ("function.handler", {"secret": MARKER}, 200),
        ("greeting.handler", {"name": MARKER}, 200),
        ("greeting.handler", {"nom": MARKER}, 200),
        ("greeting.handler", MARKER, 200),
    ],
)
def test_no_event_content_reaches_the_log(
    start_emulator: StartEmulator, handler: str, event: object, status: int
) -> None:
    emulator = start_emulator(handler=handler)

    result = emulator.invoke(json.dumps(event))

    assert result.status == status
    assert emulator.count_in_log("INVOKE RTDONE", expected=1) == 1  # the invocation's log lines are in
    assert MARKER not in emulator.log() and "Secret" not in emulator.log()
