"""Which Gitee deliveries become check jobs, and what a job keeps (coordinates only)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from bot.core.commands import CommandKind
from bot.core.model import RepoRef
from bot.platforms.gitee import routing
from bot.platforms.gitee.facts import GITEE
from bot.platforms.github.routing import CheckJob, CommentJobs, Ignore, PayloadError
from bot.sandbox.fakeforge.gitee import load_fixture

BOT = "cla-robot"
CLA_DEMO = RepoRef(GITEE, "open-cla", "cla-demo", 30400100)


def mr(action: str | None = "open", action_desc: str | None = None) -> dict[str, Any]:
    payload: dict[str, Any] = load_fixture("merge_request_hook.open")
    payload["action"] = action
    payload["action_desc"] = action_desc
    return payload


def note(body: str = "/check-cla", login: str = "zhang-wei") -> dict[str, Any]:
    payload: dict[str, Any] = load_fixture("note_hook.pull_request")
    payload["comment"]["body"] = body
    payload["note"] = body
    payload["comment"]["user"]["login"] = login
    return payload


MR_TABLE = [
    ("open", None, True),
    ("reopen", None, True),
    ("update", "source_branch_changed", True),
    ("update", "target_branch_changed", True),
    ("update", "update_label", False),
    ("update", "update_link_issue", False),
    ("update", None, False),
    ("approved", None, False),
    ("tested", None, False),
    ("assign", None, False),
    ("unassign", None, False),
    ("test", None, False),
    ("untest", None, False),
    ("state_change", None, False),
    (None, None, False),
]


@pytest.mark.parametrize(("action", "desc", "is_job"), MR_TABLE)
def test_merge_request_actions(action: str | None, desc: str | None, is_job: bool) -> None:
    route = routing.route("Merge Request Hook", mr(action, desc), bot_login=BOT)
    assert isinstance(route, CheckJob if is_job else Ignore)


@pytest.mark.parametrize("action", ["merge", "close"])
def test_closing_is_a_check_that_re_reads_the_pr(action: str) -> None:
    """The body is not signed: a close is not believed, the check asks the API."""
    route = routing.route("Merge Request Hook", mr(action, None), bot_login=BOT)
    assert isinstance(route, CheckJob)
    assert route.pr_key == "gitee:open-cla/cla-demo#7"
    assert route == CheckJob(CLA_DEMO, 7, None, "Merge Request Hook")


def test_a_merge_request_job_keeps_only_the_coordinates() -> None:
    payload = mr("update", "source_branch_changed")
    route = routing.route("Merge Request Hook", payload, bot_login=BOT)
    assert isinstance(route, CheckJob)
    assert route.pr_key == "gitee:open-cla/cla-demo#7"
    assert route.installation_id is None
    # nothing from the unsigned body beyond the coordinates: no snapshot, sha, people, secrets
    assert route == CheckJob(CLA_DEMO, 7, None, "Merge Request Hook")
    kept = repr(route)
    for value in (payload["pull_request"]["head"]["sha"], "zhang.wei@example.com", "Zhang Wei"):
        assert value not in kept


def test_the_api_coordinates_are_namespace_and_path_not_the_display_names() -> None:
    payload = mr()
    payload["repository"]["full_name"] = "Open CLA/CLA Demo"
    payload["repository"]["name"] = "CLA Demo"
    route = routing.route("Merge Request Hook", payload, bot_login=BOT)
    assert isinstance(route, CheckJob)
    assert (route.repo.owner, route.repo.name) == ("open-cla", "cla-demo")


def test_path_with_namespace_is_the_fallback() -> None:
    payload = mr()
    del payload["repository"]["namespace"]
    payload["repository"]["path_with_namespace"] = "other-org/other-repo"
    route = routing.route("Merge Request Hook", payload, bot_login=BOT)
    assert isinstance(route, CheckJob)
    assert route.repo == RepoRef(GITEE, "other-org", "other-repo", 30400100)


def test_an_api_shaped_namespace_object_is_understood() -> None:
    payload = mr()
    payload["repository"]["namespace"] = {"path": "open-cla", "name": "Open CLA"}
    route = routing.route("Merge Request Hook", payload, bot_login=BOT)
    assert isinstance(route, CheckJob) and route.repo.owner == "open-cla"


@pytest.mark.parametrize("state", ["closed", "merged"])
def test_a_pr_that_is_not_open_is_ignored(state: str) -> None:
    payload = mr("reopen")
    payload["pull_request"]["state"] = state
    assert isinstance(routing.route("Merge Request Hook", payload, bot_login=BOT), Ignore)


@pytest.mark.parametrize(
    "breakage",
    [
        lambda p: p.pop("repository"),
        lambda p: p["repository"].update(namespace=None, path=None, path_with_namespace=None),
        lambda p: p["repository"].update(namespace="", path_with_namespace="nosplit"),
        lambda p: p.pop("pull_request"),
        lambda p: p["pull_request"].pop("number"),
        lambda p: p["pull_request"].update(number="7"),
        lambda p: p["pull_request"].update(number=True),
        lambda p: p["pull_request"].update(number=0),
    ],
)
def test_missing_fields_are_malformed(breakage: Any) -> None:
    payload = mr()
    breakage(payload)
    with pytest.raises(PayloadError):
        routing.route("Merge Request Hook", payload, bot_login=BOT)


@pytest.mark.parametrize(
    ("body", "is_job"),
    [
        ("/check-cla", True),
        ("/cla check", True),
        ("  /CLA Check please\n", True),
        ("thanks!\n/check-cla\n", True),
        ("/cla status", False),  # a command job, but no re-check
        ("> /check-cla", False),
        ("```\n/check-cla\n```", False),
        ("please run check-cla", False),
        ("", False),
    ],
)
def test_note_commands(body: str, is_job: bool) -> None:
    route = routing.route("Note Hook", note(body), bot_login=BOT)
    check = route.check if isinstance(route, CommentJobs) else None
    assert (check is not None) is is_job
    if check is not None:
        assert check == CheckJob(CLA_DEMO, 7, None, "command", comment_id=2606001)
        assert check.pr_key == "gitee:open-cla/cla-demo#7"


def test_other_note_commands_make_a_command_job_keyed_by_comment() -> None:
    route = routing.route("Note Hook", note("/cla delete-my-data"), bot_login=BOT)
    assert isinstance(route, CommentJobs) and route.check is None and route.command is not None
    assert route.command.comment_key == "comment:2606001"
    assert route.command.commands == ((CommandKind.DELETE_MY_DATA, None),)


@pytest.mark.parametrize("login", [BOT, BOT.upper(), "Cla-Robot"])
def test_the_bots_own_comments_are_ignored(login: str) -> None:
    assert isinstance(routing.route("Note Hook", note(login=login), bot_login=BOT), Ignore)


def test_without_a_bot_login_a_command_still_counts() -> None:
    route = routing.route("Note Hook", note(login=BOT), bot_login=None)
    assert isinstance(route, CommentJobs) and route.check is not None


@pytest.mark.parametrize("noteable_type", ["Issue", "Commit", "Comment", None])
def test_comments_not_on_pull_requests_are_ignored(noteable_type: str | None) -> None:
    payload = note()
    payload["noteable_type"] = noteable_type
    assert isinstance(routing.route("Note Hook", payload, bot_login=BOT), Ignore)


@pytest.mark.parametrize("action", ["edit", "delete", None])
def test_only_new_comments_count(action: str | None) -> None:
    payload = note()
    payload["action"] = action
    assert isinstance(routing.route("Note Hook", payload, bot_login=BOT), Ignore)


@pytest.mark.parametrize(
    "breakage",
    [
        lambda p: p.pop("comment"),
        lambda p: p["comment"].pop("user"),
        lambda p: p["comment"]["user"].pop("login"),
        lambda p: p["comment"].pop("id"),
        lambda p: p.pop("pull_request"),
        lambda p: p.pop("repository"),
        lambda p: (p["comment"].pop("body"), p.pop("note")),
    ],
)
def test_a_malformed_command_note(breakage: Any) -> None:
    payload = note()
    breakage(payload)
    with pytest.raises(PayloadError):
        routing.route("Note Hook", payload, bot_login=BOT)


def test_the_note_field_stands_in_for_a_missing_comment_body() -> None:
    payload = note()
    del payload["comment"]["body"]
    route = routing.route("Note Hook", payload, bot_login=BOT)
    assert isinstance(route, CommentJobs) and route.check is not None


@pytest.mark.parametrize("event", ["Push Hook", "Tag Push Hook", "Issue Hook", "ping", ""])
def test_other_events_are_ignored(event: str) -> None:
    assert isinstance(routing.route(event, mr(), bot_login=BOT), Ignore)


def test_the_body_s_copies_of_the_secret_are_never_decoded() -> None:
    payload = mr("open", None)
    payload.update(password="the-hook-password-0123", sign="c2lnbg==")
    body = json.dumps(payload).encode()
    decoded = routing.decode(body)
    assert not hasattr(decoded, "password") and not hasattr(decoded, "sign")
    route = routing.route("Merge Request Hook", decoded, bot_login=BOT)
    assert isinstance(route, CheckJob)
    assert "the-hook-password-0123" not in repr(route)
    assert "c2lnbg==" not in repr(route)


@pytest.mark.parametrize(("sent", "kept"), [(4001, "4001"), ("4001", "4001"), (None, None)])
def test_a_commenter_s_id_is_kept_only_as_an_integer(sent: object, kept: str | None) -> None:
    payload = note("/cla delete-my-data")
    payload["comment"]["user"]["id"] = sent
    route = routing.route("Note Hook", payload, bot_login=BOT)
    assert isinstance(route, CommentJobs) and route.command is not None
    assert route.command.author_id == kept


def test_a_commenter_s_id_that_is_no_integer_is_a_malformed_delivery() -> None:
    payload = note("/cla delete-my-data")
    payload["comment"]["user"]["id"] = "4001; drop"
    with pytest.raises(PayloadError, match=r"comment\.user\.id"):
        routing.route("Note Hook", payload, bot_login=BOT)
