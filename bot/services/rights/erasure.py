"""Erasure (:func:`erase`, the one function behind ``/cla delete-my-data confirm`` and
``/me/delete``) removes everything that holds the person, found once by :func:`_holdings`:
contact ciphertexts, emails and their blind indexes, linked accounts, their signatory details
on corporate CLAs, their company manager roles and the company list entries naming them, the
records of which PRs they contributed to, every web session of theirs, and what any job holds
about them. It keeps, per signature, a tombstone with no contact data (agreement, version,
signed and erased times, a keyed hash of the signing account), and each corporate CLA they
signed as the company's record (company, version, signing time, approval state, the account as
a keyed hash): a corporate CLA is the company's grant, so its list keeps covering the people it
names. The person's open PRs are re-checked and show the CLA as required.

The comment command asks first: :func:`survey` says what would be erased, changing nothing,
and :func:`request_erasure` records the request that a confirmation within
:data:`REQUEST_TTL` from the same account carries out (:func:`confirmation`).
"""

from __future__ import annotations

from collections.abc import Mapping, Set
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, Text, cast, delete, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.core import replies
from bot.services import audit
from bot.services.rechecks import enqueue_checks
from bot.services.rights.access import CONTACT_FIELDS, Actor
from bot.storage.crypto import FieldCipher
from bot.storage.identity_keys import email_bidx
from bot.storage.models import (
    AgreementVersionRow,
    AuditEvent,
    Company,
    CompanyEmployee,
    CompanyEntry,
    CompanyInvitation,
    CompanyManager,
    EmailProof,
    ErasureRequest,
    Job,
    JobKind,
    JobStatus,
    OAuthState,
    PrBlocker,
    Signature,
    Signer,
    SignerAccount,
    SignerEmail,
    WebSession,
)
from bot.storage.pr_checks import checks_with_contributor
from bot.storage.signatures import find_signer

REQUEST_TTL = timedelta(hours=24)
SIGNATORY_COLUMNS = {
    "name": "signatory_name_ct",
    "title": "signatory_title_ct",
    "address": "address_ct",
    "email": "email_ct",
    "phone": "phone_ct",
    "fax": "fax_ct",
}


@dataclass(frozen=True, slots=True)
class Person:
    """Whom an erasure is about: an account the forge confirmed (by OAuth on the web, as the
    author of a comment it re-read) and the verified emails that login gave (none for a
    comment). Their signer record is the one linked to the account, else to one of the emails.
    """

    platform: str
    account_id: str
    login: str | None = None
    emails: tuple[str, ...] = ()


@dataclass
class Erasure:
    summary: replies.ErasureSummary
    rechecks: int = 0


@dataclass
class _Corporate:
    companies: list[Company]  # the corporate CLAs they signed
    managers: list[CompanyManager]
    entries_naming: list[CompanyEntry]
    entries_added: list[CompanyEntry]  # by them, naming someone else


@dataclass
class _Holdings:
    """Every row that holds the person, found once for both the survey and the erasure."""

    signer: Signer | None
    accounts: list[tuple[str, str]]  # (platform, account_id), the asking account first
    linked: list[tuple[str, str]]  # the signer's linked accounts, oldest first
    logins: set[tuple[str, str]]  # (platform, lower-case login)
    identity_keys: list[str]  # how pr_blockers and company lists may name them
    signatures: list[tuple[Signature, AgreementVersionRow]]
    emails: list[SignerEmail]
    corporate: _Corporate
    pr_records: list[PrBlocker]
    sessions: list[int]
    jobs: list[tuple[Job, dict[str, Any]]]  # a job and its payload without the person
    codes: int = 0  # email_proofs rows: asked for by them or sent to one of their addresses
    invitations: int = 0  # company_invitations mailed to one of their addresses
    work_addresses: int = 0  # company_employees rows of theirs

    def summary(self, erased_on: str) -> replies.ErasureSummary:
        signer, corp = self.signer, self.corporate
        return replies.ErasureSummary(
            contact_fields=tuple(
                c for c in CONTACT_FIELDS if signer and getattr(signer, f"{c}_ct")
            ),
            emails=len(self.emails),
            accounts=len(self.linked),
            signatory_fields=tuple(
                name
                for name, attr in SIGNATORY_COLUMNS.items()
                if any(getattr(c, attr) for c in corp.companies)
            ),
            companies=len(corp.companies),
            manager_roles=len(corp.managers),
            entries_added=len(corp.entries_added),
            entries_naming=len(corp.entries_naming),
            pr_records=len(self.pr_records),
            sessions=len(self.sessions),
            job_payloads=len(self.jobs),
            codes=self.codes,
            invitations=self.invitations,
            work_addresses=self.work_addresses,
            kept=tuple(
                replies.Tombstone(
                    ver.agreement_id, ver.version, sig.signed_at.date().isoformat(), erased_on
                )
                for sig, ver in self.signatures
            ),
        )


