"""A forge client in memory that records every call: the forge of the service tests and of
the scale benchmark.

Services are tested by what they write to a forge. :class:`FakeForgeClient` implements the
whole :class:`~bot.platforms.base.ForgeClient` protocol over a small in-memory forge, seeded
through typed methods (:meth:`~FakeForgeClient.add_pr`, :meth:`~FakeForgeClient.add_user`, …).
Reads answer from that state and writes change it — a label added is on the PR the next
``get_pull`` returns, an edited comment has its new body — so a second check sees what the
first wrote, as on a real forge. Every call, read or write, is appended to
:attr:`~FakeForgeClient.calls` as a :class:`Call` holding every argument in the protocol's
order; :meth:`~FakeForgeClient.writes` keeps the writes, so a test asserts the exact list a
service wrote and fails when that changes. The idea is python/bedevere's ``FakeGH``, typed.

A new protocol method is one decorated method here (and its name in :data:`WRITES` when it
writes); ``tests/sandbox/fakeforge/test_client.py`` fails while one is missing.
"""

from __future__ import annotations

import dataclasses
import functools
import inspect
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar, cast

from bot.core.decision import CheckRunWrite
from bot.core.model import Account, CommentRef, Commit, Platform, PullRequest, RepoRef, StatusState
from bot.platforms.base import (
    CheckRuns,
    ForgeClient,
    ForgeNotFound,
    StaleCommitList,
)
from bot.sandbox.fakeforge.common import Ids

__all__ = ["WRITES", "Call", "FakeForgeClient", "Status"]

WRITES = frozenset(
    {
        "set_status",
        "add_labels",
        "remove_label",
        "create_comment",
        "edit_comment",
        "create_check_run",
        "update_check_run",
    }
)
"""The methods that change what the forge shows; every other call only reads."""


@dataclass(frozen=True, slots=True)
class Call:
    """One call made to the fake: the method's name and every argument after ``self``, in the
    order of its signature (keyword-only ones included, defaults filled in)."""

    method: str
    args: tuple[object, ...] = ()

    @property
    def writes(self) -> bool:
        return self.method in WRITES


@dataclass(frozen=True, slots=True)
class Status:
    """A commit status as the forge shows it (the latest one per context)."""

    state: StatusState
    description: str
    context: str
    target_url: str | None


@dataclass(slots=True)
class _Pull:
    pr: PullRequest
    commits: list[Commit]
    labels: list[str]
    state: str


@dataclass(slots=True)
class _Comment:
    comment_id: int
    repo: str
    number: int
    body: str
    author: Account

    def ref(self) -> CommentRef:
        return CommentRef(self.comment_id, self.body, self.author.login, self.author.account_id)


_F = TypeVar("_F", bound=Callable[..., Awaitable[Any]])


def _recorded(method: _F) -> _F:
    """Append a :class:`Call` before the method runs (so a call that fails is recorded too),
    and raise the failure queued for it by :meth:`FakeForgeClient.fail`, if any."""
    signature = inspect.signature(method)
    name = method.__name__

    @functools.wraps(method)
    async def recording(self: FakeForgeClient, *args: Any, **kwargs: Any) -> Any:
        bound = signature.bind(self, *args, **kwargs)
        bound.apply_defaults()
        self.calls.append(Call(name, tuple(bound.arguments.values())[1:]))
        queued = self._failures.get(name)
        if queued:
            raise queued.pop(0)
        return await method(self, *args, **kwargs)

    return cast(_F, recording)


def _key(repo: RepoRef) -> str:
    return repo.full_name.lower()  # forges match owner and name case-insensitively


