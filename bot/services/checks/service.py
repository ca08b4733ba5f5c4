"""The check of one pull request: read the forge, decide in the core, write the difference.

A check is two steps. **Plan** (:mod:`~bot.services.checks.plan`): read the PR's commits from
the forge, then the signatures, agreements and the bot's record of the PR in one database
session, and let the core decide the writes; nothing is written. **Apply**
(:mod:`~bot.services.checks.apply`): make those writes on the forge, then record what was
written (:mod:`~bot.services.checks.records`) in one transaction.

Idempotent by construction: the plan only holds writes whose result is not already on the PR,
the bot's comment is found again (stored id, else a search of every page) before one is
created, and the record is committed after the forge writes — so a worker killed anywhere in
between and run again converges on one comment and the right status.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import urlencode

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.core import decision, messages
from bot.core.communities import DEFAULT_COMMUNITY, sign_path
from bot.core.model import Platform, PullRequest, RepoRef
from bot.metrics import Metrics
from bot.platforms.base import ForgeClient, MissingPermission, StaleCommitList
from bot.services.checks import records
from bot.services.checks.accounts import ConfirmedAccounts
from bot.services.checks.apply import Reporter
from bot.services.checks.config import ClientFactory, Scopes, languages_of, report_config
from bot.services.checks.failure import Failures
from bot.services.checks.links import LINKS_CHANGED
from bot.services.checks.merge_group import MergeGroups
from bot.services.checks.plan import CheckPlan, Evaluation, Planner
from bot.services.jobs import ClaimedJob, JobHandler
from bot.services.requests import CheckRequest
from bot.settings import Policy
from bot.storage.crypto import FieldCipher
from bot.storage.models import JobKind

log = logging.getLogger("bot.checks")


@dataclass(frozen=True, slots=True)
class CheckResult:
    outcome: decision.Outcome
    writes: int


@dataclass(frozen=True, slots=True)
class Scope:
    """One community's check: its policy's planner (agreements, allowlist, co-authors) and
    reporter (context, labels)."""

    community: str
    policy: Policy
    planner: Planner
    reporter: Reporter


class CheckService:
    def __init__(
        self,
        *,
        sessions: async_sessionmaker[AsyncSession],
        cipher: FieldCipher,
        policy: Policy,
        public_url: str,
        web_urls: Mapping[Platform, str],
        clients: Mapping[Platform, ClientFactory],
        templates: messages.Templates,
        metrics: Metrics,
        accounts: ConfirmedAccounts | None = None,
        prove_emails: bool = False,
        scopes: Scopes | None = None,
    ) -> None:
        """``policy`` is the deployment's; ``scopes`` says which community checks a repository
        and with which policy (default: ``policy`` for every repository)."""
        self.sessions = sessions
        self.cipher = cipher
        self.policy = policy
        self.scopes = scopes or Scopes.single(policy)
        self.public_url = public_url.rstrip("/")
        self.web_urls = web_urls
        self.prove_emails = prove_emails  # mail is configured: /me proves addresses by code
        self.clients = clients
        self.templates = templates
        self.metrics = metrics
        self.accounts = accounts or ConfirmedAccounts()
        # The deployment's reporter: where no community covers a repository.
        self.reporter = Reporter(report_config(policy))
        self.communities = {
            community: Scope(
                community,
                scoped,
                Planner(
                    sessions=sessions,
                    cipher=cipher,
                    policy=scoped,
                    templates=templates,
                    accounts=self.accounts,
                    community=community,
                ),
                self.reporter.sharing(report_config(scoped)),
            )
            for community, scoped in self.scopes.policies.items()
        }
        self.failures = Failures(
            sessions=sessions,
            templates=templates,
            reporter_for=self.reporter_for,
            languages_for=self.languages_for,
            community_for=self.scopes.resolve,
            metrics=metrics,
            client_for=self.client_for,
        )
        self.merge_groups = MergeGroups(
            sessions=sessions,
            templates=templates,
            reporter_for=self.reporter_for,
            languages_for=self.languages_for,
            client_for=self.client_for,
            sign_url=self.sign_url,
            check=self._check_read,
        )

    def client_for(self, platform: Platform, installation_id: int | None) -> ForgeClient:
        factory = self.clients.get(platform)
        if factory is None:
            raise LookupError(f"{platform} is not configured")
        return factory(installation_id)

    def scope_for(self, repo: RepoRef) -> Scope | None:
        """The community that checks ``repo``; ``None`` when none covers it."""
        community = self.scopes.resolve(repo)
        return self.communities.get(community) if community is not None else None

    def reporter_for(self, repo: RepoRef) -> Reporter:
        """The reporter of ``repo``'s community (the deployment's where none covers it)."""
        scope = self.scope_for(repo)
        return scope.reporter if scope is not None else self.reporter

    def languages_for(self, repo: RepoRef) -> tuple[str, ...]:
        """The languages of ``repo``'s community (the deployment's where none covers it)."""
        scope = self.scope_for(repo)
        return languages_of(scope.policy if scope is not None else self.policy)

    @property
    def console_url(self) -> str:
        return f"{self.public_url}/console"

    def sign_url(self, platform: Platform, repo: RepoRef | None = None, number: int = 0) -> str:
        """The signing link of ``repo``'s community (the default community's without one);
        with the PR it is posted on (repository and number, nothing personal), so that the
        confirmation page can link back to it."""
        query: dict[str, str] = {"platform": platform}
        if repo is not None and number:
            query |= {"repo": repo.full_name, "pr": str(number)}
        scope = (
            self.scope_for(repo) if repo is not None else self.communities.get(DEFAULT_COMMUNITY)
        )
        if scope is None:
            return self.console_url
        path = sign_path(scope.community, scope.policy.required_agreement)
        return f"{self.public_url}{path}?{urlencode(query)}"

    def links(self, pr: PullRequest) -> messages.Links:
        platform = pr.repo.platform
        return messages.Links(
            sign_url=self.sign_url(platform, pr.repo, pr.number),
            web_url=self.web_urls.get(platform, ""),
            me_url=f"{self.public_url}/me",
            prove_url=f"{self.public_url}/me#emails-title" if self.prove_emails else "",
        )

    def handlers(self) -> dict[JobKind, JobHandler]:
        """The worker's entries for checks: run one (and leave a trace on the PR of a dead one),
        and answer a merge queue entry."""
        return {
            JobKind.CHECK: JobHandler(run=self.run_job, on_dead=self.report_failure),
            JobKind.MERGE_GROUP: JobHandler(run=self.run_merge_group),
        }

    # -- the jobs ---------------------------------------------------------------------------------

    async def run_job(self, job: ClaimedJob) -> None:
        """A check from the job's PR snapshot; when the forge's commits have moved past it
        (a later push whose delivery is lost or not yet claimed, or a job recovered after a
        crash), the PR is read again at once instead of retrying a snapshot that can only stay
        stale."""
        request = self.request(job)
        try:
            await self.check_request(request, installation_id=job.installation_id)
        except StaleCommitList:
            if request.pull is None:
                raise  # the forge itself lags behind the head it reports: retry later
            log.info("job %s: the PR moved past the delivery's snapshot; reading it again", job.id)
            request = request.without_snapshot()
            job.payload = request.to_json()
            await self.check_request(request, installation_id=job.installation_id)

    async def handle_job(self, job: ClaimedJob) -> None:
        await self.check_request(self.request(job), installation_id=job.installation_id)

    @staticmethod
    def request(job: ClaimedJob) -> CheckRequest:
        """The job's check (:class:`~bot.services.requests.BadRequest` when unreadable)."""
        return CheckRequest.from_json(
            job.platform, job.payload, installation_id=job.installation_id
        )

    async def report_failure(self, job: ClaimedJob) -> decision.Outcome:
        """A dead check job's trace on its PR (:meth:`Failures.report_dead`)."""
        await self.scopes.refresh()
        return await self.failures.report_dead(job)

    async def run_merge_group(self, job: ClaimedJob) -> None:
        """The worker's entry for a merge queue entry (see :meth:`handle_merge_group`)."""
        await self.handle_merge_group(job)

    async def handle_merge_group(self, job: ClaimedJob) -> decision.GroupPlan:
        await self.scopes.refresh()
        return await self.merge_groups.handle(job)

    # -- a check ----------------------------------------------------------------------------------

    async def check_request(
        self, request: CheckRequest, *, installation_id: int | None
    ) -> CheckResult:
        if request.trigger == LINKS_CHANGED:
            await self.scopes.refresh(force=True)
        return await self.check(
            platform=request.repo.platform,
            repo=request.repo,
            number=request.number,
            installation_id=installation_id,
            pull=request.pull,
        )

    async def _check_read(self, repo: RepoRef, number: int, pr: PullRequest) -> CheckResult:
        return await self.check(
            platform=repo.platform,
            repo=repo,
            number=number,
            installation_id=pr.installation_id,
            pull=pr,
        )

    def _scope(self, pr: PullRequest) -> Scope:
        scope = self.scope_for(pr.repo)
        if scope is None:
            raise LookupError(f"no community covers {pr.repo.platform} {pr.repo.full_name}")
        return scope

    async def evaluate(self, client: ForgeClient, pr: PullRequest) -> Evaluation:
        """Who contributed to ``pr`` and who covers them (reads the forge and the database,
        writes nothing); :class:`LookupError` when no community covers its repository."""
        return await self._scope(pr).planner.evaluate(client, pr)

    async def plan(
        self, client: ForgeClient, pr: PullRequest, *, installation_id: int | None
    ) -> CheckPlan:
        """The plan step: what to write on ``pr`` (reads only)."""
        scope = self._scope(pr)
        return await scope.planner.plan(
            client,
            pr,
            links=self.links(pr),
            config=scope.reporter.config_for(client, installation_id),
        )

    async def apply(
        self, client: ForgeClient, planned: CheckPlan, *, installation_id: int | None
    ) -> int:
        """The apply step: the forge writes, then the record of them; how many writes."""
        pr = planned.pr
        applied = await self.reporter_for(pr.repo).apply(
            client,
            pr,
            planned.plan,
            installation_id=installation_id,
            comment_id=planned.comment_id,
            redecide=planned.redecide,
        )
        async with self.sessions() as session, session.begin():
            await records.save_check(
                session,
                pr,
                applied.plan,
                applied.comment_id,
                planned.contributors,
                applied.run_id,
                community=planned.community,
            )
        self.metrics.check(pr.repo.platform, applied.plan.outcome.value)
        return applied.writes

    async def check(
        self,
        *,
        platform: Platform,
        repo: RepoRef,
        number: int,
        installation_id: int | None,
        pull: PullRequest | None = None,
    ) -> CheckResult:
        """Check PR ``number`` (``pull`` when the delivery's snapshot serves, else read now):
        plan, then apply. A closed PR is only recorded so; a missing permission is told on the
        PR instead."""
        await self.scopes.refresh()
        client = self.client_for(platform, installation_id)
        pr = pull if pull is not None else await client.get_pull(repo, number)
        if pr.state != "open":
            async with self.sessions() as session, session.begin():
                await records.save_closed(session, pr)
            return CheckResult(decision.Outcome.SKIPPED, 0)
        if self.scope_for(repo) is None:
            plan = await self.failures.no_cla(client, pr, self.console_url)
            return CheckResult(plan.outcome, plan.writes)
        try:
            planned = await self.plan(client, pr, installation_id=installation_id)
        except MissingPermission as exc:
            failed = await self.failures.missing_permission(client, pr, exc)
            return CheckResult(failed.outcome, failed.writes)
        writes = await self.apply(client, planned, installation_id=installation_id)
        log.info(
            "checked %s %s#%s at %s: %s, %s writes",
            platform,
            repo.full_name,
            number,
            pr.head_sha[:7],
            planned.plan.outcome.value,
            writes,
        )
        return CheckResult(planned.plan.outcome, writes)
