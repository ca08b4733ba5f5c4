"""The forge client that may ask about an owner's members and repositories (:func:`clients_for`):
on a forge the bot acts on through installations, the live installation on that owner (only its
token gets an answer about that owner); elsewhere the bot's own client, which serves every
owner."""

from __future__ import annotations

from collections.abc import Mapping

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.core.model import Platform
from bot.platforms.base import ClientFactory, ForgeClient
from bot.services.console.admins import ClientFor
from bot.storage.installations import installation_for_owner


def clients_for(
    sessions: async_sessionmaker[AsyncSession],
    factories: Mapping[Platform, ClientFactory],
    *,
    installations: Mapping[Platform, bool],
) -> ClientFor:
    """A :data:`ClientFor` over each connected forge's client factory; ``installations`` says
    which forges need an installation on the owner (``Forge.installations``). ``None``: the
    forge is not connected, or the bot is not installed on that owner."""

    async def client(platform: Platform, owner: str) -> ForgeClient | None:
        factory = factories.get(platform)
        if factory is None:
            return None
        if not installations.get(platform, False):
            return factory(None)
        async with sessions() as s:
            installation = await installation_for_owner(s, platform, owner)
        return None if installation is None else factory(installation)

    return client
