"""The protocol every forge client implements, and the errors it raises.

Exception tree::

    ForgeError                  a forge call failed
    ├── RetryableForgeError     5xx, timeouts, connection errors: retry with backoff
    │   └── RateLimited         primary or secondary rate limit: wait ``until``, not a failure
    ├── ForgeAuthError          401 after one token refresh, or the installation is gone
    ├── ForgeNotFound           404 on something that had to exist
    └── MissingPermission       the installation lacks a permission the call needs
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any, Protocol

from bot.core.decision import CheckRunWrite
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


class MissingPermission(ForgeError):
    """The forge refused a call because the App's installation lacks a permission it needs
    (GitHub: 403 "Resource not accessible by integration" with ``X-Accepted-GitHub-Permissions``).

    Retrying cannot help until an owner of the installation's account grants it (a new
    permission of the App waits for their approval), so jobs stop at once and the PR says so.
    ``accepted`` lists the permission sets the forge named, any one of which would do, each as
    ``(name, level)`` pairs (``(("contents", "read"),)``); empty when the forge named none.
    """

    def __init__(
        self,
        message: str,
        *,
        accepted: tuple[tuple[tuple[str, str], ...], ...] = (),
        status: int | None = 403,
    ) -> None:
        super().__init__(message, status=status)
        self.accepted = accepted


class StaleCommitList(RetryableForgeError):
    """The forge's commit list does not end at the PR's head sha yet (just after a push)."""


def account_from_api(platform: Platform, data: Any) -> Account | None:
    """A forge's user object as an :class:`Account` (``None`` for an organisation, which
    authors no commits). GitHub and Gitee shape it alike: ``id``, ``login``, ``type``."""
    if not isinstance(data, Mapping):
        raise ForgeError("look up a user: the answer is not an object")
    user_id, login, kind = data.get("id"), data.get("login"), data.get("type")
    if isinstance(user_id, bool) or not isinstance(user_id, int) or not isinstance(login, str):
        raise ForgeError("look up a user: the answer has no id or login")
    if kind == "Organization":
        return None
    return Account(platform, str(user_id), login, is_bot=kind == "Bot")


class CheckRuns(Protocol):
    """A forge's check runs (GitHub's Checks API; an App with ``checks: write``)."""

    async def create_check_run(self, repo: RepoRef, run: CheckRunWrite) -> int:
        """Create ``run`` on ``run.sha`` as a completed run; its id."""
        ...

    async def update_check_run(self, repo: RepoRef, run_id: int, run: CheckRunWrite) -> None:
        """Show ``run`` on the existing run ``run_id``."""
        ...


class ForgeClient(Protocol):
    """One authenticated view of a forge (a GitHub installation, or the Gitee bot account)."""

    platform: Platform

    @property
    def check_runs(self) -> CheckRuns | None:
        """The forge's check runs, or ``None`` where it has none (Gitee)."""
        ...

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

    async def user_by_login(self, login: str) -> Account | None:
        """The person's account the forge knows by this login (its id is what lasts: logins
        are renamed and reused); ``None`` when the forge knows no such user."""
        ...

    async def user_by_id(self, account_id: str, *, login: str | None = None) -> Account | None:
        """The account with this id as the forge knows it now (its current login), or ``None``
        when the forge knows no such account — or, where the forge can only look accounts up
        by login (Gitee), when ``login`` is missing or names another account. Failures raise
        ``ForgeError`` as every call does."""
        ...
