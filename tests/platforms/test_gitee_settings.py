"""Gitee's settings, read by its adapter: the bases always, the bot account when its token or
webhook secret is set."""

from __future__ import annotations

import pytest

from bot.errors import SettingsError
from bot.platforms.base import ForgeConfig
from bot.platforms.gitee.settings import GiteeBotSettings, settings_from_env

SECRET = "g" * 20


def test_unconfigured_gitee_keeps_its_bases() -> None:
    assert settings_from_env({}) == ForgeConfig(
        web_url="https://gitee.com", api_url="https://gitee.com/api/v5"
    )


def test_a_bot_account_from_the_environment() -> None:
    env = {
        "CLA_GITEE_TOKEN": " t0ken ",
        "CLA_GITEE_WEBHOOK_SECRET": SECRET,
        "CLA_GITEE_API_URL": "http://127.0.0.1:9/api/v5/",
        "CLA_GITEE_URL": "http://127.0.0.1:9",
    }
    bot = settings_from_env(env).settings
    assert isinstance(bot, GiteeBotSettings)
    assert (bot.token, bot.webhook_secret, bot.client_id, bot.client_secret) == (
        "t0ken",
        SECRET,
        None,
        None,
    )
    assert (bot.api_url, bot.web_url) == ("http://127.0.0.1:9/api/v5", "http://127.0.0.1:9")
    assert "t0ken" not in repr(bot) and SECRET not in repr(bot)


@pytest.mark.parametrize(
    ("env", "name"),
    [
        ({"CLA_GITEE_WEBHOOK_SECRET": SECRET}, "CLA_GITEE_TOKEN"),
        ({"CLA_GITEE_TOKEN": "t"}, "CLA_GITEE_WEBHOOK_SECRET"),
        (
            {
                "CLA_GITEE_TOKEN": "t",
                "CLA_GITEE_WEBHOOK_SECRET": SECRET,
                "CLA_GITEE_CLIENT_SECRET": "c",
            },
            "CLA_GITEE_CLIENT_ID",
        ),
        ({"CLA_GITEE_API_URL": "gitee.example"}, "CLA_GITEE_API_URL"),
    ],
)
def test_a_bad_gitee_setting_is_named(env: dict[str, str], name: str) -> None:
    with pytest.raises(SettingsError) as exc:
        settings_from_env(env)
    assert exc.value.name == name
