"""Access and copy (:func:`export`), correction and restriction of a signer's data; each is
written to the audit trail without the values it touched."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.services import audit
from bot.services.rechecks import enqueue_checks
from bot.storage.agreements import AGREEMENT_OF_VERSION
from bot.storage.crypto import FieldCipher
from bot.storage.models import (
    AgreementRow,
    AgreementVersionRow,
    AuditEvent,
    Company,
    CompanyEmployee,
    CompanyInvitation,
    EmailProof,
    Signature,
    Signer,
    SignerAccount,
    SignerEmail,
)
from bot.storage.pr_checks import checks_blocked_by, checks_with_contributor
from bot.storage.signatures import set_contact, signer_identity_keys

EXPORT_FORMAT = "cla-bot/personal-data/v1"
CONTACT_FIELDS = ("name", "address", "phone", "fax")


@dataclass(frozen=True, slots=True)
class Actor:
    """Who asks: ``platform:account_id``, through which channel, in which request."""

    key: str
    via: str
    request_id: str


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


async def export(session: AsyncSession, cipher: FieldCipher, signer: Signer) -> dict[str, Any]:
    """Every stored field about this person, decrypted (machine-readable; see README)."""
    contact = {
        column: cipher.decrypt_optional(
            getattr(signer, f"{column}_ct"), table="signers", column=column, row=signer.uid
        )
        for column in CONTACT_FIELDS
    }
    accounts = (
        await session.scalars(
            select(SignerAccount)
            .where(SignerAccount.signer_id == signer.id)
            .order_by(SignerAccount.id)
        )
    ).all()
    emails = (
        await session.scalars(
            select(SignerEmail).where(SignerEmail.signer_id == signer.id).order_by(SignerEmail.id)
        )
    ).all()
    sigs = (
        await session.execute(
            select(Signature, AgreementVersionRow, AgreementRow)
            .join(AgreementVersionRow, Signature.agreement_version_id == AgreementVersionRow.id)
            .join(AgreementRow, AGREEMENT_OF_VERSION)
            .where(Signature.signer_id == signer.id)
            .order_by(Signature.signed_at)
        )
    ).all()
    keys = await signer_identity_keys(session, signer.id)
    waiting = await checks_blocked_by(session, keys)
    trail = (
        await session.scalars(
            select(AuditEvent).where(AuditEvent.signer_id == signer.id).order_by(AuditEvent.id)
        )
    ).all()
    corporate = await _corporate_rows(session, cipher, accounts, [e.email_bidx for e in emails])
    return {
        "format": EXPORT_FORMAT,
        "exported_at": datetime.now(UTC).isoformat(),
        "person": {
            "id": signer.uid,
            "created_at": _iso(signer.created_at),
            "updated_at": _iso(signer.updated_at),
            "restricted_at": _iso(signer.restricted_at),
            **contact,
        },
        "accounts": [
            {
                "platform": a.platform,
                "account_id": a.account_id,
                "login": a.login,
                "linked_at": _iso(a.created_at),
            }
            for a in accounts
        ],
        "emails": [
            {
                "email": cipher.decrypt(
                    e.email_ct, table="signer_emails", column="email", row=e.uid
                ),
                "verified": e.verified,
                "added_at": _iso(e.created_at),
            }
            for e in emails
        ],
        "signatures": [
            {
                "community": agr.community_id,
                "agreement": agr.id,
                "agreement_title": agr.title,
                "version": ver.version,
                "text_sha256": ver.text_sha256,
                "signed_at": _iso(sig.signed_at),
                "source": sig.source,
                "signed_with": f"{sig.signed_platform}:{sig.signed_account_id}"
                if sig.signed_platform
                else None,
                "revoked_at": _iso(sig.revoked_at),
            }
            for sig, ver, agr in sigs
        ],
        "pull_requests_waiting": [
            {"platform": c.platform, "repository": c.repo_full_name, "number": c.number}
            for c in waiting
        ],
        "audit_trail": [
            {"at": _iso(ev.at), "action": ev.action, "via": ev.via, "request_id": ev.request_id}
            for ev in trail
        ],
        **corporate,
    }


async def _corporate_rows(
    session: AsyncSession,
    cipher: FieldCipher,
    accounts: Sequence[SignerAccount],
    bidxs: Sequence[str],
) -> dict[str, list[dict[str, Any]]]:
    """What corporate CLAs hold about the person: work addresses they proved for a company,
    invitations to manage one mailed to their addresses, codes they asked for (never a code)."""
    hashes = [cipher.account_hash(a.platform, a.account_id) for a in accounts]
    staff = (
        await session.execute(
            select(CompanyEmployee, Company)
            .join(Company, Company.id == CompanyEmployee.company_id)
            .where(
                or_(CompanyEmployee.account_hash.in_(hashes), CompanyEmployee.email_bidx.in_(bidxs))
            )
            .order_by(CompanyEmployee.id)
        )
    ).all()
    invited = (
        await session.execute(
            select(CompanyInvitation, Company)
            .join(Company, Company.id == CompanyInvitation.company_id)
            .where(CompanyInvitation.email_bidx.in_(bidxs))
            .order_by(CompanyInvitation.id)
        )
    ).all()
    codes = (
        await session.scalars(
            select(EmailProof).where(EmailProof.account_hash.in_(hashes)).order_by(EmailProof.id)
        )
    ).all()
    return {
        "company_work_addresses": [
            {
                "company": c.name,
                "email": cipher.decrypt_optional(
                    e.email_ct, table="company_employees", column="email", row=e.uid
                ),
                "proven_at": _iso(e.proven_at),
                "enabled_at": _iso(e.enabled_at),
            }
            for e, c in staff
        ],
        "company_invitations": [
            {
                "company": c.name,
                "email": cipher.decrypt_optional(
                    i.email_ct, table="company_invitations", column="email", row=i.uid
                ),
                "sent_at": _iso(i.created_at),
                "expires_at": _iso(i.expires_at),
            }
            for i, c in invited
        ],
        "codes_asked": [
            {
                "purpose": p.purpose,
                "email": cipher.decrypt(
                    p.email_ct, table="email_proofs", column="email", row=p.uid
                ),
                "sent_at": _iso(p.created_at),
                "used_at": _iso(p.used_at),
            }
            for p in codes
        ],
    }


async def correct(
    session: AsyncSession,
    cipher: FieldCipher,
    signer: Signer,
    changes: dict[str, str],
    *,
    actor: Actor,
) -> list[str]:
    """Re-encrypt the changed contact fields; the audit names the fields, never the values."""
    changed: list[str] = []
    for column in CONTACT_FIELDS:
        if column not in changes:
            continue
        new = changes[column].strip()
        old = cipher.decrypt_optional(
            getattr(signer, f"{column}_ct"), table="signers", column=column, row=signer.uid
        )
        if (old or "") != new:
            set_contact(cipher, signer, **{column: new})
            changed.append(column)
    if changed:
        await audit.record(
            session,
            action="correct",
            actor=actor.key,
            via=actor.via,
            request_id=actor.request_id,
            signer_id=signer.id,
            details={"fields": changed},
        )
    return changed


async def restrict(session: AsyncSession, signer: Signer, *, restricted: bool, actor: Actor) -> int:
    """Keep the record but stop using it for checks (or lift that); re-checks the person's PRs."""
    if (signer.restricted_at is not None) == restricted:
        return 0
    signer.restricted_at = datetime.now(UTC) if restricted else None
    await audit.record(
        session,
        action="restrict" if restricted else "unrestrict",
        actor=actor.key,
        via=actor.via,
        request_id=actor.request_id,
        signer_id=signer.id,
    )
    keys = await signer_identity_keys(session, signer.id)
    return await enqueue_checks(session, await checks_with_contributor(session, keys), "rights")
