"""The export's business metrics in CloudWatch's embedded metric format (Powertools Metrics): one
line on stdout per value, which Lambda writes to the function's log group and CloudWatch turns into
a metric. No API call, no permission; the namespace comes from POWERTOOLS_METRICS_NAMESPACE."""

from __future__ import annotations

from aws_lambda_powertools.metrics import MetricUnit, single_metric

from . import contract


def count(name: str, log_group: str, value: int = 1) -> None:
    """`value` of metric `name` for one configured log group (a bounded dimension)."""
    with single_metric(
        name=name, unit=MetricUnit.Count, value=value, default_dimensions={"service": contract.SERVICE_NAME}
    ) as metric:
        metric.add_dimension(name=contract.LOG_GROUP_DIMENSION, value=log_group)
