"""Erasure that erases: web sessions carry a keyed hash of their account (so an erasure ends
every session of that person), and a ``/cla delete-my-data`` waits for its confirmation.

Sessions stored before this revision cannot be matched to their account without decrypting
them, so they are dropped: everyone signed in to the web pages signs in again once.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-24 09:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import bot.storage.models

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(sa.text("DELETE FROM web_sessions"))
    with op.batch_alter_table("web_sessions", recreate="auto") as batch:
        batch.add_column(
            sa.Column("account_hash", sa.String(length=64), nullable=False, server_default="")
        )
    with op.batch_alter_table("web_sessions") as batch:
        batch.alter_column("account_hash", server_default=None)
        batch.create_index(batch.f("ix_web_sessions_account_hash"), ["account_hash"], unique=False)
    op.create_table(
        "erasure_requests",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("account_hash", sa.String(length=64), nullable=False),
        sa.Column("requested_at", bot.storage.models.UTCDateTime(timezone=True), nullable=False),
        sa.Column("expires_at", bot.storage.models.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_erasure_requests")),
        sa.UniqueConstraint("account_hash", name=op.f("uq_erasure_requests_account_hash")),
    )
    op.create_index(
        op.f("ix_erasure_requests_expires_at"), "erasure_requests", ["expires_at"], unique=False
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_erasure_requests_expires_at"), table_name="erasure_requests")
    op.drop_table("erasure_requests")
    with op.batch_alter_table("web_sessions") as batch:
        batch.drop_index(batch.f("ix_web_sessions_account_hash"))
        batch.drop_column("account_hash")
