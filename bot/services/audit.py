"""The audit trail of personal-data operations: who, what, when, by which request — never the
data itself."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.storage.models import AuditEvent

ACTIONS = (
    "sign",
    "correct",
    "restrict",
    "unrestrict",
    "export",
    "erase",
    "import",
    "read-contact",
    "agreement-replace",  # an unsigned version's published text replaced (cla-bot agreements)
    "email-prove",  # an address proven by a code sent to it
    "email-remove",  # an address removed by its signer
)
# Corporate CLAs: administrators' decisions, managers' changes to a company's list.
COMPANY_ACTIONS = (
    "company-approve",
    "company-reject",
    "company-entry-add",
    "company-entry-remove",
    "company-domain-prove",  # a manager proved a further domain by a code sent to it
    "company-invite",  # a manager invited another by email; accepting and cancelling it
    "company-invite-accept",
    "company-invite-cancel",
    "company-manager-remove",
    "company-employee-prove",  # an employee proved a work address (employees: confirm)
    "company-employee-enable",
    "company-employee-disable",
)

# Communities and links made or changed through the admin API, the CLI or the console.
COMMUNITY_ACTIONS = (
    "community-create",
    "community-rename",
    "community-delete",
    "community-link",
    "community-unlink",
)


async def record(
    session: AsyncSession,
    *,
    action: str,
    actor: str,
    via: str,
    request_id: str,
    signer_id: int | None = None,
    details: dict[str, Any] | None = None,
) -> None:
    if action not in ACTIONS + COMPANY_ACTIONS + COMMUNITY_ACTIONS:
        raise ValueError(f"unknown audit action {action!r}")
    session.add(
        AuditEvent(
            action=action,
            actor=actor[:100],
            via=via,
            request_id=request_id[:64],
            signer_id=signer_id,
            details=details or {},
        )
    )


async def pseudonymise_actor(session: AsyncSession, actors: list[str], replacement: str) -> None:
    """After an erasure, the person's own account ids in the trail become a keyed hash."""
    if actors:
        await session.execute(
            update(AuditEvent).where(AuditEvent.actor.in_(actors)).values(actor=replacement)
        )


async def events(
    session: AsyncSession, *, limit: int = 100, signer_id: int | None = None
) -> list[AuditEvent]:
    q = select(AuditEvent).order_by(AuditEvent.id.desc()).limit(limit)
    if signer_id is not None:
        q = q.where(AuditEvent.signer_id == signer_id)
    return list((await session.scalars(q)).all())
