"""Whatever bytes a handler writes and whatever status it ends with, the real bootstrap ends every
invocation with exactly one post: the response, or an error document that is valid JSON (UTF-8,
RFC 8259) of the documented shape; and the loop goes on to the next invocation."""

from __future__ import annotations

import json
import random
import re
import time
from collections.abc import Iterator

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from tests.custom_runtime.layout import BOOTSTRAP, FIXTURES
from tests.custom_runtime.runtime_api import QueuedInvocation, ServingRuntime, serving_runtime

HANDLER = "bytes.handler"
ERROR_TYPE = "Function.HandlerError"

# Any bytes; and text as a handler would write it, lone surrogates included (as the UTF-8-like
# bytes Python's "surrogatepass" gives: not UTF-8), with the characters JSON must escape.
HOSTILE_TEXT = st.text(
    alphabet=st.one_of(
        st.characters(codec=None),
        st.sampled_from(['"', "\\", "\n", "\r", "\t", "\x00", "\x1c", "\x7f", "\u2028", "\u0085", "\ufffe", "\uffff"]),
    ),
    max_size=60,
).map(lambda text: text.encode("utf-8", "surrogatepass"))
STREAM = st.one_of(st.binary(max_size=200), HOSTILE_TEXT, st.binary(max_size=20).map(lambda b: b * 40))
CALL = st.tuples(st.integers(0, 255), STREAM, STREAM, st.sampled_from(["exit", "return"]))


def _printf_escapes(data: bytes) -> str:
    """`data` as printf %b's octal escapes: the handler writes exactly these bytes."""
    return "".join(f"\\0{byte:03o}" for byte in data)


def _expected_message(stderr: bytes, status: int) -> str:
    # Bash cannot hold a NUL byte; command substitution drops trailing newlines; bytes that are not
    # UTF-8 become U+FFFD, one per maximal broken subpart (Unicode 3.9), as Python replaces them.
    message = stderr.replace(b"\x00", b"").rstrip(b"\n").decode("utf-8", "replace")
    return message or f"{HANDLER} exited with status {status}"


@pytest.fixture(scope="module")
def bytes_runtime(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServingRuntime]:
    """One runtime process for every example: it must survive them all, as in one environment."""
    scratch = tmp_path_factory.mktemp("bytes-runtime")
    (scratch / "tmp").mkdir()
    with serving_runtime(
        BOOTSTRAP, task_root=FIXTURES, handler=HANDLER, tmp_dir=scratch / "tmp", log_path=scratch / "runtime.log"
    ) as runtime:
        yield runtime


@settings(max_examples=20, deadline=None)
@given(calls=st.lists(CALL, min_size=1, max_size=6))
# Found by this test: U+0085 left raw in a log line split it for Python's splitlines().
@example(calls=[(0, b"", b"\xc2\x85", "exit"), (1, b"", b"a\xe2\x80\xa8b\xe2\x80\xa9", "return")])
def test_every_invocation_ends_in_one_well_formed_post_whatever_the_handler_writes(
    calls: list[tuple[int, bytes, bytes, str]], bytes_runtime: ServingRuntime
) -> None:
    invocations = [
        QueuedInvocation(event=f"{status};{_printf_escapes(out)};{_printf_escapes(err)};{end}".encode())
        for status, out, err, end in calls
    ]

    results, log = bytes_runtime.invoke(invocations)

    # One post per invocation, in order; the same process goes on asking for the next one.
    assert [r.request_id for r in results] == [i.request_id for i in invocations]
    assert bytes_runtime.process.poll() is None
    for (status, out, err, _), result in zip(calls, results, strict=True):
        if status == 0:
            assert result.kind == "response"
            assert result.body == out.replace(b"\x00", b"")
            continue
        assert result.kind == "error"
        assert result.headers["lambda-runtime-function-error-type"] == ERROR_TYPE
        # Strict on both counts: UTF-8 that does not decode, or a raw control character, raises.
        document = json.loads(result.body.decode("utf-8"))
        assert document == {"errorMessage": _expected_message(err, status), "errorType": ERROR_TYPE}
    # The runtime's own log stays one JSON object per line, whatever the handler wrote.
    lines = [json.loads(line) for line in log.decode("utf-8").splitlines()]
    assert [line["requestId"] for line in lines if line["level"] == "ERROR"] == [
        i.request_id for i, (status, *_) in zip(invocations, calls, strict=True) if status
    ]


def test_binary_stderr_of_any_size_still_ends_in_a_well_formed_error_in_time(bytes_runtime: ServingRuntime) -> None:
    # 256 KB of random bytes (no NUL, which bash drops): far more broken sequences than the runtime
    # repairs. It reports the start, says how much it left out, and takes seconds, not minutes.
    stderr = random.Random(17).randbytes(256 * 1024).replace(b"\x00", b"\xff")
    invocation = QueuedInvocation(event=f"1;;{_printf_escapes(stderr)};exit".encode())

    started = time.monotonic()
    (result,), _ = bytes_runtime.invoke([invocation])
    elapsed = time.monotonic() - started

    document = json.loads(result.body.decode("utf-8"))
    note = re.fullmatch(r"(.*) \[(\d+) more bytes left out: not UTF-8 text\]", document["errorMessage"], re.DOTALL)
    assert note is not None
    shown, left_out = note.group(1), int(note.group(2))
    assert 0 < left_out < len(stderr)
    assert shown == stderr[: len(stderr) - left_out].decode("utf-8", "replace")
    assert shown.count("\ufffd") == 4096
    assert elapsed < 30
