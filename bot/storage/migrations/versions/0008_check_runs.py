"""Check runs beside the commit status: each PR record remembers the bot's check run on its
head (id, sha, conclusion and a digest of what it shows), so that the run is updated in place
and a re-check that changes nothing writes nothing.

Every new column is nullable: records made before this revision have no check run yet, and the
next check of their PR creates one.

Revision ID: 0008_check_runs
Revises: 0007
Create Date: 2026-12-01 09:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008_check_runs"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("pr_checks") as batch:
        batch.add_column(sa.Column("check_run_id", sa.BigInteger(), nullable=True))
        batch.add_column(sa.Column("check_run_sha", sa.String(length=64), nullable=True))
        batch.add_column(sa.Column("check_run_conclusion", sa.String(length=32), nullable=True))
        batch.add_column(sa.Column("check_run_sha256", sa.String(length=64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("pr_checks") as batch:
        batch.drop_column("check_run_sha256")
        batch.drop_column("check_run_conclusion")
        batch.drop_column("check_run_sha")
        batch.drop_column("check_run_id")
