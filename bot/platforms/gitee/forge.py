"""Gitee as one adapter object (:data:`FORGE`), for ``bot.platforms.registry``."""

from __future__ import annotations

import asyncio
import logging

import aiohttp

from bot.platforms.base import (
    Connection,
    Forge,
    ForgeAuthError,
    ForgeError,
    Reports,
    SettingsView,
)
from bot.platforms.gitee.client import GiteePlatform
from bot.platforms.gitee.client import GiteeSettings as ClientSettings
from bot.platforms.gitee.facts import FACTS
from bot.platforms.gitee.settings import GiteeBotSettings, settings_from_env
from bot.platforms.gitee.setup import SETUP
from bot.platforms.gitee.webhooks import GiteeWebhooks

# The start-up lines keep the logger name operators' log filters know.
setup_log = logging.getLogger("bot.setup")


async def report_gitee_token(gitee: GiteePlatform, *, timeout_s: float = 15.0) -> None:
    """Log whether the Gitee token works (``GET /v5/user``, cached by the platform), once when
    the bot starts: what ``/setup/gitee`` told before it closed for configured bots."""
    try:
        login = await asyncio.wait_for(gitee.bot_login(), timeout=timeout_s)
    except ForgeAuthError:
        setup_log.warning(
            "Gitee: CLA_GITEE_TOKEN does not work: Gitee refused it (HTTP 401); it is wrong, "
            "expired or revoked (README: Gitee, a bot account)"
        )
    except (ForgeError, TimeoutError, aiohttp.ClientError) as exc:
        setup_log.warning(
            "Gitee: could not check CLA_GITEE_TOKEN now: %s", exc or type(exc).__name__
        )
    else:
        setup_log.info("Gitee: the token works; the bot acts on Gitee as @%s", login)


def connect(settings: SettingsView, http: aiohttp.ClientSession) -> Connection | None:
    found = settings.forges.get(FACTS.name)
    ge = found.settings if found else None
    if not isinstance(ge, GiteeBotSettings):
        return None
    platform = GiteePlatform(
        session=http, settings=ClientSettings(token=ge.token, api_url=ge.api_url)
    )

    async def startup_check() -> None:
        await report_gitee_token(platform)

    return Connection(
        # One bot account, no installations: every job gets its client.
        clients=lambda _installation_id: platform.client(),
        webhooks=GiteeWebhooks(
            secret=ge.webhook_secret,
            window_s=settings.policy.gitee_timestamp_window_s,
            bot_login=platform.bot_login,
        ),
        startup_check=startup_check,
        # Gitee cannot redeliver: the sweep lists open PRs instead.
        open_pulls=platform.client(),
    )


FORGE = Forge(
    facts=FACTS,
    # No commit statuses on Gitee: labels and the comment say it.
    reports=Reports(statuses=False, check_runs=False, labels=True),
    pull_path="pulls",
    installations=False,
    settings_from_env=settings_from_env,
    connect=connect,
    # The signature covers a timestamp, not the body: act on what the API says.
    body_is_signed=False,
    not_connected=(
        "Set CLA_GITEE_TOKEN (the bot account's access token) and CLA_GITEE_WEBHOOK_SECRET "
        "(16+ bytes), and point the repository's webhook here."
    ),
    setup=SETUP,
)
