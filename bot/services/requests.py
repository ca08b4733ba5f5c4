"""The work a check or a command job asks for, typed on both sides of the queue's JSON.

The webhook's routing result and every re-check become a :class:`CheckRequest`, a
:class:`CommandRequest` or a :class:`MergeGroupRequest` before they are stored (``to_json``),
and the worker reads them back (``from_json``) instead of indexing a ``dict``. The JSON keeps
the keys earlier versions stored, so that jobs queued before an upgrade still run after it:

* a check: ``{"repo": {"owner", "name", "id"?}, "number", "trigger"?, "comment_id"?,
  "pull"?}``. ``pull`` is the PR snapshot of the delivery: now a core ``PullRequest``
  (:func:`pull_to_json`, recognised by its ``head_sha``); in jobs of earlier versions the
  forge's API shape, which the platform layer decodes (:mod:`bot.platforms.snapshots`).
* a command: ``{"repo", "number", "comment_id", "author": {"login", "id"}, "commands":
  [[kind, argument]], "replies"?, "erased"?}``, ``replies`` and ``erased`` being what an
  earlier attempt already did.
* a merge queue entry: ``{"repo", "number" (or null), "head_sha"}``.

The person-bearing fields stay user objects (``{"login", "id"}``) under those keys, which is
what an erasure looks for in queued jobs (:func:`bot.services.rights.erasure.without_person`).
A payload that cannot be read raises :class:`BadRequest`, which the worker dead-letters at
once: retrying a payload cannot change it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from types import MappingProxyType
from typing import Any

from bot.core.commands import CommandKind
from bot.core.model import Account, Platform, PullRequest, RepoRef
from bot.platforms.payload import PayloadError, integer, obj, opt_integer, root, string
from bot.platforms.snapshots import pull_from_snapshot
from bot.services.jobs import CHECK_SNAPSHOT as SNAPSHOT
from bot.services.jobs import GiveUp


class BadRequest(GiveUp):
    """A stored job's payload is not a request this version can read (damaged, or written by
    another version): ``kind`` and ``problem`` say which and why."""

    def __init__(self, kind: str, problem: str) -> None:
        super().__init__(f"cannot read the {kind} job's payload: {problem}")
        self.kind = kind
        self.problem = problem


def _repo_to_json(repo: RepoRef) -> dict[str, Any]:
    return {"owner": repo.owner, "name": repo.name, "id": repo.repo_id}


def _repo(platform: str, data: Mapping[str, Any], where: str) -> RepoRef:
    repo = obj(data, "repo", where)
    return RepoRef(
        Platform(platform),
        string(repo, "owner", f"{where}.repo"),
        string(repo, "name", f"{where}.repo"),
        opt_integer(repo, "id", f"{where}.repo"),
    )


def _account(platform: str, data: Mapping[str, Any], key: str, where: str) -> Account | None:
    user = data.get(key)
    if user is None:
        return None
    user = root(user, f"{where}.{key}")
    return Account(
        Platform(platform),
        str(integer(user, "id", f"{where}.{key}", digits_ok=True)),
        string(user, "login", f"{where}.{key}"),
        user.get("bot") is True,
    )


def pull_to_json(pr: PullRequest) -> dict[str, Any]:
    """A core ``PullRequest`` as a check job stores it (its repository's and author's forge is
    the job's)."""
    author = pr.author
    return {
        "repo": _repo_to_json(pr.repo),
        "number": pr.number,
        "head_sha": pr.head_sha,
        "base_ref": pr.base_ref,
        "base_sha": pr.base_sha,
        "state": pr.state,
        "draft": pr.draft,
        "author": None
        if author is None
        else {"login": author.login, "id": author.account_id, "bot": author.is_bot},
        "labels": list(pr.labels),
        "commit_count": pr.commit_count,
        "installation_id": pr.installation_id,
    }


def pull_from_json(platform: str, data: Mapping[str, Any]) -> PullRequest:
    """The inverse of :func:`pull_to_json`; :class:`PayloadError` names a bad field."""
    where = SNAPSHOT
    labels = data.get("labels") or []
    if not isinstance(labels, list) or not all(isinstance(lb, str) for lb in labels):
        raise PayloadError(f"{where}.labels: expected a list of strings")
    base_sha = data.get("base_sha")
    if base_sha is not None and not isinstance(base_sha, str):
        raise PayloadError(f"{where}.base_sha: expected a string")
    return PullRequest(
        repo=_repo(platform, data, where),
        number=integer(data, "number", where),
        head_sha=string(data, "head_sha", where),
        base_ref=string(data, "base_ref", where),
        state=string(data, "state", where),
        author=_account(platform, data, "author", where),
        labels=tuple(labels),
        commit_count=opt_integer(data, "commit_count", where),
        installation_id=opt_integer(data, "installation_id", where),
        base_sha=base_sha,
        draft=data.get("draft") is True,
    )


def _snapshot(
    platform: str, data: Mapping[str, Any], installation_id: int | None
) -> PullRequest | None:
    snap = data.get(SNAPSHOT)
    if snap is None:
        return None
    snap = root(snap, SNAPSHOT)
    if "head_sha" in snap:
        return pull_from_json(platform, snap)
    return pull_from_snapshot(platform, snap, installation_id=installation_id)


def _optional_str(data: Mapping[str, Any], key: str) -> str:
    value = data.get(key)
    if value is None:
        return ""
    if not isinstance(value, str):
        raise PayloadError(f"payload.{key}: expected a string")
    return value


@dataclass(frozen=True, slots=True)
class CheckRequest:
    """Check PR ``number`` of ``repo``: from ``pull`` (the delivery's snapshot) when given,
    else from the PR as the forge answers now. ``trigger`` (the event, ``command``,
    ``signature``, ``sweep``, …) and ``comment_id`` (of a ``/cla check``) say what asked."""

    repo: RepoRef
    number: int
    trigger: str = ""
    comment_id: int | None = None
    pull: PullRequest | None = None

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "repo": _repo_to_json(self.repo),
            "number": self.number,
            "trigger": self.trigger,
        }
        if self.comment_id is not None:
            data["comment_id"] = self.comment_id
        if self.pull is not None:
            data[SNAPSHOT] = pull_to_json(self.pull)
        return data

    @classmethod
    def from_json(
        cls, platform: str, data: Mapping[str, Any], *, installation_id: int | None = None
    ) -> CheckRequest:
        """The request a check job of ``platform`` stores, in any shape a version stored;
        ``installation_id`` (the job's) completes an old snapshot, which carried none."""
        try:
            data = root(data)
            return cls(
                repo=_repo(platform, data, "payload"),
                number=integer(data, "number", "payload"),
                trigger=_optional_str(data, "trigger"),
                comment_id=opt_integer(data, "comment_id", "payload", digits_ok=True),
                pull=_snapshot(platform, data, installation_id),
            )
        except PayloadError as exc:
            raise BadRequest("check", str(exc)) from exc

    def without_snapshot(self) -> CheckRequest:
        """The same request, reading the PR again instead of the delivery's snapshot."""
        return replace(self, pull=None)


