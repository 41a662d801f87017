#!/usr/bin/env python3
"""Stamp a new workload in the kit's shape: `make workload NAME=order-intake`.

Copies tools/workload_template/ (stack, settings, constructs, Lambda package, tests, docs page) with
the names filled in, registers the workload once (one import and one entry in stacks/workloads.py,
its defaults under `kit.<contextKey>` in cdk.json), and writes its snapshot. The stamped workload is
the example most forks start from: an encrypted SQS queue -> one Python Lambda -> JSON objects
under a prefix of a private bucket. Straight after it `make synth` and `make test` pass.
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tools.workload_files import ToolError, spellings, tidy_python, update_snapshots

REPO_ROOT = Path(__file__).resolve().parents[1]
TEMPLATE = Path(__file__).resolve().parent / "workload_template"
REGISTRY = REPO_ROOT / "stacks" / "workloads.py"
CDK_JSON = REPO_ROOT / "cdk.json"
KEY_PATTERN = r"[a-z][a-z0-9]*(-[a-z][a-z0-9]*)*"
# Stack names are `<app>-<stage>-<key>` (CloudFormation: 128 characters); function log groups and
# role names get longer with the key, so keep it short.
MAX_KEY_LENGTH = 24
DEFAULT_SETTINGS = {
    "batchSize": 10,
    "maxBatchingWindowSeconds": 0,
    "maxConcurrency": 2,
    "maxReceiveCount": 5,
    "resultsPrefix": "results/",
    "memoryMb": 256,
    "timeoutSeconds": 30,
}


class ScaffoldError(Exception):
    """The name is not usable, or the workload already exists."""


def names(key: str) -> dict[str, str]:
    """Every spelling of the workload's name, by the placeholder the template uses for it."""
    return spellings(key)


def fill(text: str, spelled: dict[str, str]) -> str:
    for placeholder, value in spelled.items():
        text = text.replace(placeholder, value)
    return text


def check(key: str) -> None:
    if not re.fullmatch(KEY_PATTERN, key) or len(key) > MAX_KEY_LENGTH:
        raise ScaffoldError(
            f"NAME={key!r}: use kebab case, a letter first, at most {MAX_KEY_LENGTH} characters (e.g. order-intake)"
        )
    spelled = names(key)
    registry = REGISTRY.read_text()
    if re.search(rf'Workload\(\s*"{re.escape(key)}"', registry):
        raise ScaffoldError(f"workload {key!r} is already registered in stacks/workloads.py")
    taken = [
        path.relative_to(REPO_ROOT)
        for path in (
            REPO_ROOT / "stacks" / spelled["__snake__"],
            REPO_ROOT / "stacks" / f"{spelled['__snake__']}.py",
            REPO_ROOT / "lambdas" / spelled["__snake__"],
            REPO_ROOT / "tests" / spelled["__snake__"],
            REPO_ROOT / "docs" / f"{key}.md",
        )
        if path.exists()
    ]
    if taken:
        raise ScaffoldError(f"workload {key!r} would overwrite {', '.join(map(str, taken))}")
    if spelled["__camel__"] in json.loads(CDK_JSON.read_text())["context"]["kit"]:
        raise ScaffoldError(f"cdk.json already has settings under kit.{spelled['__camel__']}")


def stamp_files(spelled: dict[str, str]) -> list[Path]:
    written = []
    for source in sorted(TEMPLATE.rglob("*")):
        if source.is_dir() or "__pycache__" in source.parts:
            continue
        target = REPO_ROOT / fill(str(source.relative_to(TEMPLATE)), spelled)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(fill(source.read_text(), spelled))
        written.append(target)
    return written


def register(spelled: dict[str, str]) -> None:
    """One import (in sorted place among the workload imports) and one entry in stacks/workloads.py."""
    lines = REGISTRY.read_text().splitlines(keepends=True)
    snake, pascal, key = spelled["__snake__"], spelled["__Pascal__"], spelled["__key__"]
    new_import = f"from stacks.{snake} import {pascal}Stack, read_{snake}\n"
    stacks_imports = [i for i, line in enumerate(lines) if line.startswith("from stacks.")]
    position = next((i for i in stacks_imports if lines[i] > new_import), stacks_imports[-1] + 1)
    lines.insert(position, new_import)
    start = next(i for i, line in enumerate(lines) if line.startswith("WORKLOADS: tuple[Workload, ...] = ("))
    end = next(i for i in range(start, len(lines)) if lines[i].rstrip() == ")")
    lines.insert(end, f'    Workload("{key}", {pascal}Stack, read_{snake}),\n')
    REGISTRY.write_text("".join(lines))


def add_settings(spelled: dict[str, str]) -> None:
    """The workload's defaults under `kit.<contextKey>` in cdk.json, after the other workloads'."""
    document = json.loads(CDK_JSON.read_text())
    document["context"]["kit"][spelled["__camel__"]] = dict(DEFAULT_SETTINGS)
    CDK_JSON.write_text(json.dumps(document, indent=2) + "\n")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("name", help="the workload key, kebab case: order-intake")
    parser.add_argument("--no-snapshot", action="store_true", help="skip writing the snapshot (tests do it later)")
    args = parser.parse_args(argv)
    written: list[Path] = []
    saved = {path: path.read_text() for path in (REGISTRY, CDK_JSON)}
    try:
        check(args.name)
        spelled = names(args.name)
        written = stamp_files(spelled)
        register(spelled)
        add_settings(spelled)
        tidy_python([*written, REGISTRY])
        if not args.no_snapshot:
            # The new stack's snapshot only: the others stay untouched.
            update_snapshots(tests=["tests/test_snapshots.py"], keyword=f"test_stack_matches_snapshot and {args.name}")
    except (ScaffoldError, ToolError) as error:
        # Nothing half-stamped stays behind: the files go, the registry and cdk.json come back.
        for path in written:
            path.unlink(missing_ok=True)
        for folder in sorted({p.parent for p in written}, key=lambda p: len(p.parts), reverse=True):
            shutil.rmtree(folder / "__pycache__", ignore_errors=True)
            if folder.is_dir() and not any(folder.iterdir()):
                folder.rmdir()
        for path, text in saved.items():
            path.write_text(text)
        print(f"make workload: {error}", file=sys.stderr)
        return 2
    print(f"Stamped workload {args.name!r}:")
    for path in written:
        print(f"  {path.relative_to(REPO_ROOT)}")
    print("  stacks/workloads.py (registered), cdk.json (kit." + spelled["__camel__"] + ")")
    if not args.no_snapshot:
        print(f"  tests/__snapshots__/test_snapshots/test_stack_matches_snapshot[{args.name}].json")
    print(
        f"Next: `make synth` and `make test`, then replace lambdas/{spelled['__snake__']}/"
        f"lwk_{spelled['__snake__']}/logic.py with your own. See docs/{args.name}.md."
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