def _account_keys(accounts: list[tuple[str, str]]) -> list[str]:
    """As the audit trail, the company lists and the PR records name an account."""
    return [f"{p}:{a}" for p, a in accounts]


async def _holdings(
    session: AsyncSession, cipher: FieldCipher, person: Person, *, skip_job: int | None
) -> _Holdings:
    signer = await find_signer(
        session,
        cipher,
        platform=person.platform,
        account_id=person.account_id,
        emails=person.emails,
    )
    accounts = [(person.platform, person.account_id)]
    logins = {(person.platform, person.login.lower())} if person.login else set()
    bidxs = {email_bidx(cipher, e) for e in person.emails}
    signatures: list[tuple[Signature, AgreementVersionRow]] = []
    emails: list[SignerEmail] = []
    linked: list[tuple[str, str]] = []
    if signer is not None:
        for acc in (
            await session.scalars(
                select(SignerAccount)
                .where(SignerAccount.signer_id == signer.id)
                .order_by(SignerAccount.id)
            )
        ).all():
            linked.append((acc.platform, acc.account_id))
            if (acc.platform, acc.account_id) not in accounts:
                accounts.append((acc.platform, acc.account_id))
            if acc.login:
                logins.add((acc.platform, acc.login.lower()))
        emails = list(
            (
                await session.scalars(select(SignerEmail).where(SignerEmail.signer_id == signer.id))
            ).all()
        )
        bidxs |= {e.email_bidx for e in emails}
        signatures = [
            (sig, ver)
            for sig, ver in (
                await session.execute(
                    select(Signature, AgreementVersionRow)
                    .join(
                        AgreementVersionRow,
                        Signature.agreement_version_id == AgreementVersionRow.id,
                    )
                    .where(Signature.signer_id == signer.id)
                    .order_by(Signature.id)
                )
            ).all()
        ]
    account_keys = _account_keys(accounts)
    corporate = await _corporate(session, cipher, accounts, logins, bidxs)
    identity_keys = [
        *account_keys,
        *(f"email:{b}" for b in sorted(bidxs)),
        *(f"login:{p}:{lg}" for p, lg in sorted(logins)),
    ]
    pr_records = list(
        (
            await session.scalars(
                select(PrBlocker).where(PrBlocker.identity_key.in_(identity_keys))
            )
        ).all()
    )
    hashes = [cipher.account_hash(p, a) for p, a in accounts]
    sessions = list(
        (
            await session.scalars(select(WebSession.id).where(WebSession.account_hash.in_(hashes)))
        ).all()
    )
    jobs = await _jobs(session, accounts, logins, bidxs, skip_job=skip_job)
    every = sorted(bidxs)
    return _Holdings(
        signer=signer,
        accounts=accounts,
        linked=linked,
        logins=logins,
        identity_keys=identity_keys,
        signatures=signatures,
        emails=emails,
        corporate=corporate,
        pr_records=pr_records,
        sessions=sessions,
        jobs=jobs,
        codes=await _count(session, EmailProof, _codes(hashes, every)),
        invitations=await _count(
            session, CompanyInvitation, CompanyInvitation.email_bidx.in_(every)
        ),
        work_addresses=await _count(session, CompanyEmployee, _work_addresses(hashes, every)),
    )


def _codes(hashes: list[str], bidxs: list[str]) -> ColumnElement[bool]:
    """Codes they asked for, and codes anyone asked for to one of their addresses."""
    return or_(EmailProof.account_hash.in_(hashes), EmailProof.email_bidx.in_(bidxs))


