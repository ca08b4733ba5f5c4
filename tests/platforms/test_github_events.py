"""Payload translation on GitHub's real example payloads (@octokit/webhooks-examples)."""

from __future__ import annotations

import contextlib
import copy
from collections.abc import Iterator
from typing import Any

import pytest

from bot.platforms.github.events import (
    PayloadError,
    account_from_user,
    comment_from_payload,
    commit_from_api,
    installation_from_payload,
    pull_request_from_api,
    pull_request_from_payload,
    repo_from_payload,
)
from bot.platforms.github.facts import GITHUB
from bot.sandbox.fakeforge.github import load_all_webhook_examples, load_webhook_example

ALL = load_all_webhook_examples()


def examples(event: str) -> list[dict[str, Any]]:
    return [payload for name, payload in ALL if name == event]


@pytest.mark.parametrize("payload", examples("pull_request"), ids=lambda p: p["action"])
def test_every_pull_request_example(payload: dict[str, Any]) -> None:
    pr = pull_request_from_payload(payload)
    raw = payload["pull_request"]
    assert pr.repo.owner == payload["repository"]["owner"]["login"]
    assert pr.repo.name == payload["repository"]["name"]
    assert pr.repo.repo_id == payload["repository"]["id"]
    assert pr.repo.platform is GITHUB
    assert pr.number == payload["number"] == raw["number"]
    assert pr.head_sha == raw["head"]["sha"]
    assert (pr.base_ref, pr.base_sha) == (raw["base"]["ref"], raw["base"]["sha"])
    assert pr.labels == tuple(label["name"] for label in raw["labels"])
    assert pr.commit_count == raw.get("commits")
    assert pr.draft is bool(raw.get("draft"))
    expected_state = "merged" if raw.get("merged") else raw["state"]
    assert pr.state == expected_state
    assert pr.author is not None and pr.author.login == raw["user"]["login"]
    assert pr.author.account_id == str(raw["user"]["id"])
    inst = payload.get("installation")
    assert pr.installation_id == (inst["id"] if inst else None)


def test_synchronize_head_is_after() -> None:
    payload = load_webhook_example("pull_request.synchronize")
    assert pull_request_from_payload(payload).head_sha == payload["after"]


def test_edited_with_base_change_and_api_shape() -> None:
    payload = load_webhook_example("pull_request.edited")
    assert "base" in payload["changes"]
    pr = pull_request_from_payload(payload)
    same = pull_request_from_api(payload["pull_request"], installation_id=pr.installation_id)
    assert same == pr  # the REST shape carries the same fields (repo from base.repo)


def test_closed_and_merged() -> None:
    closed = next(p for p in examples("pull_request") if p["action"] == "closed")
    assert pull_request_from_payload(closed).state == "closed"
    merged = copy.deepcopy(closed)  # the package has no merged example: flip the flags
    merged["pull_request"].update(merged=True, merged_at="2019-05-15T15:20:40Z")
    assert pull_request_from_payload(merged).state == "merged"


@pytest.mark.parametrize(
    "payload",
    [*examples("issue_comment"), load_webhook_example("issue_comment.created.pr")],
    ids=lambda p: p["action"] + ("-pr" if "pull_request" in p["issue"] else ""),
)
def test_every_issue_comment_example(payload: dict[str, Any]) -> None:
    c = comment_from_payload(payload)
    assert c.action == payload["action"]
    assert c.comment_id == payload["comment"]["id"]
    assert c.body == payload["comment"]["body"]
    assert c.author.login == payload["comment"]["user"]["login"]
    assert c.author.account_id == str(payload["comment"]["user"]["id"])
    assert c.author.is_bot is (payload["comment"]["user"]["type"] == "Bot")
    assert c.issue_number == payload["issue"]["number"]
    assert c.is_pull_request is ("pull_request" in payload["issue"])
    assert c.repo == repo_from_payload(payload)


def test_pr_comment_is_on_a_pull_request() -> None:
    assert comment_from_payload(load_webhook_example("issue_comment.created.pr")).is_pull_request
    assert not comment_from_payload(load_webhook_example("issue_comment.created")).is_pull_request


@pytest.mark.parametrize(
    "payload",
    [*examples("installation"), *examples("installation_repositories")],
    ids=lambda p: p["action"],
)
def test_every_installation_example(payload: dict[str, Any]) -> None:
    ev = installation_from_payload(payload)
    assert ev.installation_id == payload["installation"]["id"]
    assert ev.account_login == payload["installation"]["account"]["login"]
    listed = [r["full_name"] for r in payload.get("repositories") or []]
    added = [r["full_name"] for r in payload.get("repositories_added") or []]
    removed = [r["full_name"] for r in payload.get("repositories_removed") or []]
    if payload["action"] in ("deleted", "suspend"):
        removed += listed
    else:
        added += listed
    assert [r.full_name for r in ev.repositories_added] == added
    assert [r.full_name for r in ev.repositories_removed] == removed


