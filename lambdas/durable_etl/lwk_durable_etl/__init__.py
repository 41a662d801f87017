"""The durable ETL's Lambda package: `handlers` is the entry, the other modules its logic.

Only `workflow` and `steps` know about the durable execution SDK; the rest is parsing, validation
and storage I/O that tests can call directly. `contract` is shared with the stack.
"""
