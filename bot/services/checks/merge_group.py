"""A merge queue entry's head commit: whether the PR it names is covered at its own head, from
the bot's record of that PR — checked first when the record is missing or older than its head.
The group's commits are never read: the PR's own check is what counts. One write."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Sequence

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.core import decision, messages
from bot.core.model import Platform, PullRequest, RepoRef
from bot.platforms.base import ForgeClient
from bot.services.checks import records
from bot.services.checks.apply import Reporter, set_status
from bot.services.jobs import ClaimedJob
from bot.services.requests import MergeGroupRequest
from bot.storage.models import PrCheck

log = logging.getLogger("bot.checks")

CheckPr = Callable[[RepoRef, int, PullRequest], Awaitable[object]]
"""Check PR ``number`` of ``repo`` (as just read) and report on it as usual."""
SignUrl = Callable[..., str]


class MergeGroups:
    def __init__(
        self,
        *,
        sessions: async_sessionmaker[AsyncSession],
        templates: messages.Templates,
        reporter_for: Callable[[RepoRef], Reporter],
        languages_for: Callable[[RepoRef], Sequence[str]],
        client_for: Callable[[Platform, int | None], ForgeClient],
        sign_url: SignUrl,
        check: CheckPr,
    ) -> None:
        self.sessions = sessions
        self.templates = templates
        self.languages_for = languages_for
        self.reporter_for = reporter_for
        self.client_for = client_for
        self.sign_url = sign_url
        self.check = check

    async def handle(self, job: ClaimedJob) -> decision.GroupPlan:
        """Report on the entry's head sha whether the PR it names is covered."""
        platform = Platform(job.platform)
        entry = MergeGroupRequest.from_json(platform, job.payload)
        client = self.client_for(platform, job.installation_id)
        repo, head_sha = entry.repo, entry.head_sha
        queued: decision.QueuedPr | None = None
        if entry.number is not None:
            queued = decision.QueuedPr(
                entry.number, await self._covered(client, repo, entry.number)
            )
        report = messages.render_merge_group(
            templates=self.templates,
            number=queued.number if queued else None,
            covered=bool(queued and queued.covered),
            languages=self.languages_for(repo),
        )
        target = (
            self.sign_url(platform, repo, queued.number)
            if queued
            else self.sign_url(platform, repo)
        )

        def decide(config: decision.ReportConfig) -> decision.GroupPlan:
            return decision.decide_merge_group(
                head_sha, queued, report=report, config=config, target_url=target
            )

        reporter = self.reporter_for(repo)
        plan = decide(reporter.config_for(client, job.installation_id))
        if plan.check_run is not None and (
            await reporter.write_check_run(client, repo, plan.check_run, job.installation_id)
            is None
        ):
            plan = decide(reporter.config_for(client, job.installation_id))
        if plan.status is not None:
            await set_status(client, repo, plan.status)
        log.info(
            "merge queue entry of %s %s at %s (PR %s): %s",
            platform,
            repo.full_name,
            head_sha[:7],
            f"#{queued.number}" if queued else "not matched",
            "covered" if plan.covered else "blocked",
        )
        return plan

    async def _covered(self, client: ForgeClient, repo: RepoRef, number: int) -> bool:
        """Whether PR ``number`` is covered at its current head, by the bot's record of it; the
        PR is checked first (reported on as usual) when that record is missing or older."""
        pr = await client.get_pull(repo, number)
        record = await self._record(pr)
        if not records.current(record, pr):
            await self.check(repo, number, pr)
            record = await self._record(pr)
        return (
            records.current(record, pr)
            and record is not None
            and record.outcome == decision.Outcome.COVERED.value
        )

    async def _record(self, pr: PullRequest) -> PrCheck | None:
        async with self.sessions() as session:
            return await records.read(session, pr)
