"""The worker: an example job that validates its input and can fail.

Invoked asynchronously (`--invocation-type Event`) through its `live` alias. It returns
`{"statusCode": 200, "body": <event>}` when the event says `"Success": true` and raises otherwise;
Lambda then retries it and sends an invocation record to the on-success or on-failure destination.
Fork it by replacing `run_job`; keep raising on failure, since the raise is what routes the event
to the failure handler.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.parser import BaseModel, Field, ValidationError, parse
from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import ConfigDict, StrictBool

logger = Logger()


class InvalidJobRequestError(ValueError):
    """The event is not a job request. Retrying will not help; replay after fixing the payload."""


class JobFailedError(RuntimeError):
    """The job ran and failed."""


class JobRequest(BaseModel):
    # Jobs may carry more than the flag; the whole event is echoed back on success.
    model_config = ConfigDict(extra="allow", frozen=True)

    success: StrictBool = Field(alias="Success")


def run_job(event: Any) -> dict[str, Any]:
    if not isinstance(event, dict):
        raise InvalidJobRequestError(f"a job request is a JSON object, got {type(event).__name__}")
    try:
        request = parse(event=event, model=JobRequest)
    except ValidationError as error:
        problem = error.errors()[0]
        raise InvalidJobRequestError(
            f"job request field {'.'.join(str(p) for p in problem['loc'])!r}: {problem['msg']}"
        ) from None
    if not request.success:
        raise JobFailedError("the job reported failure: the event says Success is false")
    return {"statusCode": 200, "body": event}


@logger.inject_lambda_context
def handler(event: Any, context: LambdaContext) -> dict[str, Any]:
    result = run_job(event)
    logger.info("job succeeded")
    return result
