"""Check and command requests across the queue: every payload shape a version stored still
reads, what is stored now reads back the same, and a bad payload is a clear error."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select

from bot.core.commands import CommandKind
from bot.core.model import Account, Platform, PullRequest, RepoRef
from bot.services.jobs import GiveUp
from bot.services.requests import BadRequest, CheckRequest, CommandRequest, MergeGroupRequest
from bot.services.rights.erasure import without_person
from bot.storage.models import Job, JobKind, JobStatus
from tests.services.conftest import AMY, API_SNAPSHOT, REPO_JSON, Bot

FORGE = Platform("github")
SIGNED_NOT = Platform("gitee")  # a forge whose body is not signed: it stores no snapshot
WIDGETS = RepoRef(FORGE, "acme", "widgets", 77)

PULL = PullRequest(
    repo=WIDGETS,
    number=4,
    head_sha="a" * 40,
    base_ref="main",
    state="open",
    author=Account(FORGE, "11", "amy"),
    labels=("cla/no",),
    commit_count=1,
    installation_id=5,
    base_sha="b" * 40,
)


@pytest.mark.parametrize(
    ("platform", "payload", "expected"),
    [
        pytest.param(
            FORGE,
            {"repo": REPO_JSON, "number": 4, "pull": API_SNAPSHOT, "trigger": "pull_request"},
            CheckRequest(WIDGETS, 4, "pull_request", pull=PULL),
            id="a pull_request delivery with the forge's API snapshot",
        ),
        pytest.param(
            FORGE,
            {"repo": REPO_JSON, "number": 4, "trigger": "command", "comment_id": 12},
            CheckRequest(WIDGETS, 4, "command", comment_id=12),
            id="a /cla check comment",
        ),
        pytest.param(
            SIGNED_NOT,
            {"repo": REPO_JSON, "number": 4, "trigger": "Merge Request Hook"},
            CheckRequest(RepoRef(SIGNED_NOT, "acme", "widgets", 77), 4, "Merge Request Hook"),
            id="a delivery without a snapshot (an unsigned body)",
        ),
        pytest.param(
            FORGE,
            {"repo": REPO_JSON, "number": 4, "trigger": "check_run"},
            CheckRequest(WIDGETS, 4, "check_run"),
            id="a Re-run of the check run",
        ),
        pytest.param(
            FORGE,
            {"repo": {**REPO_JSON, "id": None}, "number": 4, "trigger": "signature"},
            CheckRequest(RepoRef(FORGE, "acme", "widgets"), 4, "signature"),
            id="a re-check after a signature, the repository id unknown",
        ),
        pytest.param(
            FORGE,
            {"repo": {"owner": "acme", "name": "widgets"}, "number": 4},
            CheckRequest(RepoRef(FORGE, "acme", "widgets"), 4),
            id="no repository id, no trigger",
        ),
        pytest.param(
            FORGE,
            {
                "repo": REPO_JSON,
                "number": 4,
                "trigger": "pull_request",
                "comment_id": 12,
                "pull": API_SNAPSHOT,
            },
            CheckRequest(WIDGETS, 4, "pull_request", comment_id=12, pull=PULL),
            id="a comment's check coalesced with a later push",
        ),
    ],
)
def test_every_stored_check_payload_still_reads(
    platform: Platform, payload: dict[str, Any], expected: CheckRequest
) -> None:
    assert CheckRequest.from_json(platform, payload, installation_id=5) == expected


@pytest.mark.parametrize(
    "request_",
    [
        CheckRequest(WIDGETS, 4, "pull_request", pull=PULL),
        CheckRequest(WIDGETS, 4, "command", comment_id=12),
        CheckRequest(RepoRef(FORGE, "acme", "widgets"), 9),
        CheckRequest(
            WIDGETS,
            4,
            "pull_request",
            pull=PullRequest(WIDGETS, 4, "c" * 40, "dev", "merged", None, draft=True),
        ),
    ],
)
def test_a_check_request_reads_back_as_it_was_stored(request_: CheckRequest) -> None:
    stored = request_.to_json()
    assert CheckRequest.from_json(FORGE, stored) == request_
    assert CheckRequest.from_json(FORGE, stored).to_json() == stored


def test_a_check_request_without_its_snapshot_reads_the_pr_again() -> None:
    request = CheckRequest(WIDGETS, 4, "pull_request", pull=PULL)
    assert request.without_snapshot() == CheckRequest(WIDGETS, 4, "pull_request")
    assert "pull" not in request.without_snapshot().to_json()


COMMAND_JSON: dict[str, Any] = {
    "repo": REPO_JSON,
    "number": 4,
    "comment_id": 12,
    "author": {"login": "bea", "id": 12},
    "commands": [["status", "@amy"], ["delete-my-data", "confirm"]],
}
COMMAND = CommandRequest(
    WIDGETS,
    4,
    12,
    "bea",
    "12",
    ((CommandKind.STATUS, "@amy"), (CommandKind.DELETE_MY_DATA, "confirm")),
)


@pytest.mark.parametrize(
    ("payload", "expected"),
    [
        pytest.param(COMMAND_JSON, COMMAND, id="a comment's commands"),
        pytest.param(
            {**COMMAND_JSON, "replies": {"delete-my-data": "done"}, "erased": True},
            CommandRequest(
                WIDGETS, 4, 12, "bea", "12", COMMAND.commands, {"delete-my-data": "done"}, True
            ),
            id="an erasure done by an earlier attempt",
        ),
        pytest.param(
            {**COMMAND_JSON, "author": {"login": "bea", "id": None}},
            CommandRequest(WIDGETS, 4, 12, "bea", None, COMMAND.commands),
            id="a comment whose author's id the delivery did not give",
        ),
        pytest.param(
            {"repo": REPO_JSON, "number": 4, "comment_id": "12"},
            CommandRequest(WIDGETS, 4, 12, "", None, ()),
            id="no author, no commands (an unsigned body: the comment is read again)",
        ),
    ],
)
def test_every_stored_command_payload_still_reads(
    payload: dict[str, Any], expected: CommandRequest
) -> None:
    assert CommandRequest.from_json(FORGE, payload) == expected


def test_a_command_request_keeps_its_replies_and_reads_back_as_it_was_stored() -> None:
    done = COMMAND.replied(CommandKind.DELETE_MY_DATA, "erased", erased=True)
    stored = done.to_json()
    assert stored == {
        **COMMAND_JSON,
        "author": {"login": "bea", "id": "12"},
        "replies": {"delete-my-data": "erased"},
        "erased": True,
    }
    assert CommandRequest.from_json(FORGE, stored) == done
    assert COMMAND.replied(CommandKind.STATUS, "x", erased=False).erased is False


@pytest.mark.parametrize("number", [7, None])
def test_a_merge_group_request_reads_back_as_routing_stored_it(number: int | None) -> None:
    """The JSON is the shape routing (and every earlier version) stored."""
    stored = {"repo": REPO_JSON, "number": number, "head_sha": "c" * 40}
    request = MergeGroupRequest.from_json(FORGE, stored)
    assert request == MergeGroupRequest(RepoRef(FORGE, *REPO_JSON.values()), "c" * 40, number)
    assert request.to_json() == stored


@pytest.mark.parametrize(
    ("payload", "problem"),
    [
        ({"number": 7, "head_sha": "c" * 40}, "payload.repo: expected an object"),
        ({"repo": REPO_JSON, "number": 7}, "payload.head_sha: expected a string"),
        (
            {"repo": REPO_JSON, "number": "7", "head_sha": "c"},
            "payload.number: expected an integer",
        ),
    ],
)
def test_a_bad_merge_group_payload_says_what_is_wrong(
    payload: dict[str, Any], problem: str
) -> None:
    with pytest.raises(BadRequest) as caught:
        MergeGroupRequest.from_json(FORGE, payload)
    assert (caught.value.kind, caught.value.problem) == ("merge_group", problem)


PULL_JSON: dict[str, Any] = CheckRequest(WIDGETS, 4, pull=PULL).to_json()["pull"]


@pytest.mark.parametrize(
    ("payload", "problem"),
    [
        ({}, "payload.repo: expected an object"),
        ({"repo": REPO_JSON}, "payload.number: expected an integer"),
        ({"repo": {"owner": "acme"}, "number": 4}, "payload.repo.name: expected a string"),
        ({"repo": REPO_JSON, "number": "4"}, "payload.number: expected an integer"),
        ({"repo": REPO_JSON, "number": 4, "trigger": 3}, "payload.trigger: expected a string"),
        ({"repo": REPO_JSON, "number": 4, "pull": []}, "pull: expected an object"),
        (
            {"repo": REPO_JSON, "number": 4, "pull": {"head": {}}},
            "pull_request.base: expected an object",
        ),
        (
            {"repo": REPO_JSON, "number": 4, "pull": {**PULL_JSON, "labels": [1]}},
            "pull.labels: expected a list of strings",
        ),
        (
            {"repo": REPO_JSON, "number": 4, "pull": {**PULL_JSON, "author": {"id": 11}}},
            "pull.author.login: expected a string",
        ),
    ],
)
def test_a_bad_check_payload_says_what_is_wrong(payload: dict[str, Any], problem: str) -> None:
    with pytest.raises(BadRequest) as caught:
        CheckRequest.from_json(FORGE, payload)
    assert (caught.value.kind, caught.value.problem) == ("check", problem)
    assert isinstance(caught.value, GiveUp)  # the worker dead-letters it at once
    assert caught.value.reason == f"cannot read the check job's payload: {problem}"


def test_an_old_snapshot_of_a_forge_that_stores_none_is_a_bad_payload() -> None:
    with pytest.raises(BadRequest, match="stores no pull request snapshots"):
        CheckRequest.from_json(SIGNED_NOT, {"repo": REPO_JSON, "number": 4, "pull": API_SNAPSHOT})


@pytest.mark.parametrize(
    ("payload", "problem"),
    [
        ({**COMMAND_JSON, "comment_id": None}, "payload.comment_id: expected an integer"),
        ({**COMMAND_JSON, "author": "bea"}, "payload.author: expected an object"),
        ({**COMMAND_JSON, "commands": "status"}, "payload.commands: expected a list"),
        (
            {**COMMAND_JSON, "commands": [["status"]]},
            "payload.commands[]: expected [command, argument or null]",
        ),
        (
            {**COMMAND_JSON, "commands": [["dance", None]]},
            "payload.commands[]: unknown command 'dance'",
        ),
        (
            {**COMMAND_JSON, "replies": {"status": 1}},
            "payload.replies: expected an object of strings",
        ),
    ],
)
def test_a_bad_command_payload_says_what_is_wrong(payload: dict[str, Any], problem: str) -> None:
    with pytest.raises(BadRequest) as caught:
        CommandRequest.from_json(FORGE, payload)
    assert (caught.value.kind, caught.value.problem) == ("command", problem)


@pytest.mark.parametrize("kind", [JobKind.CHECK, JobKind.COMMAND, JobKind.MERGE_GROUP])
async def test_the_worker_dead_letters_an_unreadable_job_at_once(bot: Bot, kind: JobKind) -> None:
    bot.open_pr(1, AMY)
    damaged = {"repo": REPO_JSON, "number": "one", "head_sha": "c" * 40}
    await bot.enqueue(kind, 1, damaged, key="damaged")
    assert await bot.run_jobs() == 1
    async with bot.sessions() as s:
        (job,) = (await s.scalars(select(Job))).all()
    assert (job.status, job.attempts) == (JobStatus.DEAD, 1)
    assert job.last_error == (
        f"cannot read the {kind} job's payload: payload.number: expected an integer"
    )
    assert bot.forge.writes() == []


def test_an_erasure_still_finds_the_person_in_a_typed_request() -> None:
    """The PR author of a check's snapshot and a command's author stay user objects under the
    keys an erasure scans queued jobs for: the check loses its snapshot, the command goes."""
    check = CheckRequest(WIDGETS, 4, "pull_request", pull=PULL)
    assert without_person(JobKind.CHECK, check.to_json(), {"11"}, set()) == (
        check.without_snapshot().to_json()
    )
    assert without_person(JobKind.CHECK, check.to_json(), set(), {"amy"}) == (
        check.without_snapshot().to_json()
    )
    assert without_person(JobKind.CHECK, check.to_json(), {"99"}, {"zoe"}) is None
    assert without_person(JobKind.COMMAND, COMMAND.to_json(), {"12"}, set()) == {}
