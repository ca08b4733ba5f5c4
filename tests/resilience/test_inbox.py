"""The webhook inbox's group commit (bot/services/jobs.py ``Inbox``), which the ingest benchmark
led to: deliveries arriving together share one transaction, yet each is answered on its own —
a redelivery in the same batch is a duplicate, one unstorable delivery fails alone, and a
database that is down fails every caller of the batch (the endpoint answers 503 to each)."""

from __future__ import annotations

import asyncio
from typing import Any, cast

import pytest
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError, SQLAlchemyError
from sqlalchemy.ext.asyncio import create_async_engine

from bot.services.jobs import Inbox, NewJob, Unstorable
from bot.storage.db import create_engine, session_factory
from bot.storage.models import Job, JobKind


def job(
    key: str,
    *,
    event: str | None = "pull_request",
    pr: int = 1,
    installation_id: int = 7,
    pr_key: str | None = None,
) -> NewJob:
    return NewJob(
        platform="github",
        delivery_key=key,
        event=cast(str, event),
        action="opened",
        kind=JobKind.CHECK,
        payload={"number": pr},
        pr_key=pr_key or f"github:acme/app#{pr}",
        installation_id=installation_id,
    )


@pytest.fixture
async def sessions(db_url: str) -> Any:
    engine = create_engine(db_url)
    yield session_factory(engine)
    await engine.dispose()


async def stored(sessions: Any) -> list[str]:
    async with sessions() as s:
        return sorted((await s.scalars(select(Job.delivery_key))).all())


async def test_one_batch_answers_each_delivery_on_its_own(sessions: Any) -> None:
    inbox = Inbox(sessions)
    assert await inbox.put([job("before")])
    results = await asyncio.gather(
        inbox.put([job("a", pr=1)]),
        inbox.put([job("b", pr=2)]),
        inbox.put([job("a", pr=1)]),  # redelivered within the same batch
        inbox.put([job("before")]),  # stored by an earlier batch
        inbox.put([job("c", pr=3), job("comment-9", pr=3)]),  # a check and a command
        return_exceptions=True,
    )
    assert results == [True, True, False, False, True]
    assert await stored(sessions) == ["a", "b", "before", "c", "comment-9"]


async def test_an_unstorable_delivery_fails_alone(sessions: Any) -> None:
    inbox = Inbox(sessions)
    results = await asyncio.gather(
        inbox.put([job("good-1")]),
        inbox.put([job("bad", event=None)]),  # violates NOT NULL: the batch is retried one by one
        inbox.put([job("good-2", pr=2)]),
        return_exceptions=True,
    )
    assert results[0] is True and results[2] is True
    assert isinstance(results[1], Unstorable) and isinstance(results[1].__cause__, IntegrityError)
    assert await stored(sessions) == ["good-1", "good-2"]


@pytest.mark.parametrize(
    "poison",
    [
        pytest.param({"installation_id": 2**63}, id="integer-beyond-bigint"),
        pytest.param({"pr_key": "github:acme/app\ud800#1"}, id="lone-surrogate"),
    ],
)
async def test_a_delivery_the_driver_refuses_fails_alone_as_unstorable(
    sessions: Any, poison: dict[str, Any]
) -> None:
    """Whatever the driver raises for one delivery's values (here not a DataError: an
    OverflowError or UnicodeEncodeError on SQLite), its neighbours are stored."""
    inbox = Inbox(sessions)
    results = await asyncio.gather(
        *(inbox.put([job(f"good-{i}", pr=i)]) for i in range(5)),
        inbox.put([job("bad", **poison)]),
        *(inbox.put([job(f"good-{i}", pr=i)]) for i in range(5, 10)),
        return_exceptions=True,
    )
    assert results[:5] == [True] * 5 and results[6:] == [True] * 5
    assert isinstance(results[5], Unstorable)
    assert await stored(sessions) == sorted(f"good-{i}" for i in range(10))
    # Alone in its batch, it is refused the same way.
    with pytest.raises(Unstorable):
        await inbox.put([job("bad-alone", **poison)])


async def test_a_database_that_is_down_fails_every_caller(sessions: Any) -> None:
    dead = create_async_engine("postgresql+asyncpg://nobody@127.0.0.1:1/none")
    try:
        inbox = Inbox(session_factory(dead))
        results = await asyncio.gather(
            *(inbox.put([job(f"k{i}", pr=i)]) for i in range(5)), return_exceptions=True
        )
    finally:
        await dead.dispose()
    assert all(isinstance(r, SQLAlchemyError | OSError) for r in results), results
    assert not any(isinstance(r, Unstorable) for r in results)
    assert await stored(sessions) == []
