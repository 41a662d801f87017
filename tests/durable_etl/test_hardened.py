"""The durable ETL under the hardened profile: its dead-letter queue and schedule input on the stack's data key."""

from __future__ import annotations

from typing import Any

from tests.conftest import KitAssembly

WORKLOAD = "durable-etl"


def _of_type(resources: dict[str, Any], kind: str) -> dict[str, Any]:
    return {logical_id: r for logical_id, r in resources.items() if r["Type"] == kind}


def _key_id(reference: Any) -> str:
    # {"Fn::GetAtt": [id, "Arn"]} or {"Ref": id}
    return str(reference["Fn::GetAtt"][0] if "Fn::GetAtt" in reference else reference["Ref"])


def test_the_etl_dead_letter_queue_and_schedule_input_use_the_retained_data_key(
    hardened_kit: KitAssembly, kit: KitAssembly
) -> None:
    for assembly in (hardened_kit, kit):
        resources = assembly.templates[WORKLOAD]["Resources"]
        ((schedule_id, schedule),) = _of_type(resources, "AWS::Scheduler::Schedule").items()
        queue = resources[_key_id(schedule["Properties"]["Target"]["DeadLetterConfig"]["Arn"])]
        function_dlqs = [
            _key_id(f["Properties"]["DeadLetterConfig"]["TargetArn"])
            for f in _of_type(resources, "AWS::Lambda::Function").values()
            if "DeadLetterConfig" in f["Properties"]
        ]
        assert function_dlqs == [_key_id(schedule["Properties"]["Target"]["DeadLetterConfig"]["Arn"])]
        if assembly is kit:  # the default profile keeps SQS-managed keys and Scheduler's AWS owned key
            assert queue["Properties"]["SqsManagedSseEnabled"] is True
            assert "KmsMasterKeyId" not in queue["Properties"] and "KmsKeyArn" not in schedule["Properties"]
            continue
        key_id = _key_id(queue["Properties"]["KmsMasterKeyId"])
        assert "SqsManagedSseEnabled" not in queue["Properties"]
        assert _key_id(schedule["Properties"]["KmsKeyArn"]) == key_id, schedule_id
        assert resources[key_id]["Properties"]["Description"].startswith("Encrypts the data of ")
        assert resources[key_id]["DeletionPolicy"] == "Retain"  # the failed inputs outlive the stack
