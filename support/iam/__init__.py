"""Permission wiring: resolve synthesized templates, derive every edge where an AWS service or a kit
role acts on a kit resource, and evaluate them with a real IAM policy engine (simulate.mjs)."""
