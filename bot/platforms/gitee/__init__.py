"""Gitee: webhook verification (sansio), routing, the API v5 client and payload translation."""

from bot.platforms.gitee.api import GiteeAPI
from bot.platforms.gitee.client import GiteeClient, GiteePlatform, GiteeSettings, TooManyCommits
from bot.platforms.gitee.events import PayloadError
from bot.platforms.gitee.sansio import GiteeAuthError

__all__ = [
    "GiteeAPI",
    "GiteeAuthError",
    "GiteeClient",
    "GiteePlatform",
    "GiteeSettings",
    "PayloadError",
    "TooManyCommits",
]
