"""What a verified GitHub delivery asks of the bot: a job, bookkeeping, or nothing.

Pure translation of the payload into the routing results of :mod:`bot.platforms.routing`,
shared by every forge: typed values holding only the fields a job needs (a pull request's
snapshot is a core ``PullRequest``); raw bodies are never stored. The body is decoded into
typed structs that declare only the fields read here (:func:`decode`); a missing or mistyped
field in an event we act on raises :class:`PayloadError`. A pull request or comment delivery
without ``installation`` comes from a repository or organisation webhook, not the App:
nothing the bot could act on, so ignored.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

import msgspec

from bot.core.model import PullRequest, RepoRef
from bot.platforms import payload as payload_mod
from bot.platforms.github.events import pull_request_from_api
from bot.platforms.github.facts import GITHUB
from bot.platforms.payload import Count, Id, Name, Number, Sha, Skipped, Word
from bot.platforms.routing import (
    CheckJob,
    CommandJob,
    CommentJobs,
    Ignore,
    InstallationChange,
    MergeGroupJob,
    PayloadError,
    PrClosed,
    RecheckJobs,
    Route,
    comment_jobs,
    need,
    pr_key,
)

__all__ = [
    "CHECK_ACTIONS",
    "NO_INSTALLATION",
    "CheckJob",
    "CommandJob",
    "CommentJobs",
    "Ignore",
    "InstallationChange",
    "MergeGroupJob",
    "PayloadError",
    "PrClosed",
    "RecheckJobs",
    "Route",
    "decode",
    "pr_key",
    "pull_snapshot",
    "route",
]

CHECK_ACTIONS = frozenset({"opened", "reopened", "synchronize", "ready_for_review"})
RECHECK_ACTION = "recheck"  # the identifier of the Re-check button on the bot's check runs
# A merge queue entry's branch: ``refs/heads/gh-readonly-queue/<base>/pr-<N>-<sha of the PR>``.
QUEUE_REF = re.compile(r"/gh-readonly-queue/.+/pr-([1-9][0-9]{0,9})-[0-9a-fA-F]+$")


# -- the fields routing reads, typed (see ``bot.platforms.payload``) ---------------------------


class _User(msgspec.Struct):
    login: Name | None = None
    id: Id | None = None
    type: Word | None = None


class _Account(msgspec.Struct):
    login: Name


class _Installation(msgspec.Struct):
    id: Id
    account: _Account | None = None


class _Repository(msgspec.Struct):
    full_name: Name
    id: Id | None = None


class _Head(msgspec.Struct):
    sha: Sha


class _Base(msgspec.Struct):
    ref: Name | None = None
    sha: Sha | None = None


class _Label(msgspec.Struct):
    name: Name | None = None


class _Pull(msgspec.Struct):
    number: Number
    head: _Head
    base: _Base
    state: Word | None = None
    merged: bool | None = None
    draft: bool | None = None
    user: _User | None = None
    labels: list[_Label] | None = None
    commits: Count | None = None


class _Changes(msgspec.Struct):
    base: Skipped | None = None


class _Issue(msgspec.Struct):
    number: Number
    pull_request: Skipped | None = None


class _Comment(msgspec.Struct):
    id: Id
    body: str
    user: _User


class _Event(msgspec.Struct):
    """What every event may carry."""

    action: Word | None = None
    repository: _Repository | None = None
    installation: _Installation | None = None


class PullRequestEvent(_Event):
    number: Number | None = None
    pull_request: _Pull | None = None
    changes: _Changes | None = None


class IssueCommentEvent(_Event):
    issue: _Issue | None = None
    comment: _Comment | None = None


class InstallationEvent(_Event):
    repositories: list[_Repository] | None = None
    repositories_added: list[_Repository] | None = None
    repositories_removed: list[_Repository] | None = None


class _App(msgspec.Struct):
    id: Id


class _PrRef(msgspec.Struct):
    number: Number


class _Checked(msgspec.Struct):
    """A check run or suite: whose it is, its commit and the PRs GitHub names for it."""

    head_sha: Sha
    app: _App | None = None
    pull_requests: list[_PrRef] | None = None


class _RequestedAction(msgspec.Struct):
    identifier: Word | None = None


class CheckRunEvent(_Event):
    check_run: _Checked | None = None
    requested_action: _RequestedAction | None = None


class CheckSuiteEvent(_Event):
    check_suite: _Checked | None = None


class _MergeGroup(msgspec.Struct):
    head_sha: Sha
    head_ref: Name


class MergeGroupEvent(_Event):
    merge_group: _MergeGroup | None = None


EVENT_TYPES: dict[str, type[_Event]] = {
    "check_run": CheckRunEvent,
    "check_suite": CheckSuiteEvent,
    "merge_group": MergeGroupEvent,
    "pull_request": PullRequestEvent,
    "issue_comment": IssueCommentEvent,
    "installation": InstallationEvent,
    "installation_repositories": InstallationEvent,
}


def decode(event: str, payload: bytes | Mapping[str, Any]) -> _Event:
    """The delivery as its event's struct (other events: only what every event carries);
    raises :class:`PayloadError` (or ``NotJson``) naming what is wrong."""
    return payload_mod.decode(payload, EVENT_TYPES.get(event, _Event), malformed=PayloadError)


def _user(u: _User | None) -> dict[str, Any] | None:
    if u is None:
        return None
    return {"login": u.login, "id": u.id, "type": u.type}


def _repo(event: _Event) -> RepoRef:
    repo = need(event.repository, "object 'repository'")
    if repo.full_name.count("/") != 1:
        raise PayloadError("repository.full_name is not owner/name")
    owner, name = repo.full_name.split("/")
    return RepoRef(GITHUB, owner, name, repo.id)


def pull_snapshot(pr: _Pull, repo: RepoRef, *, installation_id: int | None) -> PullRequest:
    """The pull request as the delivery shows it (``base.repo`` from the delivery's
    ``repository``, the API coordinates), decoded as an API answer is."""
    return pull_request_from_api(_api_shape(pr, repo), installation_id=installation_id)


def _api_shape(pr: _Pull, repo: RepoRef) -> dict[str, Any]:
    """The API-shaped subset of a pull request object that a check needs."""
    return {
        "number": pr.number,
        "state": pr.state or "open",
        "merged": bool(pr.merged),
        "draft": bool(pr.draft),
        "head": {"sha": pr.head.sha},
        "base": {
            "ref": pr.base.ref,
            "sha": pr.base.sha,
            "repo": {"name": repo.name, "id": repo.repo_id, "owner": {"login": repo.owner}},
        },
        "user": _user(pr.user),
        "labels": [{"name": lb.name} for lb in pr.labels or () if lb.name is not None],
        "commits": pr.commits,
    }


NO_INSTALLATION = Ignore(
    "no installation: a repository or organisation webhook, not the App's; the bot acts only "
    "on deliveries of the App's installations"
)


def queued_pr(head_ref: str) -> int | None:
    """The PR a merge queue entry's branch names, or ``None`` when it names none."""
    match = QUEUE_REF.search(head_ref)
    if match is None or int(match.group(1)) > payload_mod.INT32_MAX:
        return None
    return int(match.group(1))


