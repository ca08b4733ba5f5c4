"""The demo's world on the fake GitHub: its made-up people, its two repositories, the
contributions a visitor can open a pull request with, and what the sandbox's pages read.

Everything lives in the :class:`~bot.sandbox.fakeforge.github.FakeGitHub` the bot talks to
(accounts, verified emails, repositories, pull requests, comments, labels, statuses,
deliveries); :class:`World` only seeds it and reads it back for the pages. Commits are linked
to accounts the way GitHub does it, by the commit email among the verified emails of every
account (or a noreply address's id) — so an email added later (at ``/settings/emails``) links
the commits already pushed.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from bot.sandbox.fakeforge.github import (
    FakeComment,
    FakeCommit,
    FakeDelivery,
    FakeGitHub,
    FakeLabel,
    FakePR,
    FakeRepo,
    FakeStatus,
    FakeUser,
)

__all__ = ["INSTALLATION_ID", "ORG", "SCENARIOS", "Person", "Scenario", "World"]

ORG = "sandbox-org"
INSTALLATION_ID = 1
LABEL_COLOURS = {"cla/yes": "1a7f37", "cla/no": "cf222e"}


class Person:
    """A made-up account of the demo: its login, name and one line for the pickers; its
    verified emails are the fake GitHub's (``/user/emails``), the first the primary."""

    def __init__(self, fake: FakeGitHub, account: FakeUser, name: str, about: str) -> None:
        self._fake = fake
        self.account = account
        self.name = name
        self.about = about

    @property
    def login(self) -> str:
        return self.account.login

    @property
    def id(self) -> int:
        return self.account.id

    @property
    def type(self) -> str:
        return self.account.type

    @property
    def emails(self) -> list[str]:
        return [str(e["email"]) for e in self._fake.user_emails.get(self.login.lower(), [])]


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

# (login, name, primary email, one line for the pickers)
PEOPLE = (
    ("ada", "Ada Lovelace", "ada@sandbox.example", "her commit email is linked to this account"),
    (
        "grace",
        "Grace Hopper",
        "grace@sandbox.example",
        "committed with an email that is not on this account",
    ),
    ("alan", "Alan Turing", "alan@sandbox.example", "author of the co-authored commit"),
    ("katherine", "Katherine Johnson", "katherine@sandbox.example", "co-author of alan's commit"),
    (
        "mona",
        "Mona Maintainer",
        "mona@sandbox.example",
        "a maintainer (admin of the repositories; try /cla status @ada)",
    ),
)
DEPENDABOT_ID = 49699333


