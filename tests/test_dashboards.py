"""Every function, state machine, queue and alarm of every registered stack is on its stack's dashboard.

Read from the synthesized templates: the dashboard body is a `Fn::Join` whose tokens name resources
by logical id, so a resource is on the dashboard when its logical id is referenced in the body.
"""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest

from stacks.settings.common import APP_NAME
from stacks.workloads import KEYS
from tests.conftest import KitAssembly

DASHBOARD = "AWS::CloudWatch::Dashboard"
# The kinds of resource the dashboard must show, each by how the body refers to it.
SHOWN = {
    "AWS::Lambda::Function": "Ref",
    "AWS::StepFunctions::StateMachine": "Ref",
    "AWS::SQS::Queue": "QueueName",
    "AWS::CloudWatch::Alarm": "Arn",
    "AWS::DynamoDB::Table": "Ref",
}


def dashboards(template: dict[str, Any]) -> list[dict[str, Any]]:
    return [r for r in template["Resources"].values() if r["Type"] == DASHBOARD]


def referenced(body: Any) -> set[tuple[str, str]]:
    """(logical id, "Ref" or the GetAtt attribute) of every token in the dashboard body."""
    found: set[tuple[str, str]] = set()

    def walk(value: Any) -> None:
        if isinstance(value, dict):
            if "Ref" in value:
                found.add((value["Ref"], "Ref"))
            elif "Fn::GetAtt" in value:
                found.add((value["Fn::GetAtt"][0], value["Fn::GetAtt"][1]))
            else:
                for child in value.values():
                    walk(child)
        elif isinstance(value, list):
            for child in value:
                walk(child)

    walk(body)
    return found


def missing_from_dashboard(template: dict[str, Any]) -> list[str]:
    """The logical ids of resources the stack's one dashboard does not show."""
    (dashboard,) = dashboards(template)
    shown = referenced(dashboard["Properties"]["DashboardBody"])
    return sorted(
        logical_id
        for logical_id, resource in template["Resources"].items()
        if resource["Type"] in SHOWN and (logical_id, SHOWN[resource["Type"]]) not in shown
    )


def rendered(body: Any) -> Any:
    """The dashboard body as CloudWatch would read it, tokens replaced by placeholders."""
    parts = body["Fn::Join"][1] if isinstance(body, dict) else [body]
    return json.loads("".join(part if isinstance(part, str) else "TOKEN" for part in parts))


@pytest.mark.parametrize("workload", KEYS)
def test_every_resource_is_on_its_stack_s_dashboard(kit: KitAssembly, workload: str) -> None:
    template = kit.templates[workload]
    (dashboard,) = dashboards(template)
    assert dashboard["Properties"]["DashboardName"] == kit.stack_names[workload]
    assert dashboard["Properties"]["DashboardName"].startswith(f"{APP_NAME}-")
    assert missing_from_dashboard(template) == []


@pytest.mark.parametrize("workload", KEYS)
def test_the_check_notices_a_resource_left_off(kit: KitAssembly, workload: str) -> None:
    template = copy.deepcopy(kit.templates[workload])
    (dashboard,) = dashboards(template)
    # Every function the stack has: drop the widgets of the first one from the body.
    functions = [k for k, r in template["Resources"].items() if r["Type"] == "AWS::Lambda::Function"]
    assert functions, f"{workload} has no function"
    parts = dashboard["Properties"]["DashboardBody"]["Fn::Join"][1]
    dashboard["Properties"]["DashboardBody"]["Fn::Join"][1] = [p for p in parts if p != {"Ref": functions[0]}]
    assert functions[0] in missing_from_dashboard(template)


@pytest.mark.parametrize("workload", KEYS)
def test_the_body_is_a_dashboard_cloudwatch_reads(kit: KitAssembly, workload: str) -> None:
    (dashboard,) = dashboards(kit.templates[workload])
    widgets = rendered(dashboard["Properties"]["DashboardBody"])["widgets"]
    assert widgets
    for widget in widgets:
        # CloudWatch's grid is 24 columns wide; a widget past it is refused by PutDashboard.
        assert widget["x"] >= 0 and widget["x"] + widget["width"] <= 24
        assert widget["type"] in ("metric", "alarm")
    cells = [(w["x"] + dx, w["y"] + dy) for w in widgets for dx in range(w["width"]) for dy in range(w["height"])]
    assert len(cells) == len(set(cells)), "widgets overlap"
    alarms = [w for w in widgets if w["type"] == "alarm"]
    has_alarms = any(r["Type"] == "AWS::CloudWatch::Alarm" for r in kit.templates[workload]["Resources"].values())
    assert len(alarms) == (1 if has_alarms else 0)
    # An alarm status widget takes at most 100 alarms.
    assert all(len(w["properties"]["alarms"]) <= 100 for w in alarms)


def test_durable_functions_show_their_executions(kit: KitAssembly) -> None:
    for workload in KEYS:
        template = kit.templates[workload]
        (dashboard,) = dashboards(template)
        body = json.dumps(dashboard["Properties"]["DashboardBody"])
        durable = [r for r in template["Resources"].values() if "DurableConfig" in r.get("Properties", {})]
        assert ("DurableExecutionStarted" in body) == bool(durable), workload


@pytest.mark.parametrize("workload", KEYS)
def test_the_saved_log_queries_read_every_log_group_of_the_stack(kit: KitAssembly, workload: str) -> None:
    from stacks.shared.log_queries import QUERIES

    resources = kit.templates[workload]["Resources"]
    groups = sorted(k for k, r in resources.items() if r["Type"] == "AWS::Logs::LogGroup")
    queries = [r["Properties"] for r in resources.values() if r["Type"] == "AWS::Logs::QueryDefinition"]
    assert groups, f"{workload} has no log group"
    assert sorted(q["Name"] for q in queries) == sorted(f"{kit.stack_names[workload]}/{name}" for name in QUERIES)
    for query in queries:
        assert sorted(ref["Ref"] for ref in query["LogGroupNames"]) == groups
