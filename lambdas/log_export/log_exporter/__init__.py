"""Month-by-month export of CloudWatch Logs log groups to S3, one Step Functions task at a time.

`handlers` holds the three Lambda entry points; the rest is plain logic they share.
"""
