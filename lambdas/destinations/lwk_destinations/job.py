"""The worker's job: an example that validates its input and can fail. Fork it by replacing `run_job`.

Invoked asynchronously (`--invocation-type Event`) through the worker's `live` alias. It returns
`{"statusCode": 200, "body": <event>}` when the event says `"Success": true` and raises otherwise;
Lambda then retries it and sends an invocation record to the on-success or on-failure destination.
Keep raising on failure, since the raise is what routes the event to the failure handler. Keep
payload content out of error messages: the runtime writes an unhandled error's message to the logs.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.parser import BaseModel, Field, ValidationError, parse
from pydantic import ConfigDict, StrictBool

from .errors import InvalidJobRequestError, JobFailedError


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
