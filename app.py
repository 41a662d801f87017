#!/usr/bin/env python3
"""Entry point of `cdk synth` / `cdk deploy`: the kit's four workload stacks, checked by cdk-nag."""

import sys

from stacks.kit_app import create_app
from stacks.settings import SettingsError

try:
    app = create_app()
except SettingsError as error:
    # One line naming the key, the value and what is allowed; no traceback for a typo.
    sys.exit(f"Invalid kit settings: {error}")
app.synth()
