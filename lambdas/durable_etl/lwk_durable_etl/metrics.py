"""A run's business metrics in CloudWatch's embedded metric format (Powertools Metrics): printed to
stdout, which Lambda writes to the function's log group, where CloudWatch turns them into metrics.
No API call and no permission. The namespace is the configuration's (POWERTOOLS_METRICS_NAMESPACE, set
by the stack, checked by `load_config` at the start of the run).
"""

from __future__ import annotations

from aws_lambda_powertools import Metrics
from aws_lambda_powertools.metrics import MetricUnit, single_metric

from . import contract


def emit_run_metrics(*, namespace: str, read: int, loaded: int, rejected: int, duplicates: int) -> dict[str, int]:
    """Writes the run's counts: read, loaded, rejected (in all and per reason) and the rejected
    share in percent of what was read. Returns the counts, as a step result."""
    metrics = Metrics(namespace=namespace, service=contract.SERVICE_NAME)
    metrics.add_metric(name=contract.RECORDS_READ, unit=MetricUnit.Count, value=read)
    metrics.add_metric(name=contract.RECORDS_LOADED, unit=MetricUnit.Count, value=loaded)
    metrics.add_metric(name=contract.RECORDS_REJECTED, unit=MetricUnit.Count, value=rejected)
    metrics.add_metric(
        name=contract.REJECTED_PERCENT, unit=MetricUnit.Percent, value=100.0 * rejected / read if read else 0.0
    )
    metrics.flush_metrics()
    # Duplicates are rejected too (the transform step refuses them), so the rest is everything else.
    by_reason = dict(zip(contract.REJECT_REASONS, (duplicates, max(rejected - duplicates, 0)), strict=True))
    for reason, count in by_reason.items():
        with single_metric(
            name=contract.RECORDS_REJECTED,
            unit=MetricUnit.Count,
            value=count,
            namespace=namespace,
            default_dimensions={"service": contract.SERVICE_NAME},
        ) as metric:
            metric.add_dimension(name=contract.REASON_DIMENSION, value=reason)
    return {"read": read, "loaded": loaded, "rejected": rejected, **by_reason}