def test_installation_created_lists_repositories() -> None:
    ev = installation_from_payload(load_webhook_example("installation.created"))
    assert ev.action == "created" and ev.repositories_added
    ev = installation_from_payload(load_webhook_example("installation_repositories.added"))
    assert ev.action == "added" and ev.repositories_added and not ev.repositories_removed


def test_ping() -> None:
    payload = load_webhook_example("ping")
    assert repo_from_payload(payload).full_name == payload["repository"]["full_name"]
    org_ping = next(p for p in examples("ping") if "repository" not in p)
    with pytest.raises(PayloadError, match="repository"):
        repo_from_payload(org_ping)


# -- commits (REST shape) ------------------------------------------------------------------------


def _commit_item(author: Any, committer: Any) -> dict[str, Any]:
    return {
        "sha": "a" * 40,
        "commit": {
            "author": {"name": "Ann", "email": "Ann@Example.com", "date": "2024-01-01T00:00:00Z"},
            "committer": {"name": "GitHub", "email": "noreply@github.com"},
            "message": "Fix\n\nCo-authored-by: Bo <bo@example.com>",
        },
        "author": author,
        "committer": committer,
        "parents": [],
    }


def test_commit_linked_unlinked_and_bot() -> None:
    user = {"login": "ann", "id": 5, "type": "User"}
    bot = {"login": "dependabot[bot]", "id": 49699333, "type": "Bot"}
    c = commit_from_api(_commit_item(user, bot))
    assert c.sha == "a" * 40
    assert (c.author.name, c.author.email) == ("Ann", "Ann@Example.com")  # not normalised
    assert c.committer.email == "noreply@github.com"
    assert c.message.endswith("<bo@example.com>")
    assert c.author_account is not None and c.author_account.login == "ann"
    assert not c.author_account.is_bot
    assert c.committer_account is not None and c.committer_account.is_bot
    unlinked = commit_from_api(_commit_item(None, {}))
    assert unlinked.author_account is None and unlinked.committer_account is None


def test_commit_without_git_identity() -> None:
    item = _commit_item(None, None)
    item["commit"]["author"] = None
    c = commit_from_api(item)
    assert (c.author.name, c.author.email) == ("", "")


# -- malformed input: always PayloadError, never KeyError / TypeError ------------------------------


def _paths(node: Any, prefix: tuple[Any, ...] = (), depth: int = 3) -> Iterator[tuple[Any, ...]]:
    if depth == 0:
        return
    if isinstance(node, dict):
        for key, value in node.items():
            yield (*prefix, key)
            yield from _paths(value, (*prefix, key), depth - 1)


def _mutations(payload: dict[str, Any]) -> Iterator[dict[str, Any]]:
    for path in _paths(payload):
        replacements: tuple[Any, ...] = ("<delete>", None, 7, "x", [], {})
        for replacement in replacements:
            p = copy.deepcopy(payload)
            parent = p
            for key in path[:-1]:
                parent = parent[key]
            if replacement == "<delete>":
                del parent[path[-1]]
            else:
                parent[path[-1]] = replacement
            yield p


@pytest.mark.parametrize(
    ("stem", "fn"),
    [
        ("pull_request.opened", pull_request_from_payload),
        ("issue_comment.created.pr", comment_from_payload),
        ("installation.created", installation_from_payload),
        ("installation_repositories.added", installation_from_payload),
        ("ping", repo_from_payload),
    ],
)
def test_mutated_payloads_raise_only_payload_error(stem: str, fn: Any) -> None:
    for payload in _mutations(load_webhook_example(stem)):
        with contextlib.suppress(PayloadError):  # anything else fails the test
            fn(payload)


@pytest.mark.parametrize("payload", [None, [], "x", 3, {}])
def test_not_a_payload(payload: Any) -> None:
    for fn in (pull_request_from_payload, comment_from_payload, installation_from_payload):
        with pytest.raises(PayloadError):
            fn(payload)
    with pytest.raises(PayloadError):
        commit_from_api(payload)
    with pytest.raises(PayloadError):
        pull_request_from_api(payload, installation_id=None)


def test_payload_error_is_a_value_error_with_a_short_message() -> None:
    payload = load_webhook_example("pull_request.opened")
    del payload["pull_request"]["head"]["sha"]
    with pytest.raises(ValueError, match=r"^pull_request\.head\.sha: expected a string$"):
        pull_request_from_payload(payload)


def test_account_from_user() -> None:
    assert account_from_user(None) is None
    assert account_from_user({}) is None
    acc = account_from_user({"login": "x[bot]", "id": 1, "type": "Bot"})
    assert acc is not None and acc.is_bot and acc.account_id == "1"
