"""Each PR record names the community its check ran in (``pr_checks.community_id``), so that a
signature re-checks only that community's PRs: signing one community's agreement never covers
another's, and need not spend forge requests on them. NULL: no community covers the repository
("no CLA configured").

Existing records were checked against the one policy there was: they move into ``default``.

Revision ID: 0012_pr_check_community
Revises: 0011_communities
Create Date: 2026-12-03 18:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0012_pr_check_community"
down_revision = "0011_communities"
branch_labels = None
depends_on = None

DEFAULT = "default"  # bot.core.communities.DEFAULT_COMMUNITY, frozen as this revision saw it


def upgrade() -> None:
    with op.batch_alter_table("pr_checks") as batch:
        batch.add_column(sa.Column("community_id", sa.String(length=64), nullable=True))
    op.execute(sa.text("UPDATE pr_checks SET community_id = :d").bindparams(d=DEFAULT))


def downgrade() -> None:
    with op.batch_alter_table("pr_checks") as batch:
        batch.drop_column("community_id")
