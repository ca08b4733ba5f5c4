"""What a verified Gitee delivery asks of the bot: a check job, or nothing.

Pure, like every forge's routing (its results are :mod:`bot.platforms.routing`'s). Gitee's
signature does not cover the body, so a job keeps only the PR coordinates — **no PR
snapshot** — and the worker re-reads the pull request, its commits and, for a command, the
comment from the API before acting.

Triggers (opensourceways robot-gitee-cla handles ``open`` and ``update`` +
``source_branch_changed``; ``reopen`` and ``target_branch_changed`` also change what must be
checked):

* ``Merge Request Hook``: ``action`` ``open``, ``reopen``, or ``update`` with ``action_desc``
  ``source_branch_changed`` / ``target_branch_changed``; and ``close`` / ``merge``, which are
  checks too (the check re-reads the PR and records it closed only when the API says so).
  ``update_label`` (the bot's own label writes), ``approved``, … are ignored, as is an opening
  whose ``state`` is not ``open``.
* ``Note Hook``: ``action`` ``comment`` on a pull request (``noteable_type`` ``PullRequest``), not
  written by the bot, holding a check command (``/cla check`` and its aliases, see
  :mod:`bot.core.commands`).

A job's repository is given by its API coordinates ``repository.namespace`` /
``repository.path`` (falling back to ``path_with_namespace``) — not ``full_name`` /
``name_with_namespace``, which may be display names.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import msgspec

from bot.core.model import RepoRef
from bot.platforms import payload as payload_mod
from bot.platforms.gitee.facts import GITEE
from bot.platforms.payload import Id, Name, Number, Word
from bot.platforms.routing import (
    CheckJob,
    CommentJobs,
    Ignore,
    PayloadError,
    comment_jobs,
    need,
)

__all__ = [
    "CHECK_ACTIONS",
    "CHECK_UPDATE_DESCS",
    "MERGE_REQUEST_HOOK",
    "NOTE_HOOK",
    "CheckJob",
    "GiteeEvent",
    "Ignore",
    "PayloadError",
    "Route",
    "decode",
    "repo_coordinates",
    "route",
]

MERGE_REQUEST_HOOK = "Merge Request Hook"
NOTE_HOOK = "Note Hook"
CHECK_ACTIONS = frozenset({"open", "reopen"})
CHECK_UPDATE_DESCS = frozenset({"source_branch_changed", "target_branch_changed"})
CLOSE_ACTIONS = frozenset({"close", "merge"})
MAX_FULL_NAME = 255  # pr_checks.repo_full_name

Route = Ignore | CheckJob | CommentJobs


# -- the fields routing reads, typed (see ``bot.platforms.payload``) ---------------------------


class _Namespace(msgspec.Struct):
    path: Name | None = None


class _Repository(msgspec.Struct):
    namespace: Name | _Namespace | None = None  # webhooks send a string, the API an object
    path: Name | None = None
    path_with_namespace: Name | None = None
    id: Id | str | None = None  # Gitee types ids loosely; only an integer is kept


class _Pull(msgspec.Struct):
    number: Number
    state: Word | None = None


class _User(msgspec.Struct):
    login: Name | None = None
    id: Id | str | None = None


class _Comment(msgspec.Struct):
    id: Id
    user: _User
    body: str | None = None


class GiteeEvent(msgspec.Struct):
    """The fields of a Merge Request Hook or a Note Hook that routing reads (never the body's
    ``password`` / ``sign`` copies of the secret)."""

    action: Word | None = None
    action_desc: Word | None = None
    hook_name: Word | None = None
    noteable_type: Word | None = None
    note: str | None = None
    pull_request: _Pull | None = None
    comment: _Comment | None = None
    repository: _Repository | None = None


def decode(payload: bytes | Mapping[str, Any]) -> GiteeEvent:
    """The delivery's fields as a :class:`GiteeEvent`; raises :class:`PayloadError` (or
    ``NotJson``) naming what is wrong."""
    return payload_mod.decode(payload, GiteeEvent, malformed=PayloadError)


def _nonempty(v: str | None) -> str | None:
    return v.strip() if v is not None and v.strip() else None


def repo_coordinates(event: GiteeEvent) -> RepoRef:
    """The delivery's ``repository`` as API coordinates."""
    repo = need(event.repository, "object 'repository'")
    namespace = repo.namespace.path if isinstance(repo.namespace, _Namespace) else repo.namespace
    owner, name = _nonempty(namespace), _nonempty(repo.path)
    if owner is None or name is None:
        full = _nonempty(repo.path_with_namespace)
        if full is None or "/" not in full.strip("/"):
            raise PayloadError("repository has no namespace/path nor path_with_namespace")
        owner, _, name = full.strip("/").rpartition("/")
    if "/" in name or not owner:
        raise PayloadError("repository.path is not a single path segment")
    if len(owner) + 1 + len(name) > MAX_FULL_NAME:
        raise PayloadError(f"repository owner/path is longer than {MAX_FULL_NAME} characters")
    return RepoRef(GITEE, owner, name, repo.id if isinstance(repo.id, int) else None)


