"""The forges the bot knows, in one list: adding a forge is its folder plus one line here.

Everything outside ``bot/platforms/`` learns about forges from these objects (their
:class:`~bot.platforms.base.Forge` facts, capabilities and adapters), never by name.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

from bot.core.model import ForgeFacts, Platform
from bot.platforms.base import Forge
from bot.platforms.gitee.forge import FORGE as GITEE
from bot.platforms.github.forge import FORGE as GITHUB

FORGES: tuple[Forge, ...] = (GITHUB, GITEE)

BY_NAME: Mapping[Platform, Forge] = MappingProxyType({f.name: f for f in FORGES})
NAMES: tuple[Platform, ...] = tuple(BY_NAME)
FACTS: tuple[ForgeFacts, ...] = tuple(f.facts for f in FORGES)


def forge(name: str) -> Forge:
    """The forge called ``name``; ``LookupError`` for a name the bot does not know."""
    found = BY_NAME.get(Platform(name))
    if found is None:
        raise LookupError(f"{name!r} is not a forge the bot knows")
    return found


def known(name: str) -> Platform | None:
    """``name`` as a forge's name when the bot knows that forge, else ``None``."""
    return Platform(name) if name in BY_NAME else None
