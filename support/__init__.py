"""Shared support for the tests (`tests/`) and the benchmarks (`bench/`); never shipped to Lambda."""