def _job(repo: RepoRef, number: int, trigger: str) -> CheckJob:
    return CheckJob(repo, number, None, trigger)


def _merge_request(event: GiteeEvent) -> Route:
    action, desc = event.action, event.action_desc
    if action in CLOSE_ACTIONS:
        # Gitee's signature does not cover the body: a captured token could close any PR in
        # the window. Not acted on as said: a check re-reads the PR from the API, and only a
        # PR the API reports closed or merged is recorded so (and forgotten).
        pr = need(event.pull_request, "object 'pull_request'")
        return _job(repo_coordinates(event), pr.number, MERGE_REQUEST_HOOK)
    if not (action in CHECK_ACTIONS or (action == "update" and desc in CHECK_UPDATE_DESCS)):
        return Ignore(f"Merge Request Hook action {action!r}/{desc!r} needs no check")
    pr = need(event.pull_request, "object 'pull_request'")
    if pr.state is not None and pr.state != "open":
        return Ignore(f"pull request is {pr.state}")
    return _job(repo_coordinates(event), pr.number, MERGE_REQUEST_HOOK)


def _note(event: GiteeEvent, bot_login: str | None) -> Route:
    if event.action != "comment":
        return Ignore(f"Note Hook action {event.action!r} is not a new comment")
    if event.noteable_type != "PullRequest":
        return Ignore("comment on something other than a pull request")
    comment = need(event.comment, "object 'comment'")
    login = comment.user.login
    if login is None:
        raise PayloadError("missing string 'comment.user.login'")
    if bot_login and login.lower() == bot_login.lower():
        return Ignore("comment by the bot")
    body = comment.body if comment.body is not None else event.note
    if body is None:
        raise PayloadError("missing string 'comment.body'")
    pr = need(event.pull_request, "object 'pull_request'")
    # The body is not covered by Gitee's signature: the worker re-reads the comment (and the
    # PR) from the API before acting; this only decides whether that is worth a job.
    return comment_jobs(
        repo=repo_coordinates(event),
        number=pr.number,
        installation_id=None,
        comment_id=comment.id,
        author_login=login,
        author_id=comment.user.id,
        body=body,
    )


def route(
    event: str, payload: bytes | Mapping[str, Any] | GiteeEvent, *, bot_login: str | None
) -> Route:
    """``event`` is the ``X-Gitee-Event`` name (see ``sansio.event_name``); ``payload`` the
    raw body, a parsed one, or its :func:`decode`."""
    data = payload if isinstance(payload, GiteeEvent) else decode(payload)
    if event == MERGE_REQUEST_HOOK:
        return _merge_request(data)
    if event == NOTE_HOOK:
        return _note(data, bot_login)
    return Ignore(f"event {event!r} is not used")
