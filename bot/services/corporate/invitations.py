"""Managers invited by email: a manager types an address, the bot mails it a link
``/company/invite/<token>`` (one use, 7 days); the invitee signs in with the forge and accepts,
and becomes a manager by account id.

Only a keyed hash of the token is stored. The address is kept encrypted (with its blind index,
so that erasure finds it) only while the invitation is pending, to show the managers whom they
invited: a used or cancelled invitation drops it at once. A manager can cancel a pending
invitation, and remove another manager — never the last one.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.services import audit, email_proofs
from bot.services.corporate.common import EntryError
from bot.services.mail.outbox import queue_mail
from bot.storage.crypto import FieldCipher
from bot.storage.identity_keys import email_bidx
from bot.storage.models import Company, CompanyInvitation, CompanyManager

VALID_FOR = timedelta(days=7)
PER_COMPANY_PER_DAY = 20
_HASH_PURPOSE = "company-invite"


@dataclass(frozen=True, slots=True)
class Invitation:
    """A pending invitation as its company's managers see it."""

    uid: str
    email: str
    expires_at: datetime


@dataclass(frozen=True, slots=True)
class Manager:
    id: int
    shown: str  # platform:login
    account_id: str | None


def token_hash(cipher: FieldCipher, token: str) -> str:
    return cipher.blind_index(token, purpose=_HASH_PURPOSE)


def _drop_address(invitation: CompanyInvitation) -> None:
    invitation.email_ct, invitation.email_bidx = None, None


async def invite(
    session: AsyncSession,
    cipher: FieldCipher,
    company: Company,
    email: str,
    *,
    actor: str,
    lang: str,
    public_url: str,
    request_id: str,
    now: datetime | None = None,
) -> str:
    """Queue the invitation mail; the invitation's uid. Raises :class:`EntryError`."""
    now = now or datetime.now(UTC)
    address = email_proofs.valid_email(email)
    if address is None:
        raise EntryError("not an email address")
    sent = await session.scalar(
        select(func.count())
        .select_from(CompanyInvitation)
        .where(
            CompanyInvitation.company_id == company.id,
            CompanyInvitation.created_at > now - timedelta(days=1),
        )
    )
    if int(sent or 0) >= PER_COMPANY_PER_DAY:
        raise EntryError("too many invitations today: try again tomorrow")
    token = secrets.token_urlsafe(32)
    row = CompanyInvitation(
        company_id=company.id,
        token_hash=token_hash(cipher, token),
        email_bidx=email_bidx(cipher, address),
        invited_by=actor,
        created_at=now,
        expires_at=now + VALID_FOR,
    )
    session.add(row)
    await session.flush()
    row.email_ct = cipher.encrypt(address, table="company_invitations", column="email", row=row.uid)
    await queue_mail(
        session,
        cipher,
        to=address,
        kind="company_invite",
        lang=lang,
        values={
            "company": company.name,
            "link": f"{public_url.rstrip('/')}/company/invite/{token}",
            "days": VALID_FOR.days,
            "public_url": public_url,
        },
    )
    await audit.record(
        session,
        action="company-invite",
        actor=actor,
        via="web",
        request_id=request_id,
        details={"company": company.uid, "invitation": row.uid},
    )
    return row.uid


async def pending(
    session: AsyncSession, cipher: FieldCipher, company: Company, *, now: datetime | None = None
) -> list[Invitation]:
    now = now or datetime.now(UTC)
    rows = (
        await session.scalars(
            select(CompanyInvitation)
            .where(
                CompanyInvitation.company_id == company.id,
                CompanyInvitation.used_at.is_(None),
                CompanyInvitation.cancelled_at.is_(None),
                CompanyInvitation.expires_at > now,
            )
            .order_by(CompanyInvitation.id)
        )
    ).all()
    return [
        Invitation(
            r.uid,
            cipher.decrypt(r.email_ct, table="company_invitations", column="email", row=r.uid)
            if r.email_ct
            else "",
            r.expires_at,
        )
        for r in rows
    ]