def _work_addresses(hashes: list[str], bidxs: list[str]) -> ColumnElement[bool]:
    """Their work addresses proven for a company (``employees: confirm``)."""
    return or_(CompanyEmployee.account_hash.in_(hashes), CompanyEmployee.email_bidx.in_(bidxs))


async def _count(session: AsyncSession, model: type[Any], where: ColumnElement[bool]) -> int:
    return int(await session.scalar(select(func.count()).select_from(model).where(where)) or 0)


async def _corporate(
    session: AsyncSession,
    cipher: FieldCipher,
    accounts: list[tuple[str, str]],
    logins: set[tuple[str, str]],
    bidxs: set[str],
) -> _Corporate:
    """Where corporate CLAs hold the person; adds the signatory emails to ``bidxs``."""
    companies = list(
        (
            await session.scalars(
                select(Company)
                .where(
                    or_(
                        *(
                            (Company.signed_platform == p) & (Company.signed_account_id == a)
                            for p, a in accounts
                        )
                    )
                )
                .order_by(Company.id)
            )
        ).all()
    )
    for company in companies:
        email = cipher.decrypt_optional(
            company.email_ct, table="companies", column="email", row=company.uid
        )
        if email:
            bidxs.add(email_bidx(cipher, email))
    managers = list(
        (
            await session.scalars(
                select(CompanyManager).where(
                    or_(
                        *(
                            (CompanyManager.platform == p) & (CompanyManager.account_id == a)
                            for p, a in accounts
                        ),
                        *(
                            (CompanyManager.platform == p)
                            & CompanyManager.account_id.is_(None)
                            & (CompanyManager.login == login)
                            for p, login in logins
                        ),
                    )
                )
            )
        ).all()
    )
    # account entries name a confirmed ``platform:account_id``; entries kept from before
    # accounts were confirmed name ``login:platform:login``
    naming = (
        [("email", b) for b in bidxs]
        + [("login", f"{p}:{a}") for p, a in accounts]
        + [("login", f"login:{p}:{lg}") for p, lg in logins]
    )
    entries_naming = list(
        (
            await session.scalars(
                select(CompanyEntry).where(
                    or_(
                        *(
                            (CompanyEntry.kind == kind) & (CompanyEntry.value == value)
                            for kind, value in naming
                        )
                    )
                )
            )
        ).all()
        if naming
        else []
    )
    named = {e.id for e in entries_naming}
    account_keys = _account_keys(accounts)
    entries_added = [
        e
        for e in (
            await session.scalars(
                select(CompanyEntry).where(CompanyEntry.created_by.in_(account_keys))
            )
        ).all()
        if e.id not in named
    ]
    return _Corporate(companies, managers, entries_naming, entries_added)


async def _jobs(
    session: AsyncSession,
    accounts: list[tuple[str, str]],
    logins: set[tuple[str, str]],
    bidxs: set[str],
    *,
    skip_job: int | None,
) -> list[tuple[Job, dict[str, Any]]]:
    """Every job whose payload holds the person (on the job's forge), with what it keeps.
    Finished jobs hold no payload, so only the others are read."""
    found = []
    for job in (
        await session.scalars(select(Job).where(cast(Job.payload, Text) != "{}").order_by(Job.id))
    ).all():
        if job.id == skip_job:
            continue
        ids = {a for p, a in accounts if p == job.platform}
        names = {lg for p, lg in logins if p == job.platform}
        cleaned = without_person(job.kind, job.payload, ids, names, emails=bidxs)
        if cleaned is not None:
            found.append((job, cleaned))
    return found


def _email_bidxs(identity_keys: list[str]) -> list[str]:
    return [k.removeprefix("email:") for k in identity_keys if k.startswith("email:")]


def _names(value: Any, ids: set[str], logins: set[str]) -> bool:
    """Whether a job payload holds a user object (``{"login", "id", …}``) of the person."""
    if isinstance(value, Mapping):
        user = "login" in value and "id" in value
        if user and (str(value["id"]) in ids or str(value["login"] or "").lower() in logins):
            return True
        return any(_names(v, ids, logins) for v in value.values())
    if isinstance(value, list):
        return any(_names(v, ids, logins) for v in value)
    return False


