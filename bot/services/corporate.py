"""Corporate CLAs: a company signs once, its managers list who it covers.

The list holds email domains (plain: a company's domain is not personal data), emails (a
blind index for matching, a ciphertext so managers can read their own list) and platform
logins (``github:alice``). Every change re-checks the open PRs it can affect, found through the
login, email and domain keys each PR records for its contributors.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import delete, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.identity import normalise_email
from bot.services import audit
from bot.services.rechecks import enqueue_checks
from bot.storage import repositories as store
from bot.storage.crypto import FieldCipher
from bot.storage.models import Company, CompanyEntry, CompanyManager

KINDS = ("domain", "email", "login")
_DOMAIN = re.compile(r"(?=.{4,253}$)([a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}")
_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")
_LOGIN = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,99}")
SIGNATORY = ("name", "title", "address", "email", "phone", "fax")


class EntryError(ValueError):
    """A list entry that cannot be used; the message is safe to show to the manager."""


def parse_logins(text: str) -> list[str]:
    logins = [x.strip().lstrip("@").lower() for x in re.split(r"[\s,;]+", text) if x.strip()]
    bad = [x for x in logins if not _LOGIN.fullmatch(x)]
    if bad:
        raise EntryError("not a valid account name: " + ", ".join(bad[:3]))
    return list(dict.fromkeys(logins))


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
) -> Company:
    row = await store.version_row(session, agreement_id, version)
    if row is None:
        raise ValueError(f"unknown agreement version {agreement_id} {version}")
    company = Company(
        name=" ".join(fields.get("company", "").split())[:200],
        agreement_version_id=row.id,
        signed_platform=platform,
        signed_account_id=account_id,
        signed_at=datetime.now(UTC),
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
    await audit.record(
        session,
        action="sign",
        actor=f"{platform}:{account_id}",
        via="web",
        request_id=request_id,
        details={"agreement": agreement_id, "version": version, "company": company.uid},
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


@dataclass(frozen=True, slots=True)
class Entry:
    uid: str
    kind: str
    shown: str  # the domain, the decrypted email, or platform:login


async def entries(session: AsyncSession, cipher: FieldCipher, company: Company) -> list[Entry]:
    rows = (
        await session.scalars(
            select(CompanyEntry)
            .where(CompanyEntry.company_id == company.id)
            .order_by(CompanyEntry.kind, CompanyEntry.id)
        )
    ).all()
    out = []
    for r in rows:
        shown = (
            cipher.decrypt(r.value_ct, table="company_entries", column="value", row=r.uid)
            if r.kind == "email" and r.value_ct
            else r.value
        )
        out.append(Entry(r.uid, r.kind, shown))
    return out


def _key(cipher: FieldCipher, kind: str, value: str) -> str:
    if kind == "domain":
        return store.domain_key(cipher, value)
    if kind == "email":
        return store.email_identity_key(cipher, value)
    return f"login:{value}"


async def add_entry(
    session: AsyncSession,
    cipher: FieldCipher,
    company: Company,
    *,
    kind: str,
    raw: str,
    platform: str,
    actor: str,
    request_id: str,
) -> int:
    """Add one entry; returns how many PR re-checks were queued. Raises EntryError."""
    if kind not in KINDS:
        raise EntryError("choose a domain, an email or an account name")
    value = raw.strip()
    if kind == "domain":
        value = value.lower().removeprefix("@")
        if not _DOMAIN.fullmatch(value):
            raise EntryError("not a domain name, e.g. example.com")
        stored = value
    elif kind == "email":
        if not _EMAIL.fullmatch(value):
            raise EntryError("not an email address")
        stored = store.email_bidx(cipher, value)
    else:
        login = parse_logins(value)
        if len(login) != 1:
            raise EntryError("one account name at a time")
        value = f"{platform}:{login[0]}"
        stored = value
    exists = (
        await session.scalars(
            select(CompanyEntry.id).where(
                CompanyEntry.company_id == company.id,
                CompanyEntry.kind == kind,
                CompanyEntry.value == stored,
            )
        )
    ).first()
    if exists is None:
        entry = CompanyEntry(company_id=company.id, kind=kind, value=stored, created_by=actor)
        session.add(entry)
        await session.flush()
        if kind == "email":
            entry.value_ct = cipher.encrypt(
                normalise_email(value), table="company_entries", column="value", row=entry.uid
            )
    await audit.record(
        session,
        action="correct",
        actor=actor,
        via="web",
        request_id=request_id,
        details={"company": company.uid, "added": kind},
    )
    key = _key(cipher, kind, value)
    return await enqueue_checks(session, await store.checks_blocked_by(session, [key]), "company")


async def remove_entry(
    session: AsyncSession,
    cipher: FieldCipher,
    company: Company,
    entry_uid: str,
    *,
    actor: str,
    request_id: str,
) -> int:
    row = (
        await session.scalars(
            select(CompanyEntry).where(
                CompanyEntry.company_id == company.id, CompanyEntry.uid == entry_uid
            )
        )
    ).first()
    if row is None:
        return 0
    if row.kind == "email" and row.value_ct:
        key = store.email_identity_key(
            cipher,
            cipher.decrypt(row.value_ct, table="company_entries", column="value", row=row.uid),
        )
    else:
        key = _key(cipher, row.kind, row.value)
    await session.execute(delete(CompanyEntry).where(CompanyEntry.id == row.id))
    await audit.record(
        session,
        action="correct",
        actor=actor,
        via="web",
        request_id=request_id,
        details={"company": company.uid, "removed": row.kind},
    )
    return await enqueue_checks(
        session, await store.checks_with_contributor(session, [key]), "company"
    )
