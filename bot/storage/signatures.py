"""Signers, their accounts and emails, and their signatures; and the facts coverage is decided
on (a signature of the person, or an approved company listing them). Personal fields go through
:class:`~bot.storage.crypto.FieldCipher` here and nowhere else. Every function takes a session
and never commits: the caller owns the unit of work.
"""

from __future__ import annotations

import dataclasses
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.communities import DEFAULT_COMMUNITY
from bot.core.identity import Contributor, normalise_email
from bot.core.model import SignatureFact
from bot.storage.agreements import version_row
from bot.storage.crypto import DecryptError, FieldCipher
from bot.storage.identity_keys import EMAIL_PURPOSE, email_bidx, email_domain
from bot.storage.models import (
    AgreementVersionRow,
    Company,
    CompanyEmployee,
    CompanyEntry,
    CompanyStatus,
    EmailProvenBy,
    EntryStatus,
    Signature,
    Signer,
    SignerAccount,
    SignerEmail,
)


@dataclass(frozen=True, slots=True)
class NewSignature:
    platform: str | None
    account_id: str | None
    login: str | None
    email: str | None
    name: str | None
    agreement_id: str
    version: str
    signed_at: datetime
    source: str
    address: str | None = None
    phone: str | None = None
    fax: str | None = None
    # How ``email`` is known to be the signer's; ``None``: the forge said so on the web, an
    # operator's import otherwise. ``email_proven_at``: when (``None``: now).
    email_proven_by: EmailProvenBy | None = None
    email_proven_at: datetime | None = None
    # The community whose agreement ``agreement_id`` is.
    community: str = DEFAULT_COMMUNITY


async def _account_row(
    session: AsyncSession, platform: str, account_id: str
) -> SignerAccount | None:
    return (
        await session.scalars(
            select(SignerAccount).where(
                SignerAccount.platform == platform, SignerAccount.account_id == account_id
            )
        )
    ).first()


async def find_signer(
    session: AsyncSession,
    cipher: FieldCipher,
    *,
    platform: str | None,
    account_id: str | None,
    emails: Iterable[str] = (),
) -> Signer | None:
    """The signer linked to this account, else the one holding one of these verified emails."""
    if platform and account_id:
        acc = await _account_row(session, platform, account_id)
        if acc is not None:
            return await session.get(Signer, acc.signer_id)
    for email in emails:
        ids = await _signers_by_email(session, cipher, [email])
        for signer_id in ids.get(normalise_email(email), ()):
            return await session.get(Signer, signer_id)
    return None


async def _signers_by_email(
    session: AsyncSession, cipher: FieldCipher, emails: Iterable[str]
) -> dict[str, set[int]]:
    """Normalised email → signer ids, through the blind index, candidates decrypted and
    compared so that an index collision can never grant coverage."""
    by_bidx: dict[str, str] = {}
    for e in emails:
        n = normalise_email(e)
        if n:
            by_bidx[cipher.blind_index(n, purpose=EMAIL_PURPOSE)] = n
    if not by_bidx:
        return {}
    rows = (
        await session.scalars(select(SignerEmail).where(SignerEmail.email_bidx.in_(by_bidx)))
    ).all()
    out: dict[str, set[int]] = defaultdict(set)
    for r in rows:
        want = by_bidx[r.email_bidx]
        try:
            plain = cipher.decrypt(r.email_ct, table="signer_emails", column="email", row=r.uid)
        except DecryptError:
            continue
        if normalise_email(plain) == want:
            out[want].add(r.signer_id)
    return out


async def add_signer_email(
    session: AsyncSession,
    cipher: FieldCipher,
    signer: Signer,
    email: str,
    *,
    proven_by: EmailProvenBy,
    now: datetime | None = None,
) -> SignerEmail:
    """The signer's record of ``email``, added (proven by ``proven_by``) unless it is there."""
    bidx = email_bidx(cipher, email)
    existing = (
        await session.scalars(
            select(SignerEmail).where(
                SignerEmail.signer_id == signer.id, SignerEmail.email_bidx == bidx
            )
        )
    ).first()
    if existing is not None:
        return existing
    row = SignerEmail(
        signer_id=signer.id,
        email_bidx=bidx,
        email_ct="",
        verified=True,
        proven_by=proven_by,
        proven_at=now or datetime.now(UTC),
    )
    session.add(row)
    await session.flush()
    row.email_ct = cipher.encrypt(email.strip(), table="signer_emails", column="email", row=row.uid)
    return row


async def link_account(
    session: AsyncSession, signer: Signer, *, platform: str, account_id: str, login: str | None
) -> None:
    acc = await _account_row(session, platform, account_id)
    if acc is None:
        session.add(
            SignerAccount(
                signer_id=signer.id, platform=platform, account_id=account_id, login=login
            )
        )
    elif acc.signer_id == signer.id:
        if login:
            acc.login = login
    else:
        raise ValueError("this account is linked to another signer")


