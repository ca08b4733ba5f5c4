"""What the forges said about the account ids of noreply addresses (:class:`ConfirmedAccounts`),
asked once per id and remembered for every check of this process."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Protocol

from bot.core.identity import NoreplyAddress
from bot.core.model import Account, Platform
from bot.platforms.base import ForgeError, RateLimited

log = logging.getLogger("bot.checks")

ACCOUNT_TTL_S = 3600.0  # how long a forge's answer about an account id is believed
MAX_KNOWN_ACCOUNTS = 10_000


class AccountLookup(Protocol):
    """The part of a forge client that confirms an account id (``ForgeClient.user_by_id``)."""

    platform: Platform

    async def user_by_id(self, account_id: str, *, login: str | None = None) -> Account | None: ...


@dataclass(frozen=True, slots=True)
class _Known:
    account: Account | None
    until: float


class ConfirmedAccounts:
    """What the forges said about the account ids of noreply addresses, for every check of this
    process.

    A commit's ``ID+login@…noreply…`` address is written by whoever made the commit; only the
    forge can say whose the id is (:mod:`bot.core.identity`). :meth:`confirm` asks it once per
    id and remembers the answer for ``ttl_s`` — an account (its current login), or that there
    is none — so a re-check, or the next PR of the same person, asks nothing. A lookup that
    fails is not remembered: that check names the identity without a mention, the next asks
    again; a rate limit is raised, for the job queue to wait. Checks running at once share one
    request per id. At most ``max_entries`` answers are kept (the oldest go first).

    Answers are keyed by platform and id; a missing account also by the login it was asked
    with, since Gitee can only look an account up by login (``GiteeClient.user_by_id``).
    """

    def __init__(
        self,
        *,
        ttl_s: float = ACCOUNT_TTL_S,
        max_entries: int = MAX_KNOWN_ACCOUNTS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.ttl_s = ttl_s
        self.max_entries = max_entries
        self.clock = clock
        self._known: dict[tuple[str, ...], _Known] = {}
        self._asking: dict[tuple[str, ...], asyncio.Future[Account | None]] = {}

    def _recall(self, key: tuple[str, ...]) -> _Known | None:
        known = self._known.get(key)
        if known is not None and known.until <= self.clock():
            del self._known[key]
            return None
        return known

    def _remember(self, key: tuple[str, ...], account: Account | None) -> None:
        self._known.pop(key, None)
        while len(self._known) >= self.max_entries:
            del self._known[next(iter(self._known))]
        self._known[key] = _Known(account, self.clock() + self.ttl_s)

    async def confirm(
        self, client: AccountLookup, claims: Sequence[NoreplyAddress]
    ) -> dict[str, Account]:
        """Account id → the account the forge confirms, for each of ``claims`` it does."""
        answers = await asyncio.gather(*(self._one(client, claim) for claim in claims))
        return {a.account_id: a for a in answers if a is not None}

    async def _one(self, client: AccountLookup, claim: NoreplyAddress) -> Account | None:
        account_id = claim.account_id
        if account_id is None or claim.platform != client.platform:
            return None
        found = (client.platform, account_id)
        missing = (*found, claim.login.lower())
        for key in (found, missing):
            known = self._recall(key)
            if known is not None:
                return known.account
        asking = self._asking.get(missing)
        if asking is None:
            asking = asyncio.create_task(self._ask(client, claim, found, missing))
            self._asking[missing] = asking
            asking.add_done_callback(lambda _: self._asking.pop(missing, None))
        try:
            return await asyncio.shield(asking)
        except RateLimited:
            raise
        except ForgeError as exc:
            log.warning(
                "could not confirm %s account %s, named without a mention: %s",
                client.platform,
                account_id,
                exc,
            )
            return None

    async def _ask(
        self,
        client: AccountLookup,
        claim: NoreplyAddress,
        found: tuple[str, ...],
        missing: tuple[str, ...],
    ) -> Account | None:
        account = await client.user_by_id(str(claim.account_id), login=claim.login)
        if account is not None and account.platform == client.platform:
            self._remember(found, account)
            return account
        self._remember(missing, None)
        return None
