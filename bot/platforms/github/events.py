"""Translate GitHub payloads (webhook deliveries and REST answers) into core types.

Pure functions, no I/O. Raw dicts stop here: every missing or mistyped field the bot relies on
raises ``PayloadError`` (a ``ValueError``) with a short message naming the field — never a
``KeyError`` / ``TypeError``.

Field paths: https://docs.github.com/en/webhooks/webhook-events-and-payloads and the REST
reference (pulls, commits, issue comments).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from bot.core.identity import normalise_email
from bot.core.model import Account, Commit, GitPerson, Platform, PullRequest, RepoRef
from bot.platforms.github.facts import GITHUB
from bot.platforms.payload import PayloadError, integer, obj, opt_integer, root, string

__all__ = [
    "CoAuthorPage",
    "CommentEvent",
    "InstallationEvent",
    "PayloadError",
    "account_from_user",
    "co_author_page_from_graphql",
    "comment_from_payload",
    "commit_from_api",
    "installation_from_payload",
    "pull_request_from_api",
    "pull_request_from_payload",
    "repo_from_payload",
]


@dataclass(frozen=True, slots=True)
class CommentEvent:
    """An ``issue_comment`` delivery, reduced to what command handling needs."""

    action: str
    repo: RepoRef
    issue_number: int
    is_pull_request: bool
    comment_id: int
    body: str
    author: Account
    installation_id: int | None = None


@dataclass(frozen=True, slots=True)
class InstallationEvent:
    """An ``installation`` or ``installation_repositories`` delivery."""

    action: str
    installation_id: int
    account_login: str | None
    repositories_added: tuple[RepoRef, ...] = ()
    repositories_removed: tuple[RepoRef, ...] = ()


# -- field access ----------------------------------------------------------------------------


_obj = obj
_str = string
_int = integer
_opt_int = opt_integer


def _root(payload: object) -> Mapping[str, Any]:
    return root(payload)


def account_from_user(user: object, *, where: str = "user") -> Account | None:
    """A GitHub user object → ``Account``; ``None`` for ``null`` or ``{}`` (no linked account)."""
    if user is None or (isinstance(user, Mapping) and not user):
        return None
    if not isinstance(user, Mapping):
        raise PayloadError(f"{where}: expected an object")
    return Account(
        platform=GITHUB,
        account_id=str(_int(user, "id", where)),
        login=_str(user, "login", where),
        is_bot=user.get("type") == "Bot",
    )


def _repo(repo: Mapping[str, Any], where: str) -> RepoRef:
    owner = _obj(repo, "owner", where)
    return RepoRef(
        platform=GITHUB,
        owner=_str(owner, "login", f"{where}.owner"),
        name=_str(repo, "name", where),
        repo_id=_opt_int(repo, "id", where),
    )


def repo_from_payload(payload: object) -> RepoRef:
    """``repository.owner.login`` / ``repository.name`` / ``repository.id`` of a delivery."""
    return _repo(_obj(_root(payload), "repository", "payload"), "repository")


def _installation_id(payload: Mapping[str, Any]) -> int | None:
    inst = payload.get("installation")
    if inst is None:
        return None
    if not isinstance(inst, Mapping):
        raise PayloadError("payload.installation: expected an object")
    return _int(inst, "id", "installation")


def _pull(pr: Mapping[str, Any], repo: RepoRef, installation_id: int | None) -> PullRequest:
    where = "pull_request"
    head = _obj(pr, "head", where)
    base = _obj(pr, "base", where)
    labels = pr.get("labels") or []
    if not isinstance(labels, list):
        raise PayloadError(f"{where}.labels: expected a list")
    names = tuple(
        _str(label, "name", f"{where}.labels[]") for label in labels if isinstance(label, Mapping)
    )
    state = _str(pr, "state", where)
    if pr.get("merged") is True or (state == "closed" and pr.get("merged_at")):
        state = "merged"
    base_sha = base.get("sha")
    return PullRequest(
        repo=repo,
        number=_int(pr, "number", where),
        head_sha=_str(head, "sha", f"{where}.head"),
        base_ref=_str(base, "ref", f"{where}.base"),
        state=state,
        author=account_from_user(pr.get("user"), where=f"{where}.user"),
        labels=names,
        commit_count=_opt_int(pr, "commits", where),
        installation_id=installation_id,
        base_sha=base_sha if isinstance(base_sha, str) else None,
        draft=pr.get("draft") is True,
    )


# -- public translations -----------------------------------------------------------------------


def pull_request_from_payload(payload: object) -> PullRequest:
    """A ``pull_request`` delivery → ``PullRequest`` (repo from ``repository``, the API
    coordinates; ``installation.id`` when present).

    ``state`` is GitHub's ``open`` / ``closed``, or ``merged`` for a merged PR.
    """
    root = _root(payload)
    pr = _obj(root, "pull_request", "payload")
    return _pull(pr, repo_from_payload(root), _installation_id(root))


def pull_request_from_api(data: object, *, installation_id: int | None) -> PullRequest:
    """A ``GET /repos/{owner}/{repo}/pulls/{pull_number}`` answer → ``PullRequest``
    (repo from ``base.repo``)."""
    pr = _root(data)
    base = _obj(pr, "base", "pull_request")
    repo = _repo(_obj(base, "repo", "pull_request.base"), "pull_request.base.repo")
    return _pull(pr, repo, installation_id)


def _person(commit: Mapping[str, Any], key: str) -> GitPerson:
    value = commit.get(key)
    if value is None:
        return GitPerson(name="", email="")
    if not isinstance(value, Mapping):
        raise PayloadError(f"commit.{key}: expected an object")
    name = value.get("name")
    email = value.get("email")
    return GitPerson(
        name=name if isinstance(name, str) else "",
        email=email if isinstance(email, str) else "",
    )


def commit_from_api(item: object, platform: Platform = GITHUB) -> Commit:
    """One item of ``GET …/pulls/{n}/commits`` or of ``compare``'s ``commits`` → ``Commit``.

    Git identities come from ``commit.author`` / ``commit.committer``; the linked accounts from
    the top-level ``author`` / ``committer``, which GitHub sets to ``null`` (or ``{}``) when the
    email belongs to no account.
    """
    data = _root(item)
    inner = _obj(data, "commit", "commit")
    message = inner.get("message")
    author = account_from_user(data.get("author"), where="commit.author")
    committer = account_from_user(data.get("committer"), where="commit.committer")
    if platform != GITHUB:
        author = _replatform(author, platform)
        committer = _replatform(committer, platform)
    return Commit(
        sha=_str(data, "sha", "commit"),
        author=_person(inner, "author"),
        committer=_person(inner, "committer"),
        message=message if isinstance(message, str) else "",
        author_account=author,
        committer_account=committer,
    )


@dataclass(frozen=True, slots=True)
class CoAuthorPage:
    """One page of GraphQL ``pullRequest.commits``: per commit sha, the accounts GitHub linked
    to the emails of its authors (the git author and every ``Co-authored-by:`` trailer)."""

    links: Mapping[str, tuple[tuple[str, Account], ...]]  # sha → (normalised email, account)
    total: int
    has_next: bool
    end_cursor: str | None


def _git_actor_account(actor: object) -> tuple[str, Account] | None:
    """A ``GitActor`` with a linked ``user`` → (normalised email, account); else ``None``.

    ``user`` is "the GitHub user corresponding to the email field": GitHub's own link, as
    trustworthy as the REST ``author`` of a commit. App bots are no ``User``: never linked.
    """
    if not isinstance(actor, Mapping):
        raise PayloadError("authors.nodes[]: expected an object")
    email, user = actor.get("email"), actor.get("user")
    if not isinstance(email, str) or not email or user is None:
        return None
    if not isinstance(user, Mapping):
        raise PayloadError("authors.nodes[].user: expected an object")
    login, database_id = user.get("login"), user.get("databaseId")
    if not isinstance(login, str) or not login:
        raise PayloadError("authors.nodes[].user.login: expected a string")
    if isinstance(database_id, bool) or not isinstance(database_id, int) or database_id <= 0:
        return None  # no durable id to cover by: leave the email unlinked
    return normalise_email(email), Account(GITHUB, str(database_id), login)


def co_author_page_from_graphql(data: object) -> CoAuthorPage:
    """The ``data`` of the co-authors query (``repository.pullRequest.commits`` with each
    commit's ``oid`` and ``authors``) → :class:`CoAuthorPage`."""
    where = "data.repository.pullRequest.commits"
    repository = _obj(_root(data), "repository", "data")
    commits = _obj(_obj(repository, "pullRequest", "data.repository"), "commits", where)
    page_info = _obj(commits, "pageInfo", where)
    cursor = page_info.get("endCursor")
    nodes = commits.get("nodes")
    if not isinstance(nodes, list):
        raise PayloadError(f"{where}.nodes: expected a list")
    links: dict[str, tuple[tuple[str, Account], ...]] = {}
    for node in nodes:
        commit = _obj(_root(node), "commit", f"{where}.nodes[]")
        authors = _obj(commit, "authors", "commit").get("nodes")
        if not isinstance(authors, list):
            raise PayloadError("commit.authors.nodes: expected a list")
        found = (_git_actor_account(actor) for actor in authors)
        links[_str(commit, "oid", "commit")] = tuple(pair for pair in found if pair is not None)
    return CoAuthorPage(
        links=links,
        total=_int(commits, "totalCount", where),
        has_next=page_info.get("hasNextPage") is True,
        end_cursor=cursor if isinstance(cursor, str) else None,
    )


def _replatform(account: Account | None, platform: Platform) -> Account | None:
    if account is None:
        return None
    return Account(platform, account.account_id, account.login, account.is_bot)


def comment_from_payload(payload: object) -> CommentEvent:
    """An ``issue_comment`` delivery → ``CommentEvent``; ``is_pull_request`` is true iff
    ``issue.pull_request`` is present."""
    root = _root(payload)
    issue = _obj(root, "issue", "payload")
    comment = _obj(root, "comment", "payload")
    user = account_from_user(comment.get("user"), where="comment.user")
    if user is None:
        raise PayloadError("comment.user: expected an object")
    body = comment.get("body")
    return CommentEvent(
        action=_str(root, "action", "payload"),
        repo=repo_from_payload(root),
        issue_number=_int(issue, "number", "issue"),
        is_pull_request=isinstance(issue.get("pull_request"), Mapping),
        comment_id=_int(comment, "id", "comment"),
        body=body if isinstance(body, str) else "",
        author=user,
        installation_id=_installation_id(root),
    )


def _repo_list(payload: Mapping[str, Any], key: str, owner: str | None) -> tuple[RepoRef, ...]:
    items = payload.get(key) or []
    if not isinstance(items, list):
        raise PayloadError(f"payload.{key}: expected a list")
    out = []
    for item in items:
        if not isinstance(item, Mapping):
            raise PayloadError(f"{key}[]: expected an object")
        full_name = _str(item, "full_name", f"{key}[]")
        repo_owner, sep, name = full_name.partition("/")
        if not sep:
            if owner is None:
                raise PayloadError(f"{key}[].full_name: expected owner/name")
            repo_owner, name = owner, full_name
        out.append(
            RepoRef(platform=GITHUB, owner=repo_owner, name=name, repo_id=_opt_int(item, "id", key))
        )
    return tuple(out)


def installation_from_payload(payload: object) -> InstallationEvent:
    """An ``installation`` or ``installation_repositories`` delivery → ``InstallationEvent``.

    ``installation.repositories`` counts as removed on ``deleted`` / ``suspend`` and as added
    otherwise; ``repositories_added`` / ``repositories_removed`` are taken as they are.
    """
    root = _root(payload)
    inst = _obj(root, "installation", "payload")
    account = inst.get("account")
    login = account.get("login") if isinstance(account, Mapping) else None
    owner = login if isinstance(login, str) else None
    action = _str(root, "action", "payload")
    added = _repo_list(root, "repositories_added", owner)
    removed = _repo_list(root, "repositories_removed", owner)
    if "repositories" in root:
        listed = _repo_list(root, "repositories", owner)
        if action in ("deleted", "suspend"):
            removed = removed + listed
        else:
            added = added + listed
    return InstallationEvent(
        action=action,
        installation_id=_int(inst, "id", "installation"),
        account_login=owner,
        repositories_added=added,
        repositories_removed=removed,
    )
