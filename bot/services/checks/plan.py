"""The plan half of a check: read the forge (the PR's commits, the accounts of noreply
addresses), then in one database session the signatures, the agreements and the bot's record
of the PR (read once), and let the core decide. Nothing is written; :class:`CheckPlan` holds
everything the apply half needs (:mod:`bot.services.checks.apply`)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.core import decision, messages
from bot.core.communities import DEFAULT_COMMUNITY
from bot.core.coverage import Coverage, EmployeeCoverage, evaluate
from bot.core.identity import Contributor, noreply_claims
from bot.core.identity import contributors as find_contributors
from bot.core.model import Agreement, CoAuthorPolicy, PullRequest
from bot.platforms import registry
from bot.platforms.base import ForgeClient
from bot.services.checks import records
from bot.services.checks.accounts import ConfirmedAccounts
from bot.services.checks.config import build_allowlist, languages_of
from bot.settings import Policy
from bot.storage.agreements import load_agreement
from bot.storage.crypto import FieldCipher
from bot.storage.identity_keys import contributor_keys
from bot.storage.signatures import signature_facts


@dataclass(frozen=True, slots=True)
class Evaluation:
    people: tuple[Contributor, ...]
    check: Coverage | decision.Problem
    agreement: Agreement


@dataclass(frozen=True, slots=True)
class CheckPlan:
    """A check decided and not yet written: the writes (``plan``), what they were decided
    from (so that they can be decided again for another configuration, :meth:`redecide`), the
    bot's comment on record, and who blocks the PR (identity key → blocks), recorded after."""

    pr: PullRequest
    check: Coverage | decision.Problem
    report: decision.Report | None  # None: nothing to write (see ``decision.decide``)
    view: decision.PrView
    target_url: str
    plan: decision.Plan
    comment_id: int | None
    contributors: dict[str, bool]
    community: str

    def redecide(self, config: decision.ReportConfig) -> decision.Plan:
        return decision.decide(
            self.check, self.view, report=self.report, config=config, target_url=self.target_url
        )


class Planner:
    def __init__(
        self,
        *,
        sessions: async_sessionmaker[AsyncSession],
        cipher: FieldCipher,
        policy: Policy,
        templates: messages.Templates,
        accounts: ConfirmedAccounts,
        community: str = DEFAULT_COMMUNITY,
    ) -> None:
        self.community = community  # whose agreements and signatures count
        self.sessions = sessions
        self.cipher = cipher
        self.policy = policy
        self.templates = templates
        self.languages = languages_of(policy)
        self.accounts = accounts
        self.allowlist = build_allowlist(policy)
        self.co_authors = CoAuthorPolicy(policy.co_authors)

    async def _people(self, client: ForgeClient, pr: PullRequest) -> tuple[Contributor, ...]:
        """Who contributed to ``pr``, from its commits (noreply ids confirmed by the forge)."""
        commits = await client.list_commits(pr)
        platform, check_committers = pr.repo.platform, self.policy.check_committers
        claims = noreply_claims(
            commits,
            platform=platform,
            forges=registry.FACTS,
            co_authors=self.co_authors,
            check_committers=check_committers,
        )
        return find_contributors(
            commits,
            platform=platform,
            forges=registry.FACTS,
            co_authors=self.co_authors,
            check_committers=check_committers,
            confirmed=await self.accounts.confirm(client, claims) if claims else {},
        )

    async def _cover(self, session: AsyncSession, people: tuple[Contributor, ...]) -> Evaluation:
        """Who covers ``people``, from the signatures and agreements in the database."""
        facts = await signature_facts(session, self.cipher, people, community=self.community)
        agreement = await load_agreement(
            session, self.policy.required_agreement, community=self.community
        )
        corporate = [
            await load_agreement(session, a.agreement_id, community=self.community)
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
                employees=EmployeeCoverage(self.policy.corporate_employees),
            )
        return Evaluation(people, check, agreement)

    async def evaluate(self, client: ForgeClient, pr: PullRequest) -> Evaluation:
        """Who contributed to ``pr`` and who covers them (reads the forge and the database,
        writes nothing)."""
        people = await self._people(client, pr)
        async with self.sessions() as session:
            return await self._cover(session, people)

    async def plan(
        self,
        client: ForgeClient,
        pr: PullRequest,
        *,
        links: messages.Links,
        config: decision.ReportConfig,
    ) -> CheckPlan:
        """The writes that make ``pr`` show who covers its contributors."""
        people = await self._people(client, pr)
        async with self.sessions() as session:
            found = await self._cover(session, people)
            record = await records.read(session, pr)
        report = messages.render_report(
            found.check,
            templates=self.templates,
            forge=registry.forge(pr.repo.platform).facts,
            links=links,
            agreement_title=found.agreement.title,
            languages=self.languages,
        )
        view = records.view(pr, record, report)
        plan = decision.decide(
            found.check, view, report=report, config=config, target_url=links.sign_url
        )
        blocks: dict[str, bool] = {}
        if not isinstance(found.check, decision.Problem):
            for r in found.check.results:
                for key in contributor_keys(self.cipher, r.contributor):
                    blocks[key] = blocks.get(key, False) or not r.covered
        return CheckPlan(
            pr=pr,
            check=found.check,
            report=report,
            view=view,
            target_url=links.sign_url,
            plan=plan,
            comment_id=record.comment_id if record else None,
            contributors=blocks,
            community=self.community,
        )
