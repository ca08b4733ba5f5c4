"""Email as a proven identity: each signer's address says how and when it was proven (by the
forge, by a code the bot sent, or by an import), and codes sent to prove an address are kept as
keyed hashes in ``email_proofs``.

Existing addresses came from a forge's verified list when their signer signed on the web, and
from an operator's import otherwise; both are dated when they were stored.

Revision ID: 0009_email_proofs
Revises: 0008_check_runs
Create Date: 2026-12-03 08:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009_email_proofs"
down_revision = "0008_check_runs"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("signer_emails") as batch:
        batch.add_column(sa.Column("proven_by", sa.String(length=16), nullable=True))
        batch.add_column(sa.Column("proven_at", sa.DateTime(timezone=True), nullable=True))
    op.execute(
        "UPDATE signer_emails SET proven_at = created_at, proven_by = CASE WHEN EXISTS ("
        "SELECT 1 FROM signatures WHERE signatures.signer_id = signer_emails.signer_id "
        "AND signatures.source = 'web') THEN 'forge' ELSE 'import' END"
    )
    with op.batch_alter_table("signer_emails") as batch:
        batch.alter_column("proven_by", existing_type=sa.String(length=16), nullable=False)
        batch.alter_column("proven_at", existing_type=sa.DateTime(timezone=True), nullable=False)
    op.create_table(
        "email_proofs",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("uid", sa.String(length=32), nullable=False),
        sa.Column("purpose", sa.String(length=16), nullable=False),
        sa.Column("account_hash", sa.String(length=64), nullable=False),
        sa.Column("email_bidx", sa.String(length=64), nullable=False),
        sa.Column("email_ct", sa.Text(), nullable=False),
        sa.Column("code_hash", sa.String(length=64), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("used_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_email_proofs")),
        sa.UniqueConstraint("uid", name=op.f("uq_email_proofs_uid")),
    )
    for column in ("account_hash", "email_bidx", "created_at"):
        op.create_index(op.f(f"ix_email_proofs_{column}"), "email_proofs", [column])


def downgrade() -> None:
    op.drop_table("email_proofs")
    with op.batch_alter_table("signer_emails") as batch:
        batch.drop_column("proven_at")
        batch.drop_column("proven_by")
