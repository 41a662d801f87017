"""The destinations workload's contract: what the stack and the handlers must agree on, defined once.

Imported by the Lambda package (`config.py`, the handlers) and by the stack (`stacks/destinations/`),
which reads it by file path. Standard library only: it is loaded at synth time, outside Lambda.
"""

from __future__ import annotations

from typing import Final

# Powertools `Logger(service=...)` of every function of the workload; the function name tells them apart.
SERVICE_NAME: Final = "lwk-destinations"

# --- Business metrics (Powertools Metrics, embedded metric format; dimension `service` only) -----
# The failure handler counts every failure it keeps, and those of them it offloaded to the bucket;
# the namespace comes from POWERTOOLS_METRICS_NAMESPACE. (Replays run on an operator's machine, where
# a metric line reaches no log group: `replay` prints its counts instead.)
FAILURES_KEPT: Final = "FailuresKept"
FAILURES_OFFLOADED: Final = "FailuresOffloaded"

# --- Environment variables the stack sets and `config.load_config` reads -------------------------
KEPT_FAILURES_QUEUE_URL_ENV: Final = "KEPT_FAILURES_QUEUE_URL"
OFFLOAD_BUCKET_ENV: Final = "OFFLOAD_BUCKET"
# "true" (kit.destinations.logPayloads) adds request/response payloads and error messages to the
# logs, for debugging only; "false" (the default) logs ids, outcomes, sizes and error types.
LOG_PAYLOADS_ENV: Final = "LOG_PAYLOADS"

# --- Handler entries (`lwk_destinations.handlers.<name>`) ---------------------------------------
HANDLER_MODULE: Final = "lwk_destinations.handlers"
WORKER_HANDLER: Final = f"{HANDLER_MODULE}.worker"
SUCCESS_HANDLER: Final = f"{HANDLER_MODULE}.success"
FAILURE_HANDLER: Final = f"{HANDLER_MODULE}.failure"

# --- Record kinds: `requestContext.condition` of Lambda's invocation records ---------------------
SUCCESS: Final = "Success"
RETRIES_EXHAUSTED: Final = "RetriesExhausted"
EVENT_AGE_EXCEEDED: Final = "EventAgeExceeded"

# --- Bounds of the settings (kit.destinations.*): Lambda's own for asynchronous invocation -------
MAX_RETRY_ATTEMPTS_RANGE: Final = (0, 2)
DEFAULT_MAX_RETRY_ATTEMPTS: Final = 2
MAX_EVENT_AGE_SECONDS_RANGE: Final = (60, 21600)
DEFAULT_MAX_EVENT_AGE_SECONDS: Final = 3600
FAILED_QUEUE_DEPTH_ALARM_RANGE: Final = (1, 100000)
DEFAULT_FAILED_QUEUE_DEPTH_ALARM: Final = 1

# --- The kept-failures queue --------------------------------------------------------------------
# Set on the queue (MaximumMessageSize) and used by the failure handler to decide what to offload.
# 256 KiB although SQS now takes up to 1 MiB: SQS bills each 64 KiB of a message as one request, and
# a failure this big (a payload of up to 1 MB, an error of any size) goes whole to the offload bucket.
KEPT_MESSAGE_MAX_BYTES: Final = 262_144
# SQS's longest retention: failed requests wait for a person to look at them.
KEPT_RETENTION_DAYS: Final = 14
# Receives (listings, refused replays) before a kept failure moves to the dead-letter queue.
MAX_RECEIVES_BEFORE_DLQ: Final = 10
# Message attributes of a kept failure, to tell failures apart without reading bodies.
CONDITION_ATTRIBUTE: Final = "condition"
ERROR_TYPE_ATTRIBUTE: Final = "errorType"
# Present on a summary whose whole copy is in the offload bucket: the object key.
OFFLOADED_ATTRIBUTE: Final = "offloaded"

# --- The offload bucket (whole kept failures too big for the queue) ------------------------------
OFFLOAD_PREFIX: Final = "kept-failures/"
# Longer than the queue keeps the summaries that point to them (14 days), so a pointer never dangles.
OFFLOAD_EXPIRATION_DAYS: Final = 30
