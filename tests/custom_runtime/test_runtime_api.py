"""The real bootstrap against a loopback Runtime API that sends what the emulator does not:
trace headers, chosen deadlines and request ids, and a recorded copy of everything posted back."""

from __future__ import annotations

import json
from pathlib import Path

from stacks.custom_runtime.stack import HANDLER_ERRORS_METRIC
from stacks.settings.common import APP_NAME
from support.emf import emf_points
from tests.conftest import KitAssembly
from tests.custom_runtime.layout import BOOTSTRAP, FIXTURES, LOOPLESS_BOOTSTRAP, SOURCE_DIR
from tests.custom_runtime.runtime_api import QueuedInvocation, run_runtime

ERROR_TYPE = "Function.HandlerError"


def _trace_id(n: int) -> str:
    return f"Root=1-67a0c0de-{n:024x};Parent={n:016x};Sampled=1"


def _log_lines(stderr: str, text_lines: tuple[str, ...] = ()) -> list[dict[str, object]]:
    """The runtime's own log: every line a JSON object with a level, as Lambda's JSON format wants,
    except curl's own complaints (lines starting with `text_lines`) where a test expects them."""
    lines = [json.loads(line) for line in stderr.splitlines() if not line.startswith(text_lines)]
    assert all(line["level"] in {"INFO", "ERROR"} for line in lines), lines
    return lines


def test_each_invocation_gets_its_own_trace_id_and_deadline(runtime_tmp: Path) -> None:
    # A trace id, another, none (must not inherit the previous one), one again, none again.
    trace_ids = [_trace_id(1), _trace_id(2), None, _trace_id(4), None]
    invocations = [
        QueuedInvocation(event=b"{}", trace_id=trace_id, deadline_ms=1_800_000_000_000 + n)
        for n, trace_id in enumerate(trace_ids)
    ]

    run = run_runtime(BOOTSTRAP, invocations, task_root=FIXTURES, handler="context.handler", tmp_dir=runtime_tmp)

    assert [(r.kind, r.request_id) for r in run.results] == [("response", i.request_id) for i in invocations]
    answers = [json.loads(r.body) for r in run.results]
    assert [a["traceId"] for a in answers] == trace_ids
    assert [a["deadlineMs"] for a in answers] == [str(i.deadline_ms) for i in invocations]
    assert len({a["runtimePid"] for a in answers}) == 1
    # A response is the handler's output, not declared as anything it may not be.
    assert all("content-type" not in r.headers for r in run.results)


def test_the_runtime_stops_when_the_runtime_api_refuses_the_next_invocation(runtime_tmp: Path) -> None:
    run = run_runtime(
        BOOTSTRAP, [QueuedInvocation(event=b"{}")], task_root=SOURCE_DIR, handler="function.handler",
        tmp_dir=runtime_tmp,
    )  # fmt: skip

    # The fake API answers 500 once its queue is empty: "container error, exit promptly".
    assert run.next_calls == 2
    assert run.returncode == 1
    last = _log_lines(run.stderr)[-1]
    assert last["message"] == "Runtime API did not hand out the next invocation: stopping"
    assert str(last["answer"]).startswith("HTTP/1.0 500")


def test_a_refused_result_is_logged_and_the_next_invocation_still_served(runtime_tmp: Path) -> None:
    invocations = [
        QueuedInvocation(event=b'{"n": 1}', result_status=413),  # e.g. a response over 6 MB
        QueuedInvocation(event=b'{"n": 2}'),
    ]

    run = run_runtime(BOOTSTRAP, invocations, task_root=SOURCE_DIR, handler="function.handler", tmp_dir=runtime_tmp)

    assert [r.body for r in run.results] == [b'{"n": 1}', b'{"n": 2}']
    assert run.next_calls == 3
    messages = [line["message"] for line in _log_lines(run.stderr, text_lines=("curl: (22)",))]
    assert f"Runtime API answered 413 to the result of {invocations[0].request_id}" in messages


def test_a_result_answered_with_500_ends_the_runtime_at_once(runtime_tmp: Path) -> None:
    invocations = [QueuedInvocation(event=b'{"n": 1}', result_status=500), QueuedInvocation(event=b'{"n": 2}')]

    run = run_runtime(BOOTSTRAP, invocations, task_root=SOURCE_DIR, handler="function.handler", tmp_dir=runtime_tmp)

    # "Container error, exit promptly": it does not even ask for the second invocation.
    assert (run.returncode, run.next_calls, len(run.results)) == (1, 1, 1)
    last = _log_lines(run.stderr, text_lines=("curl: (22)",))[-1]
    assert last["message"] == f"Runtime API answered 500 to the result of {invocations[0].request_id}: stopping"


# What a handler may write to stderr, and the message the error document must carry.
ERROR_MESSAGES = {
    'say "hi"': 'say "hi"',
    "C:\\temp\\new\\": "C:\\temp\\new\\",
    "line 1\nline 2\r\n\tindented": "line 1\nline 2\r\n\tindented",
    "ünïcødé ✓ 日本語 🚀": "ünïcødé ✓ 日本語 🚀",
    "bell \x07 escape \x1b unit separator \x1f start \x01 delete \x7f": (
        "bell \x07 escape \x1b unit separator \x1f start \x01 delete \x7f"
    ),
    '{"already": "json"}': '{"already": "json"}',
    # Trailing newlines are the end of the last line, not part of the message.
    "ends with newlines\n\n": "ends with newlines",
    "": "fail.handler exited with status 7",
}


