"""Lambda Destinations: an asynchronously invoked worker whose outcomes are routed by Lambda itself.

stack.py wires the constructs: worker.py, success_handler.py, failure_handler.py (the three
functions), kept_failures.py (queue, dead-letter queue, key), alarms.py, replay_policy.py.
settings.py reads `kit.destinations`; contract.py loads the Lambda's contract.
"""

from stacks.destinations.settings import DestinationsSettings, read_destinations
from stacks.destinations.stack import DestinationsStack

__all__ = ["DestinationsSettings", "DestinationsStack", "read_destinations"]
