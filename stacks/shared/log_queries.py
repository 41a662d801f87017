"""Ready-made CloudWatch Logs Insights queries for a workload stack, saved as `AWS::Logs::QueryDefinition`.

`add_log_queries(stack)` finds the stack's log groups (every KitFunction and state machine writes to
one of its own) and saves three queries over all of them, in the console folder `<stack name>`:
`errors` (ERROR lines and error types), `outcomes` (how often each message was logged, per log
group) and `ids` (the ids a line carries: request, task, run, message). The kit's logs are JSON
(Powertools; the bash runtime writes its own JSON lines), so the queries read their fields by name.
Applied to every registered stack in stacks/kit_app.py; grants nothing.
"""

from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import aws_logs as logs

# Fields the kit's handlers log: Powertools' `function_request_id`, the handlers' own ids.
ID_FIELDS = ("function_request_id", "requestId", "taskId", "messageId", "runId", "executionArn")
QUERIES = {
    "errors": (
        "fields @timestamp, @log, level, errorType, message, function_request_id, requestId\n"
        '| filter level = "ERROR" or ispresent(errorType) or ispresent(error)\n'
        "| sort @timestamp desc\n"
        "| limit 200"
    ),
    "outcomes": (
        "filter ispresent(message)\n| stats count(*) as lines by @log, level, message\n| sort lines desc\n| limit 100"
    ),
    "ids": (
        f"fields @timestamp, @log, level, message, {', '.join(ID_FIELDS)}\n"
        f"| filter {' or '.join(f'ispresent({field})' for field in ID_FIELDS)}\n"
        "| sort @timestamp desc\n"
        "| limit 200"
    ),
}


def add_log_queries(stack: cdk.Stack) -> list[logs.CfnQueryDefinition]:
    """One query definition per entry of QUERIES, scoped to the stack's own log groups (none without any)."""
    groups = [c.ref for c in stack.node.find_all() if isinstance(c, logs.CfnLogGroup)]
    if not groups:
        return []
    return [
        logs.CfnQueryDefinition(
            stack,
            f"Query{name.capitalize()}",
            name=f"{stack.stack_name}/{name}",
            query_string=query,
            log_group_names=groups,
        )  # fmt: skip
        for name, query in QUERIES.items()
    ]
