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
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
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
from bot.policy import Policy


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

    async def owner_role(self, owner: str, login: str) -> str:
        """``admin``, ``member`` or ``none``: what ``login`` is of the account ``owner`` (an
        organisation, or a person's own account). ``admin`` when ``login`` is ``owner`` itself
        or an owner/admin of the organisation; ``none`` for someone who is not a member (or a
        pending one), for an account that is not an organisation, and where the bot may not
        see the organisation's members (logged). Other failures raise ``ForgeError``."""
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


@dataclass(frozen=True, slots=True)
class ForgeCredentials:
    """The :class:`ForgeSettings` every forge's settings class extends with its own credentials
    (the secrets never in repr)."""

    webhook_secret: str = field(repr=False)
    client_id: str | None
    client_secret: str | None = field(repr=False)
    api_url: str
    web_url: str


@dataclass(frozen=True, slots=True)
class ForgeConfig:
    """A forge's part of the settings, read by its ``settings_from_env``: its web and API bases
    (the defaults when unset, for links and the setup page) and, when the forge is configured,
    its settings (``None``: not configured)."""

    web_url: str
    api_url: str
    settings: ForgeSettings | None = None


class SettingsView(Protocol):
    """What an adapter reads of the bot's settings (:class:`bot.settings.Settings` is one; the
    adapters sit below it and cannot import it)."""

    @property
    def forges(self) -> Mapping[Platform, ForgeConfig]: ...

    @property
    def policy(self) -> Policy: ...


@dataclass(frozen=True, slots=True)
class SavedEnv:
    """Settings a forge's setup page saved in ``file_name`` under ``CLA_VAR_DIR``, read at
    start-up before anything else: ``merge(env, var_dir)`` is ``env`` completed by the file (the
    environment wins); a bad file raises :class:`bot.errors.SettingsError`."""

    file_name: str
    merge: Callable[[Mapping[str, str], Path], dict[str, str]]


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


# -- setup pages ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class SetupContext:
    """What a forge's setup step may know, handed over by the web layer's ``/setup`` pages."""

    public_url: str
    var_dir: Path
    manifest: Mapping[str, Any]  # app.yaml's top-level keys besides the policy
    policy: Policy
    forge: ForgeConfig
    # True while ``/setup`` still shows a form to fill (a page may link back to it).
    index_open: bool


@dataclass(frozen=True, slots=True)
class SetupPage:
    """What a setup step answers, for the web layer to render: ``template`` with ``values``, or
    (``template`` ``None``) the error page saying ``message`` (a page text's key) with ``values``.
    ``form_origin`` is the one other origin the page's form may post to; ``ends_flow`` clears the
    browser's setup cookie."""

    template: str | None
    values: Mapping[str, Any] = field(default_factory=dict)
    status: int = 200
    message: str | None = None
    form_origin: str | None = None
    ends_flow: bool = False


class SetupFlow(Protocol):
    """A setup that registers the bot with the forge from the browser (GitHub's App manifest):
    its start form is part of ``/setup``, ``POST /setup/{forge}`` starts it, and the forge sends
    the browser back to ``/setup/{forge}/callback``. The web layer keeps what every flow shares:
    the form's CSRF cookie, and the single-use, one-hour, browser-bound ``state``, which
    remembers the ``mode`` :meth:`check` chose."""

    @property
    def modes(self) -> tuple[str, ...]:
        """Every mode a started flow may remember."""
        ...

    def check(self, ctx: SetupContext, form: Mapping[str, str]) -> tuple[str, dict[str, str]]:
        """The form's mode, and its errors by field (page text keys; empty: it may start)."""
        ...

    def start(self, ctx: SetupContext, form: Mapping[str, str], *, state: str) -> SetupPage:
        """The page that sends the browser to the forge, carrying ``state``."""
        ...

    async def callback(
        self, ctx: SetupContext, query: Mapping[str, str], *, mode: str
    ) -> SetupPage:
        """Finish the flow the forge sent the browser back from (its state already checked)."""
        ...


@dataclass(frozen=True, slots=True)
class ForgeSetup:
    """A forge's part of the ``/setup`` pages.

    ``section`` is the template of its part of ``/setup``, filled with ``section_values(ctx,
    form, errors)`` (the start form's values and errors, when it has a flow). ``page`` answers
    ``GET /setup/{forge}``, ``flow`` the start form and its callback. Once the forge is
    configured every one of its steps answers ``disabled(settings)`` (a 404): an anonymous page
    never calls a configured forge, so it cannot spend its rate limit or probe its token.
    """

    section: str
    section_values: Callable[
        [SetupContext, Mapping[str, str] | None, Mapping[str, str]], Mapping[str, Any]
    ]
    disabled: Callable[[ForgeSettings], SetupPage]
    page: Callable[[SetupContext], SetupPage] | None = None
    flow: SetupFlow | None = None


# -- the adapter ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Forge:
    """One forge's adapter: everything the rest of the bot may know about it.

    ``bot.platforms.registry`` lists one per forge; nothing outside ``bot/platforms/`` names a
    forge, it asks the registry's objects. ``body_is_signed`` is ``False`` where the webhook's
    signature does not cover the body (Gitee): a job then carries only coordinates, and the
    worker acts on what the API says (the PR, the comment), never on the delivery's copy.
    ``settings_from_env`` reads the forge's variables (``bot.settings`` asks every forge, and
    keeps the answers in ``Settings.forges``); ``saved_env`` reads what its setup page saved.
    ``connect`` builds the live :class:`Connection` when the forge is configured (else
    ``None``); ``not_connected`` says, for the home page, what connecting it takes, and
    ``setup`` is its part of the ``/setup`` pages.
    """

    facts: ForgeFacts
    reports: Reports
    body_is_signed: bool
    # ``{web}/{owner}/{name}/{pull_path}/{number}`` is a pull request's page.
    pull_path: str
    # True where the bot acts through App installations (a repository needs one).
    installations: bool
    # Its settings from the environment; raises SettingsError naming a bad variable.
    settings_from_env: Callable[[Mapping[str, str]], ForgeConfig]
    connect: Callable[[SettingsView, aiohttp.ClientSession], Connection | None]
    # What connecting the forge takes: the settings to set (or a setup page to use).
    not_connected: str
    saved_env: SavedEnv | None = None
    setup: ForgeSetup | None = None

    @property
    def name(self) -> Platform:
        return self.facts.name

    @property
    def display_name(self) -> str:
        return self.facts.display_name

    def settings_of(self, settings: SettingsView) -> ForgeSettings | None:
        """The forge's settings when it is configured, else ``None``."""
        found = settings.forges.get(self.name)
        return found.settings if found else None

    def web_url_of(self, settings: SettingsView) -> str:
        return settings.forges[self.name].web_url

    def api_url_of(self, settings: SettingsView) -> str:
        return settings.forges[self.name].api_url

    @property
    def setup_path(self) -> str | None:
        """Where connecting the forge is explained: ``/setup`` when its start form is there,
        its own page otherwise (``None``: it has none)."""
        if self.setup is None:
            return None
        if self.setup.flow is not None:
            return "/setup"
        return f"/setup/{self.name}" if self.setup.page is not None else None
