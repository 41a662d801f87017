"""The log export workload: CloudWatch Logs log groups exported to S3 month by month by Step Functions.

One construct per module: export_bucket, notice_topic, export_handlers, export_state_machine (running
export_definition) and monthly_schedule; stack.py wires them; settings.py reads `kit.logExport`.
"""

from stacks.log_export.settings import LogExportSettings, read_log_export
from stacks.log_export.stack import LogExportStack

__all__ = ["LogExportSettings", "LogExportStack", "read_log_export"]
