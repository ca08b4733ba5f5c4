"""The protocol every forge client implements, the errors it raises, and the adapter object
(:class:`Forge`) that carries everything the rest of the bot may know about one forge.

Exception tree::

    ForgeError                  a forge call failed
    ├── RetryableForgeError     5xx, timeouts, connection errors: retry with backoff
    │   └── RateLimited         primary or secondary rate limit: wait ``until``, not a failure
    ├── ForgeAuthError          401 after one token refresh, or the installation is gone
    ├── ForgeNotFound           404 on something that had to exist
    └── MissingPermission       the installation lacks a permission the call needs
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

import aiohttp

from bot.core.decision import CheckRunWrite
from bot.core.errors import BotError
from bot.core.model import (
    Account,
    CommentRef,
    Commit,
    ForgeFacts,
    Platform,
    PullRequest,
    RepoRef,
    StatusState,
)
from bot.platforms.webhooks import WebhookReceiver
from bot.settings import Settings


class ForgeError(BotError):
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


@dataclass(frozen=True, slots=True)
class Reports:
    """How a forge can show a check's result: commit statuses, check runs, labels."""

    statuses: bool
    check_runs: bool
    labels: bool


class ForgeSettings(Protocol):
    """What every forge's settings hold (each forge adds its own credentials)."""

    @property
    def webhook_secret(self) -> str: ...

    @property
    def client_id(self) -> str | None: ...

    @property
    def client_secret(self) -> str | None: ...

    @property
    def api_url(self) -> str: ...

    @property
    def web_url(self) -> str: ...


# A forge's clients by installation (``None`` where the forge has no installations).
ClientFactory = Callable[[int | None], ForgeClient]


@dataclass(frozen=True, slots=True)
class Redeliveries:
    """What a forge's delivery log says failed since a time: ``seen`` attempts listed, and per
    delivery key that no attempt delivered, the id of its latest attempt."""

    seen: int
    failed: Mapping[str, int]


class Redelivery(Protocol):
    """A forge that keeps a log of its deliveries and redelivers one on request (GitHub)."""

    async def failed_since(self, since: datetime, *, limit: int) -> Redeliveries: ...

    async def redeliver(self, attempt_id: int) -> None: ...


class OpenPulls(Protocol):
    """A forge that cannot redeliver: the sweep lists its open PRs instead (Gitee)."""

    async def open_pulls(self, repo: RepoRef) -> list[PullRequest]: ...


@dataclass(frozen=True, slots=True)
class Connection:
    """One configured forge, live: its clients, its webhook receiver, the check said in the log
    at start-up, and its reconciliation hook — a delivery log to redeliver from, or open PRs to
    sweep (``None`` where the forge offers neither)."""

    clients: ClientFactory
    webhooks: WebhookReceiver
    startup_check: Callable[[], Awaitable[None]] | None = None
    redelivery: Redelivery | None = None
    open_pulls: OpenPulls | None = None


@dataclass(frozen=True, slots=True)
class Forge:
    """One forge's adapter: everything the rest of the bot may know about it.

    ``bot.platforms.registry`` lists one per forge; nothing outside ``bot/platforms/`` names a
    forge, it asks the registry's objects. ``body_is_signed`` is ``False`` where the webhook's
    signature does not cover the body (Gitee): a job then carries only coordinates, and the
    worker acts on what the API says (the PR, the comment), never on the delivery's copy.
    ``connect`` builds the live :class:`Connection` when the forge is configured (else
    ``None``); ``not_connected`` says, for the home page, what connecting it takes.
    """

    facts: ForgeFacts
    reports: Reports
    body_is_signed: bool
    # ``{web}/{owner}/{name}/{pull_path}/{number}`` is a pull request's page.
    pull_path: str
    # True where the bot acts through App installations (a repository needs one).
    installations: bool
    # The forge's settings when it is configured (else None), and its web and API bases either way.
    settings_of: Callable[[Settings], ForgeSettings | None]
    web_url_of: Callable[[Settings], str]
    api_url_of: Callable[[Settings], str]
    connect: Callable[[Settings, aiohttp.ClientSession], Connection | None]
    # What connecting the forge takes: the settings to set (or a setup page to use).
    not_connected: str
    setup_path: str | None = None

    @property
    def name(self) -> Platform:
        return self.facts.name

    @property
    def display_name(self) -> str:
        return self.facts.display_name
