"""What a verified delivery asks of the bot, as every forge's routing answers it.

Each forge's ``routing.route`` (pure: no I/O) turns a verified, decoded delivery into one of
these: nothing (:class:`Ignore`), a check of one PR (:class:`CheckJob`), what a comment asks
(:class:`CommentJobs`), or bookkeeping (:class:`PrClosed`, :class:`InstallationChange`).
``bot.services.deliveries`` stores them; a malformed delivery raises :class:`PayloadError`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, TypeVar

from bot.core.commands import CommandKind, parse_commands

# A delivery that lacks a field the bot needs, or has one of the wrong type or range (answered
# 400), raises the payload decoder's own error: one class for every malformed input.
from bot.platforms.payload import PayloadError as PayloadError

_T = TypeVar("_T")


@dataclass(frozen=True, slots=True)
class Ignore:
    reason: str


@dataclass(frozen=True, slots=True)
class CheckJob:
    """Evaluate and report one PR."""

    pr_key: str
    installation_id: int | None
    payload: dict[str, Any]


@dataclass(frozen=True, slots=True)
class CommandJob:
    """Comment commands other than a re-check, acted on once per comment."""

    comment_key: str  # ``platform:comment id``: the job's idempotency key
    pr_key: str
    installation_id: int | None
    payload: dict[str, Any]


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
    """Report on a merge queue entry's head commit: the PR it names (``number``; ``None`` when
    the entry's branch names none, which fails closed)."""

    pr_key: str | None
    installation_id: int
    payload: dict[str, Any]


@dataclass(frozen=True, slots=True)
class RecheckJobs:
    """Check these PRs again, as ``/cla check`` would (a Re-run or Re-check of the App's own
    check run or suite). ``numbers`` is empty when the forge named no PR (a fork PR's run):
    then the open PRs whose head is ``head_sha`` are meant."""

    platform: str
    repo: dict[str, Any]
    installation_id: int
    numbers: tuple[int, ...]
    head_sha: str
    trigger: str

    def jobs(self, numbers: tuple[int, ...] | None = None) -> list[CheckJob]:
        """One check job per PR (``numbers`` when the head sha found them)."""
        owner, name = self.repo["owner"], self.repo["name"]
        return [
            CheckJob(
                pr_key=pr_key(self.platform, owner, name, n),
                installation_id=self.installation_id,
                payload={"repo": self.repo, "number": n, "trigger": self.trigger},
            )
            for n in (self.numbers if numbers is None else numbers)
        ]


Route = (
    Ignore | CheckJob | CommentJobs | PrClosed | InstallationChange | MergeGroupJob | RecheckJobs
)


def comment_jobs(
    *,
    platform: str,
    repo: dict[str, Any],
    number: int,
    installation_id: int | None,
    comment_id: Any,
    author: dict[str, Any],
    body: str,
) -> CommentJobs | Ignore:
    """The jobs a PR comment asks for, from its commands (parsed by the pure core)."""
    commands = parse_commands(body)
    if not commands:
        return Ignore("no command")
    key = pr_key(platform, repo["owner"], repo["name"], number)
    check = None
    if any(c.kind == CommandKind.CHECK for c in commands):
        check = CheckJob(
            pr_key=key,
            installation_id=installation_id,
            payload={
                "repo": repo,
                "number": number,
                "trigger": "command",
                "comment_id": comment_id,
            },
        )
    others = [c for c in commands if c.kind != CommandKind.CHECK]
    command = None
    if others:
        command = CommandJob(
            comment_key=f"comment:{comment_id}",
            pr_key=key,
            installation_id=installation_id,
            payload={
                "repo": repo,
                "number": number,
                "comment_id": comment_id,
                "author": author,
                "commands": [[c.kind.value, c.argument] for c in others],
            },
        )
    return CommentJobs(check=check, command=command)


def need(value: _T | None, what: str) -> _T:
    if value is None:
        raise PayloadError(f"missing {what}")
    return value


def pr_key(platform: str, owner: str, name: str, number: int) -> str:
    """``platform:owner/name#n``, lower-cased: the queue coalesces a PR's jobs by it."""
    return f"{platform}:{owner}/{name}#{number}".lower()
