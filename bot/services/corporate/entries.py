"""The list a company's managers keep of who it covers: domains, emails, accounts."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.identity import EMAIL, is_noreply_domain, normalise_email
from bot.platforms.base import ForgeError
from bot.platforms.registry import FACTS
from bot.services import audit
from bot.services.corporate.common import (
    FORGE_NAMES,
    KINDS,
    AccountLookup,
    EntryError,
    check_domain,
    parse_logins,
)
from bot.services.rechecks import enqueue_checks
from bot.storage.crypto import FieldCipher
from bot.storage.identity_keys import company_entry_key, email_bidx
from bot.storage.models import (
    Company,
    CompanyEntry,
    CompanyStatus,
    EntryStatus,
)
from bot.storage.pr_checks import checks_blocked_by, checks_with_contributor


@dataclass(frozen=True, slots=True)
class Entry:
    uid: str
    kind: str
    shown: str  # the domain, the decrypted email, or platform:login
    status: str
    reason: str | None = None  # why an administrator rejected a domain
    login: str | None = None  # an unconfirmed account's login, to add it again
    proven: bool = False  # a domain proven by a code sent to an address there


def counts(company: Company, entry: CompanyEntry) -> bool:
    """Does this entry cover anyone now?"""
    return (
        company.revoked_at is None
        and company.status == CompanyStatus.APPROVED
        and entry.status == EntryStatus.APPROVED
    )


async def entry_rows(session: AsyncSession, company: Company) -> list[CompanyEntry]:
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
    for r in await entry_rows(session, company):
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
                r.uid,
                r.kind,
                shown,
                r.status,
                r.decision_reason,
                r.login if unconfirmed else None,
                r.proven_by is not None,
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
        check_domain(value)  # a domain no company may own is refused as such
        raise EntryError(
            "a domain is listed only once proven: give an address at it under "
            "“Prove a domain” and type the code mailed there"
        )
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
    if not counts(company, entry):
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
    counted, key = counts(company, row), company_entry_key(cipher, row)
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
