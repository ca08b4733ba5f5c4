"""The sandbox's in-memory world: made-up people, repositories, pull requests, comments, labels
and commit statuses, and their JSON in GitHub's REST and webhook shapes.

Commits are linked to accounts the way GitHub does it: by the commit email, among the verified
emails of every account, when the JSON is produced — so an email added later (at
``/settings/emails``) links the commits already pushed.
"""

from __future__ import annotations

import itertools
import re
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

__all__ = [
    "SCENARIOS",
    "Comment",
    "Commit",
    "Delivery",
    "Label",
    "PullRequest",
    "Repo",
    "Scenario",
    "Status",
    "User",
    "World",
]

NOREPLY = re.compile(r"(?P<id>\d+)\+(?P<login>[^@]+)@users\.noreply\.github\.com", re.IGNORECASE)


def iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def now() -> datetime:
    return datetime.now(UTC)


@dataclass
class User:
    login: str
    id: int
    name: str
    emails: list[str] = field(default_factory=list)  # verified; the first is the primary
    type: str = "User"  # "Bot" for Apps
    about: str = ""  # one line for the sign-in picker


@dataclass
class Label:
    id: int
    name: str
    color: str


@dataclass
class Repo:
    id: int
    owner: User
    name: str
    labels: dict[str, Label] = field(default_factory=dict)  # lower-cased name → label
    permissions: dict[str, str] = field(default_factory=dict)  # lower login → admin/write/read

    @property
    def full_name(self) -> str:
        return f"{self.owner.login}/{self.name}"


@dataclass
class Commit:
    sha: str
    message: str
    author_name: str
    author_email: str
    parent: str
    date: datetime = field(default_factory=now)

    @property
    def title(self) -> str:
        return self.message.strip().splitlines()[0] if self.message.strip() else ""


@dataclass
class PullRequest:
    repo: Repo
    number: int
    id: int
    title: str
    user: User
    base_sha: str
    head_ref: str
    commits: list[Commit] = field(default_factory=list)
    labels: list[str] = field(default_factory=list)  # names, in the order added
    base_ref: str = "main"
    state: str = "open"
    created_at: datetime = field(default_factory=now)
    updated_at: datetime = field(default_factory=now)

    @property
    def head_sha(self) -> str:
        return self.commits[-1].sha if self.commits else self.base_sha


@dataclass
class Comment:
    id: int
    repo: Repo
    number: int
    body: str
    user: User
    created_at: datetime = field(default_factory=now)
    updated_at: datetime = field(default_factory=now)


@dataclass
class Status:
    id: int
    repo: Repo
    sha: str
    state: str
    description: str | None
    target_url: str | None
    context: str
    creator: User
    created_at: datetime = field(default_factory=now)


