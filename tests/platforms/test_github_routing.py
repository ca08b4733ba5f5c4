"""Which GitHub deliveries become jobs, and what a job keeps of the payload."""

from __future__ import annotations

import copy
import json
import re

import pytest

from bot.core.commands import CommandKind
from bot.core.model import RepoRef
from bot.platforms.github import routing
from bot.platforms.github.events import pull_request_from_api
from bot.platforms.github.facts import GITHUB
from bot.sandbox.fakeforge.github import load_webhook_example, webhook_example


@pytest.mark.parametrize("action", ["opened", "reopened", "synchronize", "ready_for_review"])
def test_pr_actions_that_change_the_commits_make_a_check(action: str) -> None:
    payload = load_webhook_example("pull_request.opened")
    payload["action"] = action
    route = routing.route("pull_request", payload)
    assert isinstance(route, routing.CheckJob)
    repo = payload["repository"]
    assert route.pr_key == f"github:{repo['full_name']}#{payload['number']}".lower()
    assert route.installation_id == (payload.get("installation") or {}).get("id")


def test_the_job_keeps_only_what_a_check_needs_and_round_trips_to_a_pull_request() -> None:
    payload = load_webhook_example("pull_request.opened")
    payload["pull_request"]["body"] = "a long description with someone@example.com"
    route = routing.route("pull_request", payload)
    assert isinstance(route, routing.CheckJob)
    pr = route.pull
    assert pr is not None and pr.installation_id == payload["installation"]["id"]
    assert "someone@example.com" not in repr(route)
    assert pr == pull_request_from_api(payload["pull_request"], installation_id=pr.installation_id)
    assert pr.head_sha == payload["pull_request"]["head"]["sha"]
    assert pr.repo.full_name == payload["repository"]["full_name"]
    assert pr.number == payload["number"]


def test_edited_only_when_the_base_changed() -> None:
    payload = load_webhook_example("pull_request.edited")
    payload.pop("changes", None)
    payload["changes"] = {"title": {"from": "old"}}
    assert isinstance(routing.route("pull_request", payload), routing.Ignore)
    payload["changes"] = {"base": {"ref": {"from": "develop"}, "sha": {"from": "0" * 40}}}
    assert isinstance(routing.route("pull_request", payload), routing.CheckJob)


@pytest.mark.parametrize("action", ["labeled", "unlabeled", "assigned", "review_requested"])
def test_other_pr_actions_are_ignored(action: str) -> None:
    payload = load_webhook_example("pull_request.opened")
    payload["action"] = action
    assert isinstance(routing.route("pull_request", payload), routing.Ignore)


def test_closing_is_bookkeeping() -> None:
    payload = load_webhook_example("pull_request.opened")
    payload["action"] = "closed"
    route = routing.route("pull_request", payload)
    assert isinstance(route, routing.PrClosed)
    assert route.repo_full_name == payload["repository"]["full_name"]


def test_comment_commands() -> None:
    payload = load_webhook_example("issue_comment.created.pr")
    payload["comment"]["user"]["type"] = "User"
    for body, expect_job in [
        ("/cla check", True),
        ("/check-cla", True),
        ("  /CLA   CHECK  ", True),
        ("please look\n/cla check\nthanks", True),
        ("> /cla check", False),
        ("```\n/cla check\n```", False),
        ("I will /cla check later", False),
        ("looks good", False),
    ]:
        p = copy.deepcopy(payload)
        p["comment"]["body"] = body
        route = routing.route("issue_comment", p)
        has_check = isinstance(route, routing.CommentJobs) and route.check is not None
        assert has_check is expect_job, body


def test_other_commands_make_one_command_job_keyed_by_comment() -> None:
    payload = load_webhook_example("issue_comment.created.pr")
    payload["comment"]["user"]["type"] = "User"
    payload["comment"]["body"] = "/cla check\n/cla delete-my-data\n/cla frobnicate"
    route = routing.route("issue_comment", payload)
    assert isinstance(route, routing.CommentJobs)
    assert route.check is not None and route.command is not None
    assert route.command.comment_key == f"comment:{payload['comment']['id']}"
    assert route.command.commands == (
        (CommandKind.DELETE_MY_DATA, None),
        (CommandKind.UNKNOWN, "frobnicate"),
    )
    user = payload["comment"]["user"]
    assert (route.command.author_login, route.command.author_id) == (user["login"], str(user["id"]))
    assert "frobnicate\n" not in repr(route)  # the body is not kept


def test_comments_on_issues_and_by_bots_are_ignored() -> None:
    payload = load_webhook_example("issue_comment.created.pr")
    payload["comment"]["body"] = "/cla check"
    bot = copy.deepcopy(payload)
    bot["comment"]["user"]["type"] = "Bot"
    assert isinstance(routing.route("issue_comment", bot), routing.Ignore)
    issue = copy.deepcopy(payload)
    issue["comment"]["user"]["type"] = "User"
    issue["issue"].pop("pull_request", None)
    assert isinstance(routing.route("issue_comment", issue), routing.Ignore)


def test_installation_events() -> None:
    created = routing.route("installation", load_webhook_example("installation.created"))
    assert isinstance(created, routing.InstallationChange) and created.action == "created"
    added = routing.route(
        "installation_repositories", load_webhook_example("installation_repositories.added")
    )
    assert isinstance(added, routing.InstallationChange) and added.repos_added


def test_missing_fields_in_an_acted_on_event_are_malformed() -> None:
    payload = load_webhook_example("pull_request.opened")
    del payload["pull_request"]["head"]
    with pytest.raises(routing.PayloadError):
        routing.route("pull_request", payload)


