#!/usr/bin/env python3
"""`make diff`: what a change does to the templates, without an AWS account.

Synthesizes the app as it is now (cdk-nag on, `ARGS` passed on) into a scratch folder and runs the
CDK CLI's own diff of each stack against the last `make synth`'s template in `cdk.out/` (a stack new
since then against an empty template). `./cdk diff` alone compares with the deployed stacks, which
needs an account; this one reads nothing but files. `cdk.out/` is left as it is: `make synth` moves
it forward.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]


def main(argv: list[str] | None = None) -> int:
    args = list(argv if argv is not None else sys.argv[1:])
    baseline = Path(os.environ.get("OUTDIR", REPO_ROOT / "cdk.out"))
    if not any(baseline.glob("*.template.json")):
        print(f"make diff: no templates in {baseline}/ to compare with: run `make synth` first", file=sys.stderr)
        return 2
    cdk = str(REPO_ROOT / "cdk")
    (REPO_ROOT / ".cache").mkdir(exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="diff-", dir=REPO_ROOT / ".cache") as scratch:
        current = Path(scratch) / "cdk.out"
        synth = subprocess.run([cdk, "synth", "--quiet", "--output", str(current), *args], cwd=REPO_ROOT, check=False)
        if synth.returncode != 0:
            print("make diff: the app does not synthesize (above); nothing to compare", file=sys.stderr)
            return synth.returncode
        empty = Path(scratch) / "empty.template.json"
        empty.write_text("{}\n")
        changed = 0
        for template in sorted(current.glob("*.template.json")):
            stack = template.name.removesuffix(".template.json")
            before = baseline / template.name
            result = subprocess.run(
                [cdk, "diff", "--app", str(current), "--template", str(before if before.is_file() else empty), stack],
                cwd=REPO_ROOT,
                capture_output=True,
                text=True,
                check=False,
            )
            output = result.stdout + result.stderr
            if "There were no differences" not in output:
                changed += 1
            print(output.replace("\n\n✨  Number of stacks with differences: 0\n", "").strip() or stack)
        for removed in sorted(
            {p.name for p in baseline.glob("*.template.json")} - {p.name for p in current.glob("*.template.json")}
        ):
            changed += 1
            print(f"Stack {removed.removesuffix('.template.json')}\n[-] the whole stack (no longer in the app)")
    print(f"\nStacks with differences since the last make synth: {changed}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
