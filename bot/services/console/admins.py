"""Who administers a community (:class:`Administrators`): the people it names, and whoever the
forge says administers one of its links — asked of the forge with the bot's own credentials,
remembered briefly, never taken from the browser."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Collection
from dataclasses import dataclass

from bot.core.model import Platform, RepoRef
from bot.platforms.base import ForgeClient, ForgeError

log = logging.getLogger("bot.console")

ADMIN_TTL_S = 300.0  # how long a forge's answer about an admin is believed
MAX_KNOWN_ANSWERS = 10_000

ClientFor = Callable[[Platform, str], Awaitable[ForgeClient | None]]
"""The forge client that may ask about the accounts and repositories of ``owner`` on
``platform`` — on a forge with installations, the installation on that owner, whose token is
the one the forge answers membership questions to — or ``None`` when the bot has none there."""

Named = tuple[str, str]
"""A community's named administrator: ``(platform, login)``."""

Link = tuple[str, str, str | None]
"""A community's link: ``(platform, owner, repository name)``, the name ``None`` for an owner
(all its repositories)."""

# (platform, login, owner, repository name or None), logins and names lower-cased
_Key = tuple[str, str, str, str | None]


@dataclass(frozen=True, slots=True)
class _Known:
    admin: bool
    until: float


class Administrators:
    """Whether a signed-in person administers a community.

    :meth:`administers` is true when the community names ``(platform, login)`` (logins compare
    case-insensitively), or when the forge says ``login`` administers one of the community's
    links on the same platform: a repository link asks ``get_permission`` (``admin``), an owner
    link asks ``owner_role`` (``admin``: an owner of the organisation, or the person whose own
    account it is). Links on other platforms are never asked: a login names an account on one
    forge only.

    Each forge answer is remembered per (platform, login, scope) for ``ttl_s`` (default five
    minutes, on the injected ``clock``), so a console page asks nothing the second time; a
    person removed from an organisation keeps the console at most that long. A question that
    fails (``ForgeError``, or no client for the scope) answers ``False`` for that scope, is
    logged once with the platform, the login and the scope, and is not remembered: the next
    page asks again. Pages asking the same question at once share one request. At most
    ``max_entries`` answers are kept (the oldest go first).
    """

    def __init__(
        self,
        clients: ClientFor,
        *,
        ttl_s: float = ADMIN_TTL_S,
        max_entries: int = MAX_KNOWN_ANSWERS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.clients = clients
        self.ttl_s = ttl_s
        self.max_entries = max_entries
        self.clock = clock
        self._known: dict[_Key, _Known] = {}
        self._asking: dict[_Key, asyncio.Task[bool | None]] = {}

    async def administers(
        self,
        platform: str,
        login: str,
        *,
        named: Collection[Named],
        links: Collection[Link],
    ) -> bool:
        """Whether ``login`` on ``platform`` administers the community that names ``named``
        and links ``links`` (see the class docstring)."""
        if not login:
            return False
        wanted = login.lower()
        if any(p == platform and n.lower() == wanted for p, n in named):
            return True
        asked: set[_Key] = set()
        for p, owner, name in links:
            key: _Key = (platform, wanted, owner.lower(), None if name is None else name.lower())
            if p != platform or not owner or key in asked:
                continue
            asked.add(key)
            if await self._answer(key, Platform(platform), login, owner, name):
                return True
        return False

    # -- inside ---------------------------------------------------------------------------------

    def _recall(self, key: _Key) -> _Known | None:
        known = self._known.get(key)
        if known is not None and known.until <= self.clock():
            del self._known[key]
            return None
        return known

    def _remember(self, key: _Key, admin: bool) -> None:
        self._known.pop(key, None)
        while len(self._known) >= self.max_entries:
            del self._known[next(iter(self._known))]
        self._known[key] = _Known(admin, self.clock() + self.ttl_s)

    async def _answer(
        self, key: _Key, platform: Platform, login: str, owner: str, name: str | None
    ) -> bool:
        known = self._recall(key)
        if known is not None:
            return known.admin
        asking = self._asking.get(key)
        if asking is None:
            asking = asyncio.create_task(self._ask(key, platform, login, owner, name))
            self._asking[key] = asking
            asking.add_done_callback(lambda _: self._asking.pop(key, None))
        return (await asyncio.shield(asking)) is True

    async def _ask(
        self, key: _Key, platform: Platform, login: str, owner: str, name: str | None
    ) -> bool | None:
        """The forge's answer, remembered; ``None`` (not remembered) when it could not say."""
        scope = owner if name is None else f"{owner}/{name}"
        try:
            client = await self.clients(platform, owner)
            if client is None:
                log.info("no %s client can ask whether %s administers %s", platform, login, scope)
                return None
            if name is None:
                admin = await client.owner_role(owner, login) == "admin"
            else:
                permission = await client.get_permission(RepoRef(platform, owner, name), login)
                admin = permission == "admin"
        except ForgeError as exc:
            # The error's class and status only: its message may quote the forge's answer.
            log.warning(
                "could not ask %s whether %s administers %s (%s, HTTP %s); not an admin for now",
                platform,
                login,
                scope,
                type(exc).__name__,
                exc.status,
            )
            return None
        self._remember(key, admin)
        return admin
