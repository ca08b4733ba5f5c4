"""What the console shows a signed-in maintainer (:class:`Console`): the communities they
administer, each one's overview (links, agreements and their versions with the number of valid
signatures, PRs blocked now) and a search of its signatures by login — with masked emails,
never contact fields. Use cases only: no HTTP here.

Communities and their links come from ``app.yaml`` (:class:`bot.communities.Communities`); a
link's ``source`` says so (``app.yaml``), so that a console-made link can say ``console``.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.communities import Communities, Community
from bot.core.decision import Outcome
from bot.core.identity import mask_email
from bot.services.console.admins import Administrators
from bot.storage.crypto import DecryptError, FieldCipher
from bot.storage.models import (
    AgreementVersionRow,
    PrBlocker,
    PrCheck,
    Signature,
    SignerAccount,
    SignerEmail,
)

FROM_FILE = "app.yaml"  # a link declared in the file
FROM_CONSOLE = "console"  # a link made in the console
MAX_BLOCKED = 200  # PRs listed on an overview (the oldest checked first)
MAX_HITS = 100  # signatures a search returns


@dataclass(frozen=True, slots=True)
class Person:
    """A signed-in person: an account ``login`` on ``platform`` (as the forge said at login)."""

    platform: str
    login: str


@dataclass(frozen=True, slots=True)
class LinkView:
    scope: str  # github:acme or github:acme/widgets
    source: str  # FROM_FILE or FROM_CONSOLE


@dataclass(frozen=True, slots=True)
class VersionView:
    version: str
    compatible: bool  # False: a re-sign version
    signatures: int  # valid ones: not revoked, not erased


@dataclass(frozen=True, slots=True)
class AgreementView:
    agreement_id: str
    title: str
    kind: str
    required: bool
    versions: tuple[VersionView, ...]  # in publication order

    @property
    def signatures(self) -> int:
        return sum(v.signatures for v in self.versions)


@dataclass(frozen=True, slots=True)
class BlockedPr:
    platform: str
    repository: str  # owner/repo
    number: int
    blockers: int  # contributors who must act
    checked_at: datetime | None


@dataclass(frozen=True, slots=True)
class Overview:
    community_id: str
    name: str
    languages: tuple[str, ...]
    links: tuple[LinkView, ...]
    default: bool  # repositories no link names belong to it
    agreements: tuple[AgreementView, ...]
    blocked: tuple[BlockedPr, ...]


@dataclass(frozen=True, slots=True)
class SignatureHit:
    """One signature found by login: what a maintainer may see of it. ``email`` is masked
    (``jo***@example.com``), ``None`` when the signer has none on record."""

    platform: str
    login: str
    agreement_id: str
    version: str
    signed_at: datetime
    email: str | None


@dataclass(frozen=True, slots=True)
class CommunityItem:
    community_id: str
    name: str


class Console:
    """The console's use cases over the database and the forge's answers about admins."""

    def __init__(
        self,
        *,
        sessions: async_sessionmaker[AsyncSession],
        cipher: FieldCipher,
        communities: Callable[[], Communities],
        administrators: Administrators,
    ) -> None:
        self.sessions = sessions
        self.cipher = cipher
        self.communities = communities
        self.administrators = administrators

    # -- who administers what -------------------------------------------------------------------

    def community(self, community_id: str) -> Community | None:
        return self.communities().get(community_id)

    async def administers(self, person: Person, community: Community) -> bool:
        """Named in the community's ``admins``, or an admin (the forge says) of one of its
        links."""
        return await self.administrators.administers(
            person.platform,
            person.login,
            named=community.admins,
            links=[(link.platform, link.owner, link.repo) for link in community.links],
        )

    async def communities_of(self, person: Person) -> list[CommunityItem]:
        """The communities ``person`` administers, in the order they are declared."""
        return [
            CommunityItem(c.id, c.name)
            for c in self.communities().communities
            if await self.administers(person, c)
        ]

    # -- one community ------------------------------------------------------------------------

    async def overview(self, community: Community) -> Overview:
        all_of = self.communities()
        async with self.sessions() as s:
            agreements = await self._agreements(s, community)
            blocked = await self._blocked(s, community, all_of)
        return Overview(
            community_id=community.id,
            name=community.name,
            languages=community.languages,
            links=tuple(LinkView(str(link), FROM_FILE) for link in community.links),
            default=all_of.default == community.id,
            agreements=agreements,
            blocked=blocked,
        )

    async def _agreements(self, s: AsyncSession, community: Community) -> tuple[AgreementView, ...]:
        ids = [a.agreement_id for a in community.policy.agreements]
        counts: dict[tuple[str, str], int] = {
            (agreement_id, version): int(n)
            for agreement_id, version, n in (
                await s.execute(
                    select(
                        AgreementVersionRow.agreement_id,
                        AgreementVersionRow.version,
                        func.count(Signature.id),
                    )
                    .join(Signature, Signature.agreement_version_id == AgreementVersionRow.id)
                    .where(
                        AgreementVersionRow.agreement_id.in_(ids),
                        Signature.revoked_at.is_(None),
                        Signature.erased_at.is_(None),
                    )
                    .group_by(AgreementVersionRow.agreement_id, AgreementVersionRow.version)
                )
            ).all()
        }
        return tuple(
            AgreementView(
                agreement_id=a.agreement_id,
                title=a.title,
                kind=a.kind,
                required=a.agreement_id == community.policy.required_agreement,
                versions=tuple(
                    VersionView(v.version, v.compatible, counts.get((a.agreement_id, v.version), 0))
                    for v in a.versions
                ),
            )
            for a in community.policy.agreements
        )

    async def _blocked(
        self, s: AsyncSession, community: Community, all_of: Communities
    ) -> tuple[BlockedPr, ...]:
        """The open PRs the bot last reported blocked on repositories of this community (by
        the links and the default, as the checks resolve them)."""
        table = all_of.table()
        scoped = PrCheck.platform.in_({link.platform for link in community.links})
        if all_of.default == community.id:
            scoped = PrCheck.platform.is_not(None)  # any repository may fall to the default
        blockers = (
            select(func.count(PrBlocker.id))
            .where(PrBlocker.pr_check_id == PrCheck.id, PrBlocker.blocking.is_(True))
            .scalar_subquery()
        )
        rows = (
            await s.execute(
                select(PrCheck, blockers)
                .where(
                    PrCheck.state == "open",
                    PrCheck.outcome == Outcome.BLOCKED.value,
                    scoped,
                )
                .order_by(PrCheck.checked_at, PrCheck.id)
            )
        ).all()
        out: list[BlockedPr] = []
        for check, n in rows:
            try:
                mine = table.resolve(check.platform, check.repo_full_name) == community.id
            except ValueError:
                continue
            if mine:
                out.append(
                    BlockedPr(
                        check.platform, check.repo_full_name, check.number, int(n), check.checked_at
                    )
                )
                if len(out) >= MAX_BLOCKED:
                    break
        return tuple(out)

    async def search(self, community: Community, login: str) -> list[SignatureHit]:
        """The valid signatures of this community's agreements by accounts named ``login``
        (exact, without case, on any forge), newest first."""
        login = login.strip().lstrip("@")
        if not login:
            return []
        ids = [a.agreement_id for a in community.policy.agreements]
        async with self.sessions() as s:
            rows = (
                await s.execute(
                    select(SignerAccount, Signature, AgreementVersionRow)
                    .join(Signature, Signature.signer_id == SignerAccount.signer_id)
                    .join(
                        AgreementVersionRow,
                        Signature.agreement_version_id == AgreementVersionRow.id,
                    )
                    .where(
                        func.lower(SignerAccount.login) == login.lower(),
                        AgreementVersionRow.agreement_id.in_(ids),
                        Signature.revoked_at.is_(None),
                        Signature.erased_at.is_(None),
                    )
                    .order_by(Signature.signed_at.desc(), Signature.id.desc())
                    .limit(MAX_HITS)
                )
            ).all()
            emails = await self._masked_emails(s, {acc.signer_id for acc, _, _ in rows})
        return [
            SignatureHit(
                platform=acc.platform,
                login=acc.login or login,
                agreement_id=version.agreement_id,
                version=version.version,
                signed_at=sig.signed_at,
                email=emails.get(acc.signer_id),
            )
            for acc, sig, version in rows
        ]

    async def _masked_emails(self, s: AsyncSession, signer_ids: set[int]) -> dict[int, str]:
        """Each signer's first (contact) email, masked; decrypted here and dropped at once."""
        if not signer_ids:
            return {}
        found: dict[int, list[SignerEmail]] = defaultdict(list)
        for row in (
            await s.scalars(
                select(SignerEmail)
                .where(SignerEmail.signer_id.in_(signer_ids))
                .order_by(SignerEmail.id)
            )
        ).all():
            found[row.signer_id].append(row)
        out: dict[int, str] = {}
        for signer_id, rows in found.items():
            for row in rows:
                try:
                    plain = self.cipher.decrypt(
                        row.email_ct, table="signer_emails", column="email", row=row.uid
                    )
                except DecryptError:
                    continue
                out[signer_id] = mask_email(plain)
                break
        return out
