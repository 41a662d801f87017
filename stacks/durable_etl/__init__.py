"""Durable ETL workload: S3 datasets -> validated batches -> DynamoDB, in a Lambda durable function."""

from .settings import DurableEtlSettings, read_durable_etl
from .stack import DurableEtlStack

__all__ = ["DurableEtlSettings", "DurableEtlStack", "read_durable_etl"]
