"""Start MiniStack in the foreground with local/ministack/patches.py applied (MiniStack's own venv).

Configured through MiniStack's environment (BIND_HOST, GATEWAY_PORT, TMPDIR), which
local/emulators.py sets; run by that module, not by hand.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import patches  # noqa: E402

patches.apply()

from ministack.app import main  # noqa: E402

main()
