"""Companies prove their domains: a domain entry says how and when it was proven (a code sent to
an address there); a code row can carry what waits for it (a corporate signature's form,
encrypted); managers can be invited by email (``company_invitations``, the link's token kept
only as a keyed hash); employees who proved a work address are kept in ``company_employees``
(covered, with ``cla.corporate.employees: confirm``, once a manager enables them).

Existing domain entries were never proven: they stay as they are, shown unproven to
administrators.

Revision ID: 0010_company_domain_proofs
Revises: 0009_email_proofs
Create Date: 2026-12-03 14:30:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010_company_domain_proofs"
down_revision = "0009_email_proofs"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("company_entries") as batch:
        batch.add_column(sa.Column("proven_by", sa.String(length=16), nullable=True))
        batch.add_column(sa.Column("proven_at", sa.DateTime(timezone=True), nullable=True))
    with op.batch_alter_table("email_proofs") as batch:
        batch.add_column(sa.Column("payload_ct", sa.Text(), nullable=True))
    op.create_table(
        "company_invitations",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("uid", sa.String(length=32), nullable=False),
        sa.Column("company_id", sa.Integer(), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("email_bidx", sa.String(length=64), nullable=True),
        sa.Column("email_ct", sa.Text(), nullable=True),
        sa.Column("invited_by", sa.String(length=100), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("used_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("cancelled_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["company_id"],
            ["companies.id"],
            name=op.f("fk_company_invitations_company_id_companies"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_company_invitations")),
        sa.UniqueConstraint("uid", name=op.f("uq_company_invitations_uid")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_company_invitations_token_hash")),
    )
    for column in ("company_id", "email_bidx"):
        op.create_index(op.f(f"ix_company_invitations_{column}"), "company_invitations", [column])

    op.create_table(
        "company_employees",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("uid", sa.String(length=32), nullable=False),
        sa.Column("company_id", sa.Integer(), nullable=False),
        sa.Column("email_bidx", sa.String(length=64), nullable=False),
        sa.Column("email_ct", sa.Text(), nullable=True),
        sa.Column("account_hash", sa.String(length=64), nullable=False),
        sa.Column("proven_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("enabled_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("enabled_by", sa.String(length=100), nullable=True),
        sa.ForeignKeyConstraint(
            ["company_id"],
            ["companies.id"],
            name=op.f("fk_company_employees_company_id_companies"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_company_employees")),
        sa.UniqueConstraint("uid", name=op.f("uq_company_employees_uid")),
        sa.UniqueConstraint(
            "company_id", "email_bidx", name=op.f("uq_company_employees_company_id_email_bidx")
        ),
    )
    for column in ("company_id", "email_bidx", "account_hash"):
        op.create_index(op.f(f"ix_company_employees_{column}"), "company_employees", [column])


def downgrade() -> None:
    op.drop_table("company_employees")
    op.drop_table("company_invitations")
    with op.batch_alter_table("email_proofs") as batch:
        batch.drop_column("payload_ct")
    with op.batch_alter_table("company_entries") as batch:
        batch.drop_column("proven_at")
        batch.drop_column("proven_by")
