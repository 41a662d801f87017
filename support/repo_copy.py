"""A copy of this repository as git sees it, for the tests that run the forking commands in it
(`make workload`, `make rename`, `make remove-workload`) without touching the real tree.

Only what git would see is copied (tracked files and new ones not ignored): nothing installed or
generated. .cache (bundled dependencies, built under a lock, and the synth cache, keyed by content)
is linked; node_modules (the CDK CLI) is copied as hard links: a command in the copy may run
`npm ci` (package.json changed by a rename), which empties node_modules first, and must empty the
copy's, never this tree's. The copy runs on the caller's interpreter, that is, this venv.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

from support.paths import REPO_ROOT

LINKED = (".cache",)


def copy_repository(destination: Path) -> Path:
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    for relative in filter(None, listed.stdout.split("\0")):
        source = REPO_ROOT / relative
        if source.is_file():  # a tracked file deleted in the work tree is left out
            (destination / relative).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, destination / relative)
    # The copy's own git: the commands list files with `git ls-files`, as in a fork.
    subprocess.run(["git", "init", "-q"], cwd=destination, check=True)
    subprocess.run(["git", "add", "-A"], cwd=destination, check=True)
    (REPO_ROOT / ".cache").mkdir(exist_ok=True)
    for name in LINKED:
        os.symlink(REPO_ROOT / name, destination / name)
    if (REPO_ROOT / "node_modules").is_dir():
        shutil.copytree(REPO_ROOT / "node_modules", destination / "node_modules", symlinks=True, copy_function=os.link)
    return destination
