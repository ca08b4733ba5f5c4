"""GitHub as one adapter object (:data:`FORGE`), for ``bot.platforms.registry``."""

from __future__ import annotations

import asyncio
import logging

import aiohttp

from bot.platforms.base import (
    ClientFactory,
    Connection,
    Forge,
    ForgeClient,
    ForgeError,
    Reports,
    SettingsView,
)
from bot.platforms.github.client import GitHubPlatform
from bot.platforms.github.client import GitHubSettings as ClientSettings
from bot.platforms.github.facts import FACTS
from bot.platforms.github.redelivery import GitHubRedelivery
from bot.platforms.github.settings import SAVED_ENV, GitHubAppSettings, settings_from_env
from bot.platforms.github.setup import SETUP
from bot.platforms.github.webhooks import GitHubWebhooks

# The start-up line keeps the logger name operators' log filters know.
log = logging.getLogger("bot.app")


async def report_github_app(github: GitHubPlatform, *, timeout_s: float = 15.0) -> None:
    """Ask GitHub once, at start-up, which bot account the App is (the answer is logged and
    kept for the process); a failure is only logged: it is asked again when needed."""
    try:
        await asyncio.wait_for(github.app_login.get(), timeout=timeout_s)
    except (ForgeError, TimeoutError) as exc:
        log.warning("GitHub: could not ask GET /app now: %s", exc or type(exc).__name__)


def _clients(platform: GitHubPlatform) -> ClientFactory:
    def factory(installation_id: int | None) -> ForgeClient:
        if installation_id is None:
            raise LookupError("a GitHub job without an installation id")
        return platform.client(installation_id)

    return factory


def connect(settings: SettingsView, http: aiohttp.ClientSession) -> Connection | None:
    found = settings.forges.get(FACTS.name)
    gh = found.settings if found else None
    if not isinstance(gh, GitHubAppSettings):
        return None
    platform = GitHubPlatform(
        session=http,
        settings=ClientSettings(app_id=gh.app_id, private_key=gh.private_key, api_url=gh.api_url),
    )

    async def startup_check() -> None:
        await report_github_app(platform)

    return Connection(
        clients=_clients(platform),
        webhooks=GitHubWebhooks(
            secret=gh.webhook_secret, app_id=int(gh.app_id) if gh.app_id.isdigit() else None
        ),
        startup_check=startup_check,
        redelivery=GitHubRedelivery(platform),
    )


FORGE = Forge(
    facts=FACTS,
    reports=Reports(statuses=True, check_runs=True, labels=True),
    pull_path="pull",
    installations=True,
    settings_from_env=settings_from_env,
    connect=connect,
    body_is_signed=True,
    not_connected=(
        "Set CLA_GITHUB_APP_ID, CLA_GITHUB_PRIVATE_KEY_PATH (or CLA_GITHUB_PRIVATE_KEY) and "
        "CLA_GITHUB_WEBHOOK_SECRET (16+ bytes) from a GitHub App, or register one from "
        "app.yaml on the setup page."
    ),
    saved_env=SAVED_ENV,
    setup=SETUP,
)
