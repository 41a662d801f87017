"""The destinations Lambda's contract (lambdas/destinations/lwk_destinations/contract.py), for the stack."""

from __future__ import annotations

from stacks.shared.contracts import load_contract

contract = load_contract("destinations")