@dataclass
class Delivery:
    """One webhook the sandbox sent to the bot, and what the bot answered."""

    id: int
    guid: str
    event: str
    action: str | None
    body: bytes = field(repr=False)
    repository_id: int | None
    what: str  # "acme/widgets#3", for the page
    status_code: int | None = None  # None: the bot could not be reached
    answer: str = ""  # the bot's message, or the connection error
    redelivery: bool = False
    delivered_at: datetime = field(default_factory=now)
    duration_s: float = 0.0

    @property
    def ok(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300


@dataclass(frozen=True)
class Scenario:
    """A made-up contribution the visitor can open a pull request with."""

    key: str
    author: str  # the login opening the PR (and pushing)
    label: str
    explain: str
    commit: Callable[[World, int], tuple[str, str, str]]  # → (name, email, message)


def _by(login: str, message: str) -> Callable[[World, int], tuple[str, str, str]]:
    def make(world: World, n: int) -> tuple[str, str, str]:
        user = world.user(login)
        return user.name, user.emails[0], message.format(n=n)

    return make


def _unlinked(world: World, n: int) -> tuple[str, str, str]:
    return "Grace Hopper", "grace@old-laptop.example", f"Fix the compiler warning #{n}"


def _coauthored(world: World, n: int) -> tuple[str, str, str]:
    kat = world.user("katherine")
    return (
        "Alan Turing",
        world.user("alan").emails[0],
        f"Compute the trajectory, part {n}\n\nCo-authored-by: {kat.name} <{kat.emails[0]}>",
    )


def _bot(world: World, n: int) -> tuple[str, str, str]:
    bot = world.user("dependabot[bot]")
    return bot.login, bot.emails[0], f"Bump the parser from 1.{n}.0 to 1.{n}.1"


SCENARIOS: tuple[Scenario, ...] = (
    Scenario(
        "linked",
        "ada",
        "@ada — her commit email is linked to her account",
        "The usual case: the bot asks @ada to sign, with a link to the agreement.",
        _by("ada", "Add the analytical engine notes #{n}"),
    ),
    Scenario(
        "unlinked",
        "grace",
        "@grace — her commit email (grace@old-laptop.example) is on no account",
        "The bot cannot tell who made the commit: it shows the commit and how to link the "
        "email (the sandbox's Settings → Emails), then a /cla check runs it again.",
        _unlinked,
    ),
    Scenario(
        "coauthored",
        "alan",
        "@alan — with a Co-authored-by: Katherine Johnson trailer",
        "Both the author and the co-author must be covered: sign as alan, sign out, and "
        "sign as katherine.",
        _coauthored,
    ),
    Scenario(
        "bot",
        "dependabot[bot]",
        "dependabot[bot] — a well-known bot",
        "Bots cannot sign; well-known ones are on the default allowlist, so this PR passes "
        "at once (and gets no comment).",
        _bot,
    ),
)


class World:
    """Everything the sandbox forge knows; every change bumps ``version`` (the page polls it)."""

    def __init__(self, *, app_id: int, app_slug: str) -> None:
        self._ids = itertools.count(1001)
        self.version = 1
        self.app_id = app_id
        self.app_slug = app_slug
        self.installation_id = 1
        self.users: dict[str, User] = {}
        self.repos: dict[str, Repo] = {}
        self.pulls: dict[tuple[str, int], PullRequest] = {}
        self.comments: dict[int, Comment] = {}
        self.statuses: list[Status] = []
        self.deliveries: list[Delivery] = []
        self.bot = self.add_user(f"{app_slug}[bot]", "CLA bot", type="Bot")
        self._seed()

    def next_id(self) -> int:
        return next(self._ids)

    def changed(self) -> None:
        self.version += 1

    # -- people and repositories ---------------------------------------------------------------

    def add_user(
        self,
        login: str,
        name: str,
        *,
        emails: tuple[str, ...] = (),
        type: str = "User",
        about: str = "",
        user_id: int | None = None,
    ) -> User:
        user = User(login, user_id or self.next_id(), name, list(emails), type, about)
        self.users[login.lower()] = user
        return user

    def user(self, login: str) -> User:
        return self.users[login.lower()]

    def find_user(self, login: str) -> User | None:
        return self.users.get(login.lower())

    @property
    def people(self) -> list[User]:
        """The made-up humans one can sign in or comment as."""
        return [u for u in self.users.values() if u.type == "User" and u.about]

    def _seed(self) -> None:
        org = self.add_user("sandbox-org", "Sandbox Org", type="Organization")
        self.add_user(
            "ada",
            "Ada Lovelace",
            emails=("ada@sandbox.example",),
            about="her commit email is linked to this account",
        )
        self.add_user(
            "grace",
            "Grace Hopper",
            emails=("grace@sandbox.example",),
            about="committed with an email that is not on this account",
        )
        self.add_user(
            "alan",
            "Alan Turing",
            emails=("alan@sandbox.example",),
            about="author of the co-authored commit",
        )
        self.add_user(
            "katherine",
            "Katherine Johnson",
            emails=("katherine@sandbox.example",),
            about="co-author of alan's commit",
        )
        self.add_user(
            "mona",
            "Mona Maintainer",
            emails=("mona@sandbox.example",),
            about="a maintainer (admin of the repositories; try /cla status @ada)",
        )
        self.add_user(
            "dependabot[bot]",
            "dependabot[bot]",
            emails=("49699333+dependabot[bot]@users.noreply.github.com",),
            type="Bot",
            user_id=49699333,
        )
        for name in ("widgets", "docs"):
            repo = Repo(self.next_id(), org, name)
            repo.permissions["mona"] = "admin"
            self.repos[repo.full_name.lower()] = repo

    def repo(self, full_name: str) -> Repo | None:
        return self.repos.get(full_name.lower())

    def linked(self, email: str) -> User | None:
        """The account a commit email belongs to (a verified email or a noreply address)."""
        wanted = email.strip().lower()
        for user in self.users.values():
            if any(e.lower() == wanted for e in user.emails):
                return user
        m = NOREPLY.fullmatch(wanted)
        if m is not None:
            for user in self.users.values():
                if str(user.id) == m.group("id"):
                    return user
        return None

    def add_email(self, user: User, email: str) -> None:
        if email.lower() not in (e.lower() for e in user.emails):
            user.emails.append(email)
            self.changed()

    # -- pull requests -------------------------------------------------------------------------

    def pull(self, full_name: str, number: int) -> PullRequest | None:
        return self.pulls.get((full_name.lower(), number))

    def pulls_of(self, repo: Repo) -> list[PullRequest]:
        return sorted((p for p in self.pulls.values() if p.repo is repo), key=lambda p: -p.number)

    def open_pull(self, repo: Repo, scenario: Scenario, title: str) -> PullRequest:
        number = 1 + max((n for (r, n) in self.pulls if r == repo.full_name.lower()), default=0)
        author = self.user(scenario.author)
        pr = PullRequest(
            repo=repo,
            number=number,
            id=self.next_id(),
            title=title,
            user=author,
            base_sha=secrets.token_hex(20),
            head_ref=f"{author.login.replace('[bot]', '')}/change-{number}",
        )
        self.pulls[(repo.full_name.lower(), number)] = pr
        self.push(pr, scenario)
        return pr

    def push(self, pr: PullRequest, scenario: Scenario) -> Commit:
        name, email, message = scenario.commit(self, len(pr.commits) + 1)
        commit = Commit(secrets.token_hex(20), message, name, email, pr.head_sha)
        pr.commits.append(commit)
        pr.updated_at = now()
        self.changed()
        return commit

    def add_comment(self, pr: PullRequest, user: User, body: str) -> Comment:
        created = now()
        c = Comment(self.next_id(), pr.repo, pr.number, body, user, created, created)
        self.comments[c.id] = c
        pr.updated_at = now()
        self.changed()
        return c

    def comments_of(self, pr: PullRequest) -> list[Comment]:
        return sorted(
            (c for c in self.comments.values() if c.repo is pr.repo and c.number == pr.number),
            key=lambda c: c.id,
        )

    def label(self, pr: PullRequest, name: str) -> None:
        key = name.lower()
        if key not in pr.repo.labels:
            color = {"cla/yes": "1a7f37", "cla/no": "cf222e"}.get(key, "8c959f")
            pr.repo.labels[key] = Label(self.next_id(), name, color)
        canonical = pr.repo.labels[key].name
        if key not in (n.lower() for n in pr.labels):
            pr.labels.append(canonical)
            self.changed()

    def unlabel(self, pr: PullRequest, name: str) -> bool:
        for existing in pr.labels:
            if existing.lower() == name.lower():
                pr.labels.remove(existing)
                self.changed()
                return True
        return False

    def known_sha(self, repo: Repo, sha: str) -> bool:
        return any(
            p.repo is repo and (sha == p.base_sha or any(c.sha == sha for c in p.commits))
            for p in self.pulls.values()
        )

    def add_status(
        self,
        repo: Repo,
        sha: str,
        *,
        state: str,
        description: str | None,
        target_url: str | None,
        context: str,
    ) -> Status:
        s = Status(self.next_id(), repo, sha, state, description, target_url, context, self.bot)
        self.statuses.append(s)
        self.changed()
        return s

    def statuses_of(self, repo: Repo, sha: str) -> list[Status]:
        """Newest first, as GitHub lists them."""
        return [s for s in reversed(self.statuses) if s.repo is repo and s.sha == sha]

    def combined(self, pr: PullRequest) -> list[Status]:
        """The latest status of each context on the PR's head."""
        seen: dict[str, Status] = {}
        for s in self.statuses_of(pr.repo, pr.head_sha):
            seen.setdefault(s.context.lower(), s)
        return list(seen.values())


# -- JSON in GitHub's shapes -----------------------------------------------------------------------


@dataclass(frozen=True)
class Urls:
    api: str  # e.g. http://127.0.0.1:8081/api/v3
    web: str  # e.g. http://127.0.0.1:8081


def user_json(u: User, urls: Urls) -> dict[str, Any]:
    return {
        "login": u.login,
        "id": u.id,
        "node_id": f"U_sandbox{u.id}",
        "avatar_url": "",
        "gravatar_id": "",
        "url": f"{urls.api}/users/{u.login}",
        "html_url": f"{urls.web}/{u.login}",
        "type": u.type,
        "site_admin": False,
    }


def repo_json(r: Repo, urls: Urls) -> dict[str, Any]:
    return {
        "id": r.id,
        "node_id": f"R_sandbox{r.id}",
        "name": r.name,
        "full_name": r.full_name,
        "owner": user_json(r.owner, urls),
        "private": False,
        "html_url": f"{urls.web}/{r.full_name}",
        "url": f"{urls.api}/repos/{r.full_name}",
        "default_branch": "main",
        "fork": False,
    }


def label_json(repo: Repo, name: str, urls: Urls) -> dict[str, Any]:
    label = repo.labels.get(name.lower()) or Label(0, name, "8c959f")
    return {
        "id": label.id,
        "node_id": f"L_sandbox{label.id}",
        "url": f"{urls.api}/repos/{repo.full_name}/labels/{label.name}",
        "name": label.name,
        "color": label.color,
        "default": False,
        "description": None,
    }


def pull_json(world: World, pr: PullRequest, urls: Urls) -> dict[str, Any]:
    full = pr.repo.full_name
    url = f"{urls.api}/repos/{full}/pulls/{pr.number}"
    repo = repo_json(pr.repo, urls)
    return {
        "url": url,
        "id": pr.id,
        "node_id": f"PR_sandbox{pr.id}",
        "html_url": f"{urls.web}/{full}/pull/{pr.number}",
        "issue_url": f"{urls.api}/repos/{full}/issues/{pr.number}",
        "commits_url": f"{url}/commits",
        "comments_url": f"{urls.api}/repos/{full}/issues/{pr.number}/comments",
        "statuses_url": f"{urls.api}/repos/{full}/statuses/{pr.head_sha}",
        "number": pr.number,
        "state": pr.state,
        "locked": False,
        "title": pr.title,
        "user": user_json(pr.user, urls),
        "body": None,
        "labels": [label_json(pr.repo, n, urls) for n in pr.labels],
        "created_at": iso(pr.created_at),
        "updated_at": iso(pr.updated_at),
        "closed_at": None,
        "merged_at": None,
        "merge_commit_sha": None,
        "head": {
            "label": f"{pr.user.login}:{pr.head_ref}",
            "ref": pr.head_ref,
            "sha": pr.head_sha,
            "user": user_json(pr.user, urls),
            "repo": repo,
        },
        "base": {
            "label": f"{pr.repo.owner.login}:{pr.base_ref}",
            "ref": pr.base_ref,
            "sha": pr.base_sha,
            "user": user_json(pr.repo.owner, urls),
            "repo": repo,
        },
        "author_association": "CONTRIBUTOR",
        "draft": False,
        "merged": False,
        "mergeable": True,
        "comments": len(world.comments_of(pr)),
        "commits": len(pr.commits),
        "additions": len(pr.commits),
        "deletions": 0,
        "changed_files": 1,
    }


def commit_json(world: World, repo: Repo, c: Commit, urls: Urls) -> dict[str, Any]:
    full = repo.full_name
    person = {"name": c.author_name, "email": c.author_email, "date": iso(c.date)}
    account = world.linked(c.author_email)
    return {
        "url": f"{urls.api}/repos/{full}/commits/{c.sha}",
        "sha": c.sha,
        "node_id": f"C_sandbox{c.sha[:12]}",
        "html_url": f"{urls.web}/{full}/commit/{c.sha}",
        "commit": {
            "url": f"{urls.api}/repos/{full}/git/commits/{c.sha}",
            "author": person,
            "committer": person,
            "message": c.message,
            "comment_count": 0,
        },
        "author": user_json(account, urls) if account else None,
        "committer": user_json(account, urls) if account else None,
        "parents": [{"sha": c.parent, "url": f"{urls.api}/repos/{full}/commits/{c.parent}"}],
    }


def comment_json(c: Comment, urls: Urls) -> dict[str, Any]:
    full = c.repo.full_name
    return {
        "id": c.id,
        "node_id": f"IC_sandbox{c.id}",
        "url": f"{urls.api}/repos/{full}/issues/comments/{c.id}",
        "html_url": f"{urls.web}/{full}/pull/{c.number}#issuecomment-{c.id}",
        "issue_url": f"{urls.api}/repos/{full}/issues/{c.number}",
        "body": c.body,
        "user": user_json(c.user, urls),
        "created_at": iso(c.created_at),
        "updated_at": iso(c.updated_at),
        "author_association": "NONE",
    }


def status_json(s: Status, urls: Urls) -> dict[str, Any]:
    return {
        "url": f"{urls.api}/repos/{s.repo.full_name}/statuses/{s.sha}",
        "id": s.id,
        "node_id": f"SC_sandbox{s.id}",
        "state": s.state,
        "description": s.description,
        "target_url": s.target_url,
        "context": s.context,
        "created_at": iso(s.created_at),
        "updated_at": iso(s.created_at),
        "creator": user_json(s.creator, urls),
    }


def pull_request_event(
    world: World, pr: PullRequest, action: str, urls: Urls, *, before: str | None = None
) -> dict[str, Any]:
    payload: dict[str, Any] = {
        "action": action,
        "number": pr.number,
        "pull_request": pull_json(world, pr, urls),
        "repository": repo_json(pr.repo, urls),
        "sender": user_json(pr.user, urls),
        "installation": {"id": world.installation_id, "node_id": "I_sandbox1"},
    }
    if action == "synchronize":
        payload["before"] = before or pr.base_sha
        payload["after"] = pr.head_sha
    return payload


def issue_comment_event(world: World, pr: PullRequest, c: Comment, urls: Urls) -> dict[str, Any]:
    full = pr.repo.full_name
    html = f"{urls.web}/{full}/pull/{pr.number}"
    return {
        "action": "created",
        "issue": {
            "url": f"{urls.api}/repos/{full}/issues/{pr.number}",
            "html_url": html,
            "id": pr.id,
            "number": pr.number,
            "title": pr.title,
            "state": pr.state,
            "user": user_json(pr.user, urls),
            "labels": [label_json(pr.repo, n, urls) for n in pr.labels],
            "pull_request": {
                "url": f"{urls.api}/repos/{full}/pulls/{pr.number}",
                "html_url": html,
                "diff_url": html + ".diff",
                "patch_url": html + ".patch",
                "merged_at": None,
            },
        },
        "comment": comment_json(c, urls),
        "repository": repo_json(pr.repo, urls),
        "sender": user_json(c.user, urls),
        "installation": {"id": world.installation_id, "node_id": "I_sandbox1"},
    }
