"""A clean synth: no annotation left for the CLI to print, and the one the kit acknowledges still needed."""

from __future__ import annotations

import json
from pathlib import Path

import aws_cdk as cdk
from aws_cdk import aws_lambda as lambda_
from aws_cdk.assertions import Annotations, Match

from stacks.shared.kit_function import DURABLE_REPLACEMENT_NOTE

# What the CLI prints after the synth, each with the jsii kernel's `.../lib/program.js:1:NNNNN`
# line above it (the first frame of the annotation's trace outside aws-cdk-lib, under jsii).
PRINTED_ANNOTATIONS = {"aws:cdk:info", "aws:cdk:warning", "aws:cdk:error"}


def test_the_cli_synth_leaves_no_annotation_to_print(cli_synth: Path) -> None:
    printed = [
        (path, entry["type"], entry["data"])
        for metadata in sorted(cli_synth.glob("*.metadata.json"))
        for path, entries in json.loads(metadata.read_text()).items()
        for entry in entries
        if entry["type"] in PRINTED_ANNOTATIONS
    ]
    assert printed == []


def test_the_durable_replacement_note_is_still_made_and_so_still_acknowledged() -> None:
    # aws-cdk-lib notes it on any function with durable config; if it stops, drop the acknowledgement.
    # Built-in validation off: it has nothing to do with the note and costs seconds.
    stack = cdk.Stack(cdk.App(builtin_cloud_formation_validation=False), "Probe")
    lambda_.Function(
        stack,
        "Durable",
        runtime=lambda_.Runtime.PYTHON_3_13,
        handler="index.handler",
        code=lambda_.Code.from_inline("def handler(event, context): pass"),
        durable_config=lambda_.DurableConfig(
            execution_timeout=cdk.Duration.hours(1), retention_period=cdk.Duration.days(1)
        ),
    )
    notes = Annotations.from_stack(stack).find_info("*", Match.string_like_regexp("replacement"))
    assert [note.entry.data for note in notes] == [
        "Modifying an existing lambda to use durability will trigger a resource replacement "
        f"[ack: {DURABLE_REPLACEMENT_NOTE}]"
    ]
