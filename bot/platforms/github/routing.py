"""What a verified GitHub delivery asks of the bot: a job, bookkeeping, or nothing.

Pure translation of the payload into small JSON-able dicts (only the fields a job needs); raw
bodies are never stored. Missing fields in an event we act on raise :class:`MalformedEvent`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from bot.core.commands import CommandKind, parse_commands

CHECK_ACTIONS = frozenset({"opened", "reopened", "synchronize", "ready_for_review"})


class MalformedEvent(ValueError):
    pass


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
    extra: Mapping[str, Any] = field(default_factory=dict)


Route = Ignore | CheckJob | CommentJobs | PrClosed | InstallationChange


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


def _obj(d: Mapping[str, Any], key: str) -> Mapping[str, Any]:
    v = d.get(key)
    if not isinstance(v, Mapping):
        raise MalformedEvent(f"missing object {key!r}")
    return v


def _int(d: Mapping[str, Any], key: str) -> int:
    v = d.get(key)
    if not isinstance(v, int) or isinstance(v, bool):
        raise MalformedEvent(f"missing integer {key!r}")
    return v


def _str(d: Mapping[str, Any], key: str) -> str:
    v = d.get(key)
    if not isinstance(v, str) or not v:
        raise MalformedEvent(f"missing string {key!r}")
    return v


def _user(u: Any) -> dict[str, Any] | None:
    if not isinstance(u, Mapping):
        return None
    return {"login": u.get("login"), "id": u.get("id"), "type": u.get("type")}


def _repo(payload: Mapping[str, Any]) -> dict[str, Any]:
    repo = _obj(payload, "repository")
    full = _str(repo, "full_name")
    if full.count("/") != 1:
        raise MalformedEvent("repository.full_name is not owner/name")
    owner, name = full.split("/")
    return {"owner": owner, "name": name, "id": repo.get("id")}


def _installation_id(payload: Mapping[str, Any]) -> int | None:
    inst = payload.get("installation")
    if isinstance(inst, Mapping) and isinstance(inst.get("id"), int):
        return int(inst["id"])
    return None


def pr_key(platform: str, owner: str, name: str, number: int) -> str:
    return f"{platform}:{owner}/{name}#{number}".lower()


def pull_snapshot(pr: Mapping[str, Any], repo: Mapping[str, Any]) -> dict[str, Any]:
    """The API-shaped subset of a pull request object that a check needs (``base.repo`` from
    the delivery's ``repository``, the API coordinates)."""
    head = _obj(pr, "head")
    base = _obj(pr, "base")
    labels = pr.get("labels") or []
    return {
        "number": _int(pr, "number"),
        "state": pr.get("state") or "open",
        "merged": bool(pr.get("merged")),
        "draft": bool(pr.get("draft")),
        "head": {"sha": _str(head, "sha")},
        "base": {
            "ref": base.get("ref"),
            "sha": base.get("sha"),
            "repo": {"name": repo["name"], "id": repo["id"], "owner": {"login": repo["owner"]}},
        },
        "user": _user(pr.get("user")),
        "labels": [
            {"name": lb["name"]}
            for lb in labels
            if isinstance(lb, Mapping) and isinstance(lb.get("name"), str)
        ],
        "commits": pr.get("commits") if isinstance(pr.get("commits"), int) else None,
    }


def route(event: str, payload: Mapping[str, Any], *, bot_login: str | None = None) -> Route:
    action = payload.get("action") if isinstance(payload.get("action"), str) else None
    if event == "pull_request":
        if action == "closed":
            repo = _repo(payload)
            return PrClosed("github", f"{repo['owner']}/{repo['name']}", _int(payload, "number"))
        if action not in CHECK_ACTIONS and not (
            action == "edited"
            and isinstance(payload.get("changes"), Mapping)
            and "base" in payload["changes"]
        ):
            return Ignore(f"pull_request action {action!r} needs no check")
        repo = _repo(payload)
        snap = pull_snapshot(_obj(payload, "pull_request"), repo)
        return CheckJob(
            pr_key=pr_key("github", repo["owner"], repo["name"], snap["number"]),
            installation_id=_installation_id(payload),
            payload={"repo": repo, "number": snap["number"], "pull": snap, "trigger": event},
        )
    if event == "issue_comment":
        if action != "created":
            return Ignore(f"issue_comment action {action!r} is not a command")
        issue = _obj(payload, "issue")
        if not isinstance(issue.get("pull_request"), Mapping):
            return Ignore("comment on an issue, not a pull request")
        comment = _obj(payload, "comment")
        user = _obj(comment, "user")
        if user.get("type") == "Bot" or (bot_login and user.get("login") == bot_login):
            return Ignore("comment by a bot")
        body = comment.get("body")
        if not isinstance(body, str):
            raise MalformedEvent("missing string 'comment.body'")
        if not isinstance(comment.get("id"), int):
            raise MalformedEvent("missing integer 'comment.id'")
        return comment_jobs(
            platform="github",
            repo=_repo(payload),
            number=_int(issue, "number"),
            installation_id=_installation_id(payload),
            comment_id=comment["id"],
            author={"login": user.get("login"), "id": user.get("id")},
            body=body,
        )
    if event == "installation":
        inst = _obj(payload, "installation")
        account = _obj(inst, "account")
        repos = payload.get("repositories") or []
        return InstallationChange(
            installation_id=_int(inst, "id"),
            account_login=_str(account, "login"),
            action=action or "",
            repos_added=tuple(
                (_str(r, "full_name"), r.get("id")) for r in repos if isinstance(r, Mapping)
            )
            if action == "created"
            else (),
        )
    if event == "installation_repositories":
        inst = _obj(payload, "installation")
        account = _obj(inst, "account")
        added = payload.get("repositories_added") or []
        removed = payload.get("repositories_removed") or []
        return InstallationChange(
            installation_id=_int(inst, "id"),
            account_login=_str(account, "login"),
            action=action or "",
            repos_added=tuple(
                (_str(r, "full_name"), r.get("id")) for r in added if isinstance(r, Mapping)
            ),
            repos_removed=tuple(_str(r, "full_name") for r in removed if isinstance(r, Mapping)),
        )
    if event == "ping":
        return Ignore("ping")
    return Ignore(f"event {event!r} is not used")
