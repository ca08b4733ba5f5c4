"""Corporate CLAs wait for an administrator; account entries hold confirmed account ids.

Existing companies become ``pending``: they covered people without anyone deciding, so they
cover nobody until an administrator approves them (``cla-bot company approve ID``). Their
domains are part of that decision (``pending``); their emails count again once the company is
approved (``approved``).

Account entries listed by login (``github:alice``) named whoever held that login, confirmed
by nobody. They cannot be turned into account ids here (that needs the forge), so they are kept,
``unconfirmed`` and matching nobody, with the login in ``login`` and their value moved to
``login:github:alice`` (a form no account key can take, since ids are digits and a login may be
too); the company page asks its managers to add them again, which confirms the id with the forge.

Revision ID: 0006
Revises: 0005
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import bot.storage.models

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("companies", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("status", sa.String(length=16), server_default="pending", nullable=False)
        )
        batch_op.add_column(
            sa.Column("decided_at", bot.storage.models.UTCDateTime(timezone=True), nullable=True)
        )
        batch_op.add_column(sa.Column("decided_by", sa.String(length=100), nullable=True))
        batch_op.add_column(sa.Column("decision_reason", sa.String(length=500), nullable=True))
    with op.batch_alter_table("company_entries", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("status", sa.String(length=16), server_default="pending", nullable=False)
        )
        batch_op.add_column(sa.Column("login", sa.String(length=255), nullable=True))
        batch_op.add_column(sa.Column("decision_reason", sa.String(length=500), nullable=True))

    entries = sa.table(
        "company_entries",
        sa.column("kind", sa.String),
        sa.column("value", sa.String),
        sa.column("status", sa.String),
        sa.column("login", sa.String),
    )
    # Every existing company is pending (the server default) and so is each domain; emails
    # count once the company is approved.
    op.execute(entries.update().where(entries.c.kind == "email").values(status="approved"))
    conn = op.get_bind()
    for value in conn.execute(
        sa.select(entries.c.value).where(entries.c.kind == "login")
    ).scalars():
        _, _, login = value.partition(":")
        conn.execute(
            entries.update()
            .where(entries.c.kind == "login", entries.c.value == value)
            .values(status="unconfirmed", login=login, value="login:" + value)
        )


def downgrade() -> None:
    entries = sa.table(
        "company_entries",
        sa.column("id", sa.Integer),
        sa.column("company_id", sa.Integer),
        sa.column("kind", sa.String),
        sa.column("value", sa.String),
        sa.column("login", sa.String),
    )
    conn = op.get_bind()
    # Account entries go back to the platform:login form they were listed in (one per login).
    rows = conn.execute(
        sa.select(entries.c.id, entries.c.company_id, entries.c.value, entries.c.login)
        .where(entries.c.kind == "login")
        .order_by(entries.c.id)
    ).all()
    seen: set[tuple[int, str]] = set()
    for row_id, company_id, value, login in rows:
        platform = value.removeprefix("login:").partition(":")[0]
        old = f"{platform}:{(login or '').lower()}"
        if (company_id, old) in seen:
            conn.execute(entries.delete().where(entries.c.id == row_id))
            continue
        seen.add((company_id, old))
        conn.execute(entries.update().where(entries.c.id == row_id).values(value=old))
    with op.batch_alter_table("company_entries", schema=None) as batch_op:
        batch_op.drop_column("decision_reason")
        batch_op.drop_column("login")
        batch_op.drop_column("status")
    with op.batch_alter_table("companies", schema=None) as batch_op:
        batch_op.drop_column("decision_reason")
        batch_op.drop_column("decided_by")
        batch_op.drop_column("decided_at")
        batch_op.drop_column("status")