async def find(
    session: AsyncSession, cipher: FieldCipher, token: str, *, now: datetime | None = None
) -> tuple[CompanyInvitation, Company] | None:
    """The pending invitation this token opens, with its company; None when it opens none
    (unknown, used, cancelled or expired — the page does not say which)."""
    now = now or datetime.now(UTC)
    if not token or len(token) > 100:
        return None
    found = (
        await session.execute(
            select(CompanyInvitation, Company)
            .join(Company, Company.id == CompanyInvitation.company_id)
            .where(
                CompanyInvitation.token_hash == token_hash(cipher, token),
                CompanyInvitation.used_at.is_(None),
                CompanyInvitation.cancelled_at.is_(None),
                CompanyInvitation.expires_at > now,
                Company.revoked_at.is_(None),
            )
        )
    ).first()
    return (found[0], found[1]) if found else None


async def accept(
    session: AsyncSession,
    cipher: FieldCipher,
    token: str,
    *,
    platform: str,
    account_id: str,
    login: str,
    request_id: str,
    now: datetime | None = None,
) -> Company | None:
    """The signed-in account becomes a manager of the invitation's company (by account id);
    the invitation is used and its address dropped. None when the token opens nothing."""
    now = now or datetime.now(UTC)
    found = await find(session, cipher, token, now=now)
    if found is None:
        return None
    invitation, company = found
    invitation.used_at = now
    _drop_address(invitation)
    existing = (
        await session.scalars(
            select(CompanyManager).where(
                CompanyManager.company_id == company.id,
                CompanyManager.platform == platform,
                (CompanyManager.account_id == account_id) | (CompanyManager.login == login.lower()),
            )
        )
    ).first()
    if existing is None:
        session.add(
            CompanyManager(
                company_id=company.id,
                platform=platform,
                login=login.lower(),
                account_id=account_id,
            )
        )
    else:
        existing.account_id = account_id
    await audit.record(
        session,
        action="company-invite-accept",
        actor=f"{platform}:{account_id}",
        via="web",
        request_id=request_id,
        details={"company": company.uid, "invitation": invitation.uid},
    )
    await session.flush()
    return company


async def cancel(
    session: AsyncSession, company: Company, uid: str, *, actor: str, request_id: str
) -> bool:
    """Cancel a pending invitation of ``company`` (its address dropped at once)."""
    row = (
        await session.scalars(
            select(CompanyInvitation).where(
                CompanyInvitation.company_id == company.id,
                CompanyInvitation.uid == uid,
                CompanyInvitation.used_at.is_(None),
                CompanyInvitation.cancelled_at.is_(None),
            )
        )
    ).first()
    if row is None:
        return False
    row.cancelled_at = datetime.now(UTC)
    _drop_address(row)
    await audit.record(
        session,
        action="company-invite-cancel",
        actor=actor,
        via="web",
        request_id=request_id,
        details={"company": company.uid, "invitation": row.uid},
    )
    return True


async def managers(session: AsyncSession, company: Company) -> list[Manager]:
    rows = (
        await session.scalars(
            select(CompanyManager)
            .where(CompanyManager.company_id == company.id)
            .order_by(CompanyManager.id)
        )
    ).all()
    return [Manager(m.id, f"{m.platform}:{m.login}", m.account_id) for m in rows]


async def remove_manager(
    session: AsyncSession, company: Company, manager_id: int, *, actor: str, request_id: str
) -> None:
    """Remove one of ``company``'s managers; raises :class:`EntryError` for the last one."""
    listed = await managers(session, company)
    if manager_id not in {m.id for m in listed}:
        raise EntryError("no such manager of this company")
    if len(listed) == 1:
        raise EntryError("a company keeps at least one manager: invite another one first")
    await session.execute(delete(CompanyManager).where(CompanyManager.id == manager_id))
    await audit.record(
        session,
        action="company-manager-remove",
        actor=actor,
        via="web",
        request_id=request_id,
        details={"company": company.uid},
    )
