"""`make cost`: each workload's monthly cost at list prices (us-east-1), from the current settings.

    .venv/bin/python -m tools.cost [-c kit.<key>=<value> ...] [--usage <workload>.<input>=<n> ...]

The settings come from cdk.json and `-c` overrides through the kit's own settings reader, so a value
synth refuses is refused here too; the fixed items (KMS keys, alarms, dashboards, custom metrics) are
counted from the synthesized templates (one in-process synth, no AWS call). What the settings cannot
say (how often a workload runs, how much data) is a named usage input with a default, printed with
every figure: change it with `--usage <workload>.<name>=<number>`. Free tiers are left out, prices
are the PRICES table below with its date and sources. A workload without a usage model (a stamped
one, until it has a tools/<workload>_cost.py) shows its fixed items and its logs.

Each docs page's cost section holds this command's output for the defaults between the markers
`<!-- make cost: begin -->` and `<!-- make cost: end -->` (tests/test_cost.py checks they match).
"""

from __future__ import annotations

import argparse
import importlib
import importlib.util
import json
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

# List prices, us-east-1, as quoted by the kit's pages (November 2026) from these AWS pricing pages;
# first paid tier, free tiers left out. Re-check them there before relying on a figure.
PRICES_DATE = "2026-11"
PRICE_SOURCES = (
    "https://aws.amazon.com/lambda/pricing/",
    "https://aws.amazon.com/dynamodb/pricing/on-demand/",
    "https://aws.amazon.com/s3/pricing/",
    "https://aws.amazon.com/sqs/pricing/",
    "https://aws.amazon.com/step-functions/pricing/",
    "https://aws.amazon.com/cloudwatch/pricing/",
    "https://aws.amazon.com/kms/pricing/",
)
PRICES: dict[str, float] = {
    "lambda_request": 0.20 / 1e6,
    "lambda_gb_second_arm64": 0.0000133334,
    "durable_operation": 8.00 / 1e6,
    "dynamodb_write_request_unit": 0.625 / 1e6,
    "dynamodb_read_request_unit": 0.125 / 1e6,
    "s3_put": 0.005 / 1000,
    "s3_get": 0.0004 / 1000,
    "s3_standard_gb_month": 0.023,
    "s3_glacier_ir_gb_month": 0.004,
    "sqs_request": 0.40 / 1e6,
    "sfn_state_transition": 0.025 / 1000,
    "logs_ingested_gb": 0.50,
    "logs_stored_gb_month": 0.03,
    "custom_metric_month": 0.30,
    "alarm_metric_month": 0.10,
    "dashboard_month": 3.00,
    "kms_key_month": 1.00,
}


@dataclass(frozen=True)
class Line:
    item: str
    basis: str
    usd: float


Usage = Mapping[str, float]


def lambda_usd(requests: float, seconds: float, memory_mb: int) -> float:
    """Lambda's request and arm64 compute charges for `requests` invocations of `seconds` each."""
    return (
        requests * PRICES["lambda_request"] + requests * seconds * memory_mb / 1024 * PRICES["lambda_gb_second_arm64"]
    )


# Every workload logs: GB ingested a month, kept logRetentionDays.
LOG_GB_PER_MONTH = 0.1


def _alarm_metrics(alarm: Mapping[str, Any]) -> int:
    # A math alarm is billed per metric it reads; a Metrics Insights query counts as one here.
    metrics = alarm.get("Metrics")
    return sum(1 for m in metrics if "MetricStat" in m) or 1 if metrics else 1


def usage_model(workload_key: str) -> ModuleType | None:
    """`tools/<python_name>_cost.py`, the workload's usage model, if it has one: `USAGE` (the named
    inputs with their defaults), `lines(settings, common, usage)` and, where a metric dimension takes
    more than one value, `dimension_values(settings)`. It goes with its workload."""
    from stacks.workloads import workload

    name = f"tools.{workload(workload_key).python_name}_cost"
    return importlib.import_module(name) if importlib.util.find_spec(name) else None


def _custom_metrics(workload_key: str, settings: Any) -> int:
    from stacks.workloads import workload

    model = usage_model(workload_key)
    values_of = model.dimension_values(settings) if model and hasattr(model, "dimension_values") else {}
    count = 0
    for entry in getattr(workload(workload_key).stack, "business_metrics", ()):
        values = 1
        for dimension in entry.dimensions:
            values *= values_of.get(dimension, 1)
        count += len(entry.names) * values
    return count