def set_contact(
    cipher: FieldCipher,
    signer: Signer,
    *,
    name: str | None = None,
    address: str | None = None,
    phone: str | None = None,
    fax: str | None = None,
) -> None:
    for column, value in (("name", name), ("address", address), ("phone", phone), ("fax", fax)):
        if value is not None:
            setattr(
                signer,
                f"{column}_ct",
                cipher.encrypt(value, table="signers", column=column, row=signer.uid)
                if value
                else None,
            )


async def record_signature(
    session: AsyncSession, cipher: FieldCipher, new: NewSignature
) -> tuple[Signer, Signature]:
    """Store a signature, finding or creating its signer; every personal field encrypted."""
    version = await version_row(session, new.agreement_id, new.version, community=new.community)
    if version is None:
        raise ValueError(f"unknown agreement version {new.agreement_id} {new.version}")
    signer = await find_signer(
        session,
        cipher,
        platform=new.platform,
        account_id=new.account_id,
        emails=[new.email] if new.email else [],
    )
    if signer is None:
        signer = Signer()
        session.add(signer)
        await session.flush()
    set_contact(cipher, signer, name=new.name, address=new.address, phone=new.phone, fax=new.fax)
    if new.platform and new.account_id:
        await link_account(
            session, signer, platform=new.platform, account_id=new.account_id, login=new.login
        )
    if new.email:
        proven = new.email_proven_by or (
            EmailProvenBy.FORGE if new.source == "web" else EmailProvenBy.IMPORT
        )
        await add_signer_email(
            session, cipher, signer, new.email, proven_by=proven, now=new.email_proven_at
        )
    sig = Signature(
        signer_id=signer.id,
        agreement_version_id=version.id,
        source=new.source,
        signed_at=new.signed_at,
    )
    session.add(sig)
    await session.flush()
    return signer, sig


async def signature_facts(
    session: AsyncSession,
    cipher: FieldCipher,
    contributors: Sequence[Contributor],
    *,
    community: str = DEFAULT_COMMUNITY,
) -> dict[str, list[SignatureFact]]:
    """Valid signatures of the community's agreements for each contributor (a person's
    signature in another community never covers them here), keyed by ``Identity.key``: found
    by account id first, then by every email the contributor committed with (blind index)."""
    by_account: dict[tuple[str, str], list[str]] = defaultdict(list)
    by_email: dict[str, list[str]] = defaultdict(list)
    for c in contributors:
        ident = c.identity
        if ident.platform is not None and ident.account_id is not None:
            by_account[(str(ident.platform), ident.account_id)].append(ident.key)
        for e in c.emails:
            by_email[normalise_email(e)].append(ident.key)
        if ident.email:
            by_email[normalise_email(ident.email)].append(ident.key)
    signer_keys: dict[int, set[str]] = defaultdict(set)
    if by_account:
        # Per platform, so that the (platform, account_id) unique index serves the lookup.
        rows: list[SignerAccount] = []
        for platform in {p for p, _ in by_account}:
            ids = [acc_id for p, acc_id in by_account if p == platform]
            rows.extend(
                (
                    await session.scalars(
                        select(SignerAccount).where(
                            SignerAccount.platform == platform, SignerAccount.account_id.in_(ids)
                        )
                    )
                ).all()
            )
        for r in rows:
            for key in by_account.get((r.platform, r.account_id), ()):
                signer_keys[r.signer_id].add(key)
    if by_email:
        for email, signer_ids in (await _signers_by_email(session, cipher, by_email)).items():
            for sid in signer_ids:
                signer_keys[sid].update(by_email[email])
    facts: dict[str, list[SignatureFact]] = defaultdict(list)
    corporate_facts = await _corporate_facts(session, cipher, contributors, community=community)
    for key, corporate in corporate_facts.items():
        facts[key].extend(corporate)
    if not signer_keys:
        return facts
    rows2 = (
        await session.execute(
            select(Signature, AgreementVersionRow, Signer)
            .join(AgreementVersionRow, Signature.agreement_version_id == AgreementVersionRow.id)
            .join(Signer, Signature.signer_id == Signer.id)
            .where(
                Signature.signer_id.in_(signer_keys),
                AgreementVersionRow.community_id == community,
                Signature.revoked_at.is_(None),
                Signature.erased_at.is_(None),
            )
        )
    ).all()
    for sig, ver, signer in rows2:
        fact = SignatureFact(
            signer_id=signer.id,
            agreement_id=ver.agreement_id,
            version=ver.version,
            signed_at=sig.signed_at,
            restricted=signer.restricted_at is not None,
        )
        for key in signer_keys[signer.id]:
            facts[key].append(fact)
    return facts


