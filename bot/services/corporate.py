"""Corporate CLAs: a company signs once, a community administrator approves it, its managers
list who it covers.

Anyone who signs in can sign for a company they name, so a signature proves nothing by itself:
it starts **pending** and covers nobody — no PR passes through it and no comment names the
company — until an administrator (the operator's ``cla-bot company``, an ``admin``-scope API
token) approves it. A rejected one covers nobody either, and its managers see the reason.

The list holds:

* email domains (plain: a company's domain is not personal data), checked by
  :mod:`bot.services.company_domains`. Each waits for an administrator: those named at signing
  (or added before the decision) are approved with the company, one added later is pending
  until an administrator approves it;
* emails (a blind index for matching, a ciphertext so managers can read their own list);
* accounts: a login a manager types is resolved through the forge to its account id, and only
  that id matches (``github:583231``), never the login.

Emails and accounts count as soon as they are added, while the company is approved. Every
change and every decision is in the audit trail (kinds and counts, never values) and re-checks
the open PRs it can affect, found through the account, email and domain keys each PR records
for its contributors.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol

from sqlalchemy import delete, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.errors import BotError
from bot.core.identity import EMAIL, LOGIN, is_bot_login, is_noreply_domain, normalise_email
from bot.core.model import Account
from bot.platforms import registry
from bot.platforms.base import ForgeError
from bot.platforms.registry import FACTS
from bot.services import audit, company_domains
from bot.services.admin.common import Invalid, NotFound, iso
from bot.services.rechecks import enqueue_checks
from bot.storage.agreements import version_row
from bot.storage.crypto import FieldCipher
from bot.storage.identity_keys import company_entry_key, email_bidx
from bot.storage.models import (
    AgreementVersionRow,
    Company,
    CompanyEntry,
    CompanyManager,
    CompanyStatus,
    EntryStatus,
)
from bot.storage.pr_checks import checks_blocked_by, checks_with_contributor

KINDS = ("domain", "email", "login")
SIGNATORY = ("name", "title", "address", "email", "phone", "fax")
MAX_REASON = 500
FORGE_NAMES: dict[str, str] = {f.name: f.display_name for f in registry.FORGES}


class EntryError(BotError, ValueError):
    """A list entry that cannot be used; the message is safe to show to the manager."""


class AccountLookup(Protocol):
    """What adding an account needs of the forge (every ``ForgeClient`` has it)."""

    async def user_by_login(self, login: str) -> Account | None: ...


def parse_logins(text: str) -> list[str]:
    logins = [x.strip().lstrip("@").lower() for x in re.split(r"[\s,;]+", text) if x.strip()]
    bad = [x for x in logins if not LOGIN.fullmatch(x) or is_bot_login(x)]  # people only
    if bad:
        raise EntryError("not a valid account name: " + ", ".join(bad[:3]))
    return list(dict.fromkeys(logins))


def check_domain(raw: str) -> str:
    """The normalised domain, or :class:`EntryError` saying why it may not be listed."""
    domain = company_domains.normalise(raw)
    problem = company_domains.problem(domain)
    if problem is not None:
        raise EntryError(problem)
    return domain


def parse_domains(text: str) -> list[str]:
    """Domains separated by spaces, commas or semicolons, each checked."""
    domains = [check_domain(x) for x in re.split(r"[\s,;]+", text) if x.strip()]
    return list(dict.fromkeys(domains))


# --- signing and managers -------------------------------------------------------------------


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
) -> Company:
    """Record a corporate signature, pending an administrator's decision, with the managers
    and the domains (checked by :func:`parse_domains`) named on the form."""
    row = await version_row(session, agreement_id, version)
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


# --- the list -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Entry:
    uid: str
    kind: str
    shown: str  # the domain, the decrypted email, or platform:login
    status: str
    reason: str | None = None  # why an administrator rejected a domain
    login: str | None = None  # an unconfirmed account's login, to add it again


def _counts(company: Company, entry: CompanyEntry) -> bool:
    """Does this entry cover anyone now?"""
    return (
        company.revoked_at is None
        and company.status == CompanyStatus.APPROVED
        and entry.status == EntryStatus.APPROVED
    )


async def _rows(session: AsyncSession, company: Company) -> list[CompanyEntry]:
    return list(
        (
            await session.scalars(
                select(CompanyEntry)
                .where(CompanyEntry.company_id == company.id)
                .order_by(CompanyEntry.kind, CompanyEntry.id)
            )
        ).all()
    )


async def entries(session: AsyncSession, cipher: FieldCipher, company: Company) -> list[Entry]:
    out = []
    for r in await _rows(session, company):
        if r.kind == "email" and r.value_ct:
            shown = cipher.decrypt(r.value_ct, table="company_entries", column="value", row=r.uid)
        elif r.kind == "login":
            platform = r.value.removeprefix("login:").partition(":")[0]
            shown = f"{platform}:{r.login}"
        else:
            shown = r.value
        unconfirmed = r.status == EntryStatus.UNCONFIRMED
        out.append(
            Entry(
                r.uid, r.kind, shown, r.status, r.decision_reason, r.login if unconfirmed else None
            )
        )
    return out


@dataclass(frozen=True, slots=True)
class NewEntry:
    """A checked entry, ready to store (the forge already asked, outside any transaction)."""

    kind: str
    value: str  # what is stored and matched: the domain, the email's blind index, the account
    email: str | None = None  # the normalised email, for its ciphertext
    login: str | None = None  # an account's login as the forge spells it


async def prepare_entry(
    cipher: FieldCipher,
    *,
    kind: str,
    raw: str,
    platform: str,
    accounts: AccountLookup | None,
) -> NewEntry:
    """Check what a manager typed; an account name is resolved through the forge (``accounts``)
    to the account id it stands for today. Raises :class:`EntryError`."""
    if kind not in KINDS:
        raise EntryError("choose a domain, an email or an account name")
    value = raw.strip()
    if kind == "domain":
        return NewEntry("domain", check_domain(value))
    if kind == "email":
        if not EMAIL.fullmatch(value):
            raise EntryError("not an email address")
        if is_noreply_domain(value.rpartition("@")[2], FACTS):
            raise EntryError("a noreply address stands for a forge account: list the account")
        return NewEntry("email", email_bidx(cipher, value), email=normalise_email(value))
    logins = parse_logins(value)
    if len(logins) != 1:
        raise EntryError("one account name at a time")
    forge = FORGE_NAMES.get(platform, platform)
    if accounts is None:
        raise EntryError(
            f"{forge} accounts cannot be confirmed yet (the bot is not installed on any "
            f"{forge} repository): try again later"
        )
    try:
        account = await accounts.user_by_login(logins[0])
    except ForgeError:
        raise EntryError(f"{forge} did not answer about {logins[0]}: try again later") from None
    if account is None:
        raise EntryError(f"{forge} has no user account named {logins[0]}")
    return NewEntry("login", f"{platform}:{account.account_id}", login=account.login)


async def add_entry(
    session: AsyncSession,
    cipher: FieldCipher,
    company: Company,
    new: NewEntry,
    *,
    actor: str,
    request_id: str,
) -> int:
    """Add a prepared entry; returns how many PR re-checks were queued (none while it does not
    count yet). A domain waits for an administrator; an email or account counts at once while
    the company is approved. Adding what is listed already changes nothing."""
    exists = (
        await session.scalars(
            select(CompanyEntry.id).where(
                CompanyEntry.company_id == company.id,
                CompanyEntry.kind == new.kind,
                CompanyEntry.value == new.value,
            )
        )
    ).first()
    if exists is not None:
        return 0
    entry = CompanyEntry(
        company_id=company.id,
        kind=new.kind,
        value=new.value,
        login=new.login,
        status=EntryStatus.PENDING if new.kind == "domain" else EntryStatus.APPROVED,
        created_by=actor,
    )
    session.add(entry)
    if new.kind == "login" and new.login:
        platform = new.value.partition(":")[0]
        await session.execute(  # the same login listed before ids were confirmed
            delete(CompanyEntry).where(
                CompanyEntry.company_id == company.id,
                CompanyEntry.kind == "login",
                CompanyEntry.value == f"login:{platform}:{new.login.lower()}",
            )
        )
    await session.flush()
    if new.email is not None:
        entry.value_ct = cipher.encrypt(
            new.email, table="company_entries", column="value", row=entry.uid
        )
    await audit.record(
        session,
        action="company-entry-add",
        actor=actor,
        via="web",
        request_id=request_id,
        details={"company": company.uid, "kind": new.kind},
    )
    if not _counts(company, entry):
        return 0
    key = company_entry_key(cipher, entry)
    return await enqueue_checks(session, await checks_blocked_by(session, [key]), "company")


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
    counted, key = _counts(company, row), company_entry_key(cipher, row)
    await session.execute(delete(CompanyEntry).where(CompanyEntry.id == row.id))
    await audit.record(
        session,
        action="company-entry-remove",
        actor=actor,
        via="web",
        request_id=request_id,
        details={"company": company.uid, "kind": row.kind},
    )
    if not counted:
        return 0
    return await enqueue_checks(session, await checks_with_contributor(session, [key]), "company")


# --- administrators -------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class DomainState:
    domain: str
    status: str
    reason: str | None

    def as_dict(self) -> dict[str, Any]:
        return {"domain": self.domain, "status": self.status, "reason": self.reason}


@dataclass(frozen=True, slots=True)
class CompanyView:
    """What an administrator sees of a company: never the signatory's contact data, never the
    emails listed (only how many)."""

    id: int
    name: str
    status: str
    signed_at: datetime
    agreement: str
    version: str
    domains: tuple[DomainState, ...]
    emails: int
    accounts: int
    managers: tuple[str, ...]  # platform:login, public handles
    decided_at: datetime | None
    decided_by: str | None
    reason: str | None

    def as_summary(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "name": self.name,
            "status": self.status,
            "signed_at": iso(self.signed_at),
            "domains": [d.as_dict() for d in self.domains],
        }

    def as_dict(self) -> dict[str, Any]:
        return {
            **self.as_summary(),
            "agreement": self.agreement,
            "version": self.version,
            "emails": self.emails,
            "accounts": self.accounts,
            "managers": list(self.managers),
            "decided_at": iso(self.decided_at),
            "decided_by": self.decided_by,
            "reason": self.reason,
        }


async def _views(session: AsyncSession, companies: Sequence[Company]) -> list[CompanyView]:
    ids = [c.id for c in companies]
    if not ids:
        return []
    versions = {
        v.id: v
        for v in (
            await session.scalars(
                select(AgreementVersionRow).where(
                    AgreementVersionRow.id.in_({c.agreement_version_id for c in companies})
                )
            )
        ).all()
    }
    domains: dict[int, list[DomainState]] = {i: [] for i in ids}
    counts: dict[tuple[int, str], int] = {}
    for entry in (
        await session.scalars(
            select(CompanyEntry)
            .where(CompanyEntry.company_id.in_(ids))
            .order_by(CompanyEntry.company_id, CompanyEntry.id)
        )
    ).all():
        if entry.kind == "domain":
            domains[entry.company_id].append(
                DomainState(entry.value, entry.status, entry.decision_reason)
            )
        else:
            key = (entry.company_id, entry.kind)
            counts[key] = counts.get(key, 0) + 1
    managers: dict[int, list[str]] = {i: [] for i in ids}
    for m in (
        await session.scalars(
            select(CompanyManager)
            .where(CompanyManager.company_id.in_(ids))
            .order_by(CompanyManager.id)
        )
    ).all():
        managers[m.company_id].append(f"{m.platform}:{m.login}")
    return [
        CompanyView(
            id=c.id,
            name=c.name,
            status=c.status,
            signed_at=c.signed_at,
            agreement=versions[c.agreement_version_id].agreement_id,
            version=versions[c.agreement_version_id].version,
            domains=tuple(domains[c.id]),
            emails=counts.get((c.id, "email"), 0),
            accounts=counts.get((c.id, "login"), 0),
            managers=tuple(managers[c.id]),
            decided_at=c.decided_at,
            decided_by=c.decided_by,
            reason=c.decision_reason,
        )
        for c in companies
    ]


async def list_companies(session: AsyncSession, *, pending: bool = False) -> list[CompanyView]:
    """Every company that signed (oldest first); with ``pending``, those awaiting a decision:
    a pending company, or an approved one with a pending domain."""
    q = select(Company).where(Company.revoked_at.is_(None)).order_by(Company.id)
    if pending:
        waiting = (
            select(func.count())
            .select_from(CompanyEntry)
            .where(
                CompanyEntry.company_id == Company.id,
                CompanyEntry.kind == "domain",
                CompanyEntry.status == EntryStatus.PENDING,
            )
            .scalar_subquery()
        )
        q = q.where(
            or_(
                Company.status == CompanyStatus.PENDING,
                (Company.status == CompanyStatus.APPROVED) & (waiting > 0),
            )
        )
    return await _views(session, list((await session.scalars(q)).all()))


async def _company(session: AsyncSession, company_id: int) -> Company:
    company = await session.get(Company, company_id) if 0 < company_id < 2**31 else None
    if company is None or company.revoked_at is not None:
        raise NotFound("no such company")
    return company


async def show_company(session: AsyncSession, company_id: int) -> CompanyView:
    return (await _views(session, [await _company(session, company_id)]))[0]


@dataclass(frozen=True, slots=True)
class Decision:
    company: CompanyView
    changed: bool  # False: it was already so; nothing written, nothing audited
    rechecks: int
    refused: tuple[str, ...] = ()  # pending domains the rules refuse today, rejected instead


def _reason(text: str) -> str:
    reason = " ".join(text.split())
    if not reason or len(reason) > MAX_REASON:
        raise Invalid(f"a reason is required, at most {MAX_REASON} characters")
    return reason


async def approve(
    session: AsyncSession,
    cipher: FieldCipher,
    company_id: int,
    *,
    actor: str,
    via: str,
    request_id: str,
) -> Decision:
    """Approve the company and every domain waiting in its list (each checked again against
    the rules: one they refuse today is rejected instead). Re-checks the PRs its entries now
    cover."""
    company = await _company(session, company_id)
    rows = await _rows(session, company)
    approved, refused = 0, []
    for entry in rows:
        if entry.kind != "domain" or entry.status != EntryStatus.PENDING:
            continue
        problem = company_domains.problem(entry.value)
        if problem is None:
            entry.status = EntryStatus.APPROVED
            approved += 1
        else:
            entry.status, entry.decision_reason = EntryStatus.REJECTED, problem
            refused.append(entry.value)
    changed = company.status != CompanyStatus.APPROVED or approved > 0 or bool(refused)
    if not changed:
        return Decision(await show_company(session, company_id), False, 0)
    company.status = CompanyStatus.APPROVED
    company.decided_at, company.decided_by, company.decision_reason = datetime.now(UTC), actor, None
    await audit.record(
        session,
        action="company-approve",
        actor=actor,
        via=via,
        request_id=request_id,
        details={"company": company.uid, "domains": approved, "refused": len(refused)},
    )
    keys = [company_entry_key(cipher, e) for e in rows if _counts(company, e)]
    rechecks = await enqueue_checks(session, await checks_blocked_by(session, keys), "company")
    await session.flush()
    return Decision(await show_company(session, company_id), True, rechecks, tuple(refused))


async def reject(
    session: AsyncSession,
    cipher: FieldCipher,
    company_id: int,
    *,
    reason: str,
    domain: str | None = None,
    actor: str,
    via: str,
    request_id: str,
) -> Decision:
    """Reject the company (it covers nobody; its managers see ``reason``), or with ``domain``
    only that domain of its list. Re-checks the PRs it covered."""
    reason = _reason(reason)
    company = await _company(session, company_id)
    rows = await _rows(session, company)
    if domain is None:
        before = [e for e in rows if _counts(company, e)]
        if company.status == CompanyStatus.REJECTED and company.decision_reason == reason:
            return Decision(await show_company(session, company_id), False, 0)
        company.status = CompanyStatus.REJECTED
        company.decision_reason = reason
        company.decided_at, company.decided_by = datetime.now(UTC), actor
        details = {"company": company.uid, "scope": "company"}
    else:
        wanted = company_domains.normalise(domain)
        match = [e for e in rows if e.kind == "domain" and e.value == wanted]
        if not match:
            raise NotFound("that domain is not in this company's list")
        entry = match[0]
        before = [entry] if _counts(company, entry) else []
        if entry.status == EntryStatus.REJECTED and entry.decision_reason == reason:
            return Decision(await show_company(session, company_id), False, 0)
        entry.status, entry.decision_reason = EntryStatus.REJECTED, reason
        details = {"company": company.uid, "scope": "domain", "entry": entry.uid}
    await audit.record(
        session,
        action="company-reject",
        actor=actor,
        via=via,
        request_id=request_id,
        details=details,
    )
    keys = [company_entry_key(cipher, e) for e in before]
    rechecks = await enqueue_checks(
        session, await checks_with_contributor(session, keys), "company"
    )
    await session.flush()
    return Decision(await show_company(session, company_id), True, rechecks)
