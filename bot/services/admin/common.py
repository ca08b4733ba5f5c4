"""What every part of the maintainers' service shares: the errors the admin API and the CLI
answer with, the input checks and the limits. Every function of the package takes a session
and never commits: the caller owns the unit of work.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func, select

from bot.core.errors import BotError
from bot.platforms import registry
from bot.storage.models import PrCheck

PLATFORMS: tuple[str, ...] = registry.NAMES
MAX_PAGE = 500
MAX_DB_INT = 2**31 - 1

NAME_RE = re.compile(r"[A-Za-z0-9_.-]{1,100}")  # owner and repository names
AGREEMENT_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}")
VERSION_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.+-]{0,31}")


class AdminError(BotError):
    """A request the admin API and CLI answer with a message (never personal data)."""

    status = 422

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class NotFound(AdminError):
    status = 404


class Invalid(AdminError):
    status = 422


def iso(value: datetime | None) -> str | None:
    if value is None:
        return None
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z")


def find_check_query(platform: str, owner: str, repo: str) -> Any:
    return select(PrCheck).where(
        PrCheck.platform == platform,
        func.lower(PrCheck.repo_full_name) == f"{owner}/{repo}".lower(),
    )


def validate_repo(platform: str, owner: str, repo: str, number: int | None = None) -> None:
    if platform not in PLATFORMS:
        raise NotFound("unknown platform")
    if not NAME_RE.fullmatch(owner) or not NAME_RE.fullmatch(repo):
        raise Invalid("not a valid owner or repository name")
    if number is not None and not 1 <= number <= MAX_DB_INT:
        raise Invalid("not a valid pull request number")
