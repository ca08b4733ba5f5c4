"""Gitee's settings: the ``CLA_GITEE_*`` variables (a bot account's token, no App)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from bot.config import forge_secrets_setting, url_setting
from bot.errors import SettingsError
from bot.platforms.base import ForgeConfig, ForgeCredentials

DEFAULT_WEB_URL = "https://gitee.com"
DEFAULT_API_URL = "https://gitee.com/api/v5"


@dataclass(frozen=True, slots=True)
class GiteeBotSettings(ForgeCredentials):
    """A configured Gitee bot account: its access token besides what every forge has."""

    token: str = field(repr=False)


def settings_from_env(env: Mapping[str, str]) -> ForgeConfig:
    """Gitee's bases, and the bot account when its token or webhook secret is set."""
    api_url = url_setting(env, "CLA_GITEE_API_URL", DEFAULT_API_URL)
    web_url = url_setting(env, "CLA_GITEE_URL", DEFAULT_WEB_URL)
    token = env.get("CLA_GITEE_TOKEN", "").strip()
    if not token and not env.get("CLA_GITEE_WEBHOOK_SECRET"):
        return ForgeConfig(web_url=web_url, api_url=api_url)
    if not token:
        raise SettingsError("CLA_GITEE_TOKEN", "is required when CLA_GITEE_WEBHOOK_SECRET is set")
    secret, client_id, client_secret = forge_secrets_setting(env, "CLA_GITEE")
    bot = GiteeBotSettings(secret, client_id, client_secret, api_url, web_url, token=token)
    return ForgeConfig(web_url=web_url, api_url=api_url, settings=bot)
