"""`kit.github`: the repository, stages, provider and bootstrap qualifier the deploy identity is made
for, each refused with one line naming the key when GitHub, IAM or `cdk bootstrap` would not take it."""

from __future__ import annotations

import re
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from stacks.kit_settings import settings_from_context
from stacks.settings import SettingsError
from tests.conftest import cdk_json_context

HOSTILE_CHARACTERS = "\u2028\u2029\u0085\u001c\u001d\u001e\ud800\ufffe\uffff\n\r\t /:*?.-_Aa0"


def _with(**github: Any) -> dict[str, Any]:
    context = cdk_json_context()
    context["kit"]["github"] = {**context["kit"]["github"], **github}
    return context


def _one_line(error: SettingsError) -> str:
    text = str(error)
    assert text.splitlines() == [text] and text.isprintable(), repr(text)
    return text


def test_cdk_json_names_an_example_repository_and_two_stages() -> None:
    github = settings_from_context(cdk_json_context()).github
    assert re.fullmatch(r"[^/]+/[^/]+", github.repository)
    assert github.stages == ("dev", "prod") and github.provider_arn is None
    assert github.bootstrap_qualifier == "hnb659fds"  # cdk bootstrap's default


@pytest.mark.parametrize(
    ("setting", "value", "message"),
    [
        (
            "repository",
            "a-repository-without-owner",
            'kit.github.repository: "a-repository-without-owner" is not a GitHub repository',
        ),
        ("repository", "o/r/extra", "kit.github.repository"),
        ("repository", "-o/r", "kit.github.repository"),
        ("repository", "o-/r", "kit.github.repository"),
        ("repository", "o--p/r", "kit.github.repository"),
        ("repository", "o/..", "kit.github.repository"),
        ("repository", "o/*", "kit.github.repository"),
        ("repository", "o" * 40 + "/r", "kit.github.repository"),
        ("repository", "o/" + "r" * 101, "kit.github.repository"),
        ("stages", [], "kit.github.stages: [] is not a list of 1 to 10 unique stages"),
        ("stages", ["dev", "dev"], "kit.github.stages"),
        ("stages", ["Prod"], "kit.github.stages"),
        ("stages", "dev", 'kit.github.stages: "dev" is not a list'),
        ("providerArn", "arn:aws:iam::123456789012:oidc-provider/gitlab.com", "kit.github.providerArn"),
        ("providerArn", "arn:aws:iam::12345678901:oidc-provider/token.actions.githubusercontent.com", "providerArn"),
        ("bootstrapQualifier", "hnb659fds1x", "kit.github.bootstrapQualifier"),
        ("bootstrapQualifier", "", "kit.github.bootstrapQualifier"),
        ("branch", "main", "kit.github.branch: is not a known setting"),
    ],
)
def test_a_wrong_value_is_one_line_naming_the_key(setting: str, value: Any, message: str) -> None:
    with pytest.raises(SettingsError) as error:
        settings_from_context(_with(**{setting: value}))
    assert message in _one_line(error.value)


def test_the_repository_is_required() -> None:
    context = cdk_json_context()
    del context["kit"]["github"]["repository"]
    with pytest.raises(SettingsError, match=r"^kit\.github\.repository: is required$"):
        settings_from_context(context)


def test_an_existing_provider_and_values_from_the_command_line_are_read() -> None:
    arn = "arn:aws:iam::123456789012:oidc-provider/token.actions.githubusercontent.com"
    context = {
        **cdk_json_context(),
        "kit.github.providerArn": arn,
        "kit.github.stages": '["prod"]',
        "kit.github.repository": "my-org/my.kit_fork",
    }
    github = settings_from_context(context).github
    assert (github.provider_arn, github.stages, github.repository) == (arn, ("prod",), "my-org/my.kit_fork")
    assert github.environment_subject("prod") == "repo:my-org/my.kit_fork:environment:prod"
    assert github.pull_request_subject == "repo:my-org/my.kit_fork:pull_request"


def _assert_refused(error: SettingsError, key: str, *, wrongly: bool) -> None:
    assert _one_line(error).startswith(f"{key}: ")
    assert not wrongly, f"refused what GitHub takes: {error}"


def _github_would_take(repository: str) -> bool:
    """GitHub's naming rules, written out on their own (not the setting's pattern)."""
    if repository.count("/") != 1:
        return False
    owner, name = repository.split("/")
    letters = set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789")
    owner_ok = (
        1 <= len(owner) <= 39
        and set(owner) <= letters | {"-"}
        and not owner.startswith("-")
        and not owner.endswith("-")
        and "--" not in owner
    )
    name_ok = 1 <= len(name) <= 100 and set(name) <= letters | set("._-") and name not in (".", "..")
    return owner_ok and name_ok


@settings(max_examples=60, deadline=None, derandomize=True, database=None)
@given(
    repository=st.text(alphabet=st.sampled_from(HOSTILE_CHARACTERS), max_size=50)
    | st.text(max_size=60)
    | st.builds(lambda o, n: f"{o}/{n}", st.text(max_size=45), st.text(max_size=110))
    | st.sampled_from(["o/r", "a/.", "a/..", "a/...", "a-b/c", "x" * 39 + "/y", "x" * 39 + "/" + "y" * 100])
)
def test_a_repository_is_taken_exactly_when_github_would_name_one_so(repository: str) -> None:
    try:
        github = settings_from_context(_with(repository=repository)).github
    except SettingsError as error:
        _assert_refused(error, "kit.github.repository", wrongly=_github_would_take(repository))
    else:
        assert _github_would_take(repository), repository
        # The subject IAM compares is the repository and nothing else: no separator can be smuggled in.
        assert github.environment_subject("dev").split(":") == ["repo", repository, "environment", "dev"]


@settings(max_examples=40, deadline=None, derandomize=True, database=None)
@given(
    stages=st.lists(
        st.text(alphabet=st.sampled_from(HOSTILE_CHARACTERS + "dev"), max_size=18) | st.sampled_from(["dev", "prod"]),
        max_size=12,
    )
    | st.integers()
    | st.floats()
    | st.none()
)
def test_stages_are_unique_stage_names_or_one_line(stages: Any) -> None:
    try:
        github = settings_from_context(_with(stages=stages)).github
    except SettingsError as error:
        _assert_refused(error, "kit.github.stages", wrongly=False)
    else:
        assert 1 <= len(github.stages) <= 10 and len(set(github.stages)) == len(github.stages)
        assert all(re.fullmatch(r"[a-z][a-z0-9-]{0,14}", s) and s.isascii() for s in github.stages)
