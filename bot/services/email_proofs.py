"""Proving an address by a code sent to it: a signed-in person adds an email the forge has not
verified, the bot mails a code, and the right code (within 10 minutes, once, at most 5 tries)
records the address for that person's signer, proven by code. From then on it counts for commit
matching like a forge-verified one, and every PR it was blocking is re-checked.

A code is bound to its purpose: this proof row, this person (a keyed hash of their forge
account), this address (its blind index) and this action. Only a keyed hash of it is stored.
Sending is limited per person and per address (counted in the table, so every replica sees the
same count); the web layer limits per client address on top.

The same mechanism serves other purposes (:data:`PURPOSES`): a corporate signatory proving an
address at the company's domain before the signature is recorded, a manager proving a further
domain, an employee proving a work address. Their callers use :func:`send` and :func:`take`;
what waits for the code (the form, the company) rides encrypted on the code row and is dropped
once the code is used.
"""

from __future__ import annotations

import hmac
import json
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.errors import BotError
from bot.core.identity import EMAIL, normalise_email
from bot.services import audit
from bot.services.mail.outbox import queue_mail
from bot.services.rechecks import enqueue_checks, enqueue_rechecks
from bot.storage.crypto import FieldCipher
from bot.storage.identity_keys import email_bidx
from bot.storage.models import EmailProof, EmailProvenBy, Signer, SignerEmail
from bot.storage.pr_checks import checks_with_contributor
from bot.storage.signatures import add_signer_email, find_signer, link_account

PURPOSE_LINK = "link"  # add the address to the person's own signer record
PURPOSE_COMPANY_SIGN = "company-sign"  # record a corporate signature, its domain proven
PURPOSE_COMPANY_DOMAIN = "company-domain"  # a further domain of a company, proven
PURPOSE_COMPANY_EMPLOYEE = "company-staff"  # an employee's work address, for their company
PURPOSES = (PURPOSE_LINK, PURPOSE_COMPANY_SIGN, PURPOSE_COMPANY_DOMAIN, PURPOSE_COMPANY_EMPLOYEE)
CODE_DIGITS = 6
VALID_FOR = timedelta(minutes=10)
MAX_ATTEMPTS = 5
PER_PERSON_PER_HOUR = 5
PER_ADDRESS_PER_HOUR = 3
_CODE_PURPOSE = "email-code"


