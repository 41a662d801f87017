"""The three MiniStack 1.5.33 gaps the kit's templates hit, closed in its CloudFormation path only.

Each patch is listed in docs/try-without-an-account.md with the upstream gap it covers, and
tests/deploy_local/ checks that the stock code still has the gap (so a MiniStack release that fixes
it makes the test say the patch can go) and that the patched code behaves as AWS documents.
Runs inside MiniStack's own virtualenv: standard library and MiniStack only.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

PATCHED_VERSION = "1.5.33"

# MiniStack starts a durable execution on invoke only when the stored DurableConfig holds this key.
# AWS's DurableConfig has no such key (ExecutionTimeout and RetentionPeriodInDays only): having a
# DurableConfig is what makes a function durable. The key is MiniStack's own marker, added here.
_MINISTACK_DURABLE_MARKER = "Enabled"


def metric_math_alarm_record(original: Callable[..., dict[str, Any]]) -> Callable[..., dict[str, Any]]:
    """Gap: `AWS::CloudWatch::Alarm` with `Metrics` (metric math) is refused, failing the stack.

    Patched: the alarm is created with its `Metrics` kept, as `DescribeAlarms` shows it on AWS. MiniStack
    evaluates single-metric alarms only, so a metric-math alarm stays INSUFFICIENT_DATA.
    """

    @functools.wraps(original)
    def record(name: str, props: dict[str, Any]) -> dict[str, Any]:
        metrics = props.get("Metrics")
        if not metrics:
            return original(name, props)
        # The stock builder needs a single metric; build with a placeholder, then put the real shape back.
        stand_in = {k: v for k, v in props.items() if k != "Metrics"}
        stand_in.update(MetricName="placeholder", Namespace="placeholder")
        alarm = original(name, stand_in)
        for key in ("MetricName", "Namespace", "Statistic", "ExtendedStatistic", "Dimensions", "Unit"):
            alarm.pop(key, None)
        alarm["Metrics"] = metrics
        return alarm

    return record


def keep_function_configs(original: Callable[..., Any], functions: Any) -> Callable[..., Any]:
    """Gap: `AWS::Lambda::Function` drops `DurableConfig` and `DeadLetterConfig` (create and update).

    Patched: both are stored on the function as the Lambda API stores them, so a durable function
    runs as one and an asynchronous failure reaches its dead-letter queue.
    """

    @functools.wraps(original)
    def provision(*args: Any, **kwargs: Any) -> Any:
        result = original(*args, **kwargs)
        props = _new_props(args, kwargs)
        name = result[0]
        config = functions[name]["config"]
        durable = props.get("DurableConfig")
        if durable:
            config["DurableConfig"] = {**durable, _MINISTACK_DURABLE_MARKER: True}
        else:
            config.pop("DurableConfig", None)
        dead_letter = props.get("DeadLetterConfig") or {}
        if dead_letter.get("TargetArn"):
            config["DeadLetterConfig"] = {"TargetArn": dead_letter["TargetArn"]}
        else:
            config.pop("DeadLetterConfig", None)
        return result

    return provision


# The query definitions the patched provisioner created, by id (MiniStack has no Logs API for them).
QUERY_DEFINITIONS: dict[str, dict[str, Any]] = {}


def query_definition_handlers() -> dict[str, Callable[..., Any]]:
    """Gap: `AWS::Logs::QueryDefinition` is not a resource type MiniStack knows: every stack that
    declares one (each of the kit's, for its saved Logs Insights queries) is refused up front.

    Patched: created, updated in place and deleted the way PutQueryDefinition and
    DeleteQueryDefinition do (the physical id is the query definition id; `Name` 1-255 and
    `QueryString` 1-10000 characters required, as the CloudWatch Logs API reference says). Nothing
    runs the queries: MiniStack has no Logs Insights.
    """
    import uuid

    def checked(props: dict[str, Any]) -> dict[str, Any]:
        name, query = props.get("Name"), props.get("QueryString")
        if not isinstance(name, str) or not 1 <= len(name) <= 255:
            raise ValueError("AWS::Logs::QueryDefinition Name must be 1 to 255 characters")
        if not isinstance(query, str) or not 1 <= len(query) <= 10000:
            raise ValueError("AWS::Logs::QueryDefinition QueryString must be 1 to 10000 characters")
        return {"name": name, "queryString": query, "logGroupNames": list(props.get("LogGroupNames") or [])}

    def create(logical_id: str, props: dict[str, Any], stack_name: str) -> tuple[str, dict[str, Any]]:
        definition_id = str(uuid.uuid4())
        QUERY_DEFINITIONS[definition_id] = checked(props)
        return definition_id, {"QueryDefinitionId": definition_id}

    def update(
        physical_id: str, old_props: dict[str, Any], new_props: dict[str, Any], stack_name: str
    ) -> tuple[str, dict[str, Any]]:
        QUERY_DEFINITIONS[physical_id] = checked(new_props)
        return physical_id, {"QueryDefinitionId": physical_id}

    def delete(physical_id: str, props: dict[str, Any]) -> None:
        QUERY_DEFINITIONS.pop(physical_id, None)

    return {"create": create, "update": update, "delete": delete}


def _new_props(args: tuple[Any, ...], kwargs: dict[str, Any]) -> dict[str, Any]:
    # create(logical_id, props, stack_name); update(physical_id, old_props, new_props, stack_name, ...)
    if "new_props" in kwargs:
        return kwargs["new_props"]
    return args[2] if len(args) >= 4 else args[1]


def apply() -> None:
    """Install the three patches; refuses any MiniStack but the version they were written against."""
    from importlib.metadata import version

    installed = version("ministack")
    if installed != PATCHED_VERSION:
        raise RuntimeError(
            f"local/ministack/patches.py was written for ministack {PATCHED_VERSION}, found {installed}: "
            "check whether the gaps are still there before moving the pin"
        )
    from ministack.services import lambda_svc
    from ministack.services.cloudformation import provisioners

    provisioners._cw_metric_alarm_record = metric_math_alarm_record(provisioners._cw_metric_alarm_record)
    handlers = provisioners._RESOURCE_HANDLERS["AWS::Lambda::Function"]
    create = keep_function_configs(provisioners._lambda_create, lambda_svc._functions)
    # _lambda_update re-provisions through the module-level _lambda_create when DurableConfig changes.
    provisioners._lambda_create = create
    handlers["create"] = create
    handlers["update"] = keep_function_configs(handlers["update"], lambda_svc._functions)
    provisioners._RESOURCE_HANDLERS.setdefault("AWS::Logs::QueryDefinition", query_definition_handlers())
