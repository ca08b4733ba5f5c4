"""The client the console asks about an owner with: on a forge with installations, only the
live installation on that owner's account (else none); on a forge without, the bot's own
client for every owner; on a forge that is not connected, none."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.core.model import Platform
from bot.platforms.base import ClientFactory, ForgeClient
from bot.platforms.gitee.facts import GITEE
from bot.platforms.github.facts import GITHUB
from bot.sandbox.fakeforge import FakeForgeClient
from bot.services.console import clients_for
from bot.storage.installations import set_installation_state, upsert_installation


class Factory:
    """A forge's client factory that remembers the installation each client was made for."""

    def __init__(self, platform: Platform) -> None:
        self.platform = platform
        self.made: list[int | None] = []

    def __call__(self, installation: int | None) -> ForgeClient:
        self.made.append(installation)
        return FakeForgeClient(self.platform)


async def test_the_installation_on_the_owner_asks_on_github_and_the_bot_on_gitee(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    github, gitee = Factory(GITHUB), Factory(GITEE)
    factories: dict[Platform, ClientFactory] = {GITHUB: github, GITEE: gitee}
    client_for = clients_for(sessions, factories, installations={GITHUB: True, GITEE: False})
    async with sessions() as s, s.begin():
        await upsert_installation(s, platform="github", installation_id=7, account_login="Acme")
        await upsert_installation(s, platform="github", installation_id=8, account_login="gone")
        await set_installation_state(s, platform="github", installation_id=8, deleted=True)
    assert await client_for(GITHUB, "acme") is not None
    assert github.made == [7]
    # No installation there (or a deleted one): nobody can ask, and no client is made.
    assert await client_for(GITHUB, "elsewhere") is None
    assert await client_for(GITHUB, "gone") is None
    assert github.made == [7]
    # Gitee's bot account answers about every owner.
    assert await client_for(GITEE, "mindspore") is not None
    assert gitee.made == [None]
    # A forge that is not connected has no client.
    only_gitee = clients_for(sessions, {GITEE: gitee}, installations={GITHUB: True})
    assert await only_gitee(GITHUB, "acme") is None
