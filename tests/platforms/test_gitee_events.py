"""Gitee API answers → core types, on the fixtures in tests/fixtures/gitee."""

from __future__ import annotations

from typing import Any

import pytest

from bot.core.model import Account, CommentRef, GitPerson, RepoRef
from bot.platforms.gitee.events import (
    PayloadError,
    account_from_user,
    comment_from_api,
    commit_from_api,
    pull_request_from_api,
)
from bot.platforms.gitee.facts import GITEE
from bot.platforms.github.events import PayloadError as GitHubPayloadError
from bot.platforms.github.facts import GITHUB
from bot.sandbox.fakeforge.gitee import load_fixture

REPO = RepoRef(GITEE, "open-cla", "cla-demo", 30400100)


def test_the_payload_error_is_shared_with_github() -> None:
    assert PayloadError is GitHubPayloadError
    assert issubclass(PayloadError, ValueError)


def test_pull_request_from_the_api() -> None:
    pr = pull_request_from_api(load_fixture("api_pull"), REPO)
    assert pr.repo == REPO
    assert pr.number == 7
    assert pr.head_sha == "5f0c6e1a9b3d47c2a8e1f0b6d3c9a7e4b2f1d0c8"
    assert pr.base_sha == "0a1b2c3d4e5f60718293a4b5c6d7e8f901234567"
    assert pr.base_ref == "master"
    assert pr.state == "open"
    assert pr.author == Account(GITEE, "8120001", "zhang-wei")
    assert pr.labels == ("cla/no",)
    assert pr.installation_id is None
    assert pr.commit_count is None  # the API's PR object has no count
    assert pr.draft is False


def test_pull_request_state_and_count() -> None:
    data = load_fixture("api_pull")
    data.update(state="closed", merged=True, commits=3, draft=True)
    pr = pull_request_from_api(data, REPO)
    assert (pr.state, pr.commit_count, pr.draft) == ("merged", 3, True)
    data.update(state="merged", merged=None)
    assert pull_request_from_api(data, REPO).state == "merged"


def test_the_repo_is_always_a_gitee_repo() -> None:
    github_ref = RepoRef(GITHUB, "open-cla", "cla-demo")
    pr = pull_request_from_api(load_fixture("api_pull"), github_ref)
    assert pr.repo.platform is GITEE


def test_commits_from_the_api() -> None:
    first, second = (commit_from_api(c) for c in load_fixture("api_pull_commits"))
    assert first.sha == "9e8d7c6b5a4f3e2d1c0b9a8f7e6d5c4b3a2f1e0d"
    assert first.author == GitPerson("Zhang Wei", "zhang.wei@example.com")
    assert first.committer == GitPerson("Zhang Wei", "zhang.wei@example.com")
    assert first.author_account == Account(GITEE, "8120001", "zhang-wei")
    assert first.committer_account == first.author_account
    assert first.message.startswith("Fix a typo")
    # the web-edited commit: Gitee linked no account to either email
    assert second.author == GitPerson("Li Na", "li.na@example.net")
    assert second.committer == GitPerson("Gitee", "noreply@gitee.com")
    assert second.author_account is None and second.committer_account is None
    assert "Co-authored-by: Li Na <li.na@example.net>" in second.message


@pytest.mark.parametrize(
    "user",
    [None, {}, {"name": "Li Na", "email": "li.na@example.net"}, {"id": 5}, {"login": "x"}, "x"],
)
def test_no_linked_account(user: Any) -> None:
    assert account_from_user(user) is None


def test_a_string_id_is_accepted() -> None:
    assert account_from_user({"id": "42", "login": "li-na"}) == Account(GITEE, "42", "li-na")


def test_a_comment_from_the_api() -> None:
    ref = comment_from_api(load_fixture("api_pull_comment"))
    assert ref == CommentRef(
        comment_id=2606099,
        body="<!-- cla-bot:status -->\nThanks for your pull request.",
        author_login="cla-robot",
        author_id="8120999",
    )


PR_BREAKAGES = [
    lambda d: d.pop("head"),
    lambda d: d["head"].pop("sha"),
    lambda d: d["head"].update(sha=None),
    lambda d: d.pop("base"),
    lambda d: d["base"].pop("ref"),
    lambda d: d.pop("number"),
    lambda d: d.update(number=None),
    lambda d: d.update(number=1.5),
    lambda d: d.pop("state"),
    lambda d: d.update(labels="cla/no"),
    lambda d: d.update(labels=[{"id": 1}]),
    lambda d: d.update(commits="many"),
]


@pytest.mark.parametrize("breakage", PR_BREAKAGES)
def test_a_broken_pull_request_raises_payload_error(breakage: Any) -> None:
    data = load_fixture("api_pull")
    breakage(data)
    with pytest.raises(PayloadError):
        pull_request_from_api(data, REPO)


@pytest.mark.parametrize("data", [None, [], "x", 3])
def test_not_an_object(data: Any) -> None:
    with pytest.raises(PayloadError):
        pull_request_from_api(data, REPO)
    with pytest.raises(PayloadError):
        commit_from_api(data)
    with pytest.raises(PayloadError):
        comment_from_api(data)


COMMIT_BREAKAGES = [
    lambda c: c.pop("sha"),
    lambda c: c.pop("commit"),
    lambda c: c["commit"].pop("author"),
    lambda c: c["commit"]["author"].pop("email"),
    lambda c: c["commit"]["committer"].update(email=None),
    lambda c: c["commit"].update(committer="Gitee"),
    lambda c: c.update(author={"id": "not a number", "login": "x"}),
]


@pytest.mark.parametrize("breakage", COMMIT_BREAKAGES)
def test_a_broken_commit_raises_payload_error(breakage: Any) -> None:
    item = load_fixture("api_pull_commits")[0]
    breakage(item)
    with pytest.raises(PayloadError):
        commit_from_api(item)


@pytest.mark.parametrize("breakage", [lambda c: c.pop("id"), lambda c: c.update(id="x")])
def test_a_broken_comment_raises_payload_error(breakage: Any) -> None:
    item = load_fixture("api_pull_comment")
    breakage(item)
    with pytest.raises(PayloadError):
        comment_from_api(item)


def test_a_comment_without_user_or_body_is_still_a_ref() -> None:
    item = load_fixture("api_pull_comment")
    item.pop("user")
    item["body"] = None
    assert comment_from_api(item) == CommentRef(2606099, "", "")
