"""Translate Gitee API v5 answers into core types.

Pure functions, no I/O. Every missing or mistyped field the bot relies on raises
``PayloadError`` (the same ``ValueError`` subclass as on GitHub) naming the field — never a
``KeyError`` / ``TypeError``.

Shapes (Gitee Open API 5.x; opensourceways/go-gitee swagger, the gitee-client models and
captured payloads in openeuler-mirror/sync-bot ``tests/*.http``):

* pull request: ``number``, ``state`` (``open`` / ``closed`` / ``merged``), ``merged``,
  ``draft``, ``head.sha``, ``base.ref``, ``base.sha``, ``user{id, login}``, ``labels[].name``;
  ``commits`` (a count) when present.
* PR commit (``GET …/pulls/{n}/commits``): ``sha``, ``commit.author{name, email, date}``,
  ``commit.committer{…}``, ``commit.message``, and top-level ``author`` / ``committer`` — the
  Gitee account linked to the email (``UserBasic``: ``id``, ``login``, …), ``null``, ``{}`` or an
  object without ``id``/``login`` when Gitee linked none.
* PR comment: ``id``, ``body``, ``user{login}``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from bot.core.model import Account, CommentRef, Commit, GitPerson, PullRequest, RepoRef
from bot.platforms.gitee.facts import GITEE
from bot.platforms.payload import PayloadError, integer, obj, opt_integer, root, string

__all__ = [
    "PayloadError",
    "account_from_user",
    "comment_from_api",
    "commit_from_api",
    "pull_request_from_api",
]


_root = root
_obj = obj
_str = string


def _int(parent: Mapping[str, Any], key: str, where: str) -> int:
    # Gitee's swagger types many ids as strings; accept a decimal string too.
    return integer(parent, key, where, digits_ok=True)


def _opt_int(parent: Mapping[str, Any], key: str, where: str) -> int | None:
    return opt_integer(parent, key, where, digits_ok=True)


def account_from_user(user: object, *, where: str = "user") -> Account | None:
    """A Gitee user object → ``Account``; ``None`` when no account is linked (``null``, ``{}``,
    an object without both ``id`` and ``login`` — e.g. only a name/email — or, since the swagger
    types these loosely, anything that is not an object)."""
    if not isinstance(user, Mapping):
        return None
    login = user.get("login")
    if user.get("id") is None or not isinstance(login, str) or not login:
        return None
    return Account(
        platform=GITEE,
        account_id=str(_int(user, "id", where)),
        login=login,
        is_bot=user.get("type") == "Bot",
    )


def pull_request_from_api(data: object, repo: RepoRef) -> PullRequest:
    """A ``GET /repos/{owner}/{repo}/pulls/{number}`` answer → ``PullRequest``.

    ``repo`` is the API coordinates the PR was read with (Gitee's repo objects name the owner in
    several shapes; the caller already knows them). ``state`` is Gitee's ``open`` / ``closed`` /
    ``merged`` (a closed PR with ``merged: true`` counts as ``merged``).
    """
    where = "pull_request"
    pr = _root(data, where)
    head = _obj(pr, "head", where)
    base = _obj(pr, "base", where)
    labels = pr.get("labels") or []
    if not isinstance(labels, list):
        raise PayloadError(f"{where}.labels: expected a list")
    names = tuple(
        _str(label, "name", f"{where}.labels[]") for label in labels if isinstance(label, Mapping)
    )
    state = _str(pr, "state", where)
    if pr.get("merged") is True:
        state = "merged"
    base_sha = base.get("sha")
    if repo.platform != GITEE:
        repo = RepoRef(GITEE, repo.owner, repo.name, repo.repo_id)
    return PullRequest(
        repo=repo,
        number=_int(pr, "number", where),
        head_sha=_str(head, "sha", f"{where}.head"),
        base_ref=_str(base, "ref", f"{where}.base"),
        state=state,
        author=account_from_user(pr.get("user"), where=f"{where}.user"),
        labels=names,
        commit_count=_opt_int(pr, "commits", where),
        installation_id=None,
        base_sha=base_sha if isinstance(base_sha, str) and base_sha else None,
        draft=pr.get("draft") is True,
    )


def _person(commit: Mapping[str, Any], key: str) -> GitPerson:
    value = _obj(commit, key, "commit")
    name = value.get("name")
    email = value.get("email")
    if not isinstance(email, str):
        raise PayloadError(f"commit.{key}.email: expected a string")
    return GitPerson(name=name if isinstance(name, str) else "", email=email)


def commit_from_api(item: object) -> Commit:
    """One item of ``GET /repos/{owner}/{repo}/pulls/{number}/commits`` → ``Commit``.

    Git identities from ``commit.author`` / ``commit.committer``; the linked Gitee accounts from
    the top-level ``author`` / ``committer`` when Gitee set them (see ``account_from_user``).
    """
    data = _root(item, "commit")
    inner = _obj(data, "commit", "commit")
    message = inner.get("message")
    return Commit(
        sha=_str(data, "sha", "commit"),
        author=_person(inner, "author"),
        committer=_person(inner, "committer"),
        message=message if isinstance(message, str) else "",
        author_account=account_from_user(data.get("author"), where="commit.author"),
        committer_account=account_from_user(data.get("committer"), where="commit.committer"),
    )


def comment_from_api(data: object) -> CommentRef:
    """A PR comment (``GET …/pulls/comments/{id}`` or an item of ``…/pulls/{n}/comments``)."""
    item = _root(data, "comment")
    user = item.get("user")
    account = account_from_user(user, where="comment.user")
    login = user.get("login") if isinstance(user, Mapping) else None
    body = item.get("body")
    return CommentRef(
        comment_id=_int(item, "id", "comment"),
        body=body if isinstance(body, str) else "",
        author_login=login if isinstance(login, str) else "",
        author_id=account.account_id if account is not None else None,
    )
