"""The check of one pull request: read the forge, decide in the core, write the difference.

Idempotent by construction: the plan only holds writes whose result is not already on the PR,
the bot's comment is found again (stored id, else a search of every page) before one is
created, and the record is committed after the forge writes — so a worker killed anywhere in
between and run again converges on one comment and the right status.
"""

from __future__ import annotations

import asyncio
import dataclasses
import hashlib
import logging
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol
from urllib.parse import urlencode

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.core import decision, messages
from bot.core.coverage import Allowlist, Coverage, evaluate
from bot.core.identity import BotKind, Contributor, NoreplyAddress, noreply_claims
from bot.core.identity import contributors as find_contributors
from bot.core.model import (
    Account,
    Agreement,
    AiAgentPolicy,
    CoAuthorPolicy,
    CommentRef,
    Platform,
    PullRequest,
    RepoRef,
    StatusState,
)
from bot.metrics import Metrics
from bot.platforms import registry
from bot.platforms.base import (
    ForgeClient,
    ForgeError,
    MissingPermission,
    RateLimited,
    StaleCommitList,
)
from bot.platforms.bots import known_bots
from bot.services.jobs import ClaimedJob, JobHandler, now_utc
from bot.services.requests import CheckRequest
from bot.settings import Policy
from bot.storage.agreements import load_agreement
from bot.storage.crypto import FieldCipher
from bot.storage.identity_keys import contributor_keys
from bot.storage.models import JobKind, PrCheck
from bot.storage.pr_checks import get_pr_check, replace_contributors
from bot.storage.signatures import signature_facts

log = logging.getLogger("bot.checks")

ClientFactory = Callable[[int | None], ForgeClient]


def load_comment_templates(templates_dir: Path) -> messages.Templates:
    texts = {
        p.stem: p.read_text(encoding="utf-8") for p in (templates_dir / "comments").glob("*.md")
    }
    return messages.load_templates(texts)


def build_allowlist(policy: Policy) -> Allowlist:
    """The policy's allowlist with the built-in table of bots and AI agents: its bots only
    while ``default_bots`` is true, its AI agents always (``ai_agents`` decides about them)."""
    known = tuple(
        k for k in known_bots() if k.kind is BotKind.AI_AGENT or policy.allowlist.default_bots
    )
    return Allowlist(
        logins=tuple(policy.allowlist.logins),
        account_keys=frozenset(policy.allowlist.account_ids),
        email_domains=tuple(policy.allowlist.email_domains),
        known=known,
        ai_agents=AiAgentPolicy(policy.ai_agents),
    )


def report_config(policy: Policy) -> decision.ReportConfig:
    return decision.ReportConfig(
        context=policy.report.status_context,
        label_yes=policy.report.label_covered,
        label_no=policy.report.label_missing,
        comment_when_covered=decision.CommentPolicy.ALWAYS
        if policy.report.comment_when_covered == "always"
        else decision.CommentPolicy.EDIT_ONLY,
        write_status=policy.report.statuses,
        write_check_run=policy.report.check_runs,
        check_failure_conclusion=decision.CheckConclusion(policy.report.check_failure_conclusion),
    )


NO_CHECKS_TTL_S = 3600.0  # how long an installation that refused check runs is not asked again


