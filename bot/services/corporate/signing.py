"""A company signs its corporate CLA (pending until approved) and who manages it."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.communities import DEFAULT_COMMUNITY
from bot.services import audit
from bot.services.corporate.common import SIGNATORY
from bot.storage.agreements import version_row
from bot.storage.crypto import FieldCipher
from bot.storage.models import (
    Company,
    CompanyEntry,
    CompanyManager,
    CompanyStatus,
    EntryStatus,
)


async def sign(
    session: AsyncSession,
    cipher: FieldCipher,
    *,
    platform: str,
    account_id: str,
    login: str,
    agreement_id: str,
    version: str,
    fields: Mapping[str, str],
    managers: Sequence[str],
    request_id: str,
    domains: Sequence[str] = (),
    community: str = DEFAULT_COMMUNITY,
) -> Company:
    """Record a corporate signature of ``community``'s agreement, pending an administrator's
    decision, with the managers and its domains (the one its signatory's address proved)."""
    row = await version_row(session, agreement_id, version, community=community)
    if row is None:
        raise ValueError(f"unknown agreement version {agreement_id} {version}")
    company = Company(
        name=" ".join(fields.get("company", "").split())[:200],
        agreement_version_id=row.id,
        signed_platform=platform,
        signed_account_id=account_id,
        signed_at=datetime.now(UTC),
        status=CompanyStatus.PENDING,
    )
    session.add(company)
    await session.flush()
    for column in SIGNATORY:
        value = fields.get(column) or None
        attr = f"signatory_{column}_ct" if column in ("name", "title") else f"{column}_ct"
        setattr(
            company,
            attr,
            cipher.encrypt_optional(value, table="companies", column=column, row=company.uid),
        )
    session.add(
        CompanyManager(
            company_id=company.id, platform=platform, login=login.lower(), account_id=account_id
        )
    )
    for other in managers:
        if other != login.lower():
            session.add(CompanyManager(company_id=company.id, platform=platform, login=other))
    actor = f"{platform}:{account_id}"
    for domain in dict.fromkeys(domains):
        session.add(
            CompanyEntry(
                company_id=company.id,
                kind="domain",
                value=domain,
                status=EntryStatus.PENDING,
                created_by=actor,
            )
        )
    await audit.record(
        session,
        action="sign",
        actor=actor,
        via="web",
        request_id=request_id,
        details={
            "agreement": agreement_id,
            "version": version,
            "company": company.uid,
            "domains": len(set(domains)),
        },
    )
    await session.flush()
    return company


async def managed(
    session: AsyncSession, *, platform: str, account_id: str, login: str
) -> list[Company]:
    """Companies this account manages (by account id, or by the login it was named with —
    the first sign-in then records the account id)."""
    rows = (
        await session.scalars(
            select(CompanyManager).where(
                CompanyManager.platform == platform,
                or_(
                    CompanyManager.account_id == account_id,
                    (CompanyManager.account_id.is_(None)) & (CompanyManager.login == login.lower()),
                ),
            )
        )
    ).all()
    for m in rows:
        if m.account_id is None:
            m.account_id = account_id
    ids = sorted({m.company_id for m in rows})
    if not ids:
        return []
    return list(
        (
            await session.scalars(
                select(Company).where(Company.id.in_(ids), Company.revoked_at.is_(None))
            )
        ).all()
    )
