"""What a verified delivery asks of the bot, as every forge's routing answers it.

Each forge's ``routing.route`` (pure: no I/O) turns a verified, decoded delivery into one of
these: nothing (:class:`Ignore`), a check of one PR (:class:`CheckJob`), what a comment asks
(:class:`CommentJobs`), a merge queue entry (:class:`MergeGroupJob`), re-checks
(:class:`RecheckJobs`), or bookkeeping (:class:`PrClosed`, :class:`InstallationChange`).
They hold typed values only (core ``RepoRef`` and ``PullRequest``, command kinds): no dict of
the forge's passes this layer. ``bot.services.deliveries`` stores them; a malformed delivery
raises :class:`PayloadError`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TypeVar

from bot.core.commands import CommandKind, parse_commands
from bot.core.model import PullRequest, RepoRef

# A delivery that lacks a field the bot needs, or has one of the wrong type or range (answered
# 400), raises the payload decoder's own error: one class for every malformed input.
from bot.platforms.payload import PayloadError as PayloadError

_T = TypeVar("_T")


@dataclass(frozen=True, slots=True)
class Ignore:
    reason: str


@dataclass(frozen=True, slots=True)
class CheckJob:
    """Evaluate and report PR ``number`` of ``repo``: from ``pull``, the delivery's snapshot
    (only where the forge signs the body), else from the PR as the forge answers then.
    ``trigger`` (the event, ``command``, …) and ``comment_id`` (of a ``/cla check``) say what
    asked."""

    repo: RepoRef
    number: int
    installation_id: int | None
    trigger: str
    comment_id: int | None = None
    pull: PullRequest | None = None

    @property
    def pr_key(self) -> str:
        return pr_key(self.repo.platform, self.repo.owner, self.repo.name, self.number)


@dataclass(frozen=True, slots=True)
class CommandJob:
    """Comment commands other than a re-check, acted on once per comment: ``commands`` of
    comment ``comment_id`` by ``author_login`` (account ``author_id`` where the delivery named
    it) on PR ``number``. The comment's body is not kept."""

    repo: RepoRef
    number: int
    installation_id: int | None
    comment_id: int
    author_login: str
    author_id: str | None
    commands: tuple[tuple[CommandKind, str | None], ...]

    @property
    def comment_key(self) -> str:
        """``comment:<id>``: the job's idempotency key."""
        return f"comment:{self.comment_id}"

    @property
    def pr_key(self) -> str:
        return pr_key(self.repo.platform, self.repo.owner, self.repo.name, self.number)


@dataclass(frozen=True, slots=True)
class CommentJobs:
    """What one comment asks for: a re-check, other commands, or both."""

    check: CheckJob | None
    command: CommandJob | None


@dataclass(frozen=True, slots=True)
class PrClosed:
    """A PR closed or merged: bookkeeping only (forget who contributed to it)."""

    platform: str
    repo_full_name: str
    number: int


@dataclass(frozen=True, slots=True)
class InstallationChange:
    installation_id: int
    account_login: str
    action: str  # created / deleted / suspend / unsuspend / added / removed / ...
    repos_added: tuple[tuple[str, int | None], ...] = ()
    repos_removed: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class MergeGroupJob:
    """Report on a merge queue entry's head commit ``head_sha``: the PR it names (``number``;
    ``None`` when the entry's branch names none, which fails closed)."""

    repo: RepoRef
    installation_id: int
    head_sha: str
    number: int | None

    @property
    def pr_key(self) -> str | None:
        if self.number is None:
            return None
        return pr_key(self.repo.platform, self.repo.owner, self.repo.name, self.number)


@dataclass(frozen=True, slots=True)
class RecheckJobs:
    """Check these PRs again, as ``/cla check`` would (a Re-run or Re-check of the App's own
    check run or suite). ``numbers`` is empty when the forge named no PR (a fork PR's run):
    then the open PRs whose head is ``head_sha`` are meant."""

    repo: RepoRef
    installation_id: int
    numbers: tuple[int, ...]
    head_sha: str
    trigger: str

    def jobs(self, numbers: tuple[int, ...] | None = None) -> list[CheckJob]:
        """One check job per PR (``numbers`` when the head sha found them)."""
        return [
            CheckJob(self.repo, n, self.installation_id, self.trigger)
            for n in (self.numbers if numbers is None else numbers)
        ]


Route = (
    Ignore | CheckJob | CommentJobs | PrClosed | InstallationChange | MergeGroupJob | RecheckJobs
)


def comment_jobs(
    *,
    repo: RepoRef,
    number: int,
    installation_id: int | None,
    comment_id: int,
    author_login: str,
    author_id: int | str | None,
    body: str,
) -> CommentJobs | Ignore:
    """The jobs a PR comment asks for, from its commands (parsed by the pure core).
    ``author_id`` may come as a string of digits (some forges send one)."""
    commands = parse_commands(body)
    if not commands:
        return Ignore("no command")
    if isinstance(author_id, str) and not (author_id.isascii() and author_id.isdigit()):
        raise PayloadError("comment.user.id: expected an integer")
    check = None
    if any(c.kind == CommandKind.CHECK for c in commands):
        check = CheckJob(repo, number, installation_id, "command", comment_id=comment_id)
    others = tuple((c.kind, c.argument) for c in commands if c.kind != CommandKind.CHECK)
    command = None
    if others:
        command = CommandJob(
            repo=repo,
            number=number,
            installation_id=installation_id,
            comment_id=comment_id,
            author_login=author_login,
            author_id=None if author_id is None else str(int(author_id)),
            commands=others,
        )
    return CommentJobs(check=check, command=command)


def need(value: _T | None, what: str) -> _T:
    if value is None:
        raise PayloadError(f"missing {what}")
    return value


def pr_key(platform: str, owner: str, name: str, number: int) -> str:
    """``platform:owner/name#n``, lower-cased: the queue coalesces a PR's jobs by it."""
    return f"{platform}:{owner}/{name}#{number}".lower()
