"""Where the custom runtime's files are, for its tests and its benchmark."""

from __future__ import annotations

from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
# The Lambda asset root: the real bootstrap and the example handlers.
SOURCE_DIR = REPO_ROOT / "lambdas" / "custom_runtime"
BOOTSTRAP = SOURCE_DIR / "bootstrap"
# Test-only handlers, and the seed's bootstrap without its loop.
FIXTURES = Path(__file__).resolve().parent / "fixtures"
LOOPLESS_BOOTSTRAP = FIXTURES / "bootstrap_without_loop"
