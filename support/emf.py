"""Reading embedded metric format (EMF) lines out of captured output, the way CloudWatch Logs does:
a JSON object with `_aws.CloudWatchMetrics` is a metric record, anything else is an ordinary line."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class MetricPoint:
    namespace: str
    name: str
    value: float
    unit: str
    dimensions: dict[str, str]


def emf_points(text: str) -> list[MetricPoint]:
    """Every metric value of every EMF line in `text` (split on newlines only, as Lambda splits)."""
    points: list[MetricPoint] = []
    for line in text.split("\n"):
        try:
            record: Any = json.loads(line)
        except ValueError:
            continue
        if not isinstance(record, dict) or "_aws" not in record:
            continue
        for directive in record["_aws"]["CloudWatchMetrics"]:
            for dimension_set in directive["Dimensions"]:
                dimensions = {name: record[name] for name in dimension_set}
                for metric in directive["Metrics"]:
                    values = record[metric["Name"]]
                    for value in values if isinstance(values, list) else [values]:
                        points.append(
                            MetricPoint(
                                directive["Namespace"], metric["Name"], value, metric.get("Unit", "None"), dimensions
                            )
                        )
    return points
