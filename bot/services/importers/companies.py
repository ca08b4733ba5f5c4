"""Recording the companies an import read (:class:`~bot.services.importers.common.
ImportedCompany`) as this bot's corporate signatures.

An imported company signed elsewhere: no account of a forge signed it here, so its signing
account is empty (``signed_platform`` and ``signed_account_id`` are ``""``), and nothing of its
signatory is kept (an erasure could not find them by an account). It is **approved** when the
other service's community had confirmed it — the decision is the import's (``decided_by`` is
``import``) and the audit trail says why — and pending an administrator's decision otherwise.

Its list gets the emails of the people it covered there, counting at once while it is approved,
and its email domains: **pending** unless the operator asks for them approved
(``approve_domains``), because there a domain only said who could sign as an employee — it
covered nobody by itself — while here an approved domain covers everyone who commits with an
address at it. An administrator approves them with ``cla-bot company approve``.

Importing the same dump again adds nothing: a company imported before (same name, same
agreement version, signed elsewhere) only gets the entries it lacks, and its state is left as
an administrator may have decided it since.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.services import audit
from bot.services.corporate.entries import counts
from bot.services.importers.common import ImportedCompany
from bot.services.rechecks import enqueue_checks
from bot.storage.agreements import version_row
from bot.storage.crypto import FieldCipher
from bot.storage.identity_keys import company_entry_key, email_bidx
from bot.storage.models import Company, CompanyEntry, CompanyStatus, EntryStatus, new_uid
from bot.storage.pr_checks import checks_blocked_by

SIGNED_ELSEWHERE = ""  # the signing account of a company that signed in another service
ACTOR = "import"


@dataclass(frozen=True, slots=True)
class CompaniesWritten:
    created: int
    existing: int  # imported before: only the entries they lacked were added
    domains: int  # domain entries added
    emails: int  # email entries added
    rechecks: int  # blocked PRs queued for a re-check


async def _company(
    session: AsyncSession, item: ImportedCompany, now: datetime
) -> tuple[Company, bool]:
    """The company imported before, or a new one; whether it is new."""
    version = await version_row(session, item.agreement_id, item.version)
    if version is None:
        raise ValueError(f"unknown agreement version {item.agreement_id} {item.version}")
    found = (
        await session.scalars(
            select(Company).where(
                Company.name == item.name,
                Company.agreement_version_id == version.id,
                Company.signed_platform == SIGNED_ELSEWHERE,
                Company.revoked_at.is_(None),
            )
        )
    ).first()
    if found is not None:
        return found, False
    company = Company(
        name=item.name,
        agreement_version_id=version.id,
        signed_platform=SIGNED_ELSEWHERE,
        signed_account_id=SIGNED_ELSEWHERE,
        signed_at=item.signed_at,
        status=CompanyStatus.APPROVED if item.confirmed else CompanyStatus.PENDING,
        decided_at=now if item.confirmed else None,
        decided_by=ACTOR if item.confirmed else None,
    )
    session.add(company)
    await session.flush()
    return company, True


def _new_entries(
    cipher: FieldCipher,
    item: ImportedCompany,
    company: Company,
    listed: set[tuple[str, str]],
    approve_domains: bool,
) -> list[CompanyEntry]:
    entries = [
        CompanyEntry(
            company_id=company.id,
            kind="domain",
            value=domain,
            status=EntryStatus.APPROVED if approve_domains else EntryStatus.PENDING,
            created_by=ACTOR,
        )
        for domain in item.domains
        if ("domain", domain) not in listed
    ]
    for email in item.emails:
        bidx = email_bidx(cipher, email)
        if ("email", bidx) in listed:
            continue
        uid = new_uid()
        entries.append(
            CompanyEntry(
                uid=uid,
                company_id=company.id,
                kind="email",
                value=bidx,
                value_ct=cipher.encrypt(email, table="company_entries", column="value", row=uid),
                status=EntryStatus.APPROVED,
                created_by=ACTOR,
            )
        )
    return entries


async def import_companies(
    session: AsyncSession,
    cipher: FieldCipher,
    companies: Sequence[ImportedCompany],
    *,
    source: str,
    request_id: str,
    approve_domains: bool = False,
) -> CompaniesWritten:
    """Record ``companies`` (read from ``source``, e.g. ``app-cla-server``); each is in the
    audit trail (its state and why, how many domains and emails, never which). Re-checks the
    blocked PRs that what now counts covers."""
    now = datetime.now(UTC)
    created = existing = domains = emails = 0
    keys: list[str] = []
    for item in companies:
        company, new = await _company(session, item, now)
        created, existing = created + new, existing + (not new)
        listed = {
            (kind, value)
            for kind, value in (
                await session.execute(
                    select(CompanyEntry.kind, CompanyEntry.value).where(
                        CompanyEntry.company_id == company.id
                    )
                )
            ).all()
        }
        entries = _new_entries(cipher, item, company, listed, approve_domains)
        session.add_all(entries)
        added_domains = sum(e.kind == "domain" for e in entries)
        domains, emails = domains + added_domains, emails + len(entries) - added_domains
        await audit.record(
            session,
            action="import",
            actor="operator",
            via="cli",
            request_id=request_id,
            details={
                "source": source,
                "company": company.uid,
                "new": new,
                "status": company.status,
                "decided": (
                    f"approved: the community had confirmed it in {source}"
                    if new and item.confirmed
                    else "pending an administrator's decision"
                    if new
                    else "unchanged (imported before)"
                ),
                "domains": added_domains,
                "domains_status": "approved" if approve_domains else "pending",
                "emails": len(entries) - added_domains,
            },
        )
        keys.extend(company_entry_key(cipher, e) for e in entries if counts(company, e))
    await session.flush()
    rechecks = await enqueue_checks(session, await checks_blocked_by(session, keys), "company")
    return CompaniesWritten(created, existing, domains, emails, rechecks)
