"""Corporate CLAs: companies, their managers and who they cover.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-23 12:32:05.236109
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import bot.storage.models

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:

    op.create_table(
        "companies",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("uid", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("agreement_version_id", sa.Integer(), nullable=False),
        sa.Column("signatory_name_ct", sa.Text(), nullable=True),
        sa.Column("signatory_title_ct", sa.Text(), nullable=True),
        sa.Column("address_ct", sa.Text(), nullable=True),
        sa.Column("email_ct", sa.Text(), nullable=True),
        sa.Column("phone_ct", sa.Text(), nullable=True),
        sa.Column("fax_ct", sa.Text(), nullable=True),
        sa.Column("signed_platform", sa.String(length=16), nullable=False),
        sa.Column("signed_account_id", sa.String(length=64), nullable=False),
        sa.Column("signed_at", bot.storage.models.UTCDateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", bot.storage.models.UTCDateTime(timezone=True), nullable=True),
        sa.Column("created_at", bot.storage.models.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["agreement_version_id"],
            ["agreement_versions.id"],
            name=op.f("fk_companies_agreement_version_id_agreement_versions"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_companies")),
        sa.UniqueConstraint("uid", name=op.f("uq_companies_uid")),
    )
    op.create_table(
        "company_entries",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("uid", sa.String(length=32), nullable=False),
        sa.Column("company_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("value", sa.String(length=300), nullable=False),
        sa.Column("value_ct", sa.Text(), nullable=True),
        sa.Column("created_by", sa.String(length=100), nullable=False),
        sa.Column("created_at", bot.storage.models.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["company_id"],
            ["companies.id"],
            name=op.f("fk_company_entries_company_id_companies"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_company_entries")),
        sa.UniqueConstraint(
            "company_id", "kind", "value", name=op.f("uq_company_entries_company_id_kind_value")
        ),
        sa.UniqueConstraint("uid", name=op.f("uq_company_entries_uid")),
    )
    with op.batch_alter_table("company_entries", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_company_entries_company_id"), ["company_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_company_entries_value"), ["value"], unique=False)

    op.create_table(
        "company_managers",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("company_id", sa.Integer(), nullable=False),
        sa.Column("platform", sa.String(length=16), nullable=False),
        sa.Column("login", sa.String(length=255), nullable=False),
        sa.Column("account_id", sa.String(length=64), nullable=True),
        sa.Column("created_at", bot.storage.models.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["company_id"],
            ["companies.id"],
            name=op.f("fk_company_managers_company_id_companies"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_company_managers")),
        sa.UniqueConstraint(
            "company_id",
            "platform",
            "login",
            name=op.f("uq_company_managers_company_id_platform_login"),
        ),
    )
    with op.batch_alter_table("company_managers", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_company_managers_company_id"), ["company_id"], unique=False
        )


def downgrade() -> None:

    with op.batch_alter_table("company_managers", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_company_managers_company_id"))

    op.drop_table("company_managers")
    with op.batch_alter_table("company_entries", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_company_entries_value"))
        batch_op.drop_index(batch_op.f("ix_company_entries_company_id"))

    op.drop_table("company_entries")
    op.drop_table("companies")