def fixed_lines(template: Mapping[str, Any], workload_key: str, settings: Any) -> list[Line]:
    resources = template["Resources"].values()
    keys = sum(r["Type"] == "AWS::KMS::Key" for r in resources)
    alarm_metrics = sum(_alarm_metrics(r["Properties"]) for r in resources if r["Type"] == "AWS::CloudWatch::Alarm")
    dashboards = sum(r["Type"] == "AWS::CloudWatch::Dashboard" for r in resources)
    # A metric filter publishes a custom metric per transformation, as an EMF line does.
    metrics = _custom_metrics(workload_key, settings) + sum(
        len(r["Properties"]["MetricTransformations"]) for r in resources if r["Type"] == "AWS::Logs::MetricFilter"
    )
    return [
        Line("KMS keys", f"{keys}", keys * PRICES["kms_key_month"]),
        Line(
            "Alarms",
            f"{alarm_metrics} alarm metrics (a Metrics Insights alarm counted as one)",
            alarm_metrics * PRICES["alarm_metric_month"],
        ),
        Line("Dashboard", f"{dashboards} (the first 3 of an account are free)", dashboards * PRICES["dashboard_month"]),
        Line("Custom metrics (EMF)", f"{metrics} metric series", metrics * PRICES["custom_metric_month"]),
    ]


def workload_lines(
    template: Mapping[str, Any], workload_key: str, settings: Any, common: Any, usage: Mapping[str, float]
) -> list[Line]:
    retention_months = common.log_retention_days / 30
    lines = fixed_lines(template, workload_key, settings)
    lines.append(
        Line(
            "CloudWatch Logs",
            f"{LOG_GB_PER_MONTH:g} GB a month, kept {common.log_retention_days} days",
            LOG_GB_PER_MONTH * (PRICES["logs_ingested_gb"] + retention_months * PRICES["logs_stored_gb_month"]),
        )
    )
    if (model := usage_model(workload_key)) is not None:
        lines.extend(model.lines(settings, common, usage))
    return lines


def _number(value: float) -> str:
    return f"{int(value):,}" if float(value).is_integer() else f"{value:g}"


def render(workload_key: str, lines: Sequence[Line], usage: Mapping[str, float]) -> str:
    inputs = ", ".join(f"`{name}` = {_number(value)}" for name, value in usage.items()) or "none (no usage model yet)"
    rows = [f"| {line.item} | {line.basis} | {line.usd:,.2f} |" for line in lines]
    total = sum(line.usd for line in lines)
    return "\n".join(
        [
            f"Monthly cost of `{workload_key}` at list prices (us-east-1, {PRICES_DATE}, free tiers left out), "
            f"usage inputs: {inputs}.",
            "",
            "| item | basis | USD / month |",
            "|---|---|---|",
            *rows,
            f"| **total** | | **{total:,.2f}** |",
            "",
            "Not in the table: X-Ray traces ($5 per million recorded beyond the free tier) and requests to",
            "KMS and S3 that the rows above do not name. `make cost ARGS='-c kit.<key>=<value> --usage "
            "<workload>.<input>=<n>'` prices other settings.",
        ]
    )


def usage_for(workload_key: str, overrides: Mapping[str, float]) -> dict[str, float]:
    model = usage_model(workload_key)
    defaults = dict(model.USAGE) if model is not None else {}
    for name, value in overrides.items():
        key, _, input_name = name.rpartition(".")
        if key == workload_key:
            if input_name not in defaults:
                raise SystemExit(
                    f"--usage {name}: {workload_key} has no input {input_name!r} (it has {sorted(defaults)})"
                )
            defaults[input_name] = value
    return defaults


def report(
    templates: Mapping[str, Mapping[str, Any]], kit_settings: Any, usage: Mapping[str, float] | None = None
) -> dict[str, str]:
    """The rendered cost section of every workload, by key."""
    from stacks.workloads import KEYS

    sections = {}
    for key in KEYS:
        inputs = usage_for(key, usage or {})
        lines = workload_lines(templates[key], key, kit_settings.of(key), kit_settings.common, inputs)
        sections[key] = render(key, lines, inputs)
    return sections


def _pair(text: str) -> tuple[str, str]:
    name, sep, value = text.partition("=")
    if not sep or not name:
        raise argparse.ArgumentTypeError(f"{text!r} is not key=value")
    return name, value


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="make cost", description=__doc__.split("\n")[0])
    parser.add_argument("-c", dest="context", action="append", type=_pair, default=[], help="kit.<key>=<value>")
    parser.add_argument("--usage", action="append", type=_pair, default=[], help="<workload>.<input>=<number>")
    args = parser.parse_args(argv)
    try:
        usage = {name: float(value) for name, value in args.usage}
    except ValueError as error:
        parser.error(f"--usage needs a number: {error}")

    import tempfile

    from stacks.kit_app import create_app
    from stacks.kit_settings import settings_from_context
    from stacks.workloads import WORKLOADS

    cdk_json = json.loads((Path(__file__).resolve().parents[1] / "cdk.json").read_text())
    context = {**cdk_json["context"], **dict(args.context)}
    kit_settings = settings_from_context(context)  # a value synth refuses stops here, naming it
    with tempfile.TemporaryDirectory() as outdir:
        assembly = create_app(outdir=outdir, context=context, nag=False).synth()
        templates = {
            w.key: json.loads(
                json.dumps(assembly.get_stack_by_name(w.stack_name(kit_settings.common.name_prefix)).template)
            )
            for w in WORKLOADS
        }
    for section in report(templates, kit_settings, usage).values():
        print(section, end="\n\n")
    print("Prices: " + ", ".join(PRICE_SOURCES))
    return 0


if __name__ == "__main__":
    sys.exit(main())
