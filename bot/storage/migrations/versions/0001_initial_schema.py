"""initial schema

Revision ID: 0001
Revises:
Create Date: 2026-11-23 11:41:56.427137
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import bot.storage.models

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:

    op.create_table(
        "agreements",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("title", sa.String(length=255), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("created_at", bot.storage.models.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_agreements")),
    )
    op.create_table(
        "installations",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("platform", sa.String(length=16), nullable=False),
        sa.Column("installation_id", sa.BigInteger(), nullable=False),
        sa.Column("account_login", sa.String(length=255), nullable=False),
        sa.Column("suspended_at", bot.storage.models.UTCDateTime(timezone=True), nullable=True),
        sa.Column("deleted_at", bot.storage.models.UTCDateTime(timezone=True), nullable=True),
        sa.Column("paused_until", bot.storage.models.UTCDateTime(timezone=True), nullable=True),
        sa.Column("created_at", bot.storage.models.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", bot.storage.models.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_installations")),
        sa.UniqueConstraint(
            "platform", "installation_id", name=op.f("uq_installations_platform_installation_id")
        ),
    )
    op.create_table(
        "jobs",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("platform", sa.String(length=16), nullable=False),
        sa.Column("delivery_key", sa.String(length=128), nullable=False),
        sa.Column("event", sa.String(length=64), nullable=False),
        sa.Column("action", sa.String(length=64), nullable=True),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("pr_key", sa.String(length=300), nullable=True),
        sa.Column("installation_id", sa.BigInteger(), nullable=True),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("run_after", bot.storage.models.UTCDateTime(timezone=True), nullable=False),
        sa.Column("lease_until", bot.storage.models.UTCDateTime(timezone=True), nullable=True),
        sa.Column("locked_by", sa.String(length=64), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("created_at", bot.storage.models.UTCDateTime(timezone=True), nullable=False),
        sa.Column("finished_at", bot.storage.models.UTCDateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_jobs")),
        sa.UniqueConstraint("platform", "delivery_key", name=op.f("uq_jobs_platform_delivery_key")),
    )
    with op.batch_alter_table("jobs", schema=None) as batch_op:
        batch_op.create_index("ix_jobs_claim", ["status", "run_after"], unique=False)
        batch_op.create_index("ix_jobs_pr_key_status", ["pr_key", "status"], unique=False)

    op.create_table(
        "pr_checks",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("platform", sa.String(length=16), nullable=False),
        sa.Column("repo_full_name", sa.String(length=255), nullable=False),
        sa.Column("repo_id", sa.BigInteger(), nullable=True),
        sa.Column("installation_id", sa.BigInteger(), nullable=True),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("head_sha", sa.String(length=64), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("outcome", sa.String(length=16), nullable=True),
        sa.Column("status_state", sa.String(length=16), nullable=True),
        sa.Column("status_description", sa.String(length=140), nullable=True),
        sa.Column("status_sha", sa.String(length=64), nullable=True),
        sa.Column("comment_id", sa.BigInteger(), nullable=True),
        sa.Column("comment_sha256", sa.String(length=64), nullable=True),
        sa.Column("checked_at", bot.storage.models.UTCDateTime(timezone=True), nullable=True),
        sa.Column("created_at", bot.storage.models.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", bot.storage.models.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_pr_checks")),
        sa.UniqueConstraint(
            "platform",
            "repo_full_name",
            "number",
            name=op.f("uq_pr_checks_platform_repo_full_name_number"),
        ),
    )
    op.create_table(
        "repositories",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("platform", sa.String(length=16), nullable=False),
        sa.Column("forge_repo_id", sa.BigInteger(), nullable=True),
        sa.Column("full_name", sa.String(length=255), nullable=False),
        sa.Column("installation_id", sa.BigInteger(), nullable=True),
        sa.Column("removed_at", bot.storage.models.UTCDateTime(timezone=True), nullable=True),
        sa.Column("created_at", bot.storage.models.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_repositories")),
        sa.UniqueConstraint(
            "platform", "full_name", name=op.f("uq_repositories_platform_full_name")
        ),
    )
    op.create_table(
        "signers",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("uid", sa.String(length=32), nullable=False),
        sa.Column("name_ct", sa.Text(), nullable=True),
        sa.Column("address_ct", sa.Text(), nullable=True),
        sa.Column("phone_ct", sa.Text(), nullable=True),
        sa.Column("fax_ct", sa.Text(), nullable=True),
        sa.Column("restricted_at", bot.storage.models.UTCDateTime(timezone=True), nullable=True),
        sa.Column("created_at", bot.storage.models.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", bot.storage.models.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_signers")),
        sa.UniqueConstraint("uid", name=op.f("uq_signers_uid")),
    )
    op.create_table(
        "agreement_versions",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("agreement_id", sa.String(length=64), nullable=False),
        sa.Column("version", sa.String(length=32), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("text_sha256", sa.String(length=64), nullable=False),
        sa.Column("compatible", sa.Boolean(), nullable=False),
        sa.Column("fields", sa.JSON(), nullable=False),
        sa.Column("published_at", bot.storage.models.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["agreement_id"],
            ["agreements.id"],
            name=op.f("fk_agreement_versions_agreement_id_agreements"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_agreement_versions")),
        sa.UniqueConstraint(
            "agreement_id", "version", name=op.f("uq_agreement_versions_agreement_id_version")
        ),
    )
    op.create_table(
        "pr_blockers",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("pr_check_id", sa.Integer(), nullable=False),
        sa.Column("identity_key", sa.String(length=100), nullable=False),
        sa.Column("created_at", bot.storage.models.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["pr_check_id"],
            ["pr_checks.id"],
            name=op.f("fk_pr_blockers_pr_check_id_pr_checks"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_pr_blockers")),
        sa.UniqueConstraint(
            "pr_check_id", "identity_key", name=op.f("uq_pr_blockers_pr_check_id_identity_key")
        ),
    )
    with op.batch_alter_table("pr_blockers", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_pr_blockers_identity_key"), ["identity_key"], unique=False
        )

    op.create_table(
        "signer_accounts",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("signer_id", sa.Integer(), nullable=False),
        sa.Column("platform", sa.String(length=16), nullable=False),
        sa.Column("account_id", sa.String(length=64), nullable=False),
        sa.Column("login", sa.String(length=255), nullable=True),
        sa.Column("created_at", bot.storage.models.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["signer_id"],
            ["signers.id"],
            name=op.f("fk_signer_accounts_signer_id_signers"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_signer_accounts")),
        sa.UniqueConstraint(
            "platform", "account_id", name=op.f("uq_signer_accounts_platform_account_id")
        ),
    )
    with op.batch_alter_table("signer_accounts", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_signer_accounts_signer_id"), ["signer_id"], unique=False
        )

    op.create_table(
        "signer_emails",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("uid", sa.String(length=32), nullable=False),
        sa.Column("signer_id", sa.Integer(), nullable=False),
        sa.Column("email_ct", sa.Text(), nullable=False),
        sa.Column("email_bidx", sa.String(length=64), nullable=False),
        sa.Column("verified", sa.Boolean(), nullable=False),
        sa.Column("created_at", bot.storage.models.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["signer_id"],
            ["signers.id"],
            name=op.f("fk_signer_emails_signer_id_signers"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_signer_emails")),
        sa.UniqueConstraint(
            "signer_id", "email_bidx", name=op.f("uq_signer_emails_signer_id_email_bidx")
        ),
        sa.UniqueConstraint("uid", name=op.f("uq_signer_emails_uid")),
    )
    with op.batch_alter_table("signer_emails", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_signer_emails_email_bidx"), ["email_bidx"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_signer_emails_signer_id"), ["signer_id"], unique=False)

    op.create_table(
        "signatures",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("signer_id", sa.Integer(), nullable=True),
        sa.Column("agreement_version_id", sa.Integer(), nullable=False),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("signed_at", bot.storage.models.UTCDateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", bot.storage.models.UTCDateTime(timezone=True), nullable=True),
        sa.Column("erased_at", bot.storage.models.UTCDateTime(timezone=True), nullable=True),
        sa.Column("account_hash", sa.String(length=64), nullable=True),
        sa.Column("created_at", bot.storage.models.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["agreement_version_id"],
            ["agreement_versions.id"],
            name=op.f("fk_signatures_agreement_version_id_agreement_versions"),
        ),
        sa.ForeignKeyConstraint(
            ["signer_id"],
            ["signers.id"],
            name=op.f("fk_signatures_signer_id_signers"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_signatures")),
    )
    with op.batch_alter_table("signatures", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_signatures_signer_id"), ["signer_id"], unique=False)


def downgrade() -> None:

    with op.batch_alter_table("signatures", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_signatures_signer_id"))

    op.drop_table("signatures")
    with op.batch_alter_table("signer_emails", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_signer_emails_signer_id"))
        batch_op.drop_index(batch_op.f("ix_signer_emails_email_bidx"))

    op.drop_table("signer_emails")
    with op.batch_alter_table("signer_accounts", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_signer_accounts_signer_id"))

    op.drop_table("signer_accounts")
    with op.batch_alter_table("pr_blockers", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_pr_blockers_identity_key"))

    op.drop_table("pr_blockers")
    op.drop_table("agreement_versions")
    op.drop_table("signers")
    op.drop_table("repositories")
    op.drop_table("pr_checks")
    with op.batch_alter_table("jobs", schema=None) as batch_op:
        batch_op.drop_index("ix_jobs_pr_key_status")
        batch_op.drop_index("ix_jobs_claim")

    op.drop_table("jobs")
    op.drop_table("installations")
    op.drop_table("agreements")
