"""Fixtures of the custom runtime's tests: the Runtime Interface Emulator and a clean TMPDIR."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from support.custom_runtime_emulator import Emulator, StartEmulator, emulator_binary
from tests.custom_runtime.layout import BOOTSTRAP, SOURCE_DIR


@pytest.fixture(scope="session")
def rie_binary() -> Path:
    """The emulator binary, from the pinned aws-sam-cli wheel (downloaded once into .cache/rie/)."""
    return emulator_binary()


@pytest.fixture
def runtime_tmp(tmp_path: Path) -> Path:
    """An empty directory that runtimes under test get as TMPDIR, to see what they leave behind."""
    directory = tmp_path / "runtime-tmp"
    directory.mkdir()
    return directory


@pytest.fixture
def start_emulator(rie_binary: Path, tmp_path: Path, runtime_tmp: Path) -> Iterator[StartEmulator]:
    """Starts emulators on loopback (the real bootstrap and handlers unless told otherwise); all
    of them, and their runtime processes, are stopped when the test ends, pass or fail."""
    started: list[Emulator] = []

    def start(
        *, handler: str = "function.handler", bootstrap: Path = BOOTSTRAP, task_root: Path = SOURCE_DIR
    ) -> Emulator:
        emulator = Emulator(
            rie_binary,
            bootstrap=bootstrap,
            task_root=task_root,
            handler=handler,
            log_path=tmp_path / f"emulator-{len(started)}.log",
            tmp_dir=runtime_tmp,
        )
        started.append(emulator)
        emulator.start()
        return emulator

    yield start
    for emulator in started:
        emulator.stop()
