"""Data access. Every function takes a session and never commits: the caller owns the unit of
work. Personal fields go through :class:`~bot.storage.crypto.FieldCipher` here and nowhere else.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import delete, func, or_, select, text, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.identity import Contributor, normalise_email
from bot.core.model import Agreement, AgreementVersion, SignatureFact
from bot.settings import AgreementSettings
from bot.storage.crypto import DecryptError, FieldCipher
from bot.storage.models import (
    AgreementRow,
    AgreementVersionRow,
    Company,
    CompanyEntry,
    CompanyStatus,
    EntryStatus,
    Installation,
    PrBlocker,
    PrCheck,
    Repository,
    Signature,
    Signer,
    SignerAccount,
    SignerEmail,
    utcnow,
)

EMAIL_PURPOSE = "email"
SYNC_LOCK_ID = 0x636C61  # advisory lock: publishing agreements at start-up


def email_bidx(cipher: FieldCipher, email: str) -> str:
    return cipher.blind_index(normalise_email(email), purpose=EMAIL_PURPOSE)


def email_identity_key(cipher: FieldCipher, email: str) -> str:
    """The stored form of an email identity: its blind index, never the address."""
    return f"email:{email_bidx(cipher, email)}"


# --- agreements -----------------------------------------------------------------------------


async def sync_agreements(session: AsyncSession, agreements: Sequence[AgreementSettings]) -> None:
    """Make the agreements table match app.yaml: new agreements and versions are published;
    a changed text under an existing version is refused (publish a new version instead)."""
    if session.bind is not None and session.bind.dialect.name == "postgresql":
        # Replicas starting together must not race to publish the same rows.
        await session.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": SYNC_LOCK_ID})
    for a in agreements:
        row = await session.get(AgreementRow, a.agreement_id)
        if row is None:
            session.add(AgreementRow(id=a.agreement_id, title=a.title, kind=a.kind))
        else:
            row.title = a.title
            row.kind = a.kind
        existing = {
            v.version: v
            for v in (
                await session.scalars(
                    select(AgreementVersionRow).where(
                        AgreementVersionRow.agreement_id == a.agreement_id
                    )
                )
            ).all()
        }
        for position, v in enumerate(a.versions):
            digest = hashlib.sha256(v.text.encode("utf-8")).hexdigest()
            old = existing.get(v.version)
            if old is None:
                session.add(
                    AgreementVersionRow(
                        agreement_id=a.agreement_id,
                        version=v.version,
                        position=position,
                        text_sha256=digest,
                        compatible=v.compatible,
                        fields=dict(v.fields),
                    )
                )
            else:
                if old.text_sha256 != digest:
                    raise AgreementTextChanged(a.agreement_id, v.version, old.text_sha256, digest)
                old.position = position
                old.compatible = v.compatible
                old.fields = dict(v.fields)
    await session.flush()


class AgreementTextChanged(Exception):
    """A published version's text differs from app.yaml's: which one, and both digests (so that
    start-up can say exactly what to do, and ``cla-bot agreements replace`` can act on it)."""

    def __init__(self, agreement_id: str, version: str, old_sha256: str, new_sha256: str) -> None:
        super().__init__(
            f"the text of agreement {agreement_id!r} version {version!r} changed after it was "
            "published; publish it as a new version instead"
        )
        self.agreement_id = agreement_id
        self.version = version
        self.old_sha256 = old_sha256
        self.new_sha256 = new_sha256


async def load_agreement(session: AsyncSession, agreement_id: str) -> Agreement:
    rows = (
        await session.scalars(
            select(AgreementVersionRow)
            .where(AgreementVersionRow.agreement_id == agreement_id)
            .order_by(AgreementVersionRow.position)
        )
    ).all()
    title_row = await session.get(AgreementRow, agreement_id)
    return Agreement(
        agreement_id=agreement_id,
        title=title_row.title if title_row else agreement_id,
        versions=tuple(
            AgreementVersion(
                agreement_id=agreement_id,
                version=r.version,
                text_sha256=r.text_sha256,
                compatible_with_previous=r.compatible,
            )
            for r in rows
        ),
    )


async def version_row(
    session: AsyncSession, agreement_id: str, version: str
) -> AgreementVersionRow | None:
    result = await session.scalars(
        select(AgreementVersionRow).where(
            AgreementVersionRow.agreement_id == agreement_id,
            AgreementVersionRow.version == version,
        )
    )
    return result.first()


# --- signers --------------------------------------------------------------------------------


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
    session: AsyncSession, cipher: FieldCipher, signer: Signer, email: str, *, verified: bool
) -> None:
    bidx = email_bidx(cipher, email)
    existing = (
        await session.scalars(
            select(SignerEmail).where(
                SignerEmail.signer_id == signer.id, SignerEmail.email_bidx == bidx
            )
        )
    ).first()
    if existing is not None:
        return
    row = SignerEmail(signer_id=signer.id, email_bidx=bidx, email_ct="", verified=verified)
    session.add(row)
    await session.flush()
    row.email_ct = cipher.encrypt(email.strip(), table="signer_emails", column="email", row=row.uid)


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
    version = await version_row(session, new.agreement_id, new.version)
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
        await add_signer_email(session, cipher, signer, new.email, verified=True)
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
    session: AsyncSession, cipher: FieldCipher, contributors: Sequence[Contributor]
) -> dict[str, list[SignatureFact]]:
    """Valid signatures for each contributor, keyed by ``Identity.key``: found by account id
    first, then by every email the contributor committed with (blind index)."""
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
    for key, corporate in (await _corporate_facts(session, cipher, contributors)).items():
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


def email_domain(email: str) -> str | None:
    _, at, domain = normalise_email(email).rpartition("@")
    return domain if at and domain else None


def contributor_keys(cipher: FieldCipher, contributor: Contributor) -> list[str]:
    """Every key under which a PR records this contributor, so that whatever later covers them
    (a signature by account or email, a company listing their account, email or domain) finds
    the PR again: the identity (``github:123``, the key a company's account entry holds too),
    then ``email:`` and ``domain:`` keys. Emails only ever appear as keyed blind indexes;
    domains as keyed hashes."""
    ident = contributor.identity
    keys = [
        email_identity_key(cipher, ident.email)
        if ident.platform is None and ident.email
        else ident.key
    ]
    for email in contributor.emails:
        keys.append(email_identity_key(cipher, email))
        domain = email_domain(email)
        if domain:
            keys.append(f"domain:{cipher.blind_index(domain, purpose='domain')}")
    return list(dict.fromkeys(keys))


def domain_key(cipher: FieldCipher, domain: str) -> str:
    return f"domain:{cipher.blind_index(domain.strip().lower(), purpose='domain')}"


async def _corporate_facts(
    session: AsyncSession, cipher: FieldCipher, contributors: Sequence[Contributor]
) -> dict[str, list[SignatureFact]]:
    """Coverage through a company's corporate CLA, only once an administrator approved it: an
    approved entry of its list names the contributor's account (``platform:account_id``, never
    a login: logins are renamed, reused and written into noreply addresses by anyone), one of
    their commit emails (blind index), or the domain of one."""
    wanted: dict[tuple[str, str], list[str]] = defaultdict(list)  # (kind, value) → identity keys
    for c in contributors:
        ident = c.identity
        if ident.platform is not None and ident.account_id is not None:
            wanted[("login", ident.key)].append(ident.key)
        emails = list(c.emails) + ([ident.email] if ident.email else [])
        for email in emails:
            wanted[("email", email_bidx(cipher, email))].append(ident.key)
            domain = email_domain(email)
            if domain:
                wanted[("domain", domain)].append(ident.key)
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
                Company.revoked_at.is_(None),
                Company.status == CompanyStatus.APPROVED,
                CompanyEntry.status == EntryStatus.APPROVED,
            )
        )
    ).all()
    out: dict[str, list[SignatureFact]] = defaultdict(list)
    for entry, company, version in rows:
        fact = SignatureFact(
            signer_id=0,
            agreement_id=version.agreement_id,
            version=version.version,
            signed_at=company.signed_at,
            corporate=True,
            company=company.name,
        )
        for key in wanted.get((entry.kind, entry.value), ()):
            if fact not in out[key]:
                out[key].append(fact)
    return out


def company_entry_key(cipher: FieldCipher, entry: CompanyEntry) -> str:
    """The ``pr_blockers`` key of the contributors a company entry covers."""
    if entry.kind == "domain":
        return domain_key(cipher, entry.value)
    if entry.kind == "email":
        return f"email:{entry.value}"  # the blind index, as email_identity_key writes it
    return entry.value  # platform:account_id, the contributor's identity key


async def lookup_installation(session: AsyncSession, platform: str) -> int | None:
    """An installation whose token may ask the forge about users: the newest live one the bot
    was told of, else the one of the most recently checked PR (``None`` when there is none)."""
    installation = await session.scalar(
        select(Installation.installation_id)
        .where(
            Installation.platform == platform,
            Installation.deleted_at.is_(None),
            Installation.suspended_at.is_(None),
        )
        .order_by(Installation.updated_at.desc(), Installation.id.desc())
        .limit(1)
    )
    if installation is not None:
        return int(installation)
    recent = await session.scalar(
        select(PrCheck.installation_id)
        .where(PrCheck.platform == platform, PrCheck.installation_id.is_not(None))
        .order_by(PrCheck.updated_at.desc(), PrCheck.id.desc())
        .limit(1)
    )
    return int(recent) if recent is not None else None


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


# --- installations and repositories ---------------------------------------------------------


async def upsert_installation(
    session: AsyncSession, *, platform: str, installation_id: int, account_login: str
) -> Installation:
    row = (
        await session.scalars(
            select(Installation).where(
                Installation.platform == platform, Installation.installation_id == installation_id
            )
        )
    ).first()
    if row is None:
        row = Installation(
            platform=platform, installation_id=installation_id, account_login=account_login
        )
        session.add(row)
    else:
        row.account_login = account_login
        row.deleted_at = None
    await session.flush()
    return row


async def set_installation_state(
    session: AsyncSession,
    *,
    platform: str,
    installation_id: int,
    deleted: bool | None = None,
    suspended: bool | None = None,
) -> None:
    values: dict[str, datetime | None] = {}
    now = utcnow()
    if deleted is not None:
        values["deleted_at"] = now if deleted else None
    if suspended is not None:
        values["suspended_at"] = now if suspended else None
    await session.execute(
        update(Installation)
        .where(Installation.platform == platform, Installation.installation_id == installation_id)
        .values(**values)
    )


async def upsert_repository(
    session: AsyncSession,
    *,
    platform: str,
    full_name: str,
    forge_repo_id: int | None,
    installation_id: int | None,
) -> None:
    row = (
        await session.scalars(
            select(Repository).where(
                Repository.platform == platform, Repository.full_name == full_name
            )
        )
    ).first()
    if row is None:
        session.add(
            Repository(
                platform=platform,
                full_name=full_name,
                forge_repo_id=forge_repo_id,
                installation_id=installation_id,
            )
        )
    else:
        row.forge_repo_id = forge_repo_id or row.forge_repo_id
        row.installation_id = installation_id
        row.removed_at = None
    await session.flush()


async def remove_repository(session: AsyncSession, *, platform: str, full_name: str) -> None:
    await session.execute(
        update(Repository)
        .where(Repository.platform == platform, Repository.full_name == full_name)
        .values(removed_at=utcnow())
    )


async def installation_paused_until(
    session: AsyncSession, *, platform: str, installation_id: int
) -> datetime | None:
    row = (
        await session.scalars(
            select(Installation.paused_until).where(
                Installation.platform == platform, Installation.installation_id == installation_id
            )
        )
    ).first()
    return row


# --- PR checks ------------------------------------------------------------------------------


async def get_pr_check(
    session: AsyncSession, *, platform: str, repo_full_name: str, number: int
) -> PrCheck | None:
    return (
        await session.scalars(
            select(PrCheck).where(
                PrCheck.platform == platform,
                PrCheck.repo_full_name == repo_full_name,
                PrCheck.number == number,
            )
        )
    ).first()


async def replace_contributors(
    session: AsyncSession, check: PrCheck, contributors: Mapping[str, bool]
) -> None:
    """Record the PR's contributors (identity key → blocks the PR), replacing the old list."""
    current = {
        b.identity_key: b
        for b in (
            await session.scalars(select(PrBlocker).where(PrBlocker.pr_check_id == check.id))
        ).all()
    }
    stale = [b.id for k, b in current.items() if k not in contributors]
    if stale:
        await session.execute(delete(PrBlocker).where(PrBlocker.id.in_(stale)))
    for key, blocking in contributors.items():
        row = current.get(key)
        if row is None:
            session.add(PrBlocker(pr_check_id=check.id, identity_key=key, blocking=blocking))
        elif row.blocking != blocking:
            row.blocking = blocking


