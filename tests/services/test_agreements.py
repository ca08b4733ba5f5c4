"""The published-agreements service: the version name start-up suggests, and the states that
`cla-bot agreements list` reports (the command itself: tests/cli/test_agreements.py)."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

import pytest

from bot.services import agreements
from bot.storage.agreements import sync_agreements
from bot.storage.db import create_engine, session_factory


@pytest.mark.parametrize(
    ("taken", "expected"),
    [
        (["1.0"], "1.1"),
        (["1.0", "1.9"], "1.10"),
        (["2"], "3"),
        (["1.1", "1.0"], "1.2"),  # the last listed, not the largest
        (["1.0", "1.2", "1.1"], "1.3"),  # 1.2 is taken: the next free one
        (["2024-rc"], "2024-rc.1"),
    ],
)
def test_next_version(taken: list[str], expected: str) -> None:
    assert agreements.next_version(taken) == expected


async def test_list_reports_unpublished_and_dropped_versions(
    db_url: str, make_settings: Callable[..., Any]
) -> None:
    settings = make_settings(db_url)
    individual, corporate = settings.policy.agreements
    engine = create_engine(db_url)
    try:
        async with session_factory(engine)() as s, s.begin():
            await sync_agreements(s, [individual])
            two = dataclasses.replace(individual.versions[0], version="2.0")
            later = dataclasses.replace(individual, versions=(*individual.versions, two))
            found = await agreements.list_versions(s, [later, corporate])
    finally:
        await engine.dispose()
    sha = agreements.text_sha256(individual.versions[0])
    corporate_sha = agreements.text_sha256(corporate.versions[0])
    assert found == [
        agreements.VersionInfo("individual", "individual", "1.0", sha, sha, 0, 0),
        agreements.VersionInfo("individual", "individual", "2.0", None, sha, 0, 0),
        agreements.VersionInfo("corporate", "corporate", "1.0", None, corporate_sha, 0, 0),
    ]
    assert [f.state for f in found] == ["same text", "not published yet", "not published yet"]
    gone = agreements.VersionInfo("old", "individual", "1.0", sha, None, 3, 0)
    assert gone.state == "not in app.yaml"
