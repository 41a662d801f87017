#!/usr/bin/env python3
"""Rename the kit: `make rename APP=acme`.

The app name (`APP_NAME` in stacks/settings/common.py) starts every stack, log
group, state machine and Lambda package name. This command changes every spelling of it in every
file git knows: `lwk` as a word (`lwk-dev-...`, `/lwk/dev/...`, `lwk_order_intake`, `lwk:profile`),
`LWK` (environment variables such as `LWK_BUNDLING_ARCH`) and `Lwk`; the folders and files named
with it (`lambdas/<workload>/lwk_<workload>/`); and the project name (`PROJECT_NAME` below: the
`project` tag in cdk.json, package.json and its lock file). The snapshots follow, so the tests stay
green. Run it before the first deploy: a renamed app deploys new stacks beside the old ones.
"""

from __future__ import annotations

import argparse
import keyword
import re
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tools.workload_files import REPO_ROOT, ToolError, app_name, tidy_python, tracked_files, update_snapshots

# Spelled in parts so that a rename does not rewrite it here too.
PROJECT_NAME = "-".join(("lambda", "workflow", "kit"))
# Letters and digits, a letter first: the name is a Python package prefix (`acme_orders`), part of
# S3-style and IAM names, and of every stack name (`<app>-<stage>-<workload>`, 128 at most), and of
# state machine names (80 at most). 10 keeps the longest stamped names inside those limits.
APP_PATTERN = r"[a-z][a-z0-9]{1,9}"


class RenameError(Exception):
    """The name cannot be used; nothing was changed."""


def spelled(old: str, new: str) -> list[tuple[re.Pattern[str], str]]:
    """Each spelling of the old name as a word (not inside another word), with its new spelling."""
    return [
        (re.compile(rf"(?<![A-Za-z0-9]){re.escape(variant(old))}(?![A-Za-z0-9])"), variant(new))
        for variant in (str.lower, str.upper, str.capitalize)
    ]


def renamed(text: str, old: str, new: str) -> str:
    for pattern, replacement in spelled(old, new):
        text = pattern.sub(replacement, text)
    return text.replace(PROJECT_NAME, new) if old != new else text


def rename(root: Path, new: str) -> tuple[str, int, int]:
    """(old name, files rewritten, paths moved)."""
    if not re.fullmatch(APP_PATTERN, new) or keyword.iskeyword(new):
        raise RenameError(f"APP={new!r}: use 2 to 10 lowercase letters or digits, a letter first (e.g. acme)")
    old = app_name(root)
    if new == old:
        raise RenameError(f"the app is already called {old!r}")
    files = tracked_files(root)
    clashes = [
        str(p) for p in files if renamed(str(p), old, new) != str(p) and (root / renamed(str(p), old, new)).exists()
    ]
    if clashes:
        raise RenameError(f"renaming would overwrite {', '.join(clashes[:5])}")
    rewrites: dict[Path, str] = {}
    for path in files:
        try:
            text = (root / path).read_text()
        except UnicodeDecodeError:
            continue  # binary: never named after the app
        if (new_text := renamed(text, old, new)) != text:
            rewrites[path] = new_text
    for path, text in rewrites.items():
        (root / path).write_text(text)
    moved = 0
    for path in files:
        target = Path(renamed(str(path), old, new))
        if target != path:
            (root / target).parent.mkdir(parents=True, exist_ok=True)
            (root / path).rename(root / target)
            moved += 1
    for folder in sorted({p.parent for p in files}, key=lambda p: len(p.parts), reverse=True):
        directory = root / folder
        if directory.is_dir() and re.search(rf"(?<![A-Za-z0-9]){re.escape(old)}(?![A-Za-z0-9])", folder.name):
            for cache in directory.glob("__pycache__"):
                for leftover in cache.iterdir():
                    leftover.unlink()
                cache.rmdir()
            if not any(directory.iterdir()):
                directory.rmdir()
    # Import order follows the new name (`acme_orders` sorts before `aws_...`): ruff puts it right.
    tidy_python([Path(renamed(str(p), old, new)) for p in rewrites], root)
    return old, len(rewrites), moved


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("name", help="the new app name, e.g. acme")
    args = parser.parse_args(argv)
    try:
        old, rewritten, moved = rename(REPO_ROOT, args.name)
        print(f"Renamed {old!r} to {args.name!r}: {rewritten} files rewritten, {moved} moved")
        # Generated names carry a hash of the stack's name (a schedule group's, say): the snapshots follow.
        print("Snapshots rewritten through " + ", ".join(update_snapshots(REPO_ROOT)))
    except (RenameError, ToolError) as error:
        print(f"make rename: {error}", file=sys.stderr)
        return 2
    print("Next: make synth && make test (stacks are now named " + f"{args.name}-<stage>-<workload>)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
