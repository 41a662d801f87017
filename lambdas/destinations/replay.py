"""`python -m lambdas.destinations.replay`: the replay command, run from the repository root.

The command lives in the `lwk_destinations` package next to the failure handler that writes the
messages it reads; this module only gives it a short name. Not used inside Lambda.
"""

from lambdas.destinations.lwk_destinations.replay import main

if __name__ == "__main__":
    raise SystemExit(main())
