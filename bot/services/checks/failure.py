"""A check that could not run, told on its PR: a dead check job (:meth:`Failures.report_dead`),
an installation lacking a permission the check needs (:meth:`Failures.missing_permission`), or a
repository that no community covers (:meth:`Failures.no_cla`).
Status ``error``, no claim of coverage, and the bot's one comment (created or edited in place)
saying what happened and that ``/cla check`` runs it again; a repeat writes nothing."""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.core import decision, messages
from bot.core.model import Platform, PullRequest, RepoRef
from bot.metrics import Metrics
from bot.platforms.base import ForgeClient, ForgeError, MissingPermission
from bot.services.checks import records
from bot.services.checks.apply import Reporter
from bot.services.jobs import ClaimedJob
from bot.services.requests import CheckRequest

log = logging.getLogger("bot.checks")


class Failures:
    def __init__(
        self,
        *,
        sessions: async_sessionmaker[AsyncSession],
        templates: messages.Templates,
        reporter_for: Callable[[RepoRef], Reporter],
        languages_for: Callable[[RepoRef], Sequence[str]],
        community_for: Callable[[RepoRef], str | None],
        metrics: Metrics,
        client_for: Callable[[Platform, int | None], ForgeClient],
    ) -> None:
        self.sessions = sessions
        self.templates = templates
        self.languages_for = languages_for
        self.reporter_for = reporter_for
        self.community_for = community_for
        self.metrics = metrics
        self.client_for = client_for

    async def report_dead(self, job: ClaimedJob) -> decision.Outcome:
        """Tell the PR of a dead check job that its check could not run. The PR is read again
        when the forge answers (its head may have moved), else the job's snapshot serves."""
        if not job.payload:
            return decision.Outcome.SKIPPED
        request = CheckRequest.from_json(
            job.platform, job.payload, installation_id=job.installation_id
        )
        repo = request.repo
        client = self.client_for(repo.platform, job.installation_id)
        try:
            pr = await client.get_pull(repo, request.number)
        except ForgeError:
            if request.pull is None:
                raise
            pr = request.pull
        if pr.state != "open":
            return decision.Outcome.SKIPPED
        report = messages.render_check_failed(
            templates=self.templates, languages=self.languages_for(pr.repo)
        )
        plan = await self.write(client, pr, report)
        log.warning(
            "job %s: reported on %s %s#%s that its check could not run",
            job.id,
            repo.platform,
            repo.full_name,
            request.number,
        )
        return plan.outcome

    async def missing_permission(
        self, client: ForgeClient, pr: PullRequest, missing: MissingPermission
    ) -> decision.Plan:
        """The App's installation lacks a permission the check needs (an owner has not
        accepted the App's new permissions yet): retrying cannot help, so the job ends here and
        the PR says which permission an owner must accept."""
        wanted = missing.accepted[0] if missing.accepted else ()
        report = messages.render_missing_permission(
            templates=self.templates, permissions=wanted, languages=self.languages_for(pr.repo)
        )
        plan = await self.write(client, pr, report)
        log.warning(
            "cannot check %s %s#%s: installation %s lacks %s; an owner must accept the App's "
            "new permissions (%s writes)",
            pr.repo.platform,
            pr.repo.full_name,
            pr.number,
            pr.installation_id,
            messages.permission_names(wanted),
            plan.writes,
        )
        return plan

    async def no_cla(self, client: ForgeClient, pr: PullRequest, console_url: str) -> decision.Plan:
        """No community's link covers ``pr``'s repository and the deployment has no default
        community: status ``error`` "no CLA configured" and one comment (edited in place) that
        sends its maintainers to the console; nobody is asked to sign."""
        report = messages.render_no_cla(
            templates=self.templates, console_url=console_url, languages=self.languages_for(pr.repo)
        )
        plan = await self.write(client, pr, report, target_url=console_url)
        log.info(
            "%s %s#%s: no community covers the repository (%s writes)",
            pr.repo.platform,
            pr.repo.full_name,
            pr.number,
            plan.writes,
        )
        return plan

    async def write(
        self,
        client: ForgeClient,
        pr: PullRequest,
        report: decision.Report,
        *,
        target_url: str | None = None,
    ) -> decision.Plan:
        """Show ``report`` on the PR as a check that could not run, writing only what differs
        (planned from the record, read once), then record it; the plan as written."""
        async with self.sessions() as session:
            record = await records.read(session, pr)
        view = records.view(pr, record, report)

        def decide(config: decision.ReportConfig) -> decision.Plan:
            return decision.decide_failure(
                view, report=report, config=config, target_url=target_url
            )

        reporter = self.reporter_for(pr.repo)
        plan = decide(reporter.config_for(client, pr.installation_id))
        applied = await reporter.apply(
            client,
            pr,
            plan,
            installation_id=pr.installation_id,
            comment_id=record.comment_id if record else None,
            redecide=decide,
        )
        async with self.sessions() as session, session.begin():
            await records.save_failure(
                session,
                pr,
                applied.plan,
                applied.comment_id,
                applied.run_id,
                community=self.community_for(pr.repo),
            )
        self.metrics.check(pr.repo.platform, applied.plan.outcome.value)
        return applied.plan
