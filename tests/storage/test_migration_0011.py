"""Revision 0011_communities on a database with data in it: every agreement, its versions and so
every signature and company move into the community ``default`` and still join up; afterwards
a second community can have an agreement of the same id, and one scope belongs to one
community. The downgrade gives the single set of agreements back while only ``default`` has
any, and refuses otherwise."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from alembic import command
from alembic.script import ScriptDirectory
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError

from bot.core.communities import DEFAULT_COMMUNITY
from bot.storage.db import _upgrade, alembic_config, create_engine
from tests.conftest import _in_thread

REVISION = "0011_communities"
PREVIOUS = "0010_company_domain_proofs"
T0 = datetime(2024, 3, 4, 5, 6, 7, tzinfo=UTC)

ROWS_0010 = [
    "INSERT INTO agreements (id, title, kind, created_at) VALUES "
    "('individual', 'Individual CLA', 'individual', :t), "
    "('corporate', 'Corporate CLA', 'corporate', :t)",
    "INSERT INTO agreement_versions (id, agreement_id, version, position, text_sha256, "
    "compatible, fields, published_at) VALUES "
    "(1, 'individual', '1.0', 0, :a, :yes, '{}', :t), "
    "(2, 'individual', '2.0', 1, :b, :no, '{}', :t), "
    "(3, 'corporate', '1.0', 0, :c, :yes, '{}', :t)",
    "INSERT INTO signers (id, uid, created_at, updated_at) VALUES "
    "(1, 's1', :t, :t), (2, 's2', :t, :t)",
    "INSERT INTO signatures (id, signer_id, agreement_version_id, source, signed_at, "
    "created_at) VALUES (1, 1, 1, 'web', :t, :t), (2, 1, 2, 'web', :t, :t), "
    "(3, 2, 2, 'import', :t, :t)",
    "INSERT INTO companies (id, uid, name, agreement_version_id, signed_platform, "
    "signed_account_id, signed_at, created_at, status) "
    "VALUES (1, 'c1', 'Example Corp', 3, 'github', '9', :t, :t, 'approved')",
]
VALUES = {"t": T0, "a": "a" * 64, "b": "b" * 64, "c": "c" * 64, "yes": True, "no": False}

JOINED = (
    "SELECT s.id, s.signer_id, v.community_id, v.agreement_id, v.version, a.title, c.name "
    "FROM signatures s "
    "JOIN agreement_versions v ON v.id = s.agreement_version_id "
    "JOIN agreements a ON a.community_id = v.community_id AND a.id = v.agreement_id "
    "JOIN communities c ON c.id = a.community_id "
    "ORDER BY s.id"
)


async def _run(url: str, *statements: str, values: dict[str, Any] | None = None) -> None:
    engine = create_engine(url)
    try:
        async with engine.begin() as conn:
            for sql in statements:
                await conn.execute(text(sql), values or {})
    finally:
        await engine.dispose()


async def _query(url: str, sql: str) -> list[tuple[Any, ...]]:
    engine = create_engine(url)
    try:
        async with engine.connect() as conn:
            return [tuple(r) for r in (await conn.execute(text(sql))).all()]
    finally:
        await engine.dispose()


async def _at_0011_with_data(url: str) -> None:
    script = ScriptDirectory.from_config(alembic_config(url))
    assert script.get_revision(REVISION).down_revision == PREVIOUS
    _in_thread(_upgrade, url, PREVIOUS)
    await _run(url, *ROWS_0010, values=VALUES)
    _in_thread(_upgrade, url, REVISION)


async def test_existing_signatures_join_to_their_agreements_in_the_default_community(
    empty_db_url: str,
) -> None:
    await _at_0011_with_data(empty_db_url)

    assert await _query(empty_db_url, "SELECT id, name, source FROM communities") == [
        (DEFAULT_COMMUNITY, "Default", "file")
    ]
    assert await _query(empty_db_url, JOINED) == [
        (1, 1, "default", "individual", "1.0", "Individual CLA", "Default"),
        (2, 1, "default", "individual", "2.0", "Individual CLA", "Default"),
        (3, 2, "default", "individual", "2.0", "Individual CLA", "Default"),
    ]
    assert await _query(
        empty_db_url,
        "SELECT co.name, v.community_id, v.agreement_id, v.version, a.kind FROM companies co "
        "JOIN agreement_versions v ON v.id = co.agreement_version_id "
        "JOIN agreements a ON a.community_id = v.community_id AND a.id = v.agreement_id",
    ) == [("Example Corp", "default", "corporate", "1.0", "corporate")]
    assert await _query(empty_db_url, "SELECT community_id, id FROM agreements ORDER BY id") == [
        ("default", "corporate"),
        ("default", "individual"),
    ]


async def test_a_second_community_has_its_own_individual_and_scopes_are_unique(
    empty_db_url: str,
) -> None:
    await _at_0011_with_data(empty_db_url)
    await _run(
        empty_db_url,
        "INSERT INTO communities (id, name, source, created_at) "
        "VALUES ('mindspore', 'MindSpore', 'console', :t)",
        "INSERT INTO agreements (community_id, id, title, kind, created_at) "
        "VALUES ('mindspore', 'individual', 'MindSpore ICLA', 'individual', :t)",
        "INSERT INTO agreement_versions (id, community_id, agreement_id, version, position, "
        "text_sha256, compatible, fields, published_at) "
        "VALUES (4, 'mindspore', 'individual', '1.0', 0, :d, :yes, '{}', :t)",
        "INSERT INTO signatures (id, signer_id, agreement_version_id, source, signed_at, "
        "created_at) SELECT 4, 1, id, 'web', :t, :t FROM agreement_versions "
        "WHERE community_id = 'mindspore'",
        "INSERT INTO community_links (community_id, platform, owner, source, created_at) "
        "VALUES ('mindspore', 'gitee', 'mindspore', 'console', :t)",
        values={**VALUES, "d": "d" * 64},
    )
    rows = await _query(empty_db_url, JOINED)
    assert rows[-1] == (4, 1, "mindspore", "individual", "1.0", "MindSpore ICLA", "MindSpore")
    assert [r[2] for r in rows[:-1]] == ["default"] * 3
    assert await _query(
        empty_db_url, "SELECT community_id, platform, owner, repo FROM community_links"
    ) == [("mindspore", "gitee", "mindspore", "")]

    # The same version twice in one community, a version of an agreement the community lacks,
    # and a scope that another community holds: each refused by its constraint (named as
    # PostgreSQL names it, or as SQLite describes it).
    refused = [
        (
            "INSERT INTO agreement_versions (id, community_id, agreement_id, version, position, "
            "text_sha256, compatible, fields, published_at) "
            "VALUES (5, 'mindspore', 'individual', '1.0', 1, :d, :yes, '{}', :t)",
            r"uq_agreement_versions_community_id_agreement_id_version|"
            r"agreement_versions\.community_id, agreement_versions\.agreement_id",
        ),
        (
            "INSERT INTO agreement_versions (id, community_id, agreement_id, version, position, "
            "text_sha256, compatible, fields, published_at) "
            "VALUES (6, 'mindspore', 'corporate', '1.0', 0, :d, :yes, '{}', :t)",
            r"fk_agreement_versions_community_id_agreements|FOREIGN KEY",
        ),
        (
            "INSERT INTO community_links (community_id, platform, owner, repo, source, "
            "created_at) VALUES ('default', 'gitee', 'mindspore', '', 'file', :t)",
            r"uq_community_links_platform_owner_repo|community_links\.platform",
        ),
    ]
    for sql, constraint in refused:
        with pytest.raises(IntegrityError, match=constraint):
            await _run(empty_db_url, sql, values={**VALUES, "d": "d" * 64})


async def test_the_downgrade_gives_the_single_set_of_agreements_back(empty_db_url: str) -> None:
    await _at_0011_with_data(empty_db_url)
    _in_thread(command.downgrade, alembic_config(empty_db_url), PREVIOUS)

    assert await _query(
        empty_db_url,
        "SELECT s.id, v.agreement_id, v.version, a.title FROM signatures s "
        "JOIN agreement_versions v ON v.id = s.agreement_version_id "
        "JOIN agreements a ON a.id = v.agreement_id ORDER BY s.id",
    ) == [
        (1, "individual", "1.0", "Individual CLA"),
        (2, "individual", "2.0", "Individual CLA"),
        (3, "individual", "2.0", "Individual CLA"),
    ]
    tables = await _query(
        empty_db_url,
        "SELECT count(*) FROM information_schema.tables WHERE table_name = 'communities'"
        if empty_db_url.startswith("postgresql")
        else "SELECT count(*) FROM sqlite_master WHERE name = 'communities'",
    )
    assert tables == [(0,)]
    # The old key holds again: one agreement id per deployment.
    with pytest.raises(IntegrityError, match=r"pk_agreements|agreements\.id"):
        await _run(
            empty_db_url,
            "INSERT INTO agreements (id, title, kind, created_at) "
            "VALUES ('individual', 'Again', 'individual', :t)",
            values=VALUES,
        )
    _in_thread(_upgrade, empty_db_url, "head")  # and up again
    assert [r[2] for r in await _query(empty_db_url, JOINED)] == ["default"] * 3


async def test_the_downgrade_refuses_while_another_community_has_agreements(
    empty_db_url: str,
) -> None:
    await _at_0011_with_data(empty_db_url)
    await _run(
        empty_db_url,
        "INSERT INTO communities (id, name, source, created_at) "
        "VALUES ('mindspore', 'MindSpore', 'file', :t)",
        "INSERT INTO agreements (community_id, id, title, kind, created_at) "
        "VALUES ('mindspore', 'individual', 'MindSpore ICLA', 'individual', :t)",
        values=VALUES,
    )
    with pytest.raises(RuntimeError, match="mindspore"):
        _in_thread(command.downgrade, alembic_config(empty_db_url), PREVIOUS)
    assert await _query(empty_db_url, "SELECT count(*) FROM agreements") == [(3,)]
