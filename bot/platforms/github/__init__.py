"""GitHub: App authentication, the REST client (gidgethub) and payload translation."""

from bot.platforms.github.auth import InstallationTokens, make_app_jwt
from bot.platforms.github.client import GitHubClient, GitHubPlatform, GitHubSettings
from bot.platforms.github.events import PayloadError

__all__ = [
    "GitHubClient",
    "GitHubPlatform",
    "GitHubSettings",
    "InstallationTokens",
    "PayloadError",
    "make_app_jwt",
]