def _sha256(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


ACCOUNT_TTL_S = 3600.0  # how long a forge's answer about an account id is believed
MAX_KNOWN_ACCOUNTS = 10_000


class AccountLookup(Protocol):
    """The part of a forge client that confirms an account id (``ForgeClient.user_by_id``)."""

    platform: Platform

    async def user_by_id(self, account_id: str, *, login: str | None = None) -> Account | None: ...


@dataclass(frozen=True, slots=True)
class _Known:
    account: Account | None
    until: float


class ConfirmedAccounts:
    """What the forges said about the account ids of noreply addresses, for every check of this
    process.

    A commit's ``ID+login@…noreply…`` address is written by whoever made the commit; only the
    forge can say whose the id is (:mod:`bot.core.identity`). :meth:`confirm` asks it once per
    id and remembers the answer for ``ttl_s`` — an account (its current login), or that there
    is none — so a re-check, or the next PR of the same person, asks nothing. A lookup that
    fails is not remembered: that check names the identity without a mention, the next asks
    again; a rate limit is raised, for the job queue to wait. Checks running at once share one
    request per id. At most ``max_entries`` answers are kept (the oldest go first).

    Answers are keyed by platform and id; a missing account also by the login it was asked
    with, since Gitee can only look an account up by login (``GiteeClient.user_by_id``).
    """

    def __init__(
        self,
        *,
        ttl_s: float = ACCOUNT_TTL_S,
        max_entries: int = MAX_KNOWN_ACCOUNTS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.ttl_s = ttl_s
        self.max_entries = max_entries
        self.clock = clock
        self._known: dict[tuple[str, ...], _Known] = {}
        self._asking: dict[tuple[str, ...], asyncio.Future[Account | None]] = {}

    def _recall(self, key: tuple[str, ...]) -> _Known | None:
        known = self._known.get(key)
        if known is not None and known.until <= self.clock():
            del self._known[key]
            return None
        return known

    def _remember(self, key: tuple[str, ...], account: Account | None) -> None:
        self._known.pop(key, None)
        while len(self._known) >= self.max_entries:
            del self._known[next(iter(self._known))]
        self._known[key] = _Known(account, self.clock() + self.ttl_s)

    async def confirm(
        self, client: AccountLookup, claims: Sequence[NoreplyAddress]
    ) -> dict[str, Account]:
        """Account id → the account the forge confirms, for each of ``claims`` it does."""
        answers = await asyncio.gather(*(self._one(client, claim) for claim in claims))
        return {a.account_id: a for a in answers if a is not None}

    async def _one(self, client: AccountLookup, claim: NoreplyAddress) -> Account | None:
        account_id = claim.account_id
        if account_id is None or claim.platform != client.platform:
            return None
        found = (client.platform, account_id)
        missing = (*found, claim.login.lower())
        for key in (found, missing):
            known = self._recall(key)
            if known is not None:
                return known.account
        asking = self._asking.get(missing)
        if asking is None:
            asking = asyncio.create_task(self._ask(client, claim, found, missing))
            self._asking[missing] = asking
            asking.add_done_callback(lambda _: self._asking.pop(missing, None))
        try:
            return await asyncio.shield(asking)
        except RateLimited:
            raise
        except ForgeError as exc:
            log.warning(
                "could not confirm %s account %s, named without a mention: %s",
                client.platform,
                account_id,
                exc,
            )
            return None

    async def _ask(
        self,
        client: AccountLookup,
        claim: NoreplyAddress,
        found: tuple[str, ...],
        missing: tuple[str, ...],
    ) -> Account | None:
        account = await client.user_by_id(str(claim.account_id), login=claim.login)
        if account is not None and account.platform == client.platform:
            self._remember(found, account)
            return account
        self._remember(missing, None)
        return None


@dataclass(frozen=True, slots=True)
class Evaluation:
    people: tuple[Contributor, ...]
    check: Coverage | decision.Problem
    agreement: Agreement


@dataclass(frozen=True, slots=True)
class CheckResult:
    outcome: decision.Outcome
    writes: int


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
    ) -> None:
        self.sessions = sessions
        self.cipher = cipher
        self.policy = policy
        self.public_url = public_url.rstrip("/")
        self.web_urls = web_urls
        self.clients = clients
        self.templates = templates
        self.metrics = metrics
        self.allowlist = build_allowlist(policy)
        self.config = report_config(policy)
        self.co_authors = CoAuthorPolicy(policy.co_authors)
        self.accounts = accounts or ConfirmedAccounts()
        self.clock: Callable[[], float] = time.monotonic
        # Installations that answered 403 on check runs (``checks: write`` not accepted yet),
        # until when they get statuses only.
        self._no_check_runs: dict[tuple[str, int | None], float] = {}

    async def evaluate(self, client: ForgeClient, pr: PullRequest) -> Evaluation:
        """Who contributed to ``pr`` and who covers them (reads the forge and the database,
        writes nothing)."""
        commits = await client.list_commits(pr)
        platform, check_committers = pr.repo.platform, self.policy.check_committers
        claims = noreply_claims(
            commits,
            platform=platform,
            forges=registry.FACTS,
            co_authors=self.co_authors,
            check_committers=check_committers,
        )
        people = find_contributors(
            commits,
            platform=platform,
            forges=registry.FACTS,
            co_authors=self.co_authors,
            check_committers=check_committers,
            confirmed=await self.accounts.confirm(client, claims) if claims else {},
        )
        async with self.sessions() as session:
            facts = await signature_facts(session, self.cipher, people)
            agreement = await load_agreement(session, self.policy.required_agreement)
            corporate = [
                await load_agreement(session, a.agreement_id)
                for a in self.policy.agreements
                if a.kind == "corporate"
            ]
        check: Coverage | decision.Problem
        if not agreement.versions:
            check = decision.Problem.NO_AGREEMENT
        else:
            check = evaluate(
                people,
                facts,
                agreement=agreement,
                allowlist=self.allowlist,
                co_authors=self.co_authors,
                corporate=corporate,
            )
        return Evaluation(tuple(people), check, agreement)

    def config_for(self, client: ForgeClient, installation_id: int | None) -> decision.ReportConfig:
        """The report configuration as this client can show it: no status where the forge has
        none, no check run where it has none or the installation refused them lately — and then
        the status, whatever ``cla.report.github`` says, so that the PR still shows a result."""
        config = self.config
        if not registry.forge(client.platform).reports.statuses:
            config = dataclasses.replace(config, write_status=False)
        if config.write_check_run and (
            client.check_runs is None or self._refused_check_runs(client, installation_id)
        ):
            config = dataclasses.replace(
                config,
                write_check_run=False,
                write_status=config.write_status or client.check_runs is not None,
            )
        return config

    def _refused_check_runs(self, client: ForgeClient, installation_id: int | None) -> bool:
        key = (client.platform, installation_id)
        until = self._no_check_runs.get(key)
        if until is None:
            return False
        if until <= self.clock():
            del self._no_check_runs[key]
            return False
        return True

    async def _write_check_run(
        self,
        client: ForgeClient,
        repo: RepoRef,
        run: decision.CheckRunWrite,
        installation_id: int | None,
    ) -> int | None:
        """Create or update ``run``; its id, or ``None`` when the installation has not
        accepted ``checks: write`` (remembered for a while; one log line, nothing personal)."""
        runs = client.check_runs
        if runs is None:
            return None
        try:
            if run.run_id is None:
                return await runs.create_check_run(repo, run)
            await runs.update_check_run(repo, run.run_id, run)
            return run.run_id
        except MissingPermission:
            self._no_check_runs[(client.platform, installation_id)] = self.clock() + NO_CHECKS_TTL_S
            log.warning(
                "installation %s has not accepted the App permission Checks: write: reporting "
                "commit statuses only until it does",
                installation_id,
            )
            return None

    def sign_url(self, platform: Platform, repo: RepoRef | None = None, number: int = 0) -> str:
        """The signing link; with the PR it is posted on (repository and number, nothing
        personal), so that the confirmation page can link back to it."""
        query: dict[str, str] = {"platform": platform}
        if repo is not None and number:
            query |= {"repo": repo.full_name, "pr": str(number)}
        return f"{self.public_url}/sign/{self.policy.required_agreement}?{urlencode(query)}"

    def handlers(self) -> dict[JobKind, JobHandler]:
        """The worker's entries for checks: run one (and leave a trace on the PR of a dead one),
        and answer a merge queue entry."""
        return {
            JobKind.CHECK: JobHandler(run=self.run_job, on_dead=self.report_failure),
            JobKind.MERGE_GROUP: JobHandler(run=self.run_merge_group),
        }

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

    async def check_request(
        self, request: CheckRequest, *, installation_id: int | None
    ) -> CheckResult:
        return await self.check(
            platform=request.repo.platform,
            repo=request.repo,
            number=request.number,
            installation_id=installation_id,
            pull=request.pull,
        )

    async def check(
        self,
        *,
        platform: Platform,
        repo: RepoRef,
        number: int,
        installation_id: int | None,
        pull: PullRequest | None = None,
    ) -> CheckResult:
        factory = self.clients.get(platform)
        if factory is None:
            raise LookupError(f"{platform} is not configured")
        client = factory(installation_id)
        pr = pull if pull is not None else await client.get_pull(repo, number)
        if pr.state != "open":
            await self._record_closed(pr)
            return CheckResult(decision.Outcome.SKIPPED, 0)
        try:
            found = await self.evaluate(client, pr)
        except MissingPermission as exc:
            return await self._report_missing_permission(client, pr, exc)
        check, agreement = found.check, found.agreement
        async with self.sessions() as session:
            record = await get_pr_check(
                session, platform=platform, repo_full_name=repo.full_name, number=number
            )
        links = messages.Links(
            sign_url=self.sign_url(platform, repo, number),
            web_url=self.web_urls.get(platform, ""),
            me_url=f"{self.public_url}/me",
        )
        report = messages.render_report(
            check,
            templates=self.templates,
            forge=registry.forge(platform).facts,
            links=links,
            agreement_title=agreement.title,
        )
        view = self._view(pr, record, report)
        config = self.config_for(client, installation_id)
        plan = decision.decide(check, view, report=report, config=config, target_url=links.sign_url)
        comment_id = record.comment_id if record else None
        writes = 0
        run_id: int | None = None
        if plan.check_run is not None:
            run_id = await self._write_check_run(client, repo, plan.check_run, installation_id)
            if run_id is None:  # refused: the status instead, where it was not written anyway
                config = self.config_for(client, installation_id)
                fallback = decision.decide(
                    check, view, report=report, config=config, target_url=links.sign_url
                )
                plan = dataclasses.replace(plan, check_run=None, status=fallback.status)
            else:
                writes += 1
        if plan.status is not None:
            await client.set_status(
                repo,
                plan.status.sha,
                state=plan.status.state,
                description=plan.status.description,
                context=plan.status.context,
                target_url=plan.status.target_url,
            )
            writes += 1
        if plan.add_labels:
            await client.add_labels(repo, number, plan.add_labels)
            writes += 1
        for name in plan.remove_labels:
            await client.remove_label(repo, number, name)
            writes += 1
        if plan.comment is not None:
            comment_id = await self._write_comment(client, pr, plan.comment, comment_id)
            writes += 1
        recorded: dict[str, bool] = {}
        if not isinstance(check, decision.Problem):
            for r in check.results:
                for key in contributor_keys(self.cipher, r.contributor):
                    recorded[key] = recorded.get(key, False) or not r.covered
        async with self.sessions() as session, session.begin():
            await self._save(session, pr, plan, report, comment_id, recorded, run_id)
        self.metrics.check(platform, plan.outcome.value)
        log.info(
            "checked %s %s#%s at %s: %s, %s writes",
            platform,
            repo.full_name,
            number,
            pr.head_sha[:7],
            plan.outcome.value,
            writes,
        )
        return CheckResult(plan.outcome, writes)

    def _view(
        self, pr: PullRequest, record: PrCheck | None, report: decision.Report | None
    ) -> decision.PrView:
        comment: CommentRef | None = None
        if record is not None and record.comment_id is not None:
            # Only a digest of the last body is stored; hand the core the new body when the
            # digests match (nothing to edit), else an empty one (edit).
            same = report is not None and record.comment_sha256 == _sha256(report.body)
            comment = CommentRef(record.comment_id, report.body if same and report else "", "")
        last: decision.LastStatus | None = None
        if (
            record is not None
            and record.status_sha == pr.head_sha
            and record.status_state
            and record.status_description is not None
        ):
            last = decision.LastStatus(
                StatusState(record.status_state), record.status_description, record.status_sha
            )
        run: decision.LastCheckRun | None = None
        if (
            record is not None
            and record.check_run_id is not None
            and record.check_run_sha is not None
            and record.check_run_sha256 is not None
        ):
            run = decision.LastCheckRun(
                record.check_run_id, record.check_run_sha, record.check_run_sha256
            )
        return decision.PrView(
            state=pr.state,
            head_sha=pr.head_sha,
            labels=pr.labels,
            comment=comment,
            last_status=last,
            last_check_run=run,
        )

    async def _write_comment(
        self,
        client: ForgeClient,
        pr: PullRequest,
        write: decision.CommentWrite,
        comment_id: int | None,
    ) -> int:
        if write.action is decision.CommentAction.EDIT and write.comment_id is not None:
            await client.edit_comment(pr.repo, write.comment_id, write.body)
            return write.comment_id
        # About to create: a previous run may have created it and died before recording it.
        existing = await client.find_comment(pr.repo, pr.number, messages.MARKER)
        if existing is not None:
            if not decision.same_text(existing.body, write.body):
                await client.edit_comment(pr.repo, existing.comment_id, write.body)
            return existing.comment_id
        return await client.create_comment(pr.repo, pr.number, write.body)

    async def _record_closed(self, pr: PullRequest) -> None:
        async with self.sessions() as session, session.begin():
            record = await get_pr_check(
                session,
                platform=pr.repo.platform,
                repo_full_name=pr.repo.full_name,
                number=pr.number,
            )
            if record is not None:
                record.state = pr.state
                await replace_contributors(session, record, {})

    async def _save(
        self,
        session: AsyncSession,
        pr: PullRequest,
        plan: decision.Plan,
        report: decision.Report | None,
        comment_id: int | None,
        contributors: dict[str, bool],
        run_id: int | None = None,
    ) -> None:
        record = await get_pr_check(
            session,
            platform=pr.repo.platform,
            repo_full_name=pr.repo.full_name,
            number=pr.number,
        )
        if record is None:
            record = PrCheck(
                platform=pr.repo.platform,
                repo_full_name=pr.repo.full_name,
                number=pr.number,
                head_sha=pr.head_sha,
            )
            session.add(record)
        record.repo_id = pr.repo.repo_id or record.repo_id
        record.installation_id = pr.installation_id or record.installation_id
        record.head_sha = pr.head_sha
        record.state = pr.state
        record.outcome = plan.outcome.value
        record.checked_at = now_utc()
        if plan.status is not None:
            record.status_state = plan.status.state.value
            record.status_description = plan.status.description
            record.status_sha = plan.status.sha
        if comment_id is not None:
            record.comment_id = comment_id
            if plan.comment is not None:
                record.comment_sha256 = _sha256(plan.comment.body)
        _record_check_run(record, plan, run_id)
        await session.flush()
        await replace_contributors(session, record, contributors)

    async def report_failure(self, job: ClaimedJob) -> decision.Outcome:
        """Tell the PR of a dead check job that its check could not run: status ``error``, no
        claim of coverage, and the bot's one comment (created or edited in place) saying that
        ``/cla check`` runs it again. The PR is read again when the forge answers (its head may
        have moved), else the job's snapshot serves; the record keeps who blocked the PR
        before, and its last check time, so signing and the sweep still re-check it."""
        if not job.payload:
            return decision.Outcome.SKIPPED
        request = self.request(job)
        platform, repo, number = request.repo.platform, request.repo, request.number
        factory = self.clients.get(platform)
        if factory is None:
            raise LookupError(f"{platform} is not configured")
        client = factory(job.installation_id)
        try:
            pr = await client.get_pull(repo, number)
        except ForgeError:
            if request.pull is None:
                raise
            pr = request.pull
        if pr.state != "open":
            return decision.Outcome.SKIPPED
        report = messages.render_check_failed(templates=self.templates)
        plan = await self._write_failure(client, pr, report)
        log.warning(
            "job %s: reported on %s %s#%s that its check could not run",
            job.id,
            platform,
            repo.full_name,
            number,
        )
        return plan.outcome

    async def _write_failure(
        self, client: ForgeClient, pr: PullRequest, report: decision.Report
    ) -> decision.Plan:
        """Show ``report`` on the PR as a check that could not run (status ``error``, no
        ``label_yes``, the bot's comment), writing only what differs, and record it."""
        async with self.sessions() as session:
            record = await get_pr_check(
                session,
                platform=pr.repo.platform,
                repo_full_name=pr.repo.full_name,
                number=pr.number,
            )
        config = self.config_for(client, pr.installation_id)
        view = self._view(pr, record, report)
        plan = decision.decide_failure(view, report=report, config=config)
        run_id: int | None = None
        if plan.check_run is not None:
            run_id = await self._write_check_run(
                client, pr.repo, plan.check_run, pr.installation_id
            )
            if run_id is None:
                config = self.config_for(client, pr.installation_id)
                fallback = decision.decide_failure(view, report=report, config=config)
                plan = dataclasses.replace(plan, check_run=None, status=fallback.status)
        comment_id = await self._apply_plan(client, pr, plan, record)
        async with self.sessions() as session, session.begin():
            await self._save_failure(session, pr, plan, comment_id, run_id)
        self.metrics.check(pr.repo.platform, plan.outcome.value)
        return plan

    async def _report_missing_permission(
        self, client: ForgeClient, pr: PullRequest, missing: MissingPermission
    ) -> CheckResult:
        """The App's installation lacks a permission the check needs (an owner has not
        accepted the App's new permissions yet): retrying cannot help, so the job ends here and
        the PR says which permission an owner must accept; ``/cla check`` runs it again. A
        repeat writes nothing."""
        wanted = missing.accepted[0] if missing.accepted else ()
        report = messages.render_missing_permission(templates=self.templates, permissions=wanted)
        plan = await self._write_failure(client, pr, report)
        writes = plan.writes
        log.warning(
            "cannot check %s %s#%s: installation %s lacks %s; an owner must accept the App's "
            "new permissions (%s writes)",
            pr.repo.platform,
            pr.repo.full_name,
            pr.number,
            pr.installation_id,
            messages.permission_names(wanted),
            writes,
        )
        return CheckResult(plan.outcome, writes)

    async def _apply_plan(
        self, client: ForgeClient, pr: PullRequest, plan: decision.Plan, record: PrCheck | None
    ) -> int | None:
        """Make the plan's writes on the forge; the bot's comment id afterwards."""
        comment_id = record.comment_id if record else None
        if plan.status is not None:
            await client.set_status(
                pr.repo,
                plan.status.sha,
                state=plan.status.state,
                description=plan.status.description,
                context=plan.status.context,
                target_url=plan.status.target_url,
            )
        if plan.add_labels:
            await client.add_labels(pr.repo, pr.number, plan.add_labels)
        for name in plan.remove_labels:
            await client.remove_label(pr.repo, pr.number, name)
        if plan.comment is not None:
            comment_id = await self._write_comment(client, pr, plan.comment, comment_id)
        return comment_id

    async def _save_failure(
        self,
        session: AsyncSession,
        pr: PullRequest,
        plan: decision.Plan,
        comment_id: int | None,
        run_id: int | None = None,
    ) -> None:
        record = await get_pr_check(
            session,
            platform=pr.repo.platform,
            repo_full_name=pr.repo.full_name,
            number=pr.number,
        )
        if record is None:  # never checked: a record without a check time, so sweeps see it
            record = PrCheck(
                platform=pr.repo.platform,
                repo_full_name=pr.repo.full_name,
                number=pr.number,
                head_sha=pr.head_sha,
            )
            session.add(record)
        record.repo_id = pr.repo.repo_id or record.repo_id
        record.installation_id = pr.installation_id or record.installation_id
        record.state = pr.state
        record.outcome = plan.outcome.value
        if plan.status is not None:
            record.status_state = plan.status.state.value
            record.status_description = plan.status.description
            record.status_sha = plan.status.sha
        if comment_id is not None:
            record.comment_id = comment_id
            if plan.comment is not None:
                record.comment_sha256 = _sha256(plan.comment.body)
        _record_check_run(record, plan, run_id)

    # -- merge queues ---------------------------------------------------------------------------

    async def run_merge_group(self, job: ClaimedJob) -> None:
        """The worker's entry for a merge queue entry (see :meth:`handle_merge_group`)."""
        await self.handle_merge_group(job)

    async def handle_merge_group(self, job: ClaimedJob) -> decision.GroupPlan:
        """Report on a merge queue entry's head commit whether the PR it names is covered at
        its own head, from the bot's record of that PR — checking the PR first when the record
        is missing or older than its head. The group's commits are never read: the PR's own
        check is what counts. One write on the entry's head sha."""
        platform = Platform(job.platform)
        p = job.payload
        factory = self.clients.get(platform)
        if factory is None:
            raise LookupError(f"{platform} is not configured")
        client = factory(job.installation_id)
        repo = RepoRef(platform, p["repo"]["owner"], p["repo"]["name"], p["repo"].get("id"))
        head_sha = str(p["head_sha"])
        number = p.get("number")
        queued: decision.QueuedPr | None = None
        if isinstance(number, int):
            queued = decision.QueuedPr(number, await self._covered(client, repo, number))
        report = messages.render_merge_group(
            templates=self.templates,
            number=queued.number if queued else None,
            covered=bool(queued and queued.covered),
        )
        config = self.config_for(client, job.installation_id)
        target = self.sign_url(platform, repo, queued.number) if queued else self.sign_url(platform)
        plan = decision.decide_merge_group(
            head_sha, queued, report=report, config=config, target_url=target
        )
        if plan.check_run is not None and (
            await self._write_check_run(client, repo, plan.check_run, job.installation_id) is None
        ):
            config = self.config_for(client, job.installation_id)
            plan = decision.decide_merge_group(
                head_sha, queued, report=report, config=config, target_url=target
            )
        if plan.status is not None:
            await client.set_status(
                repo,
                plan.status.sha,
                state=plan.status.state,
                description=plan.status.description,
                context=plan.status.context,
                target_url=plan.status.target_url,
            )
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
        if not _current(record, pr):
            await self.check(
                platform=repo.platform,
                repo=repo,
                number=number,
                installation_id=pr.installation_id,
                pull=pr,
            )
            record = await self._record(pr)
        return (
            _current(record, pr)
            and record is not None
            and record.outcome == decision.Outcome.COVERED.value
        )

    async def _record(self, pr: PullRequest) -> PrCheck | None:
        async with self.sessions() as session:
            return await get_pr_check(
                session,
                platform=pr.repo.platform,
                repo_full_name=pr.repo.full_name,
                number=pr.number,
            )


def _current(record: PrCheck | None, pr: PullRequest) -> bool:
    """The record holds a finished check of the PR's head as it is now."""
    return (
        record is not None
        and pr.state == "open"
        and record.head_sha == pr.head_sha
        and record.checked_at is not None
        and record.outcome in (decision.Outcome.COVERED.value, decision.Outcome.BLOCKED.value)
    )


def _record_check_run(record: PrCheck, plan: decision.Plan, run_id: int | None) -> None:
    """Remember the check run the plan wrote (``run_id`` once the forge accepted it)."""
    if plan.check_run is None or run_id is None:
        return
    record.check_run_id = run_id
    record.check_run_sha = plan.check_run.sha
    record.check_run_conclusion = plan.check_run.conclusion.value
    record.check_run_sha256 = plan.check_run.digest
