"""A routed delivery in the database: the jobs it queues, the bookkeeping it does at once."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from bot.core.commands import CommandKind
from bot.core.model import Platform
from bot.platforms.github.events import pull_request_from_api
from bot.platforms.routing import CheckJob, CommandJob, CommentJobs, InstallationChange, PrClosed
from bot.services.deliveries import new_jobs, store_bookkeeping
from bot.services.jobs import NewJob
from bot.storage.models import Installation, Job, JobKind, JobStatus, Repository
from tests.services.conftest import API_SNAPSHOT, REPO, REPO_JSON

FORGE = Platform("github")


def test_a_comment_makes_a_check_keyed_by_delivery_and_commands_keyed_by_comment() -> None:
    check = CheckJob(REPO, 5, 7, "command", comment_id=12)
    command = CommandJob(
        repo=REPO,
        number=5,
        installation_id=7,
        comment_id=12,
        author_login="amy",
        author_id="11",
        commands=((CommandKind.STATUS, None),),
    )
    jobs = new_jobs(FORGE, "d-1", "issue_comment", "created", CommentJobs(check, command))
    assert jobs == [
        NewJob(
            platform=FORGE,
            delivery_key="d-1",
            event="issue_comment",
            action="created",
            kind=JobKind.CHECK,
            payload={"repo": REPO_JSON, "number": 5, "trigger": "command", "comment_id": 12},
            pr_key="github:acme/widgets#5",
            installation_id=7,
        ),
        NewJob(
            platform=FORGE,
            delivery_key="comment:12",
            event="issue_comment",
            action="created",
            kind=JobKind.COMMAND,
            payload={
                "repo": REPO_JSON,
                "number": 5,
                "comment_id": 12,
                "author": {"login": "amy", "id": "11"},
                "commands": [["status", None]],
            },
            pr_key="github:acme/widgets#5",
            installation_id=7,
        ),
    ]
    assert new_jobs(FORGE, "d-2", "issue_comment", "created", CommentJobs(None, None)) == []


def test_a_delivery_s_pr_snapshot_is_stored_as_a_core_pull_request() -> None:
    """The snapshot routing decoded (from the forge's API shape, with the delivery's
    installation) is queued as a core ``PullRequest``."""
    pull = pull_request_from_api(API_SNAPSHOT, installation_id=7)
    check = CheckJob(REPO, 4, 7, "pull_request", pull=pull)
    (job,) = new_jobs(FORGE, "d-3", "pull_request", "opened", check)
    assert job.payload == {
        "repo": REPO_JSON,
        "number": 4,
        "trigger": "pull_request",
        "pull": {
            "repo": REPO_JSON,
            "number": 4,
            "head_sha": "a" * 40,
            "base_ref": "main",
            "base_sha": "b" * 40,
            "state": "open",
            "draft": False,
            "author": {"login": "amy", "id": "11", "bot": False},
            "labels": ["cla/no"],
            "commit_count": 1,
            "installation_id": 7,
        },
    }


async def test_an_installation_change_is_done_once_and_recorded_as_a_finished_job(
    sessions: Any,
) -> None:
    change = InstallationChange(
        installation_id=9,
        account_login="acme",
        action="created",
        repos_added=(("acme/widgets", 301),),
    )
    kwargs: dict[str, Any] = {
        "platform": FORGE,
        "delivery": "d-9",
        "event": "installation",
        "action": "created",
    }
    assert await store_bookkeeping(sessions, decision=change, **kwargs) is True
    assert await store_bookkeeping(sessions, decision=change, **kwargs) is False
    async with sessions() as s:
        jobs = (await s.scalars(select(Job))).all()
        assert [(j.platform, j.delivery_key, j.kind, j.status, j.payload) for j in jobs] == [
            (
                "github",
                "d-9",
                JobKind.INSTALLATION,
                JobStatus.DONE,
                {"installation_id": 9, "action": "created"},
            )
        ]
        (inst,) = (await s.scalars(select(Installation))).all()
        assert (inst.platform, inst.installation_id, inst.account_login) == ("github", 9, "acme")
        (repo,) = (await s.scalars(select(Repository))).all()
        assert (repo.platform, repo.full_name, repo.forge_repo_id, repo.installation_id) == (
            "github",
            "acme/widgets",
            301,
            9,
        )


async def test_a_closed_pr_is_a_finished_bookkeeping_job(sessions: Any) -> None:
    closed = PrClosed("github", "acme/widgets", 4)
    kwargs: dict[str, Any] = {
        "platform": FORGE,
        "delivery": "d-4",
        "event": "pull_request",
        "action": "closed",
    }
    assert await store_bookkeeping(sessions, decision=closed, **kwargs) is True
    assert await store_bookkeeping(sessions, decision=closed, **kwargs) is False
    async with sessions() as s:
        jobs = (await s.scalars(select(Job))).all()
        assert [(j.delivery_key, j.kind, j.status, j.payload) for j in jobs] == [
            ("d-4", JobKind.BOOKKEEPING, JobStatus.DONE, {})
        ]
