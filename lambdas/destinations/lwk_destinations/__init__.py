"""Lambda Destinations workload: the worker, its two destination handlers and the replay command.

The Lambda asset root is `lambdas/destinations/`; handlers are `lwk_destinations.handlers.<name>`
(contract.py names them). Modules: contract (names and bounds shared with the stack), config (the
environment), handlers (thin entries), job (the worker's job), records (Lambda's invocation records),
kept (the kept-failure message), aws (SQS calls), errors, replay (the command, not used in Lambda).
"""
