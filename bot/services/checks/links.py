"""Which community a repository belongs to, by the links in the database: app.yaml's (stored
at start-up) and those made in the console or through the admin API, which another replica may
have made. The table is read again at most every ``ttl_s`` seconds, before a check needs it
(:meth:`StoredLinks.refresh`), so a new link counts everywhere within that time; a replica that
made the change refreshes at once (``force``)."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.core.communities import LinkTable
from bot.core.model import RepoRef
from bot.storage.communities import list_links

log = logging.getLogger("bot.checks")

LINKS_TTL_S = 30.0
# The trigger of the re-checks a link change queues: those read the links again first, so that
# they see the change however recently the table was read.
LINKS_CHANGED = "link"


class StoredLinks:
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        first: LinkTable,
        *,
        ttl_s: float = LINKS_TTL_S,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        """``first``: the table until the database is read (app.yaml's links and default)."""
        self.sessions = sessions
        self.table = first
        self.ttl_s = ttl_s
        self.clock = clock
        self._read_at: float | None = None
        self._lock = asyncio.Lock()

    async def refresh(self, *, force: bool = False) -> None:
        """Read the links again when the last read is older than the TTL (or ``force``)."""
        if not force and self._fresh():
            return
        async with self._lock:
            if not force and self._fresh():
                return  # another check read them meanwhile
            async with self.sessions() as session:
                stored = await list_links(session)
            self.table = LinkTable((s.link() for s in stored), self.table.default)
            self._read_at = self.clock()

    def _fresh(self) -> bool:
        return self._read_at is not None and self.clock() - self._read_at < self.ttl_s

    def resolve(self, repo: RepoRef) -> str | None:
        return self.table.resolve(repo.platform, repo.full_name)
