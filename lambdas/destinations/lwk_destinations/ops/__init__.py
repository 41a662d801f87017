"""Operator commands of the destinations workload: run from a laptop, never bundled into Lambda."""