@dataclass(frozen=True, slots=True)
class MergeGroupRequest:
    """Report on a merge queue entry of ``repo`` at ``head_sha``: whether PR ``number`` (the
    one its branch names; ``None`` when it names none, which fails closed) is covered."""

    repo: RepoRef
    head_sha: str
    number: int | None

    def to_json(self) -> dict[str, Any]:
        return {"repo": _repo_to_json(self.repo), "number": self.number, "head_sha": self.head_sha}

    @classmethod
    def from_json(cls, platform: str, data: Mapping[str, Any]) -> MergeGroupRequest:
        try:
            data = root(data)
            return cls(
                repo=_repo(platform, data, "payload"),
                head_sha=string(data, "head_sha", "payload"),
                number=opt_integer(data, "number", "payload"),
            )
        except PayloadError as exc:
            raise BadRequest("merge_group", str(exc)) from exc


_NO_REPLIES: Mapping[str, str] = MappingProxyType({})


@dataclass(frozen=True, slots=True)
class CommandRequest:
    """Act on the commands of comment ``comment_id`` (by ``author_login``, account
    ``author_id`` where the delivery named it) on PR ``number``; ``replies`` (by command) and
    ``erased`` are what an earlier attempt already did, so that a retry only posts."""

    repo: RepoRef
    number: int
    comment_id: int
    author_login: str
    author_id: str | None
    commands: tuple[tuple[CommandKind, str | None], ...]
    replies: Mapping[str, str] = field(default_factory=lambda: _NO_REPLIES)
    erased: bool = False

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "repo": _repo_to_json(self.repo),
            "number": self.number,
            "comment_id": self.comment_id,
            "author": {"login": self.author_login, "id": self.author_id},
            "commands": [[kind.value, argument] for kind, argument in self.commands],
        }
        if self.replies:
            data["replies"] = dict(self.replies)
        if self.erased:
            data["erased"] = True
        return data

    @classmethod
    def from_json(cls, platform: str, data: Mapping[str, Any]) -> CommandRequest:
        try:
            data = root(data)
            author = data.get("author") or {}
            author = root(author, "payload.author")
            login = author.get("login")
            if login is not None and not isinstance(login, str):
                raise PayloadError("payload.author.login: expected a string")
            account_id = opt_integer(author, "id", "payload.author", digits_ok=True)
            return cls(
                repo=_repo(platform, data, "payload"),
                number=integer(data, "number", "payload"),
                comment_id=integer(data, "comment_id", "payload", digits_ok=True),
                author_login=login or "",
                author_id=None if account_id is None else str(account_id),
                commands=_commands(data.get("commands")),
                replies=_replies(data.get("replies")),
                erased=data.get("erased") is True,
            )
        except PayloadError as exc:
            raise BadRequest("command", str(exc)) from exc

    def replied(self, kind: CommandKind, body: str, *, erased: bool) -> CommandRequest:
        """The request once ``kind`` was acted on with reply ``body`` (and data erased)."""
        return replace(
            self,
            replies=MappingProxyType({**self.replies, kind.value: body}),
            erased=self.erased or erased,
        )


def _commands(value: object) -> tuple[tuple[CommandKind, str | None], ...]:
    if value is None:
        return ()
    if not isinstance(value, list):
        raise PayloadError("payload.commands: expected a list")
    found: list[tuple[CommandKind, str | None]] = []
    for item in value:
        if not (
            isinstance(item, list)
            and len(item) == 2
            and isinstance(item[0], str)
            and (item[1] is None or isinstance(item[1], str))
        ):
            raise PayloadError("payload.commands[]: expected [command, argument or null]")
        try:
            kind = CommandKind(item[0])
        except ValueError:
            raise PayloadError(f"payload.commands[]: unknown command {item[0]!r}") from None
        found.append((kind, item[1]))
    return tuple(found)


def _replies(value: object) -> Mapping[str, str]:
    if value is None:
        return _NO_REPLIES
    if not isinstance(value, Mapping) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in value.items()
    ):
        raise PayloadError("payload.replies: expected an object of strings")
    return MappingProxyType(dict(value))
