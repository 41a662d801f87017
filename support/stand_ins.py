"""moto as the AWS of the tests and benchmarks: fake credentials, one region, nothing real reachable."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from typing import Any
from unittest import mock

from support.cfn import REGION


def fake_aws_environment(region: str = REGION) -> dict[str, str]:
    """Environment variables that point boto3 at credentials no real account accepts, in `region`."""
    return {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SESSION_TOKEN": "testing",
        "AWS_DEFAULT_REGION": region,
        "AWS_REGION": region,
    }


@contextlib.contextmanager
def mocked_aws(*, step_functions: bool = False, region: str = REGION) -> Iterator[None]:
    """moto for every AWS call inside the block, with `fake_aws_environment()` set (and restored).

    `step_functions=True` turns on moto's ASL interpreter, so executions really run.
    """
    from moto import mock_aws  # imported late: moto costs a second to import

    config: Any = {"stepfunctions": {"execute_state_machine": True}} if step_functions else None
    with mock.patch.dict(os.environ, fake_aws_environment(region)), mock_aws(config=config):
        yield
