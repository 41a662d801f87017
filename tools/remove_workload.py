#!/usr/bin/env python3
"""Remove a workload from the kit: `make remove-workload NAME=destinations`.

Deletes the workload's own files (tools/workload_files.py says which), its import and entry in
stacks/workloads.py, its `kit.<contextKey>` settings in cdk.json and its marked blocks in the shared
Markdown files. Settings of the other workloads that name its resources (a log group under
`/<app>/<stage>/<key>/` in another workload's list of log groups) are dropped too, and the command says so:
synth would refuse them otherwise. Everything is worked out first; if anything that names the
workload would stay behind, the command lists it and changes nothing.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tools.workload_files import (
    EXAMPLE_KEY,
    REPO_ROOT,
    ToolError,
    app_name,
    mentions,
    outside_blocks,
    owns,
    spellings,
    tidy_python,
    tracked_files,
    update_snapshots,
    without_blocks,
)

REGISTRY = Path("stacks/workloads.py")
CDK_JSON = Path("cdk.json")


class RemoveError(Exception):
    """The workload cannot be removed as asked; nothing was changed."""


def registered_keys(registry_text: str) -> list[str]:
    return re.findall(r'\bWorkload\(\s*"([a-z0-9-]+)"', registry_text)


def unregister(text: str, key: str) -> str:
    """The registry without the workload's import and its `Workload(...)` entry (one or more lines)."""
    snake = spellings(key)["__snake__"]
    text = re.sub(rf"^from stacks\.{snake} import .*\n", "", text, flags=re.MULTILINE)
    entry = re.compile(rf'^[ \t]*Workload\(\s*"{re.escape(key)}".*?\),[ \t]*\n', re.MULTILINE | re.DOTALL)
    if not entry.search(text):
        raise RemoveError(f"stacks/workloads.py has no Workload({key!r}, ...) entry to remove")
    return entry.sub("", text, count=1)


def drop_settings(document: dict[str, Any], key: str, app: str) -> tuple[dict[str, Any], list[str]]:
    """cdk.json without `kit.<camel>`, and without the other settings' values that name the workload's resources."""
    kit = document["context"]["kit"]
    kit.pop(spellings(key)["__camel__"], None)
    # Log groups (and other names) of the workload's resources: `/<app>/<stage>/<key>/...`.
    named = re.compile(rf"^/{re.escape(app)}/[^/]+/{re.escape(key)}(/|$)")
    dropped: list[str] = []

    def prune(value: Any, path: str) -> Any:
        if isinstance(value, dict):
            pruned = {k: prune(v, f"{path}.{k}") for k, v in value.items()}
            # A list left empty goes: the setting's own default (which names its own workload) applies.
            return {k: v for k, v in pruned.items() if not (v == [] and value[k] != [])}
        if isinstance(value, list):
            kept = [item for item in value if not (isinstance(item, str) and named.match(item))]
            dropped.extend(f"{path}: {item}" for item in value if item not in kept)
            return [prune(item, path) for item in kept]
        return value

    document["context"]["kit"] = prune(kit, "kit")
    return document, dropped


def plan(root: Path, key: str) -> tuple[list[Path], dict[Path, str], list[str]]:
    """(files to delete, files to rewrite with their new text, notes); raises RemoveError on leftovers."""
    registry_text = (root / REGISTRY).read_text()
    keys = registered_keys(registry_text)
    if key not in keys:
        raise RemoveError(f"no workload {key!r}; registered: {', '.join(keys)}")
    if len(keys) == 1:
        raise RemoveError(f"{key!r} is the only workload left: stamp your own first (make workload NAME=...)")
    files = tracked_files(root)
    doomed = [path for path in files if owns(key, path)]
    rewrites: dict[Path, str] = {REGISTRY: unregister(registry_text, key)}
    document, dropped = drop_settings(json.loads((root / CDK_JSON).read_text()), key, app_name(root))
    rewrites[CDK_JSON] = json.dumps(document, indent=2, ensure_ascii=False) + "\n"
    for path in files:
        if path.suffix == ".md" and path not in doomed:
            text = (root / path).read_text()
            if (new := without_blocks(text, key)) != text:
                rewrites[path] = new
    leftovers = []
    named = mentions(key)
    if EXAMPLE_KEY.fullmatch(key):
        named = re.compile(r"(?!)")  # the docs' example name: see tools/workload_files.py
    for path in files:
        if path in doomed or path.suffix not in {".py", ".md", ".json", ".txt", ".yml", ".yaml", ".toml", ".sh", ""}:
            continue
        text = rewrites.get(path) or (root / path).read_text(errors="replace")
        text = outside_blocks(text) if path.suffix == ".md" else text
        leftovers += [
            f"{path}:{n}: {line.strip()[:120]}" for n, line in enumerate(text.splitlines(), 1) if named.search(line)
        ]
    if leftovers:
        raise RemoveError(
            "these lines outside the workload's own files still name it; move them into its files or into a "
            "marked block (tools/workload_files.py), then run the command again:\n  " + "\n  ".join(leftovers)
        )
    notes = [f"dropped {item} (a resource of {key})" for item in dropped]
    return doomed, rewrites, notes


def remove(root: Path, key: str) -> tuple[list[Path], list[str]]:
    doomed, rewrites, notes = plan(root, key)
    for path, text in rewrites.items():
        (root / path).write_text(text)
    tidy_python([root / REGISTRY], root)  # ruff lays the shortened registry out as `make lint` expects
    for path in doomed:
        (root / path).unlink()
    for folder in sorted({p.parent for p in doomed}, key=lambda p: len(p.parts), reverse=True):
        for candidate in (folder, *folder.parents):
            target = root / candidate
            if candidate == Path(".") or not target.is_dir():
                break
            # Folders left with nothing but caches go as well.
            if all(child.name == "__pycache__" for child in target.iterdir()):
                for cache in target.glob("__pycache__"):
                    for leftover in cache.iterdir():
                        leftover.unlink()
                    cache.rmdir()
                target.rmdir()
    return doomed, notes


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("name", help="the workload key, e.g. destinations")
    args = parser.parse_args(argv)
    try:
        doomed, notes = remove(REPO_ROOT, args.name)
        print(f"Removed workload {args.name!r}: {len(doomed)} files deleted; stacks/workloads.py, cdk.json updated")
        for note in notes:
            print(f"  {note}")
        if notes:  # another workload's settings changed, and with them its stack
            print("Snapshots rewritten through " + ", ".join(update_snapshots(REPO_ROOT)))
    except (RemoveError, ToolError) as error:
        print(f"make remove-workload: {error}", file=sys.stderr)
        return 2
    print("Next: make synth && make test")
    return 0


if __name__ == "__main__":
    sys.exit(main())
