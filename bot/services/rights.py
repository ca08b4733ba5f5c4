"""Contributors' rights over their data: access and copy (export), correction, restriction and
erasure. Every operation is written to the audit trail without the values it touched.

Erasure removes contact ciphertexts, emails and their blind-index entries, linked accounts,
the records of which PRs the person contributed to, and any queued job payload about them; it
keeps, per signature, a tombstone with no contact data (agreement, version, signed and erased
times, a keyed hash of the signing account) so the community can still prove a grant existed
for past contributions. The person's open PRs are re-checked and show the CLA as required.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.services import audit
from bot.services.rechecks import enqueue_checks
from bot.storage import repositories as store
from bot.storage.crypto import FieldCipher
from bot.storage.models import (
    AgreementRow,
    AgreementVersionRow,
    AuditEvent,
    Job,
    JobKind,
    JobStatus,
    PrBlocker,
    Signature,
    Signer,
    SignerAccount,
    SignerEmail,
)

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
            .join(AgreementRow, AgreementVersionRow.agreement_id == AgreementRow.id)
            .where(Signature.signer_id == signer.id)
            .order_by(Signature.signed_at)
        )
    ).all()
    keys = await store.signer_identity_keys(session, signer.id)
    waiting = await store.checks_blocked_by(session, keys)
    trail = (
        await session.scalars(
            select(AuditEvent).where(AuditEvent.signer_id == signer.id).order_by(AuditEvent.id)
        )
    ).all()
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
            store.set_contact(cipher, signer, **{column: new})
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
    keys = await store.signer_identity_keys(session, signer.id)
    return await enqueue_checks(
        session, await store.checks_with_contributor(session, keys), "rights"
    )


@dataclass
class Erasure:
    contact_fields: list[str] = field(default_factory=list)
    emails: int = 0
    accounts: int = 0
    pr_records: int = 0
    job_payloads: int = 0
    kept: list[dict[str, str | None]] = field(default_factory=list)  # the tombstones
    rechecks: int = 0


async def erase(
    session: AsyncSession, cipher: FieldCipher, signer: Signer, *, actor: Actor
) -> Erasure:
    result = Erasure()
    now = datetime.now(UTC)
    keys = await store.signer_identity_keys(session, signer.id)
    prs = await store.checks_with_contributor(session, keys)
    accounts = (
        await session.scalars(select(SignerAccount).where(SignerAccount.signer_id == signer.id))
    ).all()
    account_keys = [f"{a.platform}:{a.account_id}" for a in accounts]
    first = accounts[0] if accounts else None
    result.contact_fields = [c for c in CONTACT_FIELDS if getattr(signer, f"{c}_ct")]
    rows = (
        await session.execute(
            select(Signature, AgreementVersionRow)
            .join(AgreementVersionRow, Signature.agreement_version_id == AgreementVersionRow.id)
            .where(Signature.signer_id == signer.id)
        )
    ).all()
    for sig, ver in rows:
        platform = sig.signed_platform or (first.platform if first else None)
        account_id = sig.signed_account_id or (first.account_id if first else None)
        sig.account_hash = (
            cipher.account_hash(platform, account_id) if platform and account_id else None
        )
        sig.erased_at = now
        sig.signed_account_id = None
        sig.signer_id = None
        result.kept.append(
            {
                "agreement": ver.agreement_id,
                "version": ver.version,
                "signed_at": sig.signed_at.date().isoformat(),
                "erased_at": now.date().isoformat(),
            }
        )
    result.emails = len(
        (
            await session.scalars(select(SignerEmail.id).where(SignerEmail.signer_id == signer.id))
        ).all()
    )
    result.accounts = len(accounts)
    await session.execute(delete(SignerEmail).where(SignerEmail.signer_id == signer.id))
    await session.execute(delete(SignerAccount).where(SignerAccount.signer_id == signer.id))
    if keys:
        deleted = await session.execute(delete(PrBlocker).where(PrBlocker.identity_key.in_(keys)))
        result.pr_records = int(getattr(deleted, "rowcount", 0) or 0)
    result.job_payloads = await _scrub_jobs(session, accounts)
    tombstone_actor = "erased:" + (
        cipher.account_hash(first.platform, first.account_id) if first else signer.uid
    )
    await audit.pseudonymise_actor(session, account_keys, tombstone_actor[:100])
    await audit.record(
        session,
        action="erase",
        actor=tombstone_actor if actor.key in account_keys else actor.key,
        via=actor.via,
        request_id=actor.request_id,
        signer_id=None,
        details={
            "contact_fields": result.contact_fields,
            "emails": result.emails,
            "accounts": result.accounts,
            "signatures_tombstoned": len(result.kept),
        },
    )
    await session.execute(
        update(AuditEvent).where(AuditEvent.signer_id == signer.id).values(signer_id=None)
    )
    await session.delete(signer)
    await session.flush()
    result.rechecks = await enqueue_checks(session, prs, "erasure")
    return result


async def _scrub_jobs(session: AsyncSession, accounts: Any) -> int:
    """Queued jobs that carry this person's account: a check's PR snapshot is dropped (the job
    re-reads the PR), a command of theirs not yet run is cancelled."""
    ids = {str(a.account_id) for a in accounts}
    if not ids:
        return 0
    scrubbed = 0
    jobs = (
        await session.scalars(
            select(Job).where(Job.status.in_([JobStatus.QUEUED, JobStatus.RUNNING, JobStatus.DEAD]))
        )
    ).all()
    for job in jobs:
        text = json.dumps(job.payload)
        if not any(f'"id": {i}' in text or f'"id": "{i}"' in text for i in ids):
            continue
        if job.kind == JobKind.CHECK:
            job.payload = {k: v for k, v in job.payload.items() if k != "pull"}
        elif job.status != JobStatus.RUNNING:
            job.payload = {}
            job.status = JobStatus.IGNORED
            job.last_error = "cancelled: payload erased at its owner's request"
        else:
            continue  # the erasure command itself
        scrubbed += 1
    return scrubbed
