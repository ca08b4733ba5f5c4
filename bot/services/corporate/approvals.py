"""What community administrators see of companies and decide: approve or reject."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.services import audit, company_domains
from bot.services.admin.common import Invalid, NotFound, iso
from bot.services.corporate.common import MAX_REASON
from bot.services.corporate.entries import counts, entry_rows
from bot.services.rechecks import enqueue_checks
from bot.storage.crypto import FieldCipher
from bot.storage.identity_keys import company_entry_key
from bot.storage.models import (
    AgreementVersionRow,
    Company,
    CompanyEntry,
    CompanyManager,
    CompanyStatus,
    EntryStatus,
)
from bot.storage.pr_checks import checks_blocked_by, checks_with_contributor


@dataclass(frozen=True, slots=True)
class DomainState:
    domain: str
    status: str
    reason: str | None
    proven: bool = False  # by a code sent to an address there; older and imported ones are not

    def as_dict(self) -> dict[str, Any]:
        return {
            "domain": self.domain,
            "status": self.status,
            "reason": self.reason,
            "proven": self.proven,
        }


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
                DomainState(
                    entry.value, entry.status, entry.decision_reason, entry.proven_by is not None
                )
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
    rows = await entry_rows(session, company)
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
    keys = [company_entry_key(cipher, e) for e in rows if counts(company, e)]
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
    rows = await entry_rows(session, company)
    if domain is None:
        before = [e for e in rows if counts(company, e)]
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
        before = [entry] if counts(company, entry) else []
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
