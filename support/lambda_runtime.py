"""Run a function's real handler in this process, as Lambda would: its handler string, its environment.

moto's Lambda needs Docker to run code; the tests run the code from `lambdas/<workload>/` instead,
with the environment the template gave the function (`support.cfn.Function.environment`).
"""

from __future__ import annotations

import importlib
import logging
import os
import sys
import uuid
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from unittest import mock

from stacks.settings.common import APP_NAME
from support.cfn import Function
from support.paths import python_name, use_lambda_code
from support.stand_ins import fake_aws_environment

if TYPE_CHECKING:
    import pytest


@dataclass
class FakeContext:
    """The attributes of Lambda's context object that handlers and Powertools read."""

    function_name: str
    invoked_function_arn: str
    memory_limit_in_mb: int = 256
    aws_request_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    log_group_name: str = "/aws/lambda/test"
    log_stream_name: str = "test"
    function_version: str = "$LATEST"

    def get_remaining_time_in_millis(self) -> int:
        return 30_000


def invoke_in_process(workload: str, function: Function, event: Any) -> Any:
    """Call `function`'s handler (from `lambdas/<workload>/`) with `event`, inside its environment.

    Raises what the handler raises, as Lambda's runtime would report it.
    """
    use_lambda_code(workload)
    module_name, _, attribute = function.handler.rpartition(".")
    handler = getattr(importlib.import_module(module_name), attribute)
    environment = {
        **fake_aws_environment(),
        **function.environment,
        "AWS_LAMBDA_FUNCTION_NAME": function.name,
    }
    context = FakeContext(function_name=function.name, invoked_function_arn=function.arn)
    with mock.patch.dict(os.environ, environment):
        return handler(event, context)


def new_execution_environment(monkeypatch: pytest.MonkeyPatch, workload: str) -> None:
    """Make the next invocation start cold, as in a new execution environment: the workload's
    `lwk_<workload>` modules are imported afresh (module-level clients and caches with them), and
    Powertools loggers are set up again on the current `sys.stdout` (it binds its stream once per
    service name and process)."""
    package = f"{APP_NAME}_{python_name(workload)}"
    for name in [m for m in sys.modules if m == package or m.startswith(package + ".")]:
        monkeypatch.delitem(sys.modules, name)
    service = f"{APP_NAME}-{workload.replace('_', '-')}"
    for name in [n for n in logging.root.manager.loggerDict if n == service or n.startswith(service + ".")]:
        monkeypatch.delitem(logging.root.manager.loggerDict, name)
