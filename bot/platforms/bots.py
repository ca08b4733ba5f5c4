"""The table of well-known bots and AI agents (``bots.toml`` beside this module), as core values.

One file, with a source for every entry, so that a new agent or a changed id is one reviewed
edit. It is read once per process and validated strictly: an entry the core could not use (an
unknown kind or forge, an id that is not a number, a name that could carry Markdown into a
comment) stops the bot at start-up instead of silently matching nobody.
"""

from __future__ import annotations

import functools
import re
import tomllib
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from bot.core.errors import BotError
from bot.core.identity import EMAIL, LOGIN, BotKind, KnownBot
from bot.core.model import Platform
from bot.platforms import registry

__all__ = ["BOTS_FILE", "BotTableError", "known_bots", "parse_bots"]

BOTS_FILE = Path(__file__).with_name("bots.toml")

_KEYS = {"kind", "name", "platform", "account_ids", "logins", "emails", "sources"}
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9 .()'-]{0,59}")


class BotTableError(BotError, ValueError):
    """The table is malformed; the message names the entry and the field."""


def _strings(entry: Mapping[str, Any], key: str, where: str) -> list[str]:
    value = entry.get(key, [])
    if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
        raise BotTableError(f"{where}.{key}: must be a list of non-empty strings")
    return value


def _entry(raw: Any, where: str) -> KnownBot:
    if not isinstance(raw, dict):
        raise BotTableError(f"{where}: must be a table")
    if unknown := set(raw) - _KEYS:
        raise BotTableError(f"{where}: unknown keys " + ", ".join(sorted(unknown)))
    try:
        kind = BotKind(str(raw.get("kind")))
    except ValueError:
        raise BotTableError(f"{where}.kind: must be bot or ai-agent") from None
    name = raw.get("name")
    if not isinstance(name, str) or _NAME.fullmatch(name) is None:
        raise BotTableError(f"{where}.name: 1 to 60 letters, digits, spaces and .()'-")
    ids = raw.get("account_ids", [])
    if not isinstance(ids, list) or not all(
        isinstance(i, int) and not isinstance(i, bool) and i > 0 for i in ids
    ):
        raise BotTableError(f"{where}.account_ids: must be a list of positive integers")
    logins = _strings(raw, "logins", where)
    if bad := [login for login in logins if LOGIN.fullmatch(login) is None]:
        raise BotTableError(f"{where}.logins: not a login: {bad[0]!r}")
    emails = _strings(raw, "emails", where)
    if bad := [email for email in emails if EMAIL.fullmatch(email) is None]:
        raise BotTableError(f"{where}.emails: not an address: {bad[0]!r}")
    if not _strings(raw, "sources", where):
        raise BotTableError(f"{where}.sources: every entry says where its facts come from")
    platform: Platform | None = None
    if "platform" in raw:
        platform = registry.known(str(raw["platform"]))
        if platform is None:
            raise BotTableError(f"{where}.platform: not a forge the bot knows")
    if (ids or logins) and platform is None:
        raise BotTableError(f"{where}.platform: account ids and logins need their forge")
    if not (ids or logins or emails):
        raise BotTableError(f"{where}: needs account_ids, logins or emails to match anything")
    return KnownBot.of(
        kind,
        name,
        platform=platform,
        account_ids=(str(i) for i in ids),
        logins=logins,
        emails=emails,
        forges=registry.FACTS,
    )


def parse_bots(text: str, *, origin: str = "bots.toml") -> tuple[KnownBot, ...]:
    """Every ``[[entry]]`` of a table's text, in order."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise BotTableError(f"{origin}: not valid TOML: {exc}") from None
    entries: Sequence[Any] = data.get("entry", [])
    if set(data) - {"entry"} or not isinstance(entries, list) or not entries:
        raise BotTableError(f"{origin}: holds [[entry]] tables only, at least one")
    return tuple(_entry(raw, f"{origin} entry {i + 1}") for i, raw in enumerate(entries))


@functools.cache
def known_bots(path: Path = BOTS_FILE) -> tuple[KnownBot, ...]:
    """The shipped table (read once per process)."""
    return parse_bots(path.read_text(encoding="utf-8"), origin=path.name)
