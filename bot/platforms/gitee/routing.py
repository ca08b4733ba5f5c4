"""What a verified Gitee delivery asks of the bot: a check job, or nothing.

Pure, like ``bot.platforms.github.routing`` (whose ``Ignore`` / ``CheckJob`` / ``MalformedEvent``
/ ``pr_key`` are reused). Gitee's signature does not cover the body, so a job keeps only the PR
coordinates — **no PR snapshot** — and the worker re-reads the pull request, its commits and, for
a command, the comment from the API before acting.

Triggers (opensourceways robot-gitee-cla handles ``open`` and ``update`` +
``source_branch_changed``; ``reopen`` and ``target_branch_changed`` also change what must be
checked):

* ``Merge Request Hook``: ``action`` ``open``, ``reopen``, or ``update`` with ``action_desc``
  ``source_branch_changed`` / ``target_branch_changed``. ``update_label`` (the bot's own label
  writes), ``merge``, ``close``, ``approved``, … are ignored, as is a PR whose ``state`` is not
  ``open``.
* ``Note Hook``: ``action`` ``comment`` on a pull request (``noteable_type`` ``PullRequest``), not
  written by the bot, containing ``/cla check`` or ``/check-cla``.

Job payload: ``{"repo": {"owner", "name", "id"}, "number", "trigger", "comment_id"?}`` where
owner/name are the API coordinates ``repository.namespace`` / ``repository.path`` (falling back to
``path_with_namespace``) — not ``full_name`` / ``name_with_namespace``, which may be display names.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from bot.platforms.github.routing import (
    CheckJob,
    CommentJobs,
    Ignore,
    MalformedEvent,
    PrClosed,
    comment_jobs,
    pr_key,
)

__all__ = [
    "CHECK_ACTIONS",
    "CHECK_UPDATE_DESCS",
    "MERGE_REQUEST_HOOK",
    "NOTE_HOOK",
    "CheckJob",
    "Ignore",
    "MalformedEvent",
    "Route",
    "repo_coordinates",
    "route",
]

MERGE_REQUEST_HOOK = "Merge Request Hook"
NOTE_HOOK = "Note Hook"
CHECK_ACTIONS = frozenset({"open", "reopen"})
CHECK_UPDATE_DESCS = frozenset({"source_branch_changed", "target_branch_changed"})

Route = Ignore | CheckJob | CommentJobs | PrClosed


def _obj(d: Mapping[str, Any], key: str, where: str) -> Mapping[str, Any]:
    v = d.get(key)
    if not isinstance(v, Mapping):
        raise MalformedEvent(f"missing object {where}{key!r}")
    return v


def _int(d: Mapping[str, Any], key: str, where: str) -> int:
    v = d.get(key)
    if isinstance(v, bool) or not isinstance(v, int) or v <= 0:
        raise MalformedEvent(f"missing positive integer {where}{key!r}")
    return v


def _opt_int(d: Mapping[str, Any], key: str) -> int | None:
    v = d.get(key)
    return v if isinstance(v, int) and not isinstance(v, bool) else None


def _nonempty(v: Any) -> str | None:
    return v.strip() if isinstance(v, str) and v.strip() else None


def repo_coordinates(payload: Mapping[str, Any]) -> dict[str, Any]:
    """``{"owner", "name", "id"}`` of the delivery's ``repository`` as API coordinates."""
    repo = _obj(payload, "repository", "")
    namespace = repo.get("namespace")
    if isinstance(namespace, Mapping):  # the API's shape; webhooks send a plain string
        namespace = namespace.get("path")
    owner, name = _nonempty(namespace), _nonempty(repo.get("path"))
    if owner is None or name is None:
        full = _nonempty(repo.get("path_with_namespace"))
        if full is None or "/" not in full.strip("/"):
            raise MalformedEvent("repository has no namespace/path nor path_with_namespace")
        owner, _, name = full.strip("/").rpartition("/")
    if "/" in name or not owner:
        raise MalformedEvent("repository.path is not a single path segment")
    return {"owner": owner, "name": name, "id": _opt_int(repo, "id")}


def _job(repo: Mapping[str, Any], number: int, trigger: str, **extra: Any) -> CheckJob:
    return CheckJob(
        pr_key=pr_key("gitee", repo["owner"], repo["name"], number),
        installation_id=None,
        payload={"repo": dict(repo), "number": number, "trigger": trigger, **extra},
    )


def _merge_request(payload: Mapping[str, Any]) -> Route:
    action = payload.get("action")
    desc = payload.get("action_desc")
    if not isinstance(action, str | None) or not isinstance(desc, str | None):
        raise MalformedEvent("action and action_desc must be strings")
    if action in ("close", "merge"):
        repo = repo_coordinates(payload)
        pr = _obj(payload, "pull_request", "")
        return PrClosed(
            "gitee", f"{repo['owner']}/{repo['name']}", _int(pr, "number", "pull_request.")
        )
    if not (action in CHECK_ACTIONS or (action == "update" and desc in CHECK_UPDATE_DESCS)):
        return Ignore(f"Merge Request Hook action {action!r}/{desc!r} needs no check")
    pr = _obj(payload, "pull_request", "")
    state = pr.get("state")
    if isinstance(state, str) and state != "open":
        return Ignore(f"pull request is {state}")
    repo = repo_coordinates(payload)
    number = _int(pr, "number", "pull_request.")
    return _job(repo, number, MERGE_REQUEST_HOOK)


def _note(payload: Mapping[str, Any], bot_login: str | None) -> Route:
    action = payload.get("action")
    if action != "comment":
        return Ignore(f"Note Hook action {action!r} is not a new comment")
    if payload.get("noteable_type") != "PullRequest":
        return Ignore("comment on something other than a pull request")
    comment = _obj(payload, "comment", "")
    user = _obj(comment, "user", "comment.")
    login = user.get("login")
    if not isinstance(login, str) or not login:
        raise MalformedEvent("missing string 'comment.user.login'")
    if bot_login and login.lower() == bot_login.lower():
        return Ignore("comment by the bot")
    body = comment.get("body")
    if not isinstance(body, str):
        body = payload.get("note")
    if not isinstance(body, str):
        raise MalformedEvent("missing string 'comment.body'")
    comment_id = _int(comment, "id", "comment.")
    pr = _obj(payload, "pull_request", "")
    number = _int(pr, "number", "pull_request.")
    # The body is not covered by Gitee's signature: the worker re-reads the comment (and the
    # PR) from the API before acting; this only decides whether that is worth a job.
    return comment_jobs(
        platform="gitee",
        repo=repo_coordinates(payload),
        number=number,
        installation_id=None,
        comment_id=comment_id,
        author={"login": login, "id": user.get("id")},
        body=body,
    )


def route(event: str, payload: Mapping[str, Any], *, bot_login: str | None) -> Route:
    """``event`` is the ``X-Gitee-Event`` name (see ``sansio.event_name``)."""
    if event == MERGE_REQUEST_HOOK:
        return _merge_request(payload)
    if event == NOTE_HOOK:
        return _note(payload, bot_login)
    return Ignore(f"event {event!r} is not used")
