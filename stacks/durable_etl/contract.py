"""The Lambda's contract (lambdas/durable_etl/lwk_durable_etl/contract.py), shared by this package."""

from __future__ import annotations

from stacks.shared.contracts import load_contract

contract = load_contract("durable-etl")
