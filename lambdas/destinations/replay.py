"""`python -m lambdas.destinations.replay`: the replay command, run from the repository root.

The command lives in the `lwk_destinations` package (`ops/`) next to the failure handler that writes
the messages it reads, so both read kept failures with the same code; this module only gives it a
short name. Neither is bundled into Lambda (stacks/shared/bundling.py leaves out `ops/` and scripts
beside the package).
"""

from lambdas.destinations.lwk_destinations.ops.replay import main

if __name__ == "__main__":
    raise SystemExit(main())
