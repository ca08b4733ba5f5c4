"""Employee confirmation (``cla.corporate.employees: confirm``, as app-cla-server does): an
employee proves a work address by code at ``/company/employee``; every approved company with
that approved domain then lists them, and covers them once one of its managers enables them.
With ``domain`` (the default), the domain itself covers its addresses and this list is unused.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.services import audit, email_proofs
from bot.services.corporate.common import EntryError
from bot.services.corporate.proofs import domain_of
from bot.services.rechecks import enqueue_checks
from bot.storage.crypto import FieldCipher
from bot.storage.identity_keys import email_bidx
from bot.storage.models import (
    Company,
    CompanyEmployee,
    CompanyEntry,
    CompanyStatus,
    EntryStatus,
)
from bot.storage.pr_checks import checks_blocked_by, checks_with_contributor


@dataclass(frozen=True, slots=True)
class Employee:
    uid: str
    company: str  # the company's name
    email: str
    enabled: bool


async def _companies_at(session: AsyncSession, domain: str) -> list[Company]:
    """Approved companies with ``domain`` approved in their list."""
    return list(
        (
            await session.scalars(
                select(Company)
                .join(CompanyEntry, CompanyEntry.company_id == Company.id)
                .where(
                    CompanyEntry.kind == "domain",
                    CompanyEntry.value == domain,
                    CompanyEntry.status == EntryStatus.APPROVED,
                    Company.status == CompanyStatus.APPROVED,
                    Company.revoked_at.is_(None),
                )
                .order_by(Company.id)
            )
        ).all()
    )


async def start(
    session: AsyncSession,
    cipher: FieldCipher,
    person: email_proofs.Person,
    email: str,
    *,
    lang: str,
    public_url: str,
) -> str:
    """Mail a code to the work address; the code's uid. Raises :class:`EntryError` (no company
    has that domain) or :class:`~bot.services.email_proofs.ProofRefused`."""
    domain = domain_of(email)
    companies = await _companies_at(session, domain)
    if not companies:
        raise EntryError(f"no approved corporate CLA lists {domain}")
    return await email_proofs.send(
        session,
        cipher,
        person,
        email,
        purpose=email_proofs.PURPOSE_COMPANY_EMPLOYEE,
        lang=lang,
        mail_kind="company_code",
        mail_values={
            "public_url": public_url,
            "company": ", ".join(c.name for c in companies),
            "why": "employee",
        },
    )


async def finish(
    session: AsyncSession,
    cipher: FieldCipher,
    person: email_proofs.Person,
    uid: str,
    code: str,
    *,
    request_id: str,
) -> int:
    """The proven work address joins the list of every company at its domain, waiting for a
    manager; how many. Raises :class:`~bot.services.email_proofs.ProofRefused`."""
    taken = await email_proofs.take(
        session, cipher, person, uid, code, purpose=email_proofs.PURPOSE_COMPANY_EMPLOYEE
    )
    bidx = email_bidx(cipher, taken.email)
    who = cipher.account_hash(person.platform, person.account_id)
    companies = await _companies_at(session, domain_of(taken.email))
    for company in companies:
        row = (
            await session.scalars(
                select(CompanyEmployee).where(
                    CompanyEmployee.company_id == company.id, CompanyEmployee.email_bidx == bidx
                )
            )
        ).first()
        if row is None:
            row = CompanyEmployee(
                company_id=company.id, email_bidx=bidx, account_hash=who, proven_at=taken.at
            )
            session.add(row)
            await session.flush()
            row.email_ct = cipher.encrypt(
                taken.email, table="company_employees", column="email", row=row.uid
            )
        row.account_hash, row.proven_at = who, taken.at
        await audit.record(
            session,
            action="company-employee-prove",
            actor=f"{person.platform}:{person.account_id}",
            via="web",
            request_id=request_id,
            details={"company": company.uid},
        )
    return len(companies)


def _shown(cipher: FieldCipher, row: CompanyEmployee, company: Company) -> Employee:
    email = (
        cipher.decrypt(row.email_ct, table="company_employees", column="email", row=row.uid)
        if row.email_ct
        else ""
    )
    return Employee(row.uid, company.name, email, row.enabled_at is not None)


async def mine(
    session: AsyncSession, cipher: FieldCipher, person: email_proofs.Person
) -> list[Employee]:
    who = cipher.account_hash(person.platform, person.account_id)
    rows = (
        await session.execute(
            select(CompanyEmployee, Company)
            .join(Company, Company.id == CompanyEmployee.company_id)
            .where(CompanyEmployee.account_hash == who)
            .order_by(CompanyEmployee.id)
        )
    ).all()
    return [_shown(cipher, e, c) for e, c in rows]


async def of_company(
    session: AsyncSession, cipher: FieldCipher, company: Company
) -> list[Employee]:
    rows = (
        await session.scalars(
            select(CompanyEmployee)
            .where(CompanyEmployee.company_id == company.id)
            .order_by(CompanyEmployee.id)
        )
    ).all()
    return [_shown(cipher, e, company) for e in rows]


async def enable(
    session: AsyncSession,
    company: Company,
    uid: str,
    *,
    enabled: bool,
    actor: str,
    request_id: str,
) -> int:
    """A manager enables (or disables) an employee; how many PR re-checks were queued."""
    row = (
        await session.scalars(
            select(CompanyEmployee).where(
                CompanyEmployee.company_id == company.id, CompanyEmployee.uid == uid
            )
        )
    ).first()
    if row is None or (row.enabled_at is not None) == enabled:
        return 0
    row.enabled_at, row.enabled_by = (datetime.now(UTC), actor) if enabled else (None, None)
    await audit.record(
        session,
        action="company-employee-enable" if enabled else "company-employee-disable",
        actor=actor,
        via="web",
        request_id=request_id,
        details={"company": company.uid},
    )
    key = [f"email:{row.email_bidx}"]
    found = await (checks_blocked_by if enabled else checks_with_contributor)(session, key)
    return await enqueue_checks(session, found, "company")