async def checks_blocked_by(session: AsyncSession, keys: Sequence[str]) -> list[PrCheck]:
    """Open PRs that any of these identity keys blocks (for re-checks after signing)."""
    if not keys:
        return []
    return list(
        (
            await session.scalars(
                select(PrCheck)
                .join(PrBlocker, PrBlocker.pr_check_id == PrCheck.id)
                .where(
                    PrBlocker.identity_key.in_(keys),
                    PrBlocker.blocking.is_(True),
                    PrCheck.state == "open",
                )
                .distinct()
            )
        ).all()
    )


async def checks_with_contributor(session: AsyncSession, keys: Sequence[str]) -> list[PrCheck]:
    """Open PRs these identities contributed to, blocking or not (re-checks after erasure)."""
    if not keys:
        return []
    return list(
        (
            await session.scalars(
                select(PrCheck)
                .join(PrBlocker, PrBlocker.pr_check_id == PrCheck.id)
                .where(PrBlocker.identity_key.in_(keys), PrCheck.state == "open")
                .distinct()
            )
        ).all()
    )


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


@dataclass(frozen=True, slots=True)
class QueueStats:
    depth: int
    oldest_age_s: float
    dead: int


async def queue_stats(session: AsyncSession) -> QueueStats:
    from bot.storage.models import Job, JobStatus

    row = (
        await session.execute(
            select(func.count(), func.min(Job.created_at)).where(
                Job.status.in_([JobStatus.QUEUED, JobStatus.RUNNING])
            )
        )
    ).one()
    dead = await session.scalar(
        select(func.count()).select_from(Job).where(Job.status == JobStatus.DEAD)
    )
    oldest = row[1]
    if oldest is not None and oldest.tzinfo is None:
        oldest = oldest.replace(tzinfo=UTC)
    age = (utcnow() - oldest).total_seconds() if oldest is not None else 0.0
    return QueueStats(int(row[0] or 0), max(0.0, age), int(dead or 0))


async def open_checks_at_sha(
    session: AsyncSession, *, platform: str, repo_full_name: str, head_sha: str
) -> list[PrCheck]:
    """The open PRs of a repository whose head the bot last saw at ``head_sha`` (a fork PR's
    check run names no PR: its head sha is what finds it again)."""
    return list(
        (
            await session.scalars(
                select(PrCheck)
                .where(
                    PrCheck.platform == platform,
                    func.lower(PrCheck.repo_full_name) == repo_full_name.lower(),
                    PrCheck.head_sha == head_sha,
                    PrCheck.state == "open",
                )
                .order_by(PrCheck.number)
            )
        ).all()
    )