def _merge_group(data: MergeGroupEvent) -> Route:
    if data.action == "destroyed":
        return Ignore("merge_group destroyed: nothing to report")
    if data.action != "checks_requested":
        return Ignore(f"merge_group action {data.action!r} needs no check")
    if data.installation is None:
        return NO_INSTALLATION
    repo = _repo(data)
    group = need(data.merge_group, "object 'merge_group'")
    number = queued_pr(group.head_ref)
    return MergeGroupJob(repo, data.installation.id, group.head_sha, number)


def _recheck(event: str, data: CheckRunEvent | CheckSuiteEvent, *, app_id: int | None) -> Route:
    """A Re-run (``rerequested``) or the Re-check button (``requested_action`` ``recheck``)
    of this App's own run or suite: a check like ``/cla check``; anything else is ignored."""
    action = data.action
    if isinstance(data, CheckRunEvent):
        wanted = action == "rerequested" or (
            action == "requested_action"
            and data.requested_action is not None
            and data.requested_action.identifier == RECHECK_ACTION
        )
        checked = data.check_run
    else:
        wanted, checked = action == "rerequested", data.check_suite
    if not wanted:
        return Ignore(f"{event} action {action!r} needs no check")
    if data.installation is None:
        return NO_INSTALLATION
    checked = need(checked, f"object {event!r}")
    if app_id is None or checked.app is None or checked.app.id != app_id:
        return Ignore(f"{event} of another App")
    return RecheckJobs(
        repo=_repo(data),
        installation_id=data.installation.id,
        numbers=tuple(dict.fromkeys(p.number for p in checked.pull_requests or ())),
        head_sha=checked.head_sha,
        trigger=event,
    )


