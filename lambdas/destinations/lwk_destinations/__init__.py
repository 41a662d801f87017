"""Lambda Destinations workload: the worker, its two destination handlers and the replay command.

The Lambda asset root is `lambdas/destinations/`; handlers are `lwk_destinations.<module>.handler`.
A package of its own (not top-level modules) so that its names never collide with another
workload's modules when the tests import several workloads in one process.
"""
