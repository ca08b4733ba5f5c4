"""Gitee as one adapter object (:data:`FORGE`), for ``bot.platforms.registry``."""

from __future__ import annotations

from bot.platforms.base import Forge, ForgeSettings, Reports
from bot.platforms.gitee.facts import FACTS
from bot.settings import Settings


def _settings(settings: Settings) -> ForgeSettings | None:
    return settings.gitee


def _web_url(settings: Settings) -> str:
    return settings.gitee_web_url


FORGE = Forge(
    facts=FACTS,
    # No commit statuses on Gitee: labels and the comment say it.
    reports=Reports(statuses=False, check_runs=False, labels=True),
    pull_path="pulls",
    installations=False,
    settings_of=_settings,
    web_url_of=_web_url,
    # The signature covers a timestamp, not the body: act on what the API says.
    body_is_signed=False,
)
