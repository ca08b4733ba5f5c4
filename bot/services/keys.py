"""Key rotation: re-encrypt every personal field under the primary data key, and rebuild the
blind indexes under a new index key.

Rotating the data key: put a new ``kid:key`` FIRST in ``CLA_ENCRYPTION_KEYS`` (keep the old ones
after it), restart, run ``cla-bot rotate-keys``; when it reports that no row uses an old key,
the old keys can be dropped from the variable.

Rotating the index key: set the new ``CLA_BLIND_INDEX_KEY`` and run ``cla-bot rotate-keys
--reindex``: email indexes are recomputed from the decrypted emails; the PR contributor records
(whose email and domain keys cannot be recomputed) are dropped and their PRs re-checked. Codes
sent to prove an address and pending invitations to manage a company are hashed under the old
key and can no longer be checked: the codes are dropped, the invitations cancelled (their
addresses dropped); people ask again.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.services.rechecks import enqueue_checks
from bot.storage.crypto import FieldCipher
from bot.storage.identity_keys import email_bidx
from bot.storage.models import (
    Base,
    Company,
    CompanyEmployee,
    CompanyEntry,
    CompanyInvitation,
    EmailProof,
    PrBlocker,
    PrCheck,
    Signer,
    SignerEmail,
    WebSession,
)

# (model, row-id attribute, {attribute: AAD column})
ENCRYPTED: tuple[tuple[type[Base], str, dict[str, str]], ...] = (
    (
        Signer,
        "uid",
        {"name_ct": "name", "address_ct": "address", "phone_ct": "phone", "fax_ct": "fax"},
    ),
    (SignerEmail, "uid", {"email_ct": "email"}),
    (
        Company,
        "uid",
        {
            "signatory_name_ct": "name",
            "signatory_title_ct": "title",
            "address_ct": "address",
            "email_ct": "email",
            "phone_ct": "phone",
            "fax_ct": "fax",
        },
    ),
    (CompanyEntry, "uid", {"value_ct": "value"}),
    (CompanyInvitation, "uid", {"email_ct": "email"}),
    (CompanyEmployee, "uid", {"email_ct": "email"}),
    (EmailProof, "uid", {"email_ct": "email", "payload_ct": "payload"}),
    (WebSession, "token_hash", {"data_ct": "data"}),
)


@dataclass
class Rotation:
    reencrypted: int = 0
    by_key_before: Counter[str] = field(default_factory=Counter)
    reindexed: int = 0
    rechecks: int = 0


async def reencrypt(session: AsyncSession, cipher: FieldCipher, *, batch: int = 500) -> Rotation:
    result = Rotation()
    for model, row_attr, columns in ENCRYPTED:
        table = model.__tablename__
        last = 0
        while True:
            rows = (
                await session.scalars(
                    select(model).where(model.id > last).order_by(model.id).limit(batch)  # type: ignore[attr-defined]
                )
            ).all()
            if not rows:
                break
            for row in rows:
                last = row.id  # type: ignore[attr-defined]
                for attr, column in columns.items():
                    token = getattr(row, attr)
                    if not token:
                        continue
                    result.by_key_before[cipher.key_id(token)] += 1
                    if cipher.needs_reencrypt(token):
                        setattr(
                            row,
                            attr,
                            cipher.reencrypt(
                                token, table=table, column=column, row=getattr(row, row_attr)
                            ),
                        )
                        result.reencrypted += 1
            await session.flush()
    return result


async def keys_in_use(session: AsyncSession, cipher: FieldCipher) -> Counter[str]:
    used: Counter[str] = Counter()
    for model, _row_attr, columns in ENCRYPTED:
        for attr in columns:
            for token in (await session.scalars(select(getattr(model, attr)))).all():
                if token:
                    used[cipher.key_id(token)] += 1
    return used


async def reindex(session: AsyncSession, cipher: FieldCipher) -> tuple[int, int]:
    """Recompute email blind indexes under the current index key; returns (rows, re-checks)."""
    n = 0
    for email_row in (await session.scalars(select(SignerEmail))).all():
        email = cipher.decrypt(
            email_row.email_ct, table="signer_emails", column="email", row=email_row.uid
        )
        email_row.email_bidx = email_bidx(cipher, email)
        n += 1
    for entry in (
        await session.scalars(select(CompanyEntry).where(CompanyEntry.kind == "email"))
    ).all():
        if entry.value_ct:
            email = cipher.decrypt(
                entry.value_ct, table="company_entries", column="value", row=entry.uid
            )
            entry.value = email_bidx(cipher, email)
            n += 1
    for employee in (await session.scalars(select(CompanyEmployee))).all():
        if employee.email_ct:
            email = cipher.decrypt(
                employee.email_ct, table="company_employees", column="email", row=employee.uid
            )
            employee.email_bidx = email_bidx(cipher, email)
            n += 1
    await session.execute(delete(EmailProof))  # each code's hash is bound to the old index
    for invitation in (
        await session.scalars(
            select(CompanyInvitation).where(
                CompanyInvitation.used_at.is_(None), CompanyInvitation.cancelled_at.is_(None)
            )
        )
    ).all():  # the link's token was hashed under the old key: nobody can open it any more
        invitation.cancelled_at = datetime.now(UTC)
        invitation.email_ct, invitation.email_bidx = None, None
        n += 1
    open_checks = list(
        (await session.scalars(select(PrCheck).where(PrCheck.state == "open"))).all()
    )
    await session.execute(delete(PrBlocker))
    rechecks = await enqueue_checks(session, open_checks, "reindex")
    return n, rechecks