async def _corporate_facts(
    session: AsyncSession,
    cipher: FieldCipher,
    contributors: Sequence[Contributor],
    *,
    community: str,
) -> dict[str, list[SignatureFact]]:
    """Coverage through a company's corporate CLA, only once an administrator approved it: an
    approved entry of its list names the contributor's account (``platform:account_id``, never
    a login: logins are renamed, reused and written into noreply addresses by anyone), one of
    their commit emails (blind index), or the domain of one."""
    wanted: dict[tuple[str, str], list[str]] = defaultdict(list)  # (kind, value) → identity keys
    domains_of: dict[str, set[str]] = defaultdict(set)  # an email's blind index → its domain
    for c in contributors:
        ident = c.identity
        if ident.platform is not None and ident.account_id is not None:
            wanted[("login", ident.key)].append(ident.key)
        emails = list(c.emails) + ([ident.email] if ident.email else [])
        for email in emails:
            bidx = email_bidx(cipher, email)
            wanted[("email", bidx)].append(ident.key)
            domain = email_domain(email)
            if domain:
                wanted[("domain", domain)].append(ident.key)
                domains_of[bidx].add(domain)
    if not wanted:
        return {}
    conditions = [
        (CompanyEntry.kind == kind) & CompanyEntry.value.in_([v for k, v in wanted if k == kind])
        for kind in {k for k, _ in wanted}
    ]
    rows = (
        await session.execute(
            select(CompanyEntry, Company, AgreementVersionRow)
            .join(Company, CompanyEntry.company_id == Company.id)
            .join(AgreementVersionRow, Company.agreement_version_id == AgreementVersionRow.id)
            .where(
                or_(*conditions),
                AgreementVersionRow.community_id == community,
                Company.revoked_at.is_(None),
                Company.status == CompanyStatus.APPROVED,
                CompanyEntry.status == EntryStatus.APPROVED,
            )
        )
    ).all()
    out: dict[str, list[SignatureFact]] = defaultdict(list)

    def add(
        key: tuple[str, str], company: Company, version: AgreementVersionRow, by_domain: bool
    ) -> None:
        fact = SignatureFact(
            signer_id=0,
            agreement_id=version.agreement_id,
            version=version.version,
            signed_at=company.signed_at,
            corporate=True,
            company=company.name,
            by_domain=by_domain,
        )
        listed = dataclasses.replace(fact, by_domain=False)  # the same company, by a listing
        for identity_key in wanted.get(key, ()):
            found = out[identity_key]
            if listed in found or fact in found:
                continue
            if not by_domain:  # a listing says more than the domain: it replaces it
                found[:] = [f for f in found if f != dataclasses.replace(fact, by_domain=True)]
            found.append(fact)

    for entry, company, version in rows:
        add((entry.kind, entry.value), company, version, entry.kind == "domain")
    bidxs = [v for k, v in wanted if k == "email"]
    employees = (
        await session.execute(
            select(CompanyEmployee, Company, AgreementVersionRow)
            .join(Company, CompanyEmployee.company_id == Company.id)
            .join(AgreementVersionRow, Company.agreement_version_id == AgreementVersionRow.id)
            .where(
                CompanyEmployee.email_bidx.in_(bidxs),
                CompanyEmployee.enabled_at.is_not(None),
                AgreementVersionRow.community_id == community,
                Company.revoked_at.is_(None),
                Company.status == CompanyStatus.APPROVED,
            )
        )
    ).all()
    approved_domains: set[tuple[int, str]] = set()
    if employees:  # an employee's entry stands on that domain being approved for the company
        approved_domains = {
            (company_id, value)
            for company_id, value in (
                await session.execute(
                    select(CompanyEntry.company_id, CompanyEntry.value).where(
                        CompanyEntry.company_id.in_({c.id for _, c, _ in employees}),
                        CompanyEntry.kind == "domain",
                        CompanyEntry.status == EntryStatus.APPROVED,
                    )
                )
            ).all()
        }
    for employee, company, version in employees:  # enabled by a manager
        if any((company.id, d) in approved_domains for d in domains_of[employee.email_bidx]):
            add(("email", employee.email_bidx), company, version, False)
    return out


async def signer_identity_keys(session: AsyncSession, signer_id: int) -> list[str]:
    """Every identity key that can stand for this signer in ``pr_blockers``."""
    keys: list[str] = []
    for acc in (
        await session.scalars(select(SignerAccount).where(SignerAccount.signer_id == signer_id))
    ).all():
        keys.append(f"{acc.platform}:{acc.account_id}")
    for em in (
        await session.scalars(select(SignerEmail).where(SignerEmail.signer_id == signer_id))
    ).all():
        keys.append(f"email:{em.email_bidx}")
    return keys


async def signer_emails(session: AsyncSession, cipher: FieldCipher, signer_id: int) -> list[str]:
    """A signer's stored emails, decrypted, oldest first (the first is the contact email)."""
    rows = (
        await session.scalars(
            select(SignerEmail).where(SignerEmail.signer_id == signer_id).order_by(SignerEmail.id)
        )
    ).all()
    return [
        cipher.decrypt(r.email_ct, table="signer_emails", column="email", row=r.uid) for r in rows
    ]


async def account_by_login(
    session: AsyncSession, *, platform: str, login: str
) -> SignerAccount | None:
    """The most recently linked account with this login (case-insensitive)."""
    return (
        await session.scalars(
            select(SignerAccount)
            .where(
                SignerAccount.platform == platform,
                func.lower(SignerAccount.login) == login.lower(),
            )
            .order_by(SignerAccount.id.desc())
        )
    ).first()
