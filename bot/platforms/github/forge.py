"""GitHub as one adapter object (:data:`FORGE`), for ``bot.platforms.registry``."""

from __future__ import annotations

from bot.platforms.base import Forge, ForgeSettings, Reports
from bot.platforms.github.facts import FACTS
from bot.settings import Settings


def _settings(settings: Settings) -> ForgeSettings | None:
    return settings.github


def _web_url(settings: Settings) -> str:
    return settings.github_web_url


FORGE = Forge(
    facts=FACTS,
    reports=Reports(statuses=True, check_runs=True, labels=True),
    pull_path="pull",
    installations=True,
    settings_of=_settings,
    web_url_of=_web_url,
    body_is_signed=True,
)