def route(
    event: str,
    payload: bytes | Mapping[str, Any] | _Event,
    *,
    bot_login: str | None = None,
    app_id: int | None = None,
) -> Route:
    """What a verified delivery asks for; ``payload`` is the raw body (decoded here, once) or
    an already parsed one. ``app_id`` is the App's own id: only its check runs and suites are
    re-checked."""
    data = payload if isinstance(payload, _Event) else decode(event, payload)
    action = data.action
    if isinstance(data, MergeGroupEvent):
        return _merge_group(data)
    if isinstance(data, CheckRunEvent | CheckSuiteEvent):
        return _recheck(event, data, app_id=app_id)
    if isinstance(data, PullRequestEvent):
        if action == "closed":
            repo = _repo(data)
            number = need(data.number, "integer 'number'")
            return PrClosed(GITHUB, repo.full_name, number)
        if action not in CHECK_ACTIONS and not (
            action == "edited" and data.changes is not None and data.changes.base is not None
        ):
            return Ignore(f"pull_request action {action!r} needs no check")
        if data.installation is None:
            return NO_INSTALLATION
        repo = _repo(data)
        pull = pull_snapshot(
            need(data.pull_request, "object 'pull_request'"),
            repo,
            installation_id=data.installation.id,
        )
        return CheckJob(repo, pull.number, data.installation.id, event, pull=pull)
    if isinstance(data, IssueCommentEvent):
        if action != "created":
            return Ignore(f"issue_comment action {action!r} is not a command")
        issue = need(data.issue, "object 'issue'")
        if issue.pull_request is None:
            return Ignore("comment on an issue, not a pull request")
        comment = need(data.comment, "object 'comment'")
        user = comment.user
        if user.type == "Bot" or (bot_login and user.login == bot_login):
            return Ignore("comment by a bot")
        if data.installation is None:
            return NO_INSTALLATION
        if user.login is None:
            raise PayloadError("missing string 'comment.user.login'")
        return comment_jobs(
            repo=_repo(data),
            number=issue.number,
            installation_id=data.installation.id,
            comment_id=comment.id,
            author_login=user.login,
            author_id=user.id,
            body=comment.body,
        )
    if isinstance(data, InstallationEvent):
        inst = need(data.installation, "object 'installation'")
        account = need(inst.account, "object 'installation.account'")
        if event == "installation":
            added = data.repositories if action == "created" else None
            removed = None
        else:
            added, removed = data.repositories_added, data.repositories_removed
        return InstallationChange(
            installation_id=inst.id,
            account_login=account.login,
            action=action or "",
            repos_added=tuple((r.full_name, r.id) for r in added or ()),
            repos_removed=tuple(r.full_name for r in removed or ()),
        )
    if event == "ping":
        return Ignore("ping")
    return Ignore(f"event {event!r} is not used")
