"""The services on the real database (SQLite, and PostgreSQL when configured) with a recording
fake forge: what a test asserts is the exact list of writes the services made."""

from __future__ import annotations

import dataclasses
import itertools
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.core.communities import DEFAULT_COMMUNITY
from bot.core.model import Account, Commit, GitPerson, PullRequest, RepoRef, StatusState
from bot.metrics import Metrics
from bot.platforms.github.facts import GITHUB
from bot.platforms.github.routing import CommentJobs, comment_jobs, pr_key
from bot.sandbox.fakeforge import Call, FakeForgeClient
from bot.services import signing
from bot.services.checks import CheckService, load_comment_templates
from bot.services.checks.config import Scopes
from bot.services.commands import CommandService, load_reply_templates
from bot.services.deliveries import new_jobs
from bot.services.jobs import ClaimedJob, JobQueue, NewJob, Worker, enqueue
from bot.settings import Policy, Settings
from bot.storage.agreements import sync_agreements
from bot.storage.communities import add_community
from bot.storage.crypto import FieldCipher
from bot.storage.db import create_engine, session_factory
from bot.storage.models import JobKind

GH = GITHUB
REPO = RepoRef(GH, "acme", "widgets", 77)
REPO_JSON = {"owner": REPO.owner, "name": REPO.name, "id": REPO.repo_id}
INSTALLATION = 5

# A PR snapshot in the forge's API shape, as routing writes it (``pull_snapshot``) and as
# check jobs of earlier versions stored it: PR 4 of ``REPO`` by @amy (account 11).
API_SNAPSHOT: dict[str, Any] = {
    "number": 4,
    "state": "open",
    "merged": False,
    "draft": False,
    "head": {"sha": "a" * 40},
    "base": {"ref": "main", "sha": "b" * 40, "repo": {**REPO_JSON, "owner": {"login": "acme"}}},
    "user": {"login": "amy", "id": 11, "type": "User"},
    "labels": [{"name": "cla/no"}],
    "commits": 1,
}


def person(login: str) -> GitPerson:
    return GitPerson(login.title(), f"{login}@example.com")


def account(account_id: str, login: str) -> Account:
    return Account(GH, account_id, login)


AMY = account("11", "amy")
BEA = account("12", "bea")
MAINTAINER = account("13", "mona")

_shas = itertools.count(1)


def commit(author: Account, message: str = "Change") -> Commit:
    """A commit by ``author``, linked to their account, with a sha never used before."""
    who = person(author.login)
    return Commit(
        sha=f"{next(_shas):040x}",
        author=who,
        committer=who,
        message=message,
        author_account=author,
        committer_account=author,
    )


# -- the writes a test expects, as the fake records them ---------------------------------------


def sign_url(number: int) -> str:
    return (
        f"https://cla.example.org/sign/individual?platform=github&repo=acme%2Fwidgets&pr={number}"
    )


def blocked(number: int, *logins: str) -> str:
    """The bot's comment on PR ``number`` when these people must sign."""
    people = "\n".join(f"- @{login}" for login in logins)
    return (
        "<!-- cla-bot -->\n### CLA check: action needed\n\n"
        "Thank you for your pull request. Before it can be merged, everyone who contributed to "
        "it must be covered by the Individual Contributor License Agreement.\n\n"
        f"**Please sign the CLA** at {sign_url(number)} (sign in with the account named here):"
        f"\n\n{people}\n\n"
        "This check runs again by itself after each signature and each push. Anyone can re-run "
        "it with a comment `/cla check` (or `recheck`).\n"
    )


COVERED = (
    "<!-- cla-bot -->\n### CLA check: passed\n\n"
    "All contributors are covered by the Individual Contributor License Agreement. Thank you!\n"
)
PASSED = "All contributors are covered by the CLA"


def set_status(number: int, sha: str, state: StatusState, description: str) -> Call:
    return Call("set_status", (REPO, sha, state, description, "cla", sign_url(number)))


def add_labels(number: int, *names: str) -> Call:
    return Call("add_labels", (REPO, number, names))


def remove_label(number: int, name: str) -> Call:
    return Call("remove_label", (REPO, number, name))


def create_comment(number: int, body: str) -> Call:
    return Call("create_comment", (REPO, number, body))


def edit_comment(comment_id: int, body: str) -> Call:
    return Call("edit_comment", (REPO, comment_id, body))


# -- the services -------------------------------------------------------------------------------


