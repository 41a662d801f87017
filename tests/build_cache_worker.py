"""A process that asks for a cache entry, for tests/test_bundling.py.

Its own module so that spawned processes import only `build_cache`, not aws_cdk with the test module.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

from stacks.shared.build_cache import build_once


def build_slowly(target: str, log: str) -> None:
    def build(staging: Path) -> None:
        with open(log, "a") as builds:
            builds.write(f"{os.getpid()}\n")
        staging.mkdir()
        time.sleep(0.3)  # long enough for every other process to arrive while this one builds
        (staging / "done").write_text("yes")

    assert (build_once(Path(target), build) / "done").read_text() == "yes"
