"""Start MiniStack in the foreground with local/ministack/patches.py applied (MiniStack's own venv).

Configured through MiniStack's environment (BIND_HOST, GATEWAY_PORT, TMPDIR), which
local/emulators.py sets; run by that module, not by hand.
"""

from __future__ import annotations

import os
import signal
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import patches

STOP_WITH_VARIABLE = "LWK_EMULATOR_STOP_WITH_PID"  # the same name as in local/emulators.py


def _stop_with(pid: int) -> None:
    # A test run that is killed cannot stop the emulator it started: this does, within 2 s.
    while True:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            os.killpg(os.getpgrp(), signal.SIGTERM)  # this launcher leads its group: it and its workers
            return
        except PermissionError:
            pass
        time.sleep(2)


patches.apply()
if os.environ.get(STOP_WITH_VARIABLE):
    threading.Thread(target=_stop_with, args=(int(os.environ[STOP_WITH_VARIABLE]),), daemon=True).start()

from ministack.app import main  # noqa: E402

main()
