"""Build a cached file or folder once, even when several processes ask for it at the same moment.

The test suite synthesizes in several pytest-xdist workers at once; on a cold `.cache/` each would
otherwise install the same dependencies into the same staging folder and rename it under the others.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

try:
    import fcntl
except ImportError:  # Windows: no lock, so concurrent builders duplicate work but never collide
    fcntl = None  # type: ignore[assignment]


@contextmanager
def _exclusive(lock_path: Path) -> Iterator[None]:
    with lock_path.open("w") as lock:
        if fcntl is not None:
            fcntl.flock(lock, fcntl.LOCK_EX)  # released when the file is closed
        yield


def _remove(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path)
    else:
        path.unlink(missing_ok=True)


def build_once(target: Path, build: Callable[[Path], None]) -> Path:
    """`target`, made by `build(staging)` into a staging path of this process unless it exists.

    The staging path is renamed into place, so `target` is never seen half-built.
    """
    if target.exists():
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    with _exclusive(target.with_name(target.name + ".lock")):
        if target.exists():  # another process built it while this one waited
            return target
        staging = target.with_name(f"{target.name}.{os.getpid()}.partial")
        _remove(staging)
        try:
            build(staging)
            try:
                staging.rename(target)
            except OSError:
                if not target.exists():  # without a lock, another process may have won the rename
                    raise
        finally:
            if staging.exists():
                _remove(staging)
    return target
