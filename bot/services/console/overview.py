"""What the console shows a signed-in maintainer (:class:`Console`): the communities they
administer, each one's overview (links, agreements and their versions with the number of valid
signatures, PRs blocked now) and a search of its signatures by login — with masked emails,
never contact fields. Use cases only: no HTTP here.

The communities, their links (app.yaml's and the console's, each saying where it comes from),
agreements, signatures and PR records are the database's (:mod:`bot.storage.communities`);
what only app.yaml says of a community — its named admins, its languages, its required
agreement — comes from :class:`bot.communities.Communities`.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.communities import DEFAULT_LANGUAGES as FILE_DEFAULT_LANGUAGES
from bot.communities import Communities
from bot.core.decision import Outcome
from bot.core.identity import mask_email
from bot.services.console.admins import Administrators
from bot.storage.agreements import list_agreement_rows, version_rows
from bot.storage.communities import StoredLink, get_community, list_communities, list_links
from bot.storage.crypto import DecryptError, FieldCipher
from bot.storage.models import (
    AgreementVersionRow,
    CommunitySource,
    PrBlocker,
    PrCheck,
    Signature,
    SignerAccount,
    SignerEmail,
)

FROM_FILE = "app.yaml"  # a link declared in the file
FROM_CONSOLE = "console"  # a link made in the console
_SOURCES = {CommunitySource.FILE: FROM_FILE, CommunitySource.CONSOLE: FROM_CONSOLE}
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


@dataclass(frozen=True, slots=True)
class Managed:
    """A stored community and what decides who administers it: the people app.yaml names
    (``(platform, login)``) and every link, the file's and the console's."""

    community_id: str
    name: str
    admins: tuple[tuple[str, str], ...]
    links: tuple[StoredLink, ...]


class Console:
    """The console's use cases over the database and the forge's answers about admins;
    ``declared`` is app.yaml's communities (read on each call: a reload is seen)."""

    def __init__(
        self,
        *,
        sessions: async_sessionmaker[AsyncSession],
        cipher: FieldCipher,
        declared: Callable[[], Communities],
        administrators: Administrators,
    ) -> None:
        self.sessions = sessions
        self.cipher = cipher
        self.declared = declared
        self.administrators = administrators

    # -- who administers what -------------------------------------------------------------------

    def _managed(self, community_id: str, name: str, links: list[StoredLink]) -> Managed:
        in_file = self.declared().get(community_id)
        return Managed(community_id, name, in_file.admins if in_file else (), tuple(links))

    async def community(self, community_id: str) -> Managed | None:
        """The stored community of this id (``None``: there is none)."""
        async with self.sessions() as s:
            row = await get_community(s, community_id)
            if row is None:
                return None
            return self._managed(row.id, row.name, await list_links(s, community=row.id))

    async def administers(self, person: Person, community: Managed) -> bool:
        """Named in the community's ``admins``, or an admin (the forge says) of one of its
        links."""
        return await self.administrators.administers(
            person.platform,
            person.login,
            named=community.admins,
            links=[(link.platform, link.owner, link.repo) for link in community.links],
        )

    async def communities_of(self, person: Person) -> list[CommunityItem]:
        """The communities ``person`` administers, by id."""
        async with self.sessions() as s:
            rows = await list_communities(s)
            links: dict[str, list[StoredLink]] = defaultdict(list)
            for link in await list_links(s):
                links[link.community].append(link)
        out: list[CommunityItem] = []
        for row in rows:
            if await self.administers(person, self._managed(row.id, row.name, links[row.id])):
                out.append(CommunityItem(row.id, row.name))
        return out

    # -- one community ------------------------------------------------------------------------

    async def overview(self, community: Managed) -> Overview:
        declared = self.declared()
        in_file = declared.get(community.community_id)
        required = in_file.policy.required_agreement if in_file else None
        async with self.sessions() as s:
            agreements = await self._agreements(s, community.community_id, required)
            blocked = await self._blocked(s, community.community_id)
        return Overview(
            community_id=community.community_id,
            name=community.name,
            languages=in_file.languages if in_file else FILE_DEFAULT_LANGUAGES,
            links=tuple(LinkView(link.scope, _SOURCES[link.source]) for link in community.links),
            default=declared.default == community.community_id,
            agreements=agreements,
            blocked=blocked,
        )

    async def _agreements(
        self, s: AsyncSession, community_id: str, required: str | None
    ) -> tuple[AgreementView, ...]:
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
                        AgreementVersionRow.community_id == community_id,
                        Signature.revoked_at.is_(None),
                        Signature.erased_at.is_(None),
                    )
                    .group_by(AgreementVersionRow.agreement_id, AgreementVersionRow.version)
                )
            ).all()
        }
        out: list[AgreementView] = []
        for a in await list_agreement_rows(s, community=community_id):
            versions = await version_rows(s, a.id, community=community_id)
            out.append(
                AgreementView(
                    agreement_id=a.id,
                    title=a.title,
                    kind=a.kind,
                    required=a.id == required,
                    versions=tuple(
                        VersionView(v.version, v.compatible, counts.get((a.id, v.version), 0))
                        for v in versions
                    ),
                )
            )
        return tuple(out)

    async def _blocked(self, s: AsyncSession, community_id: str) -> tuple[BlockedPr, ...]:
        """The open PRs the bot last reported blocked in this community's checks."""
        blockers = (
            select(func.count(PrBlocker.id))
            .where(PrBlocker.pr_check_id == PrCheck.id, PrBlocker.blocking.is_(True))
            .scalar_subquery()
        )
        rows = (
            await s.execute(
                select(PrCheck, blockers)
                .where(
                    PrCheck.community_id == community_id,
                    PrCheck.state == "open",
                    PrCheck.outcome == Outcome.BLOCKED.value,
                )
                .order_by(PrCheck.checked_at, PrCheck.id)
                .limit(MAX_BLOCKED)
            )
        ).all()
        return tuple(
            BlockedPr(check.platform, check.repo_full_name, check.number, int(n), check.checked_at)
            for check, n in rows
        )

    async def search(self, community: Managed, login: str) -> list[SignatureHit]:
        """The valid signatures of this community's agreements by accounts named ``login``
        (exact, without case, on any forge), newest first."""
        login = login.strip().lstrip("@")
        if not login:
            return []
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
                        AgreementVersionRow.community_id == community.community_id,
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
