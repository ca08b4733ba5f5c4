"""Comment commands other than a re-check: ``/cla delete-my-data [confirm]``,
``/cla export-my-data``, ``/cla status`` and unknown ones (a short help, at most once per PR).

An erasure asks first: the request's reply says what would be erased; the same account's
``confirm`` within 24 hours erases (:mod:`bot.services.rights`), and the reply saying so is
written only after that is committed. Once it is posted, the job drops its own payload (the
commenter's login and id) and the database's write-ahead log is truncated again.

A command job is keyed by the comment's id, so it runs once however often the comment is
delivered; each reply carries a marker tied to that comment and command, so a retried job finds
its reply instead of posting a second one. On Gitee, whose webhook signature does not cover the
body, the comment is re-read from the API and only what it says there is acted on.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from functools import partial
from pathlib import Path

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.core import replies
from bot.core.commands import CONFIRM, CommandKind, parse_commands
from bot.core.decision import Problem
from bot.core.model import Platform, RepoRef
from bot.metrics import Metrics
from bot.platforms import registry
from bot.platforms.base import ForgeClient
from bot.services import rights, signing
from bot.services.checks import CheckService, ClientFactory
from bot.services.checks.config import texts_with_shipped
from bot.services.jobs import ClaimedJob, JobHandler
from bot.services.requests import CommandRequest
from bot.settings import Policy
from bot.storage.agreements import load_agreement
from bot.storage.crypto import FieldCipher
from bot.storage.db import flush_erased
from bot.storage.models import Job, JobKind
from bot.storage.signatures import account_by_login

log = logging.getLogger("bot.commands")


async def status_of_login(
    session: AsyncSession,
    cipher: FieldCipher,
    platform: Platform,
    login: str,
    community: str,
    policy: Policy,
) -> replies.Standing:
    """Where the account with this login stands with ``community``'s required agreement (the
    latest account record with that login: logins can be renamed, account ids cannot)."""
    agreement = await load_agreement(session, policy.required_agreement, community=community)
    account = await account_by_login(session, platform=platform, login=login)
    found = None
    if account is not None:
        found = await signing.standing(
            session,
            cipher,
            platform=platform,
            account_id=account.account_id,
            emails=(),
            agreement=agreement,
            community=community,
        )
    sig = found.signature if found and not found.restricted else None
    return replies.Standing(
        login=login,
        covered=sig is not None,
        agreement_title=agreement.title,
        version=sig.version if sig else None,
        since=sig.signed_at.date().isoformat() if sig else None,
        company=sig.company if sig else None,
        platform_name=registry.forge(platform).display_name,
    )


def load_reply_templates(templates_dir: Path) -> dict[str, str]:
    """The reply texts (``comments/<key>.md`` in English, ``comments/<lang>/<key>.md`` in
    another language), validated (:func:`bot.core.replies.validate_replies`); one that an
    operator's own directory lacks comes from the shipped templates, as a comment's does."""
    return replies.validate_replies(
        texts_with_shipped(templates_dir, replies.REPLY_KEYS, kind="reply")
    )


def _at(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")


class CommandService:
    def __init__(
        self,
        *,
        sessions: async_sessionmaker[AsyncSession],
        cipher: FieldCipher,
        clients: Mapping[Platform, ClientFactory],
        texts: Mapping[str, str],
        public_url: str,
        metrics: Metrics,
        checks: CheckService,
    ) -> None:
        self.checks = checks
        self.sessions = sessions
        self.cipher = cipher
        self.clients = clients
        self.texts = texts
        self.public_url = public_url.rstrip("/")
        self.metrics = metrics

    def handlers(self) -> dict[JobKind, JobHandler]:
        """The worker's entry for comment commands (a dead one leaves nothing behind)."""
        return {JobKind.COMMAND: JobHandler(run=self.handle_job)}

    async def handle_job(self, job: ClaimedJob) -> None:
        if not job.payload:
            return  # cancelled by an erasure
        request = CommandRequest.from_json(job.platform, job.payload)
        repo, number, comment_id = request.repo, request.number, request.comment_id
        platform = repo.platform
        factory = self.clients.get(platform)
        if factory is None:
            raise LookupError(f"{platform} is not configured")
        client = factory(job.installation_id)
        await self.checks.scopes.refresh()
        languages = self.checks.languages_for(repo)  # the repository's community's
        login, account_id, commands = request.author_login, request.author_id, request.commands
        if not registry.forge(platform).body_is_signed:
            # The delivery's body is not signed: act only on what the API says the comment is.
            live = await client.get_comment(repo, comment_id)
            if live is None:
                log.info("command comment %s is gone; nothing to do", comment_id)
                return
            login, account_id = live.author_login, live.author_id
            commands = tuple(
                (c.kind, c.argument)
                for c in parse_commands(live.body)
                if c.kind != CommandKind.CHECK
            )
        for kind, argument in commands:
            marker = replies.reply_marker(comment_id, kind.value)
            if kind.value in request.replies:  # acted on by an earlier attempt: post the reply
                body = request.replies[kind.value]
            elif kind is CommandKind.DELETE_MY_DATA:
                body, request = await self._delete(
                    request,
                    login,
                    account_id,
                    marker,
                    job,
                    confirm=argument == CONFIRM,
                    languages=languages,
                )
            elif kind is CommandKind.EXPORT_MY_DATA:
                body = replies.export_link(
                    self.texts,
                    marker=marker,
                    login=login,
                    me_url=f"{self.public_url}/me",
                    languages=languages,
                )
            elif kind is CommandKind.UNKNOWN:
                if await client.find_comment(repo, number, replies.HELP_MARKER) is not None:
                    continue  # the help is given once per PR
                body = replies.help_text(
                    self.texts, marker=marker, login=login, word=argument, languages=languages
                )
            elif kind is CommandKind.STATUS:
                body = await self._status(
                    client, repo, number, login, argument, marker, languages=languages
                )
            await self._reply(client, repo, number, marker, body)
            self.metrics.inc(
                "cla_commands_total",
                "Comment commands acted on.",
                platform=platform,
                command=kind.value,
            )
        if request.erased:  # by this attempt or an earlier one: its payload must go too
            # The reply is posted: nothing about the person needs to stay in this job. Clear
            # the payload before the checkpoint, so that no copy of it survives in the file.
            async with self.sessions() as session, session.begin():
                await session.execute(update(Job).where(Job.id == job.id).values(payload={}))
            await flush_erased(self.sessions.kw["bind"])

    async def _delete(
        self,
        request: CommandRequest,
        login: str,
        account_id: str | None,
        marker: str,
        job: ClaimedJob,
        *,
        confirm: bool,
        languages: Sequence[str],
    ) -> tuple[str, CommandRequest]:
        """``/cla delete-my-data`` asks (:meth:`_ask`); ``/cla delete-my-data confirm``
        erases (:meth:`_confirm`). Returns the reply and the request as it now stands (the
        reply remembered, and whether data was erased); that is stored in the job in the same
        transaction, so that a retry posts the reply rather than acting again (a second
        request, or "nothing to erase" after the erasure)."""
        platform = request.repo.platform
        async with self.sessions() as session, session.begin():
            if account_id is None:
                body, erased = (
                    replies.nothing_to_erase(
                        self.texts, marker=marker, login=login, languages=languages
                    ),
                    False,
                )
            else:
                step = self._confirm if confirm else self._ask
                person = rights.Person(platform, account_id, login)
                body, erased = await step(session, person, marker, job, languages)
            request = request.replied(CommandKind.DELETE_MY_DATA, body, erased=erased)
            job.payload = request.to_json()
            await session.execute(update(Job).where(Job.id == job.id).values(payload=job.payload))
        if erased:
            await flush_erased(self.sessions.kw["bind"])
            log.info(
                "erased personal data at the request of %s account %s (job %s)",
                platform,
                account_id,
                job.id,
            )
        return body, request

    async def _ask(
        self,
        session: AsyncSession,
        person: rights.Person,
        marker: str,
        job: ClaimedJob,
        languages: Sequence[str],
    ) -> tuple[str, bool]:
        """What would be erased and kept, and how to confirm; erases nothing."""
        login = person.login or ""
        summary = await rights.survey(session, self.cipher, person, skip_job=job.id)
        if summary.empty:
            return replies.nothing_to_erase(
                self.texts, marker=marker, login=login, languages=languages
            ), False
        expires = await rights.request_erasure(session, self.cipher, person, now=datetime.now(UTC))
        body = replies.erase_request(
            self.texts,
            marker=marker,
            login=login,
            summary=summary,
            expires=_at(expires),
            languages=languages,
        )
        return body, False

    async def _confirm(
        self,
        session: AsyncSession,
        person: rights.Person,
        marker: str,
        job: ClaimedJob,
        languages: Sequence[str],
    ) -> tuple[str, bool]:
        """Erase, if this same account asked within 24 hours; else say that nothing changed."""
        login = person.login or ""
        pending = await rights.confirmation(session, self.cipher, person, now=datetime.now(UTC))
        if pending.requested_at is None:
            return replies.erase_unconfirmed(
                self.texts, marker=marker, login=login, languages=languages
            ), False
        if not pending.valid:
            body = replies.erase_expired(
                self.texts,
                marker=marker,
                login=login,
                requested=_at(pending.requested_at),
                languages=languages,
            )
            return body, False
        actor = rights.Actor(f"{person.platform}:{person.account_id}", "comment", f"job-{job.id}")
        result = await rights.erase(session, self.cipher, person, actor=actor, skip_job=job.id)
        return replies.erased(
            self.texts, marker=marker, login=login, summary=result.summary, languages=languages
        ), True

    async def _status(
        self,
        client: ForgeClient,
        repo: RepoRef,
        number: int,
        login: str,
        target: str | None,
        marker: str,
        *,
        languages: Sequence[str],
    ) -> str:
        """Maintainers only (write permission, asked of the forge); never contact data."""
        permission = await client.get_permission(repo, login) if login else "none"
        if permission not in ("admin", "write"):
            return replies.status_refused(
                self.texts, marker=marker, login=login, languages=languages
            )
        scope = self.checks.scope_for(repo)
        if scope is None:
            lines: replies.Lines = replies.no_cla_lines
            return replies.status_pr(
                self.texts, marker=marker, login=login, lines=lines, languages=languages
            )
        if target is None:
            pr = await client.get_pull(repo, number)
            found = await self.checks.evaluate(client, pr)
            if isinstance(found.check, Problem):
                lines = replies.no_cla_lines
            else:
                lines = partial(replies.coverage_lines, found.check)
            return replies.status_pr(
                self.texts, marker=marker, login=login, lines=lines, languages=languages
            )
        async with self.sessions() as session:
            standing = await status_of_login(
                session, self.cipher, repo.platform, target, scope.community, scope.policy
            )
        return replies.status_one(
            self.texts, marker=marker, login=login, standing=standing, languages=languages
        )

    async def _reply(
        self, client: ForgeClient, repo: RepoRef, number: int, marker: str, body: str
    ) -> None:
        if await client.find_comment(repo, number, marker) is None:
            await client.create_comment(repo, number, body)