def test_error_posts_carry_the_type_header_and_the_stderr_as_valid_json(runtime_tmp: Path) -> None:
    invocations = [QueuedInvocation(event=stderr.encode()) for stderr in ERROR_MESSAGES]

    run = run_runtime(BOOTSTRAP, invocations, task_root=FIXTURES, handler="fail.handler", tmp_dir=runtime_tmp)

    assert [(r.kind, r.request_id) for r in run.results] == [("error", i.request_id) for i in invocations]
    for result, expected_message in zip(run.results, ERROR_MESSAGES.values(), strict=True):
        assert result.headers["lambda-runtime-function-error-type"] == ERROR_TYPE
        assert result.headers["content-type"] == "application/vnd.aws.lambda.error+json"
        # json.loads is strict: a raw control character or a bad escape would raise here.
        assert json.loads(result.body.decode("utf-8")) == {"errorMessage": expected_message, "errorType": ERROR_TYPE}
    errors = [line for line in _log_lines(run.stderr) if line["level"] == "ERROR" and "requestId" in line]
    assert [(e["message"], e["exitStatus"]) for e in errors] == [(m, 7) for m in ERROR_MESSAGES.values()]


def test_a_handler_file_that_switches_on_errexit_cannot_end_the_loop(runtime_tmp: Path) -> None:
    events = [b'{"step": "before"}', b'{"step": "fail"}', b'{"step": "after"}']

    run = run_runtime(
        BOOTSTRAP, [QueuedInvocation(event=e) for e in events], task_root=FIXTURES, handler="errexit.handler",
        tmp_dir=runtime_tmp,
    )  # fmt: skip

    assert [r.kind for r in run.results] == ["response", "error", "response"]
    # errexit still applies inside the handler: its failing `false` ended it with status 1.
    assert json.loads(run.results[1].body)["errorMessage"] == "errexit.handler exited with status 1"


def test_no_temporary_file_is_left_after_100_invocations(runtime_tmp: Path) -> None:
    events = [b'{"name": "Ada"}' if n % 4 else json.dumps({"bad": "input", "n": n}).encode() for n in range(100)]

    run = run_runtime(
        BOOTSTRAP, [QueuedInvocation(event=e) for e in events], task_root=SOURCE_DIR, handler="greeting.handler",
        tmp_dir=runtime_tmp,
    )  # fmt: skip

    assert [r.kind for r in run.results] == ["response" if n % 4 else "error" for n in range(100)]
    assert list(runtime_tmp.iterdir()) == []


def test_the_leak_check_sees_the_tutorials_temporary_file(runtime_tmp: Path) -> None:
    # The same check against the seed's bootstrap, which keeps the tutorial's mktemp: it fails there.
    run = run_runtime(
        LOOPLESS_BOOTSTRAP, [QueuedInvocation(event=b"{}")], task_root=SOURCE_DIR, handler="function.handler",
        tmp_dir=runtime_tmp,
    )  # fmt: skip

    assert [r.kind for r in run.results] == ["response"]
    assert len(list(runtime_tmp.iterdir())) == 1


def test_the_seed_bootstrap_serves_one_event_and_exits(runtime_tmp: Path) -> None:
    invocations = [QueuedInvocation(event=json.dumps({"n": n}).encode()) for n in range(3)]

    run = run_runtime(
        LOOPLESS_BOOTSTRAP, invocations, task_root=SOURCE_DIR, handler="function.handler", tmp_dir=runtime_tmp
    )

    # It exits 0 after one event and never asks for the second: Lambda must start a new process.
    assert (run.returncode, run.next_calls) == (0, 1)
    assert [json.loads(r.body) for r in run.results] == [{"n": 0}]


def _namespace(kit: KitAssembly) -> str:
    [function] = [
        r for r in kit.templates["custom-runtime"]["Resources"].values() if r["Type"] == "AWS::Lambda::Function"
    ]
    return str(function["Properties"]["Environment"]["Variables"]["POWERTOOLS_METRICS_NAMESPACE"])


def test_each_handler_error_is_one_metric_line_in_the_stack_s_namespace(runtime_tmp: Path, kit: KitAssembly) -> None:
    namespace = _namespace(kit)
    invocations = [QueuedInvocation(event=b"first failure"), QueuedInvocation(event=b"")]
    run = run_runtime(
        BOOTSTRAP, invocations, task_root=FIXTURES, handler="fail.handler", tmp_dir=runtime_tmp,
        environment={"POWERTOOLS_METRICS_NAMESPACE": namespace},
    )  # fmt: skip

    assert [r.kind for r in run.results] == ["error", "error"]
    points = emf_points(run.stderr)
    assert [(p.namespace, p.name, p.value, p.unit) for p in points] == [
        (namespace, HANDLER_ERRORS_METRIC, 1, "Count")
    ] * 2
    # Bounded: one constant service, never the request id.
    assert {tuple(p.dimensions.items()) for p in points} == {(("service", f"{APP_NAME}-custom-runtime"),)}
    assert namespace.startswith(f"{APP_NAME}-")
    _log_lines(run.stderr)  # still one JSON object with a level per line


def test_without_a_namespace_the_runtime_writes_no_metric_line(runtime_tmp: Path) -> None:
    run = run_runtime(
        BOOTSTRAP, [QueuedInvocation(event=b"boom")], task_root=FIXTURES, handler="fail.handler", tmp_dir=runtime_tmp
    )
    assert [r.kind for r in run.results] == ["error"] and emf_points(run.stderr) == []
