"""The suite gives one answer whatever the shell holds: AWS settings, credentials, a CLI account cache.

The CDK CLI finds the account of an access key in `<CDK home>/cache/accounts_partitions.json`
without asking AWS, then sets CDK_DEFAULT_ACCOUNT for the app. These tests populate such a cache,
show that it really changes a synth run with the shell's environment, and that the suite's own
CLI runs (tests/hermetic.py) come out exactly as without it.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from tests.hermetic import (
    CDK_CLI,
    REPO_ROOT,
    EnvironmentLeak,
    environment_left_as_found,
    guarded_variables,
    run_cdk,
)

CACHED_ACCOUNT = "999988887777"
SHELL_KEY = "AKIAHERMETICEXAMPLE1"
SHELL_REGION = "ap-southeast-2"


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("AWS_ACCESS_KEY_ID", "testing"),  # moto's fake key, as the durable ETL test once left it
        ("CDK_DEFAULT_ACCOUNT", "123456789012"),
        ("POWERTOOLS_SERVICE_NAME", "leaked"),
        ("AWS_CONFIG_FILE", None),  # removing the suite's own "no ~/.aws" setting is a change too
    ],
)
def test_the_guard_fails_a_test_that_changes_a_variable_and_puts_it_back(name: str, value: str | None) -> None:
    def leave_it_changed() -> None:
        with environment_left_as_found():
            if value is None:
                del os.environ[name]
            else:
                os.environ[name] = value

    before = guarded_variables()
    with pytest.raises(EnvironmentLeak, match=name):
        leave_it_changed()
    assert guarded_variables() == before


def test_the_guard_lets_monkeypatched_variables_pass() -> None:
    with environment_left_as_found(), pytest.MonkeyPatch.context() as patch:
        patch.setenv("AWS_ACCESS_KEY_ID", "testing")


def test_the_guard_catches_monkeypatch_undo_under_moto() -> None:
    # The pattern issue 9 traced: a fixture sets fake keys, moto starts (and saves the environment),
    # the test undoes its monkeypatch mid-way, moto's exit restores the keys, nothing removes them.
    from moto import mock_aws

    def undo_under_moto() -> None:
        with environment_left_as_found(), pytest.MonkeyPatch.context() as patch:
            patch.setenv("AWS_ACCESS_KEY_ID", "testing")
            with mock_aws():
                patch.undo()

    with pytest.raises(EnvironmentLeak, match="AWS_ACCESS_KEY_ID"):
        undo_under_moto()


def _users_shell(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A user's shell with a profile, region, endpoint and keys, and a CDK home whose account cache
    knows the key (and moto's `testing`). Returns that CDK home."""
    users_cdk_home = tmp_path / "users-cdk-home"
    cache = users_cdk_home / "cache" / "accounts_partitions.json"
    cache.parent.mkdir(parents=True)
    cache.write_text(
        json.dumps({key: {"accountId": CACHED_ACCOUNT, "partition": "aws"} for key in (SHELL_KEY, "testing")})
    )
    config, credentials = tmp_path / "aws-config", tmp_path / "aws-credentials"
    config.write_text(f"[profile kit-user]\nregion = {SHELL_REGION}\n")
    credentials.write_text(f"[kit-user]\naws_access_key_id = {SHELL_KEY}\naws_secret_access_key = not-a-secret\n")
    for name, value in {
        "AWS_PROFILE": "kit-user",
        "AWS_REGION": SHELL_REGION,
        "AWS_ENDPOINT_URL": "http://127.0.0.1:9",  # nothing listens: any call would fail
        "AWS_ACCESS_KEY_ID": SHELL_KEY,
        "AWS_SECRET_ACCESS_KEY": "not-a-secret",
        "AWS_CONFIG_FILE": str(config),
        "AWS_SHARED_CREDENTIALS_FILE": str(credentials),
        "CDK_HOME": str(users_cdk_home),
        "CDK_DEFAULT_ACCOUNT": "111111111111",
        "CDK_DEFAULT_REGION": "eu-north-1",
    }.items():
        monkeypatch.setenv(name, value)
    return users_cdk_home


def _templates(outdir: Path) -> dict[str, str]:
    return {path.name: path.read_text() for path in sorted(outdir.glob("*.template.json"))}


@pytest.mark.slow  # a CDK CLI synth of its own
def test_a_populated_cli_cache_changes_a_synth_that_inherits_the_shell(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The control: without the clean environment the cache is what decides the account.
    import subprocess

    _users_shell(tmp_path, monkeypatch)
    outdir = tmp_path / "inherited.out"
    result = subprocess.run(
        [str(CDK_CLI), "synth", "--quiet", "--output", str(outdir)],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stderr[-5000:]
    log_export = next(text for name, text in _templates(outdir).items() if name.endswith("-log-export.template.json"))
    assert f"arn:aws:logs:{SHELL_REGION}:{CACHED_ACCOUNT}:" in log_export


@pytest.mark.slow  # a CDK CLI synth of its own
def test_the_suites_cli_synth_ignores_the_shell_and_its_cli_cache(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, cli_synth: Path, cdk_home: Path
) -> None:
    users_cdk_home = _users_shell(tmp_path, monkeypatch)
    outdir = tmp_path / "hermetic.out"
    result = run_cdk(["synth", "--quiet", "--output", str(outdir)], cdk_home=cdk_home)
    assert result.returncode == 0, result.stderr[-5000:]
    templates = _templates(outdir)
    assert templates == _templates(cli_synth)
    # (Every template lists all regions in a condition, so look for the region inside ARNs.)
    assert not any(CACHED_ACCOUNT in text or f":{SHELL_REGION}:" in text for text in templates.values())
    # The CLI wrote nothing into the user's CDK home. (Whether it writes caches of its own, such as
    # notices, depends on the network: CI had none, so the suite's home may stay empty.)
    assert sorted(p.name for p in users_cdk_home.rglob("*")) == ["accounts_partitions.json", "cache"]
