"""The agreements and their published versions: app.yaml is published into the tables at
start-up, and a published text never changes. Every function takes a session and never
commits: the caller owns the unit of work.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.errors import BotError
from bot.core.model import Agreement, AgreementVersion
from bot.settings import AgreementSettings
from bot.storage.models import AgreementRow, AgreementVersionRow

SYNC_LOCK_ID = 0x636C61  # advisory lock: publishing agreements at start-up


async def sync_agreements(session: AsyncSession, agreements: Sequence[AgreementSettings]) -> None:
    """Make the agreements table match app.yaml: new agreements and versions are published;
    a changed text under an existing version is refused (publish a new version instead)."""
    if session.bind is not None and session.bind.dialect.name == "postgresql":
        # Replicas starting together must not race to publish the same rows.
        await session.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": SYNC_LOCK_ID})
    for a in agreements:
        row = await session.get(AgreementRow, a.agreement_id)
        if row is None:
            session.add(AgreementRow(id=a.agreement_id, title=a.title, kind=a.kind))
        else:
            row.title = a.title
            row.kind = a.kind
        existing = {
            v.version: v
            for v in (
                await session.scalars(
                    select(AgreementVersionRow).where(
                        AgreementVersionRow.agreement_id == a.agreement_id
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
                    raise AgreementTextChanged(a.agreement_id, v.version, old.text_sha256, digest)
                old.position = position
                old.compatible = v.compatible
                old.fields = dict(v.fields)
    await session.flush()


class AgreementTextChanged(BotError):
    """A published version's text differs from app.yaml's: which one, and both digests (so that
    start-up can say exactly what to do, and ``cla-bot agreements replace`` can act on it)."""

    def __init__(self, agreement_id: str, version: str, old_sha256: str, new_sha256: str) -> None:
        super().__init__(
            f"the text of agreement {agreement_id!r} version {version!r} changed after it was "
            "published; publish it as a new version instead"
        )
        self.agreement_id = agreement_id
        self.version = version
        self.old_sha256 = old_sha256
        self.new_sha256 = new_sha256


async def load_agreement(session: AsyncSession, agreement_id: str) -> Agreement:
    rows = (
        await session.scalars(
            select(AgreementVersionRow)
            .where(AgreementVersionRow.agreement_id == agreement_id)
            .order_by(AgreementVersionRow.position)
        )
    ).all()
    title_row = await session.get(AgreementRow, agreement_id)
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
    session: AsyncSession, agreement_id: str, version: str
) -> AgreementVersionRow | None:
    result = await session.scalars(
        select(AgreementVersionRow).where(
            AgreementVersionRow.agreement_id == agreement_id,
            AgreementVersionRow.version == version,
        )
    )
    return result.first()