@dataclass
class Bot:
    """The check and command services of one process, their queue and the fake forge."""

    settings: Settings
    sessions: async_sessionmaker[AsyncSession]
    cipher: FieldCipher
    forge: FakeForgeClient
    checks: CheckService
    commands: CommandService
    queue: JobQueue

    def open_pr(self, number: int, author: Account, *commits: Commit) -> PullRequest:
        """A PR on ``REPO`` by ``author`` with these commits (one by them when none given)."""
        commits = commits or (commit(author),)
        return self.forge.add_pr(
            PullRequest(
                repo=REPO,
                number=number,
                head_sha=commits[-1].sha,
                base_ref="main",
                state="open",
                author=author,
                installation_id=INSTALLATION,
            ),
            commits,
        )

    async def check(self, number: int) -> None:
        """The check a delivery for PR ``number`` queues, run by the worker."""
        await self.enqueue(
            JobKind.CHECK, number, {"trigger": "pull_request"}, key=f"delivery-{next(_shas)}"
        )
        await self.run_jobs()

    async def comment(self, number: int, author: Account, body: str) -> int:
        """``author`` comments ``body`` on PR ``number``: the jobs its delivery stores (the
        commands parsed by the core, as the webhook routes them) are run; the comment's id."""
        comment_id = self.forge.add_comment(REPO, number, body, author=author)
        route = comment_jobs(
            repo=REPO,
            number=number,
            installation_id=INSTALLATION,
            comment_id=comment_id,
            author_login=author.login,
            author_id=int(author.account_id),
            body=body,
        )
        if isinstance(route, CommentJobs):
            jobs = new_jobs(GH, f"delivery-{comment_id}", "issue_comment", "created", route)
            async with self.sessions() as session, session.begin():
                for job in jobs:
                    assert await enqueue(session, job)
        await self.run_jobs()
        return comment_id

    async def enqueue(
        self, kind: JobKind, number: int, payload: dict[str, Any], *, key: str
    ) -> None:
        async with self.sessions() as session, session.begin():
            stored = await enqueue(
                session,
                NewJob(
                    platform=GH,
                    delivery_key=key,
                    event="test",
                    action=None,
                    kind=kind,
                    payload={
                        "repo": {"owner": REPO.owner, "name": REPO.name, "id": REPO.repo_id},
                        "number": number,
                        **payload,
                    },
                    pr_key=pr_key(GH, REPO.owner, REPO.name, number),
                    installation_id=INSTALLATION,
                ),
            )
            assert stored

    async def run_jobs(self) -> int:
        """Run every ready job as the worker does; how many ran."""
        handlers: dict[str, Callable[[ClaimedJob], Awaitable[None]]] = {
            JobKind.CHECK: self.checks.handle_job,
            JobKind.COMMAND: self.commands.handle_job,
            JobKind.MERGE_GROUP: self.checks.run_merge_group,
        }

        async def handle(job: ClaimedJob) -> None:
            await handlers[job.kind](job)

        return await Worker(self.queue, handle, concurrency=1, poll_s=0.01).drain()

    async def add_community(self, community: str, policy: Policy) -> None:
        """A community of the console's with ``policy``'s agreements published."""
        async with self.sessions() as session, session.begin():
            await add_community(session, community, community.title())
            await sync_agreements(session, policy.agreements, community=community)

    async def sign(self, who: Account, *, community: str = DEFAULT_COMMUNITY) -> int:
        """``who`` signs ``community``'s individual agreement; how many re-checks it queued."""
        async with self.sessions() as session, session.begin():
            signed = await signing.sign(
                session,
                self.cipher,
                platform=who.platform,
                account_id=who.account_id,
                login=who.login,
                verified_emails=[f"{who.login}@example.com"],
                agreement_id="individual",
                version="1.0",
                fields={"name": who.login.title(), "address": "1 Road", "phone": "+1 555"},
                community=community,
            )
        return signed.rechecks


@pytest.fixture
async def sessions(db_url: str) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    """The test database's sessions, as the services are given them (one engine per test)."""
    engine = create_engine(db_url)
    yield session_factory(engine)
    await engine.dispose()


@pytest.fixture
async def make_bot(
    db_url: str,
    make_settings: Any,
    cipher: FieldCipher,
    sessions: async_sessionmaker[AsyncSession],
) -> AsyncIterator[Callable[..., Bot]]:
    """``make_bot(**report)``: the services with the policy's ``report`` fields replaced."""
    settings: Settings = make_settings(db_url)
    async with sessions() as s, s.begin():
        await sync_agreements(s, settings.policy.agreements)

    def make(scopes: Scopes | None = None, **report: Any) -> Bot:
        policy = dataclasses.replace(
            settings.policy, report=dataclasses.replace(settings.policy.report, **report)
        )
        forge = FakeForgeClient(GH)
        metrics = Metrics()
        clients = {GH: forge.factory()}
        checks = CheckService(
            sessions=sessions,
            cipher=cipher,
            policy=policy,
            public_url=settings.public_url,
            web_urls={GH: "https://github.com"},
            clients=clients,
            templates=load_comment_templates(settings.templates_dir),
            metrics=metrics,
            scopes=scopes,
        )
        commands = CommandService(
            sessions=sessions,
            cipher=cipher,
            clients=clients,
            texts=load_reply_templates(settings.templates_dir),
            public_url=settings.public_url,
            metrics=metrics,
            checks=checks,
        )
        queue = JobQueue(sessions, lease_s=60, max_attempts=3)
        return Bot(settings, sessions, cipher, forge, checks, commands, queue)

    yield make


@pytest.fixture
def bot(make_bot: Callable[..., Bot]) -> Bot:
    return make_bot()
