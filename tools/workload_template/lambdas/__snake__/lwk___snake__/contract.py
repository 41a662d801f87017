"""The __Title__ function's contract with its stack: environment variable names, bounds, shared names.

Standard library only: the stack (stacks/__snake__/) loads this file too, so that the settings, the
function's environment and `config.load_config` agree on every name and range.
"""

from __future__ import annotations

SERVICE_NAME = "lwk-__key__"
# Business metrics (Powertools Metrics, embedded metric format, dimension `service` only; the
# namespace comes from POWERTOOLS_METRICS_NAMESPACE, which the stack sets): per batch, the items
# stored and the messages refused.
ITEMS_STORED = "ItemsStored"
MESSAGES_REFUSED = "MessagesRefused"
# The handler string Lambda calls (module path inside the asset root lambdas/__snake__/).
HANDLER = "lwk___snake__.handlers.handler"

# Environment variables the stack sets and `config.load_config` reads.
RESULTS_BUCKET = "RESULTS_BUCKET"
RESULTS_PREFIX = "RESULTS_PREFIX"

# Where results go in the bucket: one or more path segments, each ending in "/".
DEFAULT_RESULTS_PREFIX = "results/"
RESULTS_PREFIX_PATTERN = r"([A-Za-z0-9_.-]+/){1,8}"
# An item id becomes part of an S3 key: letters, digits, '.', '_', '-', starting with a letter or digit.
ITEM_ID_PATTERN = r"[A-Za-z0-9][A-Za-z0-9._-]{0,127}"
