# Two commands on a fresh machine: `make synth` and `make test`. Everything else is set up by them.
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

VENV := .venv
VENV_PYTHON := $(VENV)/bin/python
OUTDIR := cdk.out
# The first Python 3.13 on PATH (pyenv's shims included); Lambda runs python3.13, and so do the tests.
PYTHON_313 := $(shell for p in python3.13 python3 python; do \
	command -v $$p >/dev/null 2>&1 && $$p -c 'import sys; sys.exit(sys.version_info[:2] != (3, 13))' 2>/dev/null \
	&& { command -v $$p; break; }; done)
NODE_MAJOR := $(shell node -p 'process.versions.node.split(".")[0]' 2>/dev/null)
# jsii prints an end-of-life banner on every start for Node versions it no longer supports.
export JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION := $(NODE_MAJOR)
# `cdk.json` runs `python3 app.py`: the virtualenv's python3 must come first.
export PATH := $(CURDIR)/$(VENV)/bin:$(PATH)
export PIP_DISABLE_PIP_VERSION_CHECK := 1

.PHONY: help synth diff test check lint bench workload remove-workload rename clean cost deploy-local e2e-local destroy-local rule-sets

help:
	@echo "make synth   set up (.venv with Python 3.13, pinned packages, npm ci) and synthesize every stack with cdk-nag"
	@echo "make test    set up, lint (ruff, mypy) and run the fast tier of the test suite"
	@echo "make check   make test, then the slow tier (CLI commands, make workload in a copy, benchmarks, local deploy): what CI runs"
	@echo "make lint    ruff (lint + format check) and mypy over the Python code (settings: pyproject.toml)"
	@echo "make rule-sets   AWS Control Tower's Guard rules and checkov over both profiles' templates (part of make check)"
	@echo "make bench   set up and print this machine's benchmark numbers"
	@echo "make diff    what the current code changes in the templates since the last make synth (no AWS account needed)"
	@echo "make cost    each workload's monthly cost at list prices from the current settings (ARGS='-c kit.<key>=<value> --usage <workload>.<input>=<n>')"
	@echo "make workload NAME=order-intake   stamp a new workload (stack, settings, Lambda, tests, docs), registered once"
	@echo "make remove-workload NAME=destinations   remove a workload: its files, registration, settings and doc sections"
	@echo "make rename APP=acme   rename the kit (stack, log group, package and tag names; run before the first deploy)"
	@echo "make deploy-local / e2e-local / destroy-local   the real cdk deploy into a local emulator (EMULATOR=ministack|localstack), see docs/try-without-an-account.md"

$(VENV_PYTHON):
	@if [ -z "$(PYTHON_313)" ]; then \
		echo "Python 3.13 is needed (Lambda runs python3.13). Install it, e.g. 'pyenv install 3.13' (then this folder's .python-version selects it) or your OS package python3.13, and run make again." >&2; \
		exit 1; fi
	$(PYTHON_313) -m venv $(VENV)
	$(VENV_PYTHON) -m pip install --quiet --upgrade pip

$(VENV)/.synth-installed: requirements.txt | $(VENV_PYTHON)
	$(VENV_PYTHON) -m pip install --quiet --requirement requirements.txt
	touch $@

$(VENV)/.dev-installed: requirements.txt requirements-dev.txt | $(VENV_PYTHON)
	$(VENV_PYTHON) -m pip install --quiet --requirement requirements-dev.txt
	touch $@ $(VENV)/.synth-installed

node_modules/.package-lock.json: package.json package-lock.json
	@command -v npm >/dev/null 2>&1 || { echo "Node.js and npm are needed for the CDK CLI: install Node 20 or newer." >&2; exit 1; }
	npm ci --no-audit --no-fund --loglevel=error

# What the CLI and CDK print on every successful synth (and blank lines); anything else (a warning,
# an error) shows.
SYNTH_CHATTER := ^(Bundling asset .*\.\.\.|Successfully synthesized to .*|Supply a stack id .*|)$$

