"""Which files belong to a workload, and which parts of the shared files: one rule for the commands
that stamp (`make workload`), remove (`make remove-workload`) and rename (`make rename`).

A workload owns every tracked path with a part spelled like its snake name: a folder
(`stacks/<snake>/`, `lambdas/<snake>/`, `tests/<snake>/`, `local/workflows/<snake>.py`), a file
`<snake>.py` or `<snake>_<anything>` (`bench/<snake>.py`, `support/<snake>_runs.py`), its page
`docs/<key>.md` and its snapshot `[<key>].json`. A shared Markdown file mentions it only inside a
marked block, which goes with it:

    <!-- workload:<key> -->
    ... paragraphs, list items about that workload ...
    <!-- /workload:<key> -->

or, for one line (a table row, where a line of its own would end the table), at the line's end:

    | `lwk-<stage>-<key>` | what it shows | [docs/<key>.md](docs/<key>.md) | <!-- workload:<key> -->

tests/test_forking.py checks that every mention of a workload outside its own files sits in such
a block, so removing one never leaves a dangling link or row behind.
"""

from __future__ import annotations

import ast
import re
import subprocess
import sys
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]


def spellings(key: str) -> dict[str, str]:
    """Every spelling of a workload key (`order-intake`), by the template placeholder that stands for it."""
    parts = key.split("-")
    return {
        "__key__": key,
        "__snake__": "_".join(parts),
        "__camel__": parts[0] + "".join(p.capitalize() for p in parts[1:]),
        "__Pascal__": "".join(p.capitalize() for p in parts),
        "__Title__": " ".join(parts).capitalize(),
    }


def app_name(root: Path = REPO_ROOT) -> str:
    """`APP_NAME` as stacks/settings/common.py of the tree at `root` spells it (read, not imported:
    the commands may run on a copy whose modules this process has not loaded)."""
    tree = ast.parse((root / "stacks/settings/common.py").read_text())
    for node in tree.body:
        if not isinstance(node, ast.Assign) or not any(getattr(t, "id", "") == "APP_NAME" for t in node.targets):
            continue
        if isinstance(node.value, ast.Constant) and isinstance(node.value.value, str):
            return node.value.value
    raise LookupError(f"{root}/stacks/settings/common.py has no APP_NAME = '<name>'")


def tracked_files(root: Path = REPO_ROOT) -> list[Path]:
    """The repository's files as git sees them (tracked, and new ones not ignored), relative to `root`."""
    listed = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard", "-z"],
        cwd=root,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    # Regular files only: a linked folder (a copy's node_modules, .venv) is not the repository's.
    return sorted(
        {
            Path(name)
            for name in listed.split("\0")
            if name and (root / name).is_file() and not (root / name).is_symlink()
        }
    )


def owns(key: str, path: Path) -> bool:
    """Whether `path` (relative to the repository) is one of workload `key`'s own files."""
    snake = spellings(key)["__snake__"]
    if path.as_posix() == f"docs/{key}.md" or path.name.endswith(f"[{key}].json"):
        return True
    folders, name = path.parts[:-1], path.name
    return snake in folders or name == f"{snake}.py" or name.startswith(f"{snake}_")


def block_pattern(key: str) -> re.Pattern[str]:
    """A marked Markdown block about workload `key`, with the line break after it."""
    return re.compile(
        rf"^[ \t]*<!-- workload:{re.escape(key)} -->\n.*?^[ \t]*<!-- /workload:{re.escape(key)} -->[ \t]*\n",
        re.MULTILINE | re.DOTALL,
    )


def line_pattern(key: str) -> re.Pattern[str]:
    """A line about workload `key` alone: some text, then its marker."""
    return re.compile(rf"^[^\n]*\S[^\n]*<!-- workload:{re.escape(key)} -->[ \t]*\n", re.MULTILINE)


def without_blocks(text: str, key: str) -> str:
    return line_pattern(key).sub("", block_pattern(key).sub("", text))


def outside_blocks(text: str) -> str:
    """`text` without any workload's marked blocks and lines: what is left must not name a workload."""
    text = re.sub(
        r"^[ \t]*<!-- workload:([a-z0-9-]+) -->\n.*?^[ \t]*<!-- /workload:\1 -->[ \t]*\n",
        "",
        text,
        flags=re.MULTILINE | re.DOTALL,
    )
    return re.sub(r"^[^\n]*\S[^\n]*<!-- workload:[a-z0-9-]+ -->[ \t]*\n", "", text, flags=re.MULTILINE)


# The docs and docstrings explain the commands with an example workload, `order-intake` (and
# `order-intake2`, a name with a digit): mentions of it are examples, not leftovers, so a workload
# stamped under that very name is removed without them.
EXAMPLE_KEY = re.compile(r"order-intake[0-9]*")


def mentions(key: str) -> re.Pattern[str]:
    """The spellings that name workload `key` unambiguously: its paths, page, settings key and stack name.

    The bare word is not one: a key such as destinations is also a Lambda feature any workload may mention.
    """
    spelled = spellings(key)
    snake, camel = re.escape(spelled["__snake__"]), re.escape(spelled["__camel__"])
    escaped = re.escape(key)
    return re.compile(
        rf"(stacks|lambdas|tests|bench|workflows)/{snake}\b"
        rf"|\b{escaped}\.md\b"
        rf"|\bkit\.{camel}\b"
        rf"|\b[a-z0-9]+_{snake}\b"
        rf"|<stage>-{escaped}\b"
        rf"|[\"'`]{escaped}[\"'`]"
    )


class ToolError(Exception):
    """A step of a forking command failed; the message says which and what it printed."""


def tidy_python(paths: list[Path], root: Path = REPO_ROOT) -> None:
    """ruff's import order and layout over files a command wrote: both depend on names it chose."""
    python = [str(p) for p in paths if p.suffix == ".py"]
    for command in (["check", "--fix", "--select", "I", "--quiet"], ["format", "--quiet"]):
        if not python:
            return
        result = subprocess.run(
            [sys.executable, "-m", "ruff", *command, *python], cwd=root, capture_output=True, text=True, check=False
        )
        if result.returncode != 0:
            raise ToolError(f"ruff {command[0]} failed:\n{result.stdout}{result.stderr}")


def update_snapshots(
    root: Path = REPO_ROOT, *, tests: list[str] | None = None, keyword: str | None = None
) -> list[str]:
    """Rewrite snapshots through the snapshot tests themselves: `tests` (default: every test file that
    takes a snapshot), only those matching `keyword` if given. Returns the test files run."""
    tests = tests or sorted(
        str(path.relative_to(root))
        for path in (root / "tests").rglob("test_*.py")
        if "SnapshotAssertion" in path.read_text()
    )
    selection = ["-k", keyword] if keyword else []
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-n", "0", "-q", "-p", "no:cacheprovider", *tests, *selection,
         "--snapshot-update"],
        cwd=root,
        capture_output=True,
        text=True,
        check=False,
    )  # fmt: skip
    if result.returncode != 0:
        raise ToolError(f"writing the snapshots failed:\n{result.stdout[-3000:]}{result.stderr[-2000:]}")
    return tests
