"""Communities: one deployment serves several, each owning its agreements. ``communities`` holds
them (from app.yaml or the console), ``community_links`` binds forge scopes (an owner, or one
repository) to one of them. An agreement's id is unique within its community only: the primary
key of ``agreements`` becomes (community_id, id), and a version names its agreement by both.

Existing agreements, and so their versions and every signature of them, move into the
community ``default`` (what a file with only a ``cla:`` section describes). Signatures and
companies keep pointing at their version's row, whose id does not change.

Downgrading is possible while no other community has an agreement.

Revision ID: 0011_communities
Revises: 0010_company_domain_proofs
Create Date: 2026-12-03 17:30:00.000000
"""

from __future__ import annotations

from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

revision = "0011_communities"
down_revision = "0010_company_domain_proofs"
branch_labels = None
depends_on = None

DEFAULT = "default"  # bot.core.communities.DEFAULT_COMMUNITY, frozen as this revision saw it


def upgrade() -> None:
    communities = op.create_table(
        "communities",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_communities")),
    )
    op.bulk_insert(
        communities,
        [{"id": DEFAULT, "name": "Default", "source": "file", "created_at": datetime.now(UTC)}],
    )
    op.create_table(
        "community_links",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("community_id", sa.String(length=64), nullable=False),
        sa.Column("platform", sa.String(length=16), nullable=False),
        sa.Column("owner", sa.String(length=255), nullable=False),
        sa.Column("repo", sa.String(length=255), server_default="", nullable=False),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["community_id"],
            ["communities.id"],
            name=op.f("fk_community_links_community_id_communities"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_community_links")),
        sa.UniqueConstraint(
            "platform", "owner", "repo", name=op.f("uq_community_links_platform_owner_repo")
        ),
    )
    op.create_index(op.f("ix_community_links_community_id"), "community_links", ["community_id"])

    # The versions let go of the agreements' old key before it changes.
    with op.batch_alter_table("agreement_versions") as batch:
        batch.drop_constraint(
            op.f("fk_agreement_versions_agreement_id_agreements"), type_="foreignkey"
        )
        batch.drop_constraint(op.f("uq_agreement_versions_agreement_id_version"), type_="unique")
        batch.add_column(sa.Column("community_id", sa.String(length=64), nullable=True))
    with op.batch_alter_table("agreements") as batch:
        batch.add_column(sa.Column("community_id", sa.String(length=64), nullable=True))

    bind = op.get_bind()
    bind.execute(sa.text("UPDATE agreements SET community_id = :c"), {"c": DEFAULT})
    bind.execute(sa.text("UPDATE agreement_versions SET community_id = :c"), {"c": DEFAULT})

    with op.batch_alter_table("agreements") as batch:
        batch.alter_column("community_id", existing_type=sa.String(length=64), nullable=False)
        batch.drop_constraint(op.f("pk_agreements"), type_="primary")
        batch.create_primary_key(op.f("pk_agreements"), ["community_id", "id"])
        batch.create_foreign_key(
            op.f("fk_agreements_community_id_communities"),
            "communities",
            ["community_id"],
            ["id"],
        )
    with op.batch_alter_table("agreement_versions") as batch:
        batch.alter_column("community_id", existing_type=sa.String(length=64), nullable=False)
        batch.create_unique_constraint(
            op.f("uq_agreement_versions_community_id_agreement_id_version"),
            ["community_id", "agreement_id", "version"],
        )
        batch.create_foreign_key(
            op.f("fk_agreement_versions_community_id_agreements"),
            "agreements",
            ["community_id", "agreement_id"],
            ["community_id", "id"],
        )


def downgrade() -> None:
    bind = op.get_bind()
    others = bind.execute(
        sa.text("SELECT DISTINCT community_id FROM agreements WHERE community_id <> :c"),
        {"c": DEFAULT},
    ).scalars()
    if found := sorted(others):
        raise RuntimeError(
            "cannot downgrade below 0011_communities: communities other than "
            f"{DEFAULT!r} have agreements ({', '.join(found)}); before it, one deployment had "
            "one set of agreements"
        )

    with op.batch_alter_table("agreement_versions") as batch:
        batch.drop_constraint(
            op.f("fk_agreement_versions_community_id_agreements"), type_="foreignkey"
        )
        batch.drop_constraint(
            op.f("uq_agreement_versions_community_id_agreement_id_version"), type_="unique"
        )
        batch.drop_column("community_id")
        batch.create_unique_constraint(
            op.f("uq_agreement_versions_agreement_id_version"), ["agreement_id", "version"]
        )
    with op.batch_alter_table("agreements") as batch:
        batch.drop_constraint(op.f("fk_agreements_community_id_communities"), type_="foreignkey")
        batch.drop_constraint(op.f("pk_agreements"), type_="primary")
        batch.drop_column("community_id")
        batch.create_primary_key(op.f("pk_agreements"), ["id"])
    with op.batch_alter_table("agreement_versions") as batch:
        batch.create_foreign_key(
            op.f("fk_agreement_versions_agreement_id_agreements"),
            "agreements",
            ["agreement_id"],
            ["id"],
        )

    op.drop_index(op.f("ix_community_links_community_id"), table_name="community_links")
    op.drop_table("community_links")
    op.drop_table("communities")