def without_person(
    kind: str,
    payload: Mapping[str, Any],
    ids: set[str],
    logins: set[str],
    *,
    emails: Set[str] = frozenset(),
) -> dict[str, Any] | None:
    """A job's payload with nothing left about the person (``{}`` cancels the job), or
    ``None`` when it held nothing about them. A check loses its PR snapshot and reads the PR
    again; a command of theirs is cancelled; a command about them (``/cla status @them``)
    loses that command; mail to one of their addresses (``emails``: blind indexes) is not
    sent."""
    if kind == JobKind.MAIL:
        return {} if payload.get("to_bidx") in emails else None
    if kind == JobKind.CHECK:
        if not _names(payload, ids, logins):
            return None
        rest = {k: v for k, v in payload.items() if k != "pull"}
        return rest if not _names(rest, ids, logins) else {}
    if kind == JobKind.COMMAND and not _names(payload.get("author"), ids, logins):
        commands = payload.get("commands") or []
        kept = [c for c in commands if not (len(c) > 1 and str(c[1] or "").lower() in logins)]
        others = {k: v for k, v in payload.items() if k != "commands"}
        if _names(others, ids, logins):
            return {}
        if len(kept) == len(commands):
            return None
        return {**others, "commands": kept} if kept else {}
    return {} if _names(payload, ids, logins) else None


async def survey(
    session: AsyncSession, cipher: FieldCipher, person: Person, *, skip_job: int | None = None
) -> replies.ErasureSummary:
    """What :func:`erase` would erase and keep for this person now; changes nothing."""
    found = await _holdings(session, cipher, person, skip_job=skip_job)
    return found.summary(datetime.now(UTC).date().isoformat())


async def erase(
    session: AsyncSession,
    cipher: FieldCipher,
    person: Person,
    *,
    actor: Actor,
    skip_job: int | None = None,
) -> Erasure:
    """Erase everything held about the person, in the caller's transaction.

    Removed: contact ciphertexts, emails and their blind indexes, linked accounts, the records
    of PRs they contributed to, their manager roles, company list entries naming them, every
    web session of theirs, their pending erasure request, what any job (except ``skip_job``,
    the command doing this) holds about them, and used or expired OAuth attempts. Kept, with a
    keyed hash of the account instead of the account: each signature (agreement, version,
    times) and each corporate CLA they signed (the company, its version, signing time and
    approval state; its list keeps covering the people it names), and the audit trail, whose
    actor becomes that hash. Afterwards the caller commits and calls
    :func:`bot.storage.db.flush_erased`.
    """
    now = datetime.now(UTC)
    found = await _holdings(session, cipher, person, skip_job=skip_job)
    summary = found.summary(now.date().isoformat())
    prs = await checks_with_contributor(session, found.identity_keys)
    # The account a tombstone stands for when a signature does not name one (an import by
    # email): the signer's first linked account, else the one asking.
    first_platform, first_account = (found.linked or found.accounts)[0]
    pseudonym = "erased:" + cipher.account_hash(first_platform, first_account)
    account_keys = _account_keys(found.accounts)

    for sig, _ver in found.signatures:
        platform = sig.signed_platform or first_platform
        account_id = sig.signed_account_id or first_account
        sig.account_hash = cipher.account_hash(platform, account_id)
        sig.erased_at = now
        sig.signed_account_id = None
        sig.signer_id = None
    for company in found.corporate.companies:
        for attr in SIGNATORY_COLUMNS.values():
            setattr(company, attr, None)
        # The keyed hash, as in a signature's tombstone: the record no longer names the account.
        company.signed_account_id = cipher.account_hash(
            company.signed_platform, company.signed_account_id
        )
    for entry in found.corporate.entries_added:
        entry.created_by = pseudonym[:100]
    for job, payload in found.jobs:
        job.payload = payload
        if not payload and job.status in (JobStatus.QUEUED, JobStatus.DEAD):
            job.status = JobStatus.IGNORED
            job.finished_at = now
            job.last_error = "cancelled: payload erased at its owner's request"
    hashes = [cipher.account_hash(p, a) for p, a in found.accounts]
    deletions = [
        delete(CompanyManager).where(
            CompanyManager.id.in_([m.id for m in found.corporate.managers])
        ),
        delete(CompanyEntry).where(
            CompanyEntry.id.in_([e.id for e in found.corporate.entries_naming])
        ),
        delete(PrBlocker).where(PrBlocker.id.in_([b.id for b in found.pr_records])),
        delete(WebSession).where(WebSession.id.in_(found.sessions)),
        delete(ErasureRequest).where(ErasureRequest.account_hash.in_(hashes)),
        delete(EmailProof).where(_codes(hashes, _email_bidxs(found.identity_keys))),
        delete(OAuthState).where(
            or_(OAuthState.used_at.is_not(None), OAuthState.expires_at <= now)
        ),
        # invitations to manage a company mailed to one of their addresses
        delete(CompanyInvitation).where(
            CompanyInvitation.email_bidx.in_(_email_bidxs(found.identity_keys))
        ),
        delete(CompanyEmployee).where(_work_addresses(hashes, _email_bidxs(found.identity_keys))),
        # and the invitations they sent: kept for the company, no longer naming them
        update(CompanyInvitation)
        .where(CompanyInvitation.invited_by.in_(account_keys))
        .values(invited_by=pseudonym[:100]),
    ]
    if found.signer is not None:
        deletions += [
            delete(SignerEmail).where(SignerEmail.signer_id == found.signer.id),
            delete(SignerAccount).where(SignerAccount.signer_id == found.signer.id),
        ]
    for statement in deletions:
        await session.execute(statement)

    await audit.pseudonymise_actor(session, account_keys, pseudonym[:100])
    await audit.record(
        session,
        action="erase",
        actor=pseudonym if actor.key in account_keys else actor.key,
        via=actor.via,
        request_id=actor.request_id,
        signer_id=None,
        details={
            "contact_fields": list(summary.contact_fields),
            "emails": summary.emails,
            "accounts": summary.accounts,
            "signatures_tombstoned": len(summary.kept),
            "companies_tombstoned": summary.companies,
            "manager_roles": summary.manager_roles,
            "company_entries_removed": summary.entries_naming,
            "company_entries_pseudonymised": summary.entries_added,
            "pr_records": summary.pr_records,
            "sessions": summary.sessions,
            "job_payloads": summary.job_payloads,
            "codes": summary.codes,
            "invitations": summary.invitations,
            "work_addresses": summary.work_addresses,
        },
    )
    if found.signer is not None:
        await session.execute(
            update(AuditEvent).where(AuditEvent.signer_id == found.signer.id).values(signer_id=None)
        )
        await session.delete(found.signer)
    await session.flush()
    return Erasure(summary, rechecks=await enqueue_checks(session, prs, "erasure"))


