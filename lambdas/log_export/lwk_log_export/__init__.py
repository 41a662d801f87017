"""Month-by-month export of CloudWatch Logs log groups to S3, one Step Functions task at a time.

`handlers` holds the three Lambda entry points, `contract` what the stack and the handlers share,
`config` the environment, `inputs` / `months` / `planning` the plain logic, `aws` the AWS calls.
"""