# `make synth ARGS='-c kit.stage=prod'` passes options to `cdk synth`. The app is synthesized into
# $(OUTDIR).next and replaces $(OUTDIR) only when it synthesizes and cdk-nag has nothing open, warnings
# included (tools/nag_findings.py says how to fix each), so a failed synth leaves the last good
# templates in place for `make diff`. Bundled assets move along for reuse; unused ones go afterwards.
synth: $(VENV)/.synth-installed node_modules/.package-lock.json
	@rm -rf $(OUTDIR).next && mkdir -p $(OUTDIR).next
	@if [ -d $(OUTDIR) ]; then find $(OUTDIR) -mindepth 1 -maxdepth 1 -name 'asset.*' -exec mv -t $(OUTDIR).next {} +; fi
	@status=0; ./cdk synth --quiet --output $(OUTDIR).next $(ARGS) > $(OUTDIR).next/synth.log 2>&1 || status=$$?; \
	{ grep -v -E '$(SYNTH_CHATTER)' $(OUTDIR).next/synth.log || true; }; \
	$(VENV_PYTHON) tools/nag_findings.py $(OUTDIR).next/validation-report.json || status=1; \
	if [ $$status -ne 0 ]; then \
		if [ -d $(OUTDIR) ]; then find $(OUTDIR).next -mindepth 1 -maxdepth 1 -name 'asset.*' -exec mv -t $(OUTDIR) {} +; fi; \
		rm -rf $(OUTDIR).next; \
		echo "make synth failed; $(OUTDIR)/ still holds the last good synth" >&2; exit 1; fi
	@rm -rf $(OUTDIR) $(OUTDIR).next/synth.log && mv $(OUTDIR).next $(OUTDIR)
	@for asset in $(OUTDIR)/asset.*; do \
		[ ! -e "$$asset" ] || grep -qF "$${asset##*/}" $(OUTDIR)/*.assets.json || rm -rf "$$asset"; done
	@echo "Templates in $(OUTDIR)/:"
	@for template in $(OUTDIR)/*.template.json; do echo "  $$template"; done
	@echo "cdk-nag report: $(OUTDIR)/validation-report.json"

# What the current code would change in the templates since the last `make synth`, without an AWS
# account (the CLI's diff against cdk.out/'s templates; `./cdk diff` compares with deployed stacks).
diff: $(VENV)/.synth-installed node_modules/.package-lock.json
	@OUTDIR=$(OUTDIR) $(VENV_PYTHON) tools/offline_diff.py $(ARGS)

# The fast tier: every test not marked slow (pytest.ini), each within its time budget.
test: $(VENV)/.dev-installed node_modules/.package-lock.json lint
	$(VENV_PYTHON) -m pytest -m "not slow"

# make test, then the slow tier (CLI commands in fresh shells, `make workload` in a copy, benchmarks
# in smoke mode, the local deploy): what CI runs. SKIP_DEPLOY_LOCAL=1 leaves out tests/deploy_local/.
check: test
	$(VENV_PYTHON) -m pytest -m "slow$(if $(SKIP_DEPLOY_LOCAL), and not deploy_local)"

# checkov gets its own virtualenv (.cache/checkov/, from tools/checkov/requirements.txt) on first use.
rule-sets: $(VENV)/.dev-installed node_modules/.package-lock.json
	$(VENV_PYTHON) -m pytest -n 0 -m rule_sets

lint: $(VENV)/.dev-installed
	$(VENV_PYTHON) -m ruff check .
	$(VENV_PYTHON) -m ruff format --check .
	$(VENV_PYTHON) tools/typecheck.py

# Benchmarks never reach AWS and measure the kit's defaults: the shell's AWS/CDK/Powertools/kit (LWK_)
# settings (an endpoint, a bundling architecture) are left out, as the suite leaves them out.
bench: $(VENV)/.dev-installed node_modules/.package-lock.json
	@unset $$(compgen -e | grep -E '^(AWS|CDK|POWERTOOLS|LWK)_' || true); \
	for script in bench/*.py; do echo "== $$script"; $(VENV_PYTHON) $$script; done

workload: $(VENV)/.dev-installed node_modules/.package-lock.json
	@if [ -z "$(NAME)" ]; then echo "Usage: make workload NAME=<kebab-case-name>, e.g. make workload NAME=order-intake" >&2; exit 2; fi
	$(VENV_PYTHON) tools/new_workload.py "$(NAME)"

remove-workload: $(VENV)/.dev-installed
	@if [ -z "$(NAME)" ]; then echo "Usage: make remove-workload NAME=<workload key>, e.g. make remove-workload NAME=destinations" >&2; exit 2; fi
	$(VENV_PYTHON) tools/remove_workload.py "$(NAME)"

rename: $(VENV)/.dev-installed
	@if [ -z "$(APP)" ]; then echo "Usage: make rename APP=<new app name>, e.g. make rename APP=acme" >&2; exit 2; fi
	$(VENV_PYTHON) tools/rename_app.py "$(APP)"

# The kit deployed into a local AWS emulator by the real CDK CLI (docs/try-without-an-account.md).
EMULATOR ?= ministack
deploy-local: $(VENV)/.dev-installed node_modules/.package-lock.json
	$(VENV_PYTHON) -m local.cli deploy --emulator $(EMULATOR)

e2e-local: $(VENV)/.dev-installed
	$(VENV_PYTHON) -m local.cli e2e --emulator $(EMULATOR)

destroy-local: $(VENV)/.dev-installed node_modules/.package-lock.json
	$(VENV_PYTHON) -m local.cli destroy --emulator $(EMULATOR)

clean:
	rm -rf $(OUTDIR) $(OUTDIR).next .cache .pytest_cache

# Each workload's monthly cost from cdk.json (+ ARGS' -c overrides) at the list prices in tools/cost.py.
cost: $(VENV)/.synth-installed
	@$(VENV_PYTHON) -m tools.cost $(ARGS)
