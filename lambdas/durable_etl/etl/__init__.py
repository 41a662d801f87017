"""The durable ETL's logic: plain modules the durable handler (etl_handler.py) wires together.

Only `workflow` and `steps` know about the durable execution SDK; the rest is parsing, validation
and storage I/O that tests can call directly.
"""