@dataclass
class FakeForgeClient:
    """One forge account's view of a forge, in memory (see the module's docstring).

    ``bot`` is the account the bot's comments are written by (``find_comment`` finds only
    its comments) — whether its forge has commit statuses is the forge adapter's word
    (``Reports.statuses``), not the client's;
    ``has_check_runs`` makes it a forge with check runs (``check_runs`` is the fake itself,
    and the runs it is given are kept by id);
    ``ids_by_login`` makes ``user_by_id`` confirm an id only through the login it is asked
    with, for a forge that can look accounts up by login only; ``default_permission`` is what
    ``get_permission`` answers for a login given none.
    """

    platform: Platform = Platform("github")  # noqa: RUF009 - a str at run time
    bot: Account | None = None
    has_check_runs: bool = False
    ids_by_login: bool = False
    default_permission: str = "none"
    calls: list[Call] = field(default_factory=list, init=False)
    _pulls: dict[tuple[str, int], _Pull] = field(default_factory=dict, init=False, repr=False)
    _comments: dict[int, _Comment] = field(default_factory=dict, init=False, repr=False)
    _statuses: dict[tuple[str, str, str], Status] = field(
        default_factory=dict, init=False, repr=False
    )
    _permissions: dict[tuple[str, str], str] = field(default_factory=dict, init=False, repr=False)
    _owner_roles: dict[tuple[str, str], str] = field(default_factory=dict, init=False, repr=False)
    _users: dict[str, Account] = field(default_factory=dict, init=False, repr=False)
    _check_runs: dict[int, tuple[str, CheckRunWrite]] = field(
        default_factory=dict, init=False, repr=False
    )
    _failures: dict[str, list[BaseException]] = field(default_factory=dict, init=False, repr=False)
    _ids: Ids = field(default_factory=lambda: Ids(1), init=False, repr=False)

    def __post_init__(self) -> None:
        if self.bot is None:
            self.bot = Account(self.platform, "1000", "cla-bot[bot]", is_bot=True)

    # -- wiring ---------------------------------------------------------------------------------

    def factory(self) -> Callable[[int | None], ForgeClient]:
        """A client factory for the services (``CheckService(clients={platform: ...})``) that
        hands out this fake for every installation. Its return type is also the proof, checked
        by ``mypy --strict``, that the fake is a ``ForgeClient``."""
        return lambda _installation_id: self

    # -- seeding --------------------------------------------------------------------------------

    def add_pr(self, pr: PullRequest, commits: Sequence[Commit] = ()) -> PullRequest:
        """Open (or replace) ``pr`` with these commits, oldest first; its head is the last
        commit's sha when there are commits. Returns the PR as ``get_pull`` shows it."""
        self._pulls[(_key(pr.repo), pr.number)] = _Pull(
            pr, list(commits), list(pr.labels), pr.state
        )
        return self.pull(pr.repo, pr.number)

    def push(self, repo: RepoRef, number: int, *commits: Commit) -> PullRequest:
        """New commits on the PR's branch: its head moves to the last of them."""
        self._pull(repo, number).commits.extend(commits)
        return self.pull(repo, number)

    def set_state(self, repo: RepoRef, number: int, state: str) -> PullRequest:
        """Close, merge or reopen the PR (``"closed"``, ``"merged"``, ``"open"``)."""
        self._pull(repo, number).state = state
        return self.pull(repo, number)

    def add_comment(self, repo: RepoRef, number: int, body: str, *, author: Account) -> int:
        """Someone's comment on the PR (a command, say); its id."""
        self._pull(repo, number)
        return self._new_comment(repo, number, body, author)

    def add_user(self, account: Account) -> Account:
        self._users[account.account_id] = account
        return account

    def set_permission(self, repo: RepoRef, login: str, permission: str) -> None:
        """What the forge says ``login`` may do on ``repo``: admin, write, read or none."""
        self._permissions[(_key(repo), login.lower())] = permission

    def set_owner_role(self, owner: str, login: str, role: str) -> None:
        """What the forge says ``login`` is of the organisation ``owner``: admin, member or
        none (``login`` is always ``admin`` of its own account)."""
        self._owner_roles[(owner.lower(), login.lower())] = role

    def fail(self, method: str, error: BaseException) -> None:
        """The next call of ``method`` raises ``error`` (after it is recorded)."""
        if not callable(getattr(self, method, None)):
            raise AttributeError(f"the fake forge has no method {method!r}")
        self._failures.setdefault(method, []).append(error)

    # -- looking at the forge (not recorded) ----------------------------------------------------

    def writes(self) -> list[Call]:
        """The recorded calls that changed the forge, in the order they were made."""
        return [c for c in self.calls if c.writes]

    def pull(self, repo: RepoRef, number: int) -> PullRequest:
        """The PR as the forge shows it now: current head, labels, state and commit count."""
        p = self._pull(repo, number)
        head = p.commits[-1].sha if p.commits else p.pr.head_sha
        return dataclasses.replace(
            p.pr,
            head_sha=head,
            labels=tuple(p.labels),
            state=p.state,
            commit_count=len(p.commits) if p.commits else p.pr.commit_count,
        )

    def labels_of(self, repo: RepoRef, number: int) -> list[str]:
        return list(self._pull(repo, number).labels)

    def comments_on(self, repo: RepoRef, number: int) -> list[CommentRef]:
        """Every comment of the PR, oldest first."""
        return [
            c.ref() for c in self._comments.values() if (c.repo, c.number) == (_key(repo), number)
        ]

    def status_for(self, repo: RepoRef, sha: str, context: str) -> Status | None:
        return self._statuses.get((_key(repo), sha, context))

    # -- the ForgeClient protocol ---------------------------------------------------------------

    @_recorded
    async def get_pull(self, repo: RepoRef, number: int) -> PullRequest:
        return self.pull(repo, number)

    @_recorded
    async def list_commits(self, pr: PullRequest) -> Sequence[Commit]:
        commits = self._pull(pr.repo, pr.number).commits
        if commits and commits[-1].sha != pr.head_sha:
            raise StaleCommitList(
                f"the commits of {pr.repo.full_name}#{pr.number} end at {commits[-1].sha[:7]}, "
                f"not at {pr.head_sha[:7]}"
            )
        return list(commits)

    @_recorded
    async def set_status(
        self,
        repo: RepoRef,
        sha: str,
        *,
        state: StatusState,
        description: str,
        context: str,
        target_url: str | None,
    ) -> None:
        self._statuses[(_key(repo), sha, context)] = Status(state, description, context, target_url)

    @_recorded
    async def add_labels(self, repo: RepoRef, number: int, names: Sequence[str]) -> None:
        labels = self._pull(repo, number).labels
        labels.extend(n for n in dict.fromkeys(names) if n not in labels)

    @_recorded
    async def remove_label(self, repo: RepoRef, number: int, name: str) -> None:
        labels = self._pull(repo, number).labels
        if name in labels:
            labels.remove(name)

    @_recorded
    async def find_comment(self, repo: RepoRef, number: int, marker: str) -> CommentRef | None:
        own = self._bot.login.lower()
        for c in self.comments_on(repo, number):
            if marker in c.body and c.author_login.lower() == own:
                return c
        return None

    @_recorded
    async def get_comment(self, repo: RepoRef, comment_id: int) -> CommentRef | None:
        c = self._comments.get(comment_id)
        return c.ref() if c is not None and c.repo == _key(repo) else None

    @_recorded
    async def create_comment(self, repo: RepoRef, number: int, body: str) -> int:
        self._pull(repo, number)
        return self._new_comment(repo, number, body, self._bot)

    @_recorded
    async def edit_comment(self, repo: RepoRef, comment_id: int, body: str) -> None:
        c = self._comments.get(comment_id)
        if c is None or c.repo != _key(repo):
            raise ForgeNotFound(f"no comment {comment_id} on {repo.full_name}", status=404)
        c.body = body

    @property
    def check_runs(self) -> CheckRuns | None:
        return self if self.has_check_runs else None

    @_recorded
    async def create_check_run(self, repo: RepoRef, run: CheckRunWrite) -> int:
        run_id = self._ids()
        self._check_runs[run_id] = (_key(repo), run)
        return run_id

    @_recorded
    async def update_check_run(self, repo: RepoRef, run_id: int, run: CheckRunWrite) -> None:
        known = self._check_runs.get(run_id)
        if known is None or known[0] != _key(repo):
            raise ForgeNotFound(f"no check run {run_id} on {repo.full_name}", status=404)
        self._check_runs[run_id] = (known[0], run)

    def check_run(self, run_id: int) -> CheckRunWrite:
        """What the check run ``run_id`` shows now (not recorded)."""
        return self._check_runs[run_id][1]

    @_recorded
    async def get_permission(self, repo: RepoRef, login: str) -> str:
        return self._permissions.get((_key(repo), login.lower()), self.default_permission)

    @_recorded
    async def owner_role(self, owner: str, login: str) -> str:
        if owner.lower() == login.lower():
            return "admin"
        return self._owner_roles.get((owner.lower(), login.lower()), "none")

    @_recorded
    async def user_by_login(self, login: str) -> Account | None:
        return self._by_login(login)

    @_recorded
    async def user_by_id(self, account_id: str, *, login: str | None = None) -> Account | None:
        if not self.ids_by_login:
            return self._users.get(account_id)
        found = self._by_login(login) if login else None
        return found if found is not None and found.account_id == account_id else None

    # -- beyond the protocol --------------------------------------------------------------------

    @_recorded
    async def open_pulls(self, repo: RepoRef) -> list[PullRequest]:
        """The repository's open PRs, by number (what a reconciliation sweep lists)."""
        numbers = sorted(n for (r, n), p in self._pulls.items() if r == _key(repo))
        return [pr for pr in (self.pull(repo, n) for n in numbers) if pr.state == "open"]

    # -- inside ---------------------------------------------------------------------------------

    @property
    def _bot(self) -> Account:
        assert self.bot is not None  # set in __post_init__
        return self.bot

    def _pull(self, repo: RepoRef, number: int) -> _Pull:
        found = self._pulls.get((_key(repo), number))
        if found is None:
            raise ForgeNotFound(f"no pull request {repo.full_name}#{number}", status=404)
        return found

    def _by_login(self, login: str) -> Account | None:
        wanted = login.lower()
        return next((a for a in self._users.values() if a.login.lower() == wanted), None)

    def _new_comment(self, repo: RepoRef, number: int, body: str, author: Account) -> int:
        comment_id = self._ids()
        self._comments[comment_id] = _Comment(comment_id, _key(repo), number, body, author)
        return comment_id
