"""The agreements and their published versions: app.yaml is published into the tables at
start-up, and a published text never changes. Agreements belong to a community, and an
agreement id is unique within its community only: every function here takes the community
(keyword ``community``, :data:`~bot.core.communities.DEFAULT_COMMUNITY` when the caller has
none yet) and never reads or writes another community's rows. Every function takes a session
and never commits: the caller owns the unit of work.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

from sqlalchemy import and_, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.communities import DEFAULT_COMMUNITY
from bot.core.errors import BotError
from bot.core.model import Agreement, AgreementVersion
from bot.settings import AgreementSettings
from bot.storage.communities import lock_file_sync, require_community
from bot.storage.models import AgreementRow, AgreementVersionRow

# The join of a version to its agreement: both halves of the key (``.join(AgreementRow,
# AGREEMENT_OF_VERSION)``), so that two communities' agreements of one id never cross.
AGREEMENT_OF_VERSION = and_(
    AgreementVersionRow.community_id == AgreementRow.community_id,
    AgreementVersionRow.agreement_id == AgreementRow.id,
)


async def sync_agreements(
    session: AsyncSession,
    agreements: Sequence[AgreementSettings],
    *,
    community: str = DEFAULT_COMMUNITY,
) -> None:
    """Make the community's agreements match app.yaml: new agreements and versions are
    published; a changed text under an existing version is refused (publish a new version
    instead). The community must be stored already (``default`` always is: see
    :func:`~bot.storage.communities.require_community`); other communities' agreements are not
    touched, even those of the same id."""
    await lock_file_sync(session)
    await require_community(session, community)
    for a in agreements:
        row = await agreement_row(session, a.agreement_id, community=community)
        if row is None:
            session.add(
                AgreementRow(community_id=community, id=a.agreement_id, title=a.title, kind=a.kind)
            )
        else:
            row.title = a.title
            row.kind = a.kind
        existing = {
            v.version: v
            for v in (
                await session.scalars(
                    select(AgreementVersionRow).where(
                        AgreementVersionRow.community_id == community,
                        AgreementVersionRow.agreement_id == a.agreement_id,
                    )
                )
            ).all()
        }
        for position, v in enumerate(a.versions):
            digest = hashlib.sha256(v.text.encode("utf-8")).hexdigest()
            old = existing.get(v.version)
            if old is None:
                session.add(
                    AgreementVersionRow(
                        community_id=community,
                        agreement_id=a.agreement_id,
                        version=v.version,
                        position=position,
                        text_sha256=digest,
                        compatible=v.compatible,
                        fields=dict(v.fields),
                    )
                )
            else:
                if old.text_sha256 != digest:
                    raise AgreementTextChanged(
                        a.agreement_id, v.version, old.text_sha256, digest, community=community
                    )
                old.position = position
                old.compatible = v.compatible
                old.fields = dict(v.fields)
    await session.flush()


class AgreementTextChanged(BotError):
    """A published version's text differs from app.yaml's: which one, and both digests (so that
    start-up can say exactly what to do, and ``cla-bot agreements replace`` can act on it)."""

    def __init__(
        self,
        agreement_id: str,
        version: str,
        old_sha256: str,
        new_sha256: str,
        *,
        community: str = DEFAULT_COMMUNITY,
    ) -> None:
        of = f" of community {community!r}" if community != DEFAULT_COMMUNITY else ""
        super().__init__(
            f"the text of agreement {agreement_id!r}{of} version {version!r} changed after it "
            "was published; publish it as a new version instead"
        )
        self.community = community
        self.agreement_id = agreement_id
        self.version = version
        self.old_sha256 = old_sha256
        self.new_sha256 = new_sha256


async def agreement_row(
    session: AsyncSession, agreement_id: str, *, community: str = DEFAULT_COMMUNITY
) -> AgreementRow | None:
    """The community's agreement of this id, if it is published."""
    return await session.get(AgreementRow, (community, agreement_id))


async def list_agreement_rows(
    session: AsyncSession, *, community: str = DEFAULT_COMMUNITY
) -> list[AgreementRow]:
    """The community's published agreements, by id."""
    return list(
        (
            await session.scalars(
                select(AgreementRow)
                .where(AgreementRow.community_id == community)
                .order_by(AgreementRow.id)
            )
        ).all()
    )


async def version_rows(
    session: AsyncSession, agreement_id: str, *, community: str = DEFAULT_COMMUNITY
) -> list[AgreementVersionRow]:
    """The published versions of the community's agreement, in order of publication."""
    return list(
        (
            await session.scalars(
                select(AgreementVersionRow)
                .where(
                    AgreementVersionRow.community_id == community,
                    AgreementVersionRow.agreement_id == agreement_id,
                )
                .order_by(AgreementVersionRow.position)
            )
        ).all()
    )


async def load_agreement(
    session: AsyncSession, agreement_id: str, *, community: str = DEFAULT_COMMUNITY
) -> Agreement:
    """The community's agreement as the core decides on it (no versions: not published)."""
    rows = await version_rows(session, agreement_id, community=community)
    title_row = await agreement_row(session, agreement_id, community=community)
    return Agreement(
        agreement_id=agreement_id,
        title=title_row.title if title_row else agreement_id,
        versions=tuple(
            AgreementVersion(
                agreement_id=agreement_id,
                version=r.version,
                text_sha256=r.text_sha256,
                compatible_with_previous=r.compatible,
            )
            for r in rows
        ),
    )


async def version_row(
    session: AsyncSession, agreement_id: str, version: str, *, community: str = DEFAULT_COMMUNITY
) -> AgreementVersionRow | None:
    """The community's published version of this agreement, if there is one."""
    result = await session.scalars(
        select(AgreementVersionRow).where(
            AgreementVersionRow.community_id == community,
            AgreementVersionRow.agreement_id == agreement_id,
            AgreementVersionRow.version == version,
        )
    )
    return result.first()