class ProofRefused(BotError):
    """A code was not sent, or an address not recorded; ``reason`` is a stable key the pages
    translate: ``invalid_email``, ``too_many_person``, ``too_many_address``, ``unknown``,
    ``expired``, ``used``, ``locked``, ``wrong``."""

    def __init__(self, reason: str, *, attempts_left: int | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.attempts_left = attempts_left


@dataclass(frozen=True, slots=True)
class Person:
    """The signed-in account asking (the forge confirmed it; nothing here came from a form)."""

    platform: str
    account_id: str
    login: str


@dataclass(frozen=True, slots=True)
class Proven:
    email: str
    rechecks: int


@dataclass(frozen=True, slots=True)
class Taken:
    """A code given right: the address it proved and what waited for it."""

    email: str
    payload: dict[str, Any]
    at: datetime


@dataclass(frozen=True, slots=True)
class Address:
    """One of a signer's addresses as ``/me`` lists it."""

    uid: str
    email: str
    proven_by: EmailProvenBy
    proven_at: datetime


def _code_hash(cipher: FieldCipher, proof: EmailProof, code: str) -> str:
    bound = f"{proof.uid}|{proof.purpose}|{proof.account_hash}|{proof.email_bidx}|{code}"
    return cipher.blind_index(bound, purpose=_CODE_PURPOSE)


def valid_email(email: str) -> str | None:
    """``email`` normalised when it is one address as commits carry them (the core's
    :data:`~bot.core.identity.EMAIL`), else None."""
    value = normalise_email(email)
    return value if len(value) <= 254 and EMAIL.fullmatch(value) else None


async def send_code(
    session: AsyncSession,
    cipher: FieldCipher,
    person: Person,
    email: str,
    *,
    lang: str,
    public_url: str,
    now: datetime | None = None,
) -> str:
    """Queue a code to ``email`` for ``person`` in the caller's transaction; the proof's uid
    (for the page that asks for the code). Raises :class:`ProofRefused`."""
    return await send(
        session,
        cipher,
        person,
        email,
        purpose=PURPOSE_LINK,
        lang=lang,
        mail_values={"public_url": public_url},
        now=now,
    )


async def send(
    session: AsyncSession,
    cipher: FieldCipher,
    person: Person,
    email: str,
    *,
    purpose: str,
    lang: str,
    mail_values: dict[str, Any],
    payload: dict[str, Any] | None = None,
    mail_kind: str = "code",
    now: datetime | None = None,
) -> str:
    """Queue a code for ``purpose`` to ``email``, with ``payload`` waiting encrypted on the row;
    ``mail_kind`` (a template taking ``code`` and ``minutes``) says what it is for. The proof's
    uid. Raises :class:`ProofRefused`."""
    if purpose not in PURPOSES:
        raise ValueError(f"unknown code purpose {purpose!r}")
    now = now or datetime.now(UTC)
    address = valid_email(email)
    if address is None:
        raise ProofRefused("invalid_email")
    who = cipher.account_hash(person.platform, person.account_id)
    bidx = email_bidx(cipher, address)
    hour_ago = now - timedelta(hours=1)
    for column, value, limit, reason in (
        (EmailProof.account_hash, who, PER_PERSON_PER_HOUR, "too_many_person"),
        (EmailProof.email_bidx, bidx, PER_ADDRESS_PER_HOUR, "too_many_address"),
    ):
        sent = await session.scalar(
            select(func.count())
            .select_from(EmailProof)
            .where(column == value, EmailProof.created_at > hour_ago)
        )
        if int(sent or 0) >= limit:
            raise ProofRefused(reason)
    code = f"{secrets.randbelow(10**CODE_DIGITS):0{CODE_DIGITS}d}"
    proof = EmailProof(
        purpose=purpose,
        account_hash=who,
        email_bidx=bidx,
        email_ct="",
        code_hash="",
        attempts=0,
        created_at=now,
        expires_at=now + VALID_FOR,
    )
    session.add(proof)
    await session.flush()
    proof.email_ct = cipher.encrypt(address, table="email_proofs", column="email", row=proof.uid)
    if payload is not None:
        proof.payload_ct = cipher.encrypt(
            json.dumps(payload), table="email_proofs", column="payload", row=proof.uid
        )
    proof.code_hash = _code_hash(cipher, proof, code)
    await queue_mail(
        session,
        cipher,
        to=address,
        kind=mail_kind,
        lang=lang,
        values={**mail_values, "code": code, "minutes": int(VALID_FOR.total_seconds() // 60)},
    )
    return proof.uid


async def take(
    session: AsyncSession,
    cipher: FieldCipher,
    person: Person,
    uid: str,
    code: str,
    *,
    purpose: str,
    now: datetime | None = None,
) -> Taken:
    """Use the proof ``uid`` of ``person`` for ``purpose`` when ``code`` is right: its address
    and what waited for it (then dropped from the row). A wrong code counts an attempt even
    though :class:`ProofRefused` is raised: the caller commits either way."""
    now = now or datetime.now(UTC)
    who = cipher.account_hash(person.platform, person.account_id)
    proof = (
        await session.scalars(
            select(EmailProof).where(EmailProof.uid == uid, EmailProof.account_hash == who)
        )
    ).first()
    if proof is None or proof.purpose != purpose:
        raise ProofRefused("unknown")
    if proof.used_at is not None:
        raise ProofRefused("used")
    if proof.attempts >= MAX_ATTEMPTS:
        raise ProofRefused("locked")
    if now >= proof.expires_at:
        raise ProofRefused("expired")
    given = "".join(code.split())
    if not hmac.compare_digest(_code_hash(cipher, proof, given), proof.code_hash):
        proof.attempts += 1
        left = MAX_ATTEMPTS - proof.attempts
        raise ProofRefused("wrong" if left else "locked", attempts_left=left)
    proof.used_at = now
    email = cipher.decrypt(proof.email_ct, table="email_proofs", column="email", row=proof.uid)
    payload: dict[str, Any] = {}
    if proof.payload_ct:
        payload = json.loads(
            cipher.decrypt(proof.payload_ct, table="email_proofs", column="payload", row=proof.uid)
        )
        proof.payload_ct = None
    return Taken(email, payload, now)


async def confirm(
    session: AsyncSession,
    cipher: FieldCipher,
    person: Person,
    uid: str,
    code: str,
    *,
    request_id: str = "",
    now: datetime | None = None,
) -> Proven:
    """Record the proof's address for ``person`` when ``code`` is right. A wrong code counts
    an attempt even though :class:`ProofRefused` is raised: the caller commits either way."""
    taken = await take(session, cipher, person, uid, code, purpose=PURPOSE_LINK, now=now)
    email, now = taken.email, taken.at
    signer = await find_signer(
        session, cipher, platform=person.platform, account_id=person.account_id
    )
    if signer is None:
        signer = Signer()
        session.add(signer)
        await session.flush()
        await link_account(
            session,
            signer,
            platform=person.platform,
            account_id=person.account_id,
            login=person.login,
        )
    await add_signer_email(session, cipher, signer, email, proven_by=EmailProvenBy.CODE, now=now)
    await session.flush()
    await audit.record(
        session,
        action="email-prove",
        actor=f"{person.platform}:{person.account_id}",
        via="web",
        request_id=request_id,
        signer_id=signer.id,
        details={"proven_by": str(EmailProvenBy.CODE)},
    )
    # the address may unblock the signer's PRs in every community they signed in
    return Proven(email, await enqueue_rechecks(session, [signer.id], community=None))


async def addresses(session: AsyncSession, cipher: FieldCipher, signer_id: int) -> list[Address]:
    rows = (
        await session.scalars(
            select(SignerEmail).where(SignerEmail.signer_id == signer_id).order_by(SignerEmail.id)
        )
    ).all()
    return [
        Address(
            r.uid,
            cipher.decrypt(r.email_ct, table="signer_emails", column="email", row=r.uid),
            r.proven_by,
            r.proven_at,
        )
        for r in rows
    ]


async def remove(
    session: AsyncSession,
    cipher: FieldCipher,
    person: Person,
    address_uid: str,
    *,
    request_id: str = "",
) -> int:
    """Remove one of ``person``'s addresses; the PRs it contributed to are re-checked (it may
    have been what covered them). Returns how many were queued; :class:`ProofRefused`
    ``unknown`` when the address is not theirs."""
    signer = await find_signer(
        session, cipher, platform=person.platform, account_id=person.account_id
    )
    row = None
    if signer is not None:
        row = (
            await session.scalars(
                select(SignerEmail).where(
                    SignerEmail.uid == address_uid, SignerEmail.signer_id == signer.id
                )
            )
        ).first()
    if signer is None or row is None:
        raise ProofRefused("unknown")
    key = f"email:{row.email_bidx}"
    await session.execute(delete(SignerEmail).where(SignerEmail.id == row.id))
    await audit.record(
        session,
        action="email-remove",
        actor=f"{person.platform}:{person.account_id}",
        via="web",
        request_id=request_id,
        signer_id=signer.id,
        details={"proven_by": str(row.proven_by)},
    )
    return await enqueue_checks(session, await checks_with_contributor(session, [key]), "email")


__all__ = [
    "Address",
    "Person",
    "ProofRefused",
    "Proven",
    "Taken",
    "addresses",
    "confirm",
    "remove",
    "send",
    "send_code",
    "take",
    "valid_email",
]
