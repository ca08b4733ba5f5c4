"""What every part of corporate CLAs shares: the list's kinds, the signatory's fields, and
how typed logins and domains are read."""

from __future__ import annotations

import re
from typing import Protocol

from bot.core.errors import BotError
from bot.core.identity import LOGIN, is_bot_login
from bot.core.model import Account
from bot.platforms import registry
from bot.services import company_domains

KINDS = ("domain", "email", "login")
SIGNATORY = ("name", "title", "address", "email", "phone", "fax")
MAX_REASON = 500
FORGE_NAMES: dict[str, str] = {f.name: f.display_name for f in registry.FORGES}


class EntryError(BotError, ValueError):
    """A list entry that cannot be used; the message is safe to show to the manager."""


class AccountLookup(Protocol):
    """What adding an account needs of the forge (every ``ForgeClient`` has it)."""

    async def user_by_login(self, login: str) -> Account | None: ...


def parse_logins(text: str) -> list[str]:
    logins = [x.strip().lstrip("@").lower() for x in re.split(r"[\s,;]+", text) if x.strip()]
    bad = [x for x in logins if not LOGIN.fullmatch(x) or is_bot_login(x)]  # people only
    if bad:
        raise EntryError("not a valid account name: " + ", ".join(bad[:3]))
    return list(dict.fromkeys(logins))


def check_domain(raw: str) -> str:
    """The normalised domain, or :class:`EntryError` saying why it may not be listed."""
    domain = company_domains.normalise(raw)
    problem = company_domains.problem(domain)
    if problem is not None:
        raise EntryError(problem)
    return domain


def parse_domains(text: str) -> list[str]:
    """Domains separated by spaces, commas or semicolons, each checked."""
    domains = [check_domain(x) for x in re.split(r"[\s,;]+", text) if x.strip()]
    return list(dict.fromkeys(domains))
