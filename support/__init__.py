"""Shared support for the tests (`tests/`) and the benchmarks (`bench/`); never shipped to Lambda.

`bench/` imports from here, never from `tests/`. The modules:

- `support.paths`: `REPO_ROOT`, `lambda_root(workload)` and `use_lambda_code(workload)`, which puts
  `lambdas/<workload>` on `sys.path` so `import lwk_<workload>.handlers` works as it does in Lambda.
- `support.cfn`: one CloudFormation-template-to-moto resolver. `deploy(template)` creates the
  template's resources in moto (in dependency order) and returns a `Deployment` with the physical
  ids, attributes, outputs and every function's resolved environment; `TemplateResolver` resolves
  `Ref` / `Fn::GetAtt` / `Fn::Join` / `Fn::Sub` / `Fn::Select` / `Fn::Split` on its own.
  Every stand-in runs in `cfn.REGION` (us-east-1) under `cfn.ACCOUNT` (moto's default account).
- `support.stand_ins`: `fake_aws_environment()` (credentials that reach nothing real, the one region)
  and `mocked_aws()` (moto with them; the Step Functions interpreter on when asked).
- `support.aws_limits` (issue 10): moto made as strict as AWS where it is more lenient.
- `support.iam` (issue 10): the IAM policy evaluation bridge.
"""