@pytest.mark.parametrize(
    ("event", "example"),
    [
        ("pull_request", "pull_request.opened"),
        ("pull_request", "pull_request.synchronize"),
        ("issue_comment", "issue_comment.created.pr"),
    ],
)
def test_a_repository_hook_delivery_without_installation_is_ignored(
    event: str, example: str
) -> None:
    """Signed with the same secret, but from a repository or organisation webhook: no
    installation token can ever act on it, so no job that would fail forever."""
    payload = load_webhook_example(example)
    payload.pop("installation", None)
    if event == "issue_comment":
        payload["comment"]["user"]["type"] = "User"
        payload["comment"]["body"] = "/cla check"
    route = routing.route(event, payload)
    assert route == routing.NO_INSTALLATION


@pytest.mark.parametrize(
    ("path", "value", "where"),
    [
        ("pull_request.labels", 5, "$.pull_request.labels"),
        ("pull_request.number", 2**31, "$.pull_request.number"),
        ("pull_request.head.sha", "not-a-sha", "$.pull_request.head.sha"),
        ("repository.full_name", "a" * 256, "$.repository.full_name"),
        ("installation.id", 2**63, "$.installation.id"),
        ("action", "x" * 65, "$.action"),
    ],
)
def test_wrong_types_and_ranges_are_malformed_with_their_path(
    path: str, value: object, where: str
) -> None:
    payload = load_webhook_example("pull_request.opened")
    payload["installation"] = {"id": 1}
    *parents, last = path.split(".")
    node = payload
    for key in parents:
        node = node[key]
    node[last] = value
    with pytest.raises(routing.PayloadError, match=re.escape(where)):
        routing.route("pull_request", json.dumps(payload).encode())


# -- merge queues and check runs (payloads from @octokit/webhooks-examples) --------------------


def test_merge_group_checks_requested_is_a_job_for_the_pr_its_branch_names() -> None:
    payload = webhook_example("merge_group", "checks_requested")
    assert payload["merge_group"]["head_ref"].endswith(
        "/pr-104-929f8209d40f77f4abc622a499c93a83babdbe64"
    )
    job = routing.route("merge_group", json.dumps(payload).encode())
    assert job == routing.MergeGroupJob(
        repo=RepoRef(GITHUB, "octo-org", "octo-repo", 17273051),
        installation_id=payload["installation"]["id"],
        head_sha=payload["merge_group"]["head_sha"],
        number=104,
    )
    assert job.pr_key == "github:octo-org/octo-repo#104"


@pytest.mark.parametrize(
    "head_ref",
    [
        "refs/heads/gh-readonly-queue/main/pr-x-929f8209",
        "refs/heads/gh-readonly-queue/main/104",
        "refs/heads/main",
        "refs/heads/gh-readonly-queue/main/pr-99999999999-929f8209",
    ],
)
def test_a_merge_group_naming_no_pr_is_still_a_job(head_ref: str) -> None:
    payload = webhook_example("merge_group", "checks_requested")
    payload["merge_group"]["head_ref"] = head_ref
    job = routing.route("merge_group", payload)
    assert isinstance(job, routing.MergeGroupJob)
    assert (job.pr_key, job.number) == (None, None)


def test_a_destroyed_merge_group_is_ignored() -> None:
    payload = webhook_example("merge_group", "checks_requested")
    payload["action"] = "destroyed"
    assert routing.route("merge_group", payload) == routing.Ignore(
        "merge_group destroyed: nothing to report"
    )


def test_a_rerun_of_our_check_run_rechecks_its_prs() -> None:
    payload = webhook_example("check_run", "rerequested")
    app_id = payload["check_run"]["app"]["id"]
    payload["check_run"]["pull_requests"] = [{"number": 3}, {"number": 3}, {"number": 4}]
    job = routing.route("check_run", payload, app_id=app_id)
    assert isinstance(job, routing.RecheckJobs)
    assert (job.numbers, job.head_sha, job.trigger) == (
        (3, 4),
        payload["check_run"]["head_sha"],
        "check_run",
    )
    assert [j.pr_key for j in job.jobs()] == [
        f"github:{payload['repository']['full_name'].lower()}#3",
        f"github:{payload['repository']['full_name'].lower()}#4",
    ]
    # Another App's run, or no App id configured: not ours.
    assert routing.route("check_run", payload, app_id=app_id + 1) == routing.Ignore(
        "check_run of another App"
    )
    assert routing.route("check_run", payload) == routing.Ignore("check_run of another App")


def test_the_recheck_button_and_a_suite_rerun_recheck() -> None:
    payload = webhook_example("check_run", "requested_action")
    app_id = payload["check_run"]["app"]["id"]
    assert isinstance(routing.route("check_run", payload, app_id=app_id), routing.Ignore)
    payload["requested_action"] = {"identifier": "recheck"}
    job = routing.route("check_run", payload, app_id=app_id)
    assert isinstance(job, routing.RecheckJobs)
    assert job.numbers == tuple(p["number"] for p in payload["check_run"]["pull_requests"])
    assert job.numbers == (26764,)
    suite = webhook_example("check_suite", "rerequested")
    job = routing.route("check_suite", suite, app_id=suite["check_suite"]["app"]["id"])
    assert isinstance(job, routing.RecheckJobs)
    assert job.numbers == tuple(p["number"] for p in suite["check_suite"]["pull_requests"])


@pytest.mark.parametrize(
    ("event", "action"),
    [
        ("check_run", "created"),
        ("check_run", "completed"),
        ("check_suite", "requested"),
        ("check_suite", "completed"),
    ],
)
def test_other_check_actions_are_ignored(event: str, action: str) -> None:
    payload = webhook_example(event, action)
    app_id = payload[event]["app"]["id"]
    assert routing.route(event, payload, app_id=app_id) == routing.Ignore(
        f"{event} action {action!r} needs no check"
    )
