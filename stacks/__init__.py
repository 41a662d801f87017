"""CDK stacks of the Lambda Workflow Kit: one module per workload, shared constructs in `shared/`."""
