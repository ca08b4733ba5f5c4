"""The protocol every forge client implements, and the errors it raises.

Exception tree::

    ForgeError                  a forge call failed
    ├── RetryableForgeError     5xx, timeouts, connection errors: retry with backoff
    │   └── RateLimited         primary or secondary rate limit: wait ``until``, not a failure
    ├── ForgeAuthError          401 after one token refresh, or the installation is gone
    └── ForgeNotFound           404 on something that had to exist
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Protocol

from bot.core.model import Account, CommentRef, Commit, Platform, PullRequest, RepoRef, StatusState


class ForgeError(Exception):
    def __init__(self, message: str, *, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


class RetryableForgeError(ForgeError):
    pass


class RateLimited(RetryableForgeError):
    def __init__(self, message: str, *, until: datetime, status: int | None = None) -> None:
        super().__init__(message, status=status)
        self.until = until


class ForgeAuthError(ForgeError):
    pass


class ForgeNotFound(ForgeError):
    pass


class StaleCommitList(RetryableForgeError):
    """The forge's commit list does not end at the PR's head sha yet (just after a push)."""


class ForgeClient(Protocol):
    """One authenticated view of a forge (a GitHub installation, or the Gitee bot account)."""

    platform: Platform

    async def get_pull(self, repo: RepoRef, number: int) -> PullRequest: ...

    async def list_commits(self, pr: PullRequest) -> Sequence[Commit]:
        """Every commit of the PR, oldest first; raises StaleCommitList when the list does not
        end at ``pr.head_sha``."""
        ...

    async def set_status(
        self,
        repo: RepoRef,
        sha: str,
        *,
        state: StatusState,
        description: str,
        context: str,
        target_url: str | None,
    ) -> None: ...

    async def add_labels(self, repo: RepoRef, number: int, names: Sequence[str]) -> None: ...

    async def remove_label(self, repo: RepoRef, number: int, name: str) -> None:
        """Removing an absent label is not an error."""
        ...

    async def find_comment(self, repo: RepoRef, number: int, marker: str) -> CommentRef | None:
        """The bot's own comment carrying ``marker``, searching every page."""
        ...

    async def get_comment(self, repo: RepoRef, comment_id: int) -> CommentRef | None: ...

    async def create_comment(self, repo: RepoRef, number: int, body: str) -> int: ...

    async def edit_comment(self, repo: RepoRef, comment_id: int, body: str) -> None: ...

    async def get_permission(self, repo: RepoRef, login: str) -> str:
        """``admin``, ``write``, ``read`` or ``none``."""
        ...

    async def user_by_id(self, account_id: str, *, login: str | None = None) -> Account | None:
        """The account with this id as the forge knows it now (its current login), or ``None``
        when the forge knows no such account — or, where the forge can only look accounts up
        by login (Gitee), when ``login`` is missing or names another account. Failures raise
        ``ForgeError`` as every call does."""
        ...
