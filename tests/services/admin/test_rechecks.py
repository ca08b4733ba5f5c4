"""Re-checks of a PR or a repository queue exactly the jobs they should."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.services.admin.common import NotFound
from bot.services.admin.rechecks import recheck_pr, recheck_repo
from bot.storage.crypto import FieldCipher
from bot.storage.models import Job, PrCheck, Repository


async def test_rechecks_queue_jobs(
    sessions: async_sessionmaker[AsyncSession], cipher: FieldCipher
) -> None:
    async with sessions() as s, s.begin():
        s.add_all(
            [
                PrCheck(
                    platform="github",
                    repo_full_name="acme/widgets",
                    number=1,
                    head_sha="a",
                    installation_id=5,
                ),
                PrCheck(
                    platform="github",
                    repo_full_name="acme/widgets",
                    number=2,
                    head_sha="b",
                    installation_id=5,
                ),
                PrCheck(
                    platform="github",
                    repo_full_name="acme/widgets",
                    number=3,
                    head_sha="c",
                    state="closed",
                ),
                Repository(
                    platform="github", full_name="acme/gadgets", forge_repo_id=77, installation_id=6
                ),
            ]
        )
    async with sessions() as s, s.begin():
        repo = await recheck_repo(s, platform="github", owner="ACME", repo="widgets")
        known = await recheck_pr(s, platform="github", owner="acme", repo="widgets", number=1)
        new = await recheck_pr(s, platform="github", owner="acme", repo="gadgets", number=12)
        with pytest.raises(NotFound):
            await recheck_pr(s, platform="github", owner="who", repo="knows", number=1)
        with pytest.raises(NotFound):
            await recheck_repo(s, platform="github", owner="who", repo="knows")
        empty = await recheck_repo(s, platform="github", owner="acme", repo="gadgets")
    assert (repo.queued, known.queued, new.queued, empty.queued) == (2, 1, 1, 0)
    assert known.known and not new.known
    async with sessions() as s:
        jobs = (await s.scalars(select(Job).order_by(Job.id))).all()
        assert len(jobs) == 4 and all(j.kind == "check" for j in jobs)
        gadget = jobs[-1]
        assert gadget.pr_key == "github:acme/gadgets#12" and gadget.installation_id == 6
        assert gadget.payload == {
            "repo": {"owner": "acme", "name": "gadgets", "id": 77},
            "number": 12,
            "trigger": "api",
        }