class World:
    """The demo's people and repositories, seeded into ``fake``; every change bumps
    ``version`` (the pages poll it): the bot's writes through the API, and the visitor's."""

    def __init__(self, fake: FakeGitHub) -> None:
        self.fake = fake
        self._own_changes = 0
        self.installation_id = INSTALLATION_ID
        self._people: dict[str, Person] = {}
        fake.user(ORG, type="Organization")
        for login, name, email, about in PEOPLE:
            self._add_person(fake.user(login), name, about, email)
        bot = fake.user("dependabot[bot]", type="Bot", user_id=DEPENDABOT_ID)
        self._add_person(
            bot, bot.login, "", f"{DEPENDABOT_ID}+dependabot[bot]@users.noreply.github.com"
        )
        for name in ("widgets", "docs"):
            repo = fake.add_repo(f"{ORG}/{name}")
            for label, colour in LABEL_COLOURS.items():
                repo.labels[label] = FakeLabel(fake.next_id(), label, colour)
            fake.set_permission(repo.full_name, "mona", "admin")
        fake.add_installation(INSTALLATION_ID, account=ORG, repos=None)

    def _add_person(self, account: FakeUser, name: str, about: str, email: str) -> None:
        self.fake.set_emails(account.login, (email, True))
        self._people[account.login.lower()] = Person(self.fake, account, name, about)

    @property
    def version(self) -> int:
        return 1 + self.fake.changes + self._own_changes

    def changed(self) -> None:
        self._own_changes += 1

    # -- people ------------------------------------------------------------------------------

    def user(self, login: str) -> Person:
        return self._people[login.lower()]

    def find_user(self, login: str) -> Person | None:
        return self._people.get(login.lower())

    @property
    def people(self) -> list[Person]:
        """The made-up humans one can sign in or comment as."""
        return [p for p in self._people.values() if p.type == "User" and p.about]

    def linked(self, email: str) -> FakeUser | None:
        """The account a commit email belongs to (a verified email or a noreply address)."""
        return self.fake.user_by_email(email)

    def add_email(self, person: Person, email: str) -> None:
        """A verified email more for ``person``, and the commits made with it linked."""
        if email.lower() in (e.lower() for e in person.emails):
            return
        items = self.fake.user_emails.setdefault(person.login.lower(), [])
        items.append({"email": email, "verified": True, "primary": False, "visibility": None})
        for pr in self.all_pulls():
            for c in pr.commits:
                if c.author is None and c.author_email.lower() == email.lower():
                    c.author = person.account
                if c.committer is None and c.committer_email.lower() == email.lower():
                    c.committer = person.account
        self.changed()

    # -- repositories and pull requests ------------------------------------------------------

    @property
    def repos(self) -> list[FakeRepo]:
        return list(self.fake.repos.values())

    def repo(self, full_name: str) -> FakeRepo | None:
        return self.fake.repos.get(full_name.lower())

    def all_pulls(self) -> list[FakePR]:
        return [i for i in self.fake.issues.values() if isinstance(i, FakePR)]

    def pull(self, full_name: str, number: int) -> FakePR | None:
        issue = self.fake.issues.get((full_name.lower(), number))
        return issue if isinstance(issue, FakePR) else None

    def pulls_of(self, repo: FakeRepo) -> list[FakePR]:
        return sorted((p for p in self.all_pulls() if p.repo is repo), key=lambda p: -p.number)

    def open_pull(self, repo: FakeRepo, scenario: Scenario, title: str) -> FakePR:
        key = repo.full_name.lower()
        number = 1 + max((n for (r, n) in self.fake.issues if r == key), default=0)
        author = self.user(scenario.author)
        pr = self.fake.add_pr(
            repo.full_name,
            number=number,
            author=author.login,
            commits=(),
            head_ref=f"{author.login.replace('[bot]', '')}/change-{number}",
            title=title,
        )
        self.push(pr, scenario)
        return pr

    def push(self, pr: FakePR, scenario: Scenario) -> FakeCommit:
        name, email, message = scenario.commit(self, len(pr.commits) + 1)
        account = self.fake.user_by_email(email)
        commit = self.fake.make_commit(message=message, author=(name, email))
        commit.author = commit.committer = account
        self.fake.add_commit(pr, commit=commit)
        self.changed()
        return commit

    def add_comment(self, pr: FakePR, person: Person, body: str) -> FakeComment:
        c = self.fake.add_comment(pr, body, user=person.account)
        self.changed()
        return c

    def comments_of(self, pr: FakePR) -> list[FakeComment]:
        return sorted(self.fake.comments_of(pr), key=lambda c: c.id)

    def known_commit(self, repo_name: str, sha: str) -> FakePR | None:
        """The pull request ``sha`` is a commit of."""
        for pr in self.all_pulls():
            if pr.repo.full_name.lower() == repo_name.lower() and any(
                c.sha == sha for c in pr.commits
            ):
                return pr
        return None

    def combined(self, pr: FakePR) -> list[FakeStatus]:
        """The latest status of each context on the PR's head, newest first."""
        seen: dict[str, FakeStatus] = {}
        for s in reversed(self.fake.statuses_for(pr.head_sha)):
            if s.repo is pr.repo:
                seen.setdefault(s.context.lower(), s)
        return list(seen.values())

    @property
    def deliveries(self) -> list[FakeDelivery]:
        """Every webhook sent to the bot, oldest first."""
        return self.fake.deliveries
