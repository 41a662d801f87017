"""The __Title__ workload's function: SQS messages -> validated items -> JSON objects in a private bucket."""
