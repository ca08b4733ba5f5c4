"""Companies prove their domains by a code mailed to an address there.

* The signatory of a corporate CLA gives an address at the company; the bot mails it a code and
  the submitted form waits, encrypted, on the code's row. Only the right code records the
  company (pending an administrator's approval, as always), with that address's domain as its
  first domain, proven by code.
* A manager proves each further domain the same way: the domain entry is then proven and waits
  for an administrator's approval.

An address proves its own domain only: ``dev@eng.example.com`` proves ``eng.example.com``, not
``example.com``. The codes are :mod:`bot.services.email_proofs`' (one mechanism: 10 minutes, one
use, 5 tries, keyed hashes, the same sending limits).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.communities import DEFAULT_COMMUNITY
from bot.services import audit, email_proofs
from bot.services.corporate.common import EntryError, check_domain
from bot.services.corporate.signing import sign
from bot.storage.crypto import FieldCipher
from bot.storage.models import Company, CompanyEntry, EntryStatus

PROVEN_BY_CODE = "code"


def domain_of(email: str) -> str:
    """The domain an address proves, or :class:`EntryError` saying why no company may prove
    it (a free-mail provider's, a public suffix, a forge's noreply domain, not an address)."""
    address = email_proofs.valid_email(email)
    if address is None:
        raise EntryError("not an email address")
    return check_domain(address.rpartition("@")[2])


@dataclass(frozen=True, slots=True)
class PendingSignature:
    """A corporate form that waits for its code (stored encrypted on the code row)."""

    agreement_id: str
    version: str
    fields: dict[str, str]
    managers: list[str]
    lang: str
    community: str = DEFAULT_COMMUNITY  # whose agreement it is

    @classmethod
    def from_payload(cls, payload: Mapping[str, Any]) -> PendingSignature:
        return cls(
            agreement_id=str(payload["agreement_id"]),
            version=str(payload["version"]),
            fields={str(k): str(v) for k, v in dict(payload["fields"]).items()},
            managers=[str(m) for m in payload["managers"]],
            lang=str(payload["lang"]),
            # forms waiting since before communities were the default community's
            community=str(payload.get("community", DEFAULT_COMMUNITY)),
        )


@dataclass(frozen=True, slots=True)
class Signed:
    company: Company
    pending: PendingSignature
    email: str  # the proven address, for the receipt
    domain: str  # the one its address proved


async def start_signing(
    session: AsyncSession,
    cipher: FieldCipher,
    person: email_proofs.Person,
    pending: PendingSignature,
    *,
    company_name: str,
    public_url: str,
) -> str:
    """Mail a code to the signatory's company address (``pending.fields['email']``); the form
    waits for it. The code's uid. Raises :class:`EntryError` or
    :class:`~bot.services.email_proofs.ProofRefused`; nothing is recorded of the company."""
    email = pending.fields.get("email", "")
    domain_of(email)
    return await email_proofs.send(
        session,
        cipher,
        person,
        email,
        purpose=email_proofs.PURPOSE_COMPANY_SIGN,
        lang=pending.lang,
        mail_kind="company_code",
        mail_values={"public_url": public_url, "company": company_name, "why": "sign"},
        payload=asdict(pending),
    )


async def finish_signing(
    session: AsyncSession,
    cipher: FieldCipher,
    person: email_proofs.Person,
    uid: str,
    code: str,
    *,
    request_id: str,
) -> Signed:
    """Record the corporate signature that waited for this code, its address's domain first in
    its list and proven. Raises :class:`~bot.services.email_proofs.ProofRefused` (a wrong code
    is counted: the caller commits either way)."""
    taken = await email_proofs.take(
        session, cipher, person, uid, code, purpose=email_proofs.PURPOSE_COMPANY_SIGN
    )
    pending = PendingSignature.from_payload(taken.payload)
    proven = domain_of(taken.email)
    company = await sign(
        session,
        cipher,
        platform=person.platform,
        account_id=person.account_id,
        login=person.login,
        agreement_id=pending.agreement_id,
        version=pending.version,
        fields={**pending.fields, "email": taken.email},
        managers=pending.managers,
        domains=[proven],
        request_id=request_id,
        community=pending.community,
    )
    first = await _domain_entry(session, company, proven)
    if first is not None:
        first.proven_by, first.proven_at = PROVEN_BY_CODE, taken.at
    return Signed(company, pending, taken.email, proven)


async def _domain_entry(
    session: AsyncSession, company: Company, domain: str
) -> CompanyEntry | None:
    return (
        await session.scalars(
            select(CompanyEntry).where(
                CompanyEntry.company_id == company.id,
                CompanyEntry.kind == "domain",
                CompanyEntry.value == domain,
            )
        )
    ).first()


async def start_domain(
    session: AsyncSession,
    cipher: FieldCipher,
    person: email_proofs.Person,
    company: Company,
    email: str,
    *,
    lang: str,
    public_url: str,
) -> str:
    """A manager asks to prove the domain of ``email`` for ``company``: a code goes to it.
    Raises :class:`EntryError` or :class:`~bot.services.email_proofs.ProofRefused`."""
    domain = domain_of(email)
    entry = await _domain_entry(session, company, domain)
    if entry is not None and entry.proven_by is not None:
        raise EntryError(f"{domain} is proven already")
    return await email_proofs.send(
        session,
        cipher,
        person,
        email,
        purpose=email_proofs.PURPOSE_COMPANY_DOMAIN,
        lang=lang,
        mail_kind="company_code",
        mail_values={"public_url": public_url, "company": company.name, "why": "domain"},
        payload={"company": company.uid},
    )


async def finish_domain(
    session: AsyncSession,
    cipher: FieldCipher,
    person: email_proofs.Person,
    company: Company,
    uid: str,
    code: str,
    *,
    request_id: str,
) -> str:
    """The domain this code proves for ``company``, now in its list as proven and waiting for
    an administrator (one approved already stays approved). Raises
    :class:`~bot.services.email_proofs.ProofRefused`."""
    taken = await email_proofs.take(
        session, cipher, person, uid, code, purpose=email_proofs.PURPOSE_COMPANY_DOMAIN
    )
    if taken.payload.get("company") != company.uid:
        raise email_proofs.ProofRefused("unknown")
    domain = domain_of(taken.email)
    entry = await _domain_entry(session, company, domain)
    actor = f"{person.platform}:{person.account_id}"
    if entry is None:
        entry = CompanyEntry(
            company_id=company.id,
            kind="domain",
            value=domain,
            status=EntryStatus.PENDING,
            created_by=actor,
        )
        session.add(entry)
    elif entry.status == EntryStatus.REJECTED:
        entry.status, entry.decision_reason = EntryStatus.PENDING, None
    entry.proven_by, entry.proven_at = PROVEN_BY_CODE, taken.at
    await session.flush()
    await audit.record(
        session,
        action="company-domain-prove",
        actor=actor,
        via="web",
        request_id=request_id,
        details={"company": company.uid, "entry": entry.uid, "proven_by": PROVEN_BY_CODE},
    )
    return domain
