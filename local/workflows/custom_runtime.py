"""The custom runtime after a deploy (docs/custom-runtime.md, "After cdk deploy")."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from local.e2e import CheckFailed, Deployment, WorkflowReport

WORKLOAD = "custom-runtime"
# What MiniStack (patched, local/emulators.py) does not emulate of this workflow, by the checks' own names.
# A new gap, or one upstream closed, changes this on purpose: the docs' gap table must follow.
EXPECTED_GAPS: list[str] = []


def run(deployment: Deployment, report: WorkflowReport) -> None:
    lambda_ = deployment.client("lambda", read_timeout=60)
    alias = deployment.output(WORKLOAD, "LiveAliasArn")
    function, _, qualifier = alias.rpartition(":")
    handler = lambda_.get_function_configuration(FunctionName=function, Qualifier=qualifier)["Handler"]

    def invoke(event: dict[str, Any]) -> tuple[str | None, Any]:
        response = lambda_.invoke(FunctionName=alias, Payload=json.dumps(event))
        return response.get("FunctionError"), json.loads(response["Payload"].read() or b"null")

    if handler.startswith("greeting."):
        with report.check("greeting.handler answers a good event"):
            error, answer = invoke({"name": "Ada"})
            if error or "Ada" not in json.dumps(answer):
                raise CheckFailed(f"{error} {answer}")
        with report.check("bad input: FunctionError Unhandled, errorType Function.HandlerError"):
            error, answer = invoke({"nom": "Ada"})
            if error != "Unhandled" or answer.get("errorType") != "Function.HandlerError":
                raise CheckFailed(f"{error} {answer}")
        with report.check("the runtime loop survives the error: the next event is answered"):
            error, answer = invoke({"name": "Grace"})
            if error or "Grace" not in json.dumps(answer):
                raise CheckFailed(f"{error} {answer}")
    else:
        for event in ({"hello": "world"}, {"again": [1, 2, 3]}):
            with report.check(f"{handler} answers with the event: {json.dumps(event)}"):
                error, answer = invoke(event)
                if error or answer != event:
                    raise CheckFailed(f"{error} {answer}")


def local_settings(now: datetime | None = None) -> list[str]:
    """The greeting handler, which has an error path to exercise."""
    return ["kit.customRuntime.handler=greeting.handler"]
