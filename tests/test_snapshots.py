"""A snapshot per stack, normalised for code hashes: read the diff before `pytest --snapshot-update`."""

from __future__ import annotations

import pytest
from syrupy.assertion import SnapshotAssertion
from syrupy.extensions.json import JSONSnapshotExtension

from stacks.kit_app import STACK_KEYS
from tests.conftest import KitAssembly
from tests.snapshot_normaliser import normalise


@pytest.fixture
def json_snapshot(snapshot: SnapshotAssertion) -> SnapshotAssertion:
    return snapshot.use_extension(JSONSnapshotExtension)


@pytest.mark.parametrize("workload", STACK_KEYS)
def test_stack_matches_snapshot(kit: KitAssembly, json_snapshot: SnapshotAssertion, workload: str) -> None:
    assert normalise(kit.templates[workload]) == json_snapshot


def test_normaliser_blanks_code_hashes_only() -> None:
    template = {
        "Resources": {
            "WorkerFunctionCurrentVersion0A1B2C3Dabcdef0123456789abcdef0123456789": {"Type": "AWS::Lambda::Version"},
            "Fn": {"Properties": {"Code": {"S3Key": "ab" * 32 + ".zip"}, "MemorySize": 256}},
        }
    }
    assert normalise(template) == {
        "Resources": {
            "WorkerFunctionCurrentVersion<code-hash>": {"Type": "AWS::Lambda::Version"},
            "Fn": {"Properties": {"Code": {"S3Key": "<asset-hash>.zip"}, "MemorySize": 256}},
        }
    }
