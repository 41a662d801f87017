"""__Title__ workload: an encrypted SQS queue -> one Python Lambda -> JSON objects under a prefix of a private bucket."""

from .settings import __Pascal__Settings, read___snake__
from .stack import __Pascal__Stack

__all__ = ["__Pascal__Settings", "__Pascal__Stack", "read___snake__"]