async def request_erasure(
    session: AsyncSession, cipher: FieldCipher, person: Person, *, now: datetime
) -> datetime:
    """Record that this account asked to be erased; returns when the request lapses. A newer
    request replaces an older one; lapsed requests of anyone are dropped on the way."""
    account_hash = cipher.account_hash(person.platform, person.account_id)
    await session.execute(
        delete(ErasureRequest).where(
            or_(ErasureRequest.account_hash == account_hash, ErasureRequest.expires_at <= now)
        )
    )
    session.add(
        ErasureRequest(account_hash=account_hash, requested_at=now, expires_at=now + REQUEST_TTL)
    )
    await session.flush()
    return now + REQUEST_TTL


@dataclass(frozen=True, slots=True)
class Confirmation:
    """What a ``/cla delete-my-data confirm`` finds: the request of that same account (its
    time, ``None`` when there is none) and whether it is still valid."""

    requested_at: datetime | None
    valid: bool


async def confirmation(
    session: AsyncSession, cipher: FieldCipher, person: Person, *, now: datetime
) -> Confirmation:
    """The pending request of this account; a lapsed one is removed (it can never be
    confirmed), so a second late confirmation finds no request at all."""
    row = (
        await session.scalars(
            select(ErasureRequest).where(
                ErasureRequest.account_hash
                == cipher.account_hash(person.platform, person.account_id)
            )
        )
    ).first()
    if row is None:
        return Confirmation(None, valid=False)
    if row.expires_at <= now:
        await session.execute(delete(ErasureRequest).where(ErasureRequest.id == row.id))
        return Confirmation(row.requested_at, valid=False)
    return Confirmation(row.requested_at, valid=True)
