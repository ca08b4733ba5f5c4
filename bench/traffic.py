"""2. Forge traffic per event: the requests the bot makes to the fake forge, by method and route,
for each kind of event, on GitHub and on Gitee. The bot runs in this process (its worker drained
after each event) against the fakes of bot/sandbox/fakeforge, with their request validation on.

The baseline of each row is its floor: the reads and writes that event cannot do without (the
commit list, plus the PR itself when the trigger carries no snapshot, plus one write per thing
that changes on the PR)."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import Any

from bench.common import (
    Forges,
    InProcessBot,
    Table,
    bot_env,
    free_port,
    fresh_database,
    run_dir,
)

INSTALLATION = 81
GH_REPO = "acme/traffic"
GE_REPO = "open-cla/traffic"


@dataclass
class Row:
    platform: str
    scenario: str
    requests: list[tuple[str, str]]  # (method, route template)
    floor: int
    target: str

    @property
    def writes(self) -> int:
        return sum(1 for m, r in self.requests if m != "GET" and r != "/graphql")  # a query


def _short(route: str) -> str:
    for long in ("{pull_number}", "{issue_number}", "{number}"):
        route = route.replace(long, "{n}")
    return route.replace("/repos/{owner}/{repo}/", "")


def describe(requests: list[tuple[str, str]]) -> str:
    counts = Counter(requests)
    return ", ".join(
        f"{m} {_short(r)}" + (f" ×{n}" if n > 1 else "") for (m, r), n in counts.items()
    )


class _Recorder:
    def __init__(self, fake: Any) -> None:
        self.fake = fake
        self.mark = len(fake.requests)

    def take(self) -> list[tuple[str, str]]:
        new = self.fake.requests[self.mark :]
        self.mark = len(self.fake.requests)
        return [(r.method, r.route or r.path) for r in new]


async def github_rows(bot: InProcessBot, forges: Forges) -> list[Row]:
    gh = forges.github
    gh.add_installation(INSTALLATION, account="acme", repos=[GH_REPO])
    for login in ("alice", "carol"):
        await bot.sign("github", str(gh.user(login).id), login, f"{login}@example.com")
    rows: list[Row] = []

    async def event(payload: dict[str, Any], kind: str = "pull_request") -> None:
        status = await bot.deliver_github(payload, event=kind)
        if status != 202:
            raise RuntimeError(f"delivery answered {status}")
        await bot.drain()

    warm = gh.add_pr(GH_REPO, number=1, author="carol", commits=1)
    await event(gh.pull_request_event(warm, installation_id=INSTALLATION))  # warms the token
    rec = _Recorder(gh)

    signed = gh.add_pr(GH_REPO, number=2, author="alice", commits=2)
    await event(gh.pull_request_event(signed, installation_id=INSTALLATION))
    rows.append(Row("GitHub", "PR opened, all signed", rec.take(), 3, "≤ 3"))

    commits = [
        gh.make_commit(author=("Alice", "alice@example.com"), author_login="alice"),
        gh.make_commit(author=("Bob", "bob@example.com"), author_login="bob"),
    ]
    blocked = gh.add_pr(GH_REPO, number=3, author="alice", commits=commits)
    await event(gh.pull_request_event(blocked, installation_id=INSTALLATION))
    rows.append(Row("GitHub", "PR opened, one unsigned", rec.take(), 4, "-"))

    gh.add_commit(blocked, author=("Bob", "bob@example.com"), author_login="bob")
    await event(gh.pull_request_event(blocked, action="synchronize", installation_id=INSTALLATION))
    rows.append(Row("GitHub", "synchronize (still blocked)", rec.take(), 2, "-"))

    comment = gh.add_comment(blocked, "/cla check", user="bob")
    rec.take()  # seeding is not the bot's traffic
    await event(gh.issue_comment_event(comment, installation_id=INSTALLATION), "issue_comment")
    rows.append(Row("GitHub", "/cla check (nothing changed)", rec.take(), 2, "0 writes"))

    await event(gh.pull_request_event(blocked, action="synchronize", installation_id=INSTALLATION))
    rows.append(Row("GitHub", "re-check, nothing changed", rec.take(), 1, "0 writes"))

    # carol (signed) commits with her noreply address, which GitHub did not link: her id is
    # asked of GitHub once (GET /user/{account_id}), then remembered.
    hidden = f"{gh.user('carol').id}+carol@users.noreply.github.com"
    noreply = gh.add_pr(
        GH_REPO, number=4, author="carol", commits=[gh.make_commit(author=("Carol", hidden))]
    )
    await event(gh.pull_request_event(noreply, installation_id=INSTALLATION))
    rows.append(Row("GitHub", "PR opened, noreply author", rec.take(), 3, "+1 lookup"))
    await event(gh.pull_request_event(noreply, action="synchronize", installation_id=INSTALLATION))
    rows.append(Row("GitHub", "re-check, noreply author", rec.take(), 1, "0 lookups"))

    # carol (signed) co-authors alice's commit with an email only GitHub's GraphQL links to
    # her account: one POST /graphql per 100 commits, for PRs with such trailers only.
    gh.set_emails("carol", ("carol@work.example", True))
    trailer = gh.make_commit(
        message="Pair on it\n\nCo-authored-by: Carol <carol@work.example>",
        author=("Alice", "alice@example.com"),
        author_login="alice",
    )
    coauthored = gh.add_pr(GH_REPO, number=5, author="alice", commits=[trailer])
    await event(gh.pull_request_event(coauthored, installation_id=INSTALLATION))
    rows.append(Row("GitHub", "PR opened, co-author trailer", rec.take(), 3, "+1 GraphQL"))
    return rows


async def gitee_rows(bot: InProcessBot, forges: Forges) -> list[Row]:
    ge = forges.gitee
    for login in ("wang-fang", "li-na"):
        await bot.sign("gitee", str(ge.user(login).id), login, f"{login}@example.cn")
    rows: list[Row] = []

    async def event(payload: dict[str, Any]) -> None:
        status = await bot.deliver_gitee(ge, payload)
        if status != 202:
            raise RuntimeError(f"gitee delivery answered {status}")
        await bot.drain()

    warm = ge.add_pr(GE_REPO, number=1, author="li-na", commits=1)
    await event(ge.merge_request_event(warm))  # the bot's own login is looked up once
    rec = _Recorder(ge)

    signed = ge.add_pr(GE_REPO, number=2, author="wang-fang", commits=2)
    await event(ge.merge_request_event(signed))
    rows.append(Row("Gitee", "PR opened, all signed", rec.take(), 3, "-"))

    commits = [
        ge.make_commit(author=("Wang Fang", "wang-fang@example.cn"), author_login="wang-fang"),
        ge.make_commit(author=("Zhao Lei", "zhao-lei@example.cn"), author_login="zhao-lei"),
    ]
    blocked = ge.add_pr(GE_REPO, number=3, author="wang-fang", commits=commits)
    await event(ge.merge_request_event(blocked))
    rows.append(Row("Gitee", "PR opened, one unsigned", rec.take(), 4, "-"))

    ge.add_commit(blocked, author=("Zhao Lei", "zhao-lei@example.cn"), author_login="zhao-lei")
    push = ge.merge_request_event(blocked, action="update", action_desc="source_branch_changed")
    await event(push)
    rows.append(Row("Gitee", "push (still blocked)", rec.take(), 2, "-"))

    note = ge.add_comment(blocked, "/check-cla", user="zhao-lei")
    rec.take()
    await event(ge.note_event(note))
    rows.append(Row("Gitee", "/check-cla (nothing changed)", rec.take(), 2, "0 writes"))

    again = ge.merge_request_event(blocked, action="update", action_desc="source_branch_changed")
    await event(again)
    rows.append(Row("Gitee", "re-check, nothing changed", rec.take(), 2, "0 writes"))

    # li-na (signed) commits with her noreply address: Gitee is asked for the login written in
    # it (GET /users/{username}) and the id compared, once, then remembered.
    hidden = f"{ge.user('li-na').id}+li-na@user.noreply.gitee.com"
    noreply = ge.add_pr(
        GE_REPO, number=4, author="li-na", commits=[ge.make_commit(author=("Li Na", hidden))]
    )
    await event(ge.merge_request_event(noreply))
    rows.append(Row("Gitee", "PR opened, noreply author", rec.take(), 3, "+1 lookup"))
    await event(
        ge.merge_request_event(noreply, action="update", action_desc="source_branch_changed")
    )
    rows.append(Row("Gitee", "re-check, noreply author", rec.take(), 2, "0 lookups"))
    return rows


async def traffic() -> list[Row]:
    directory = run_dir("traffic")
    async with Forges() as forges, fresh_database("sqlite", directory) as url:
        env = bot_env(url, directory, forges.env(directory), port=free_port())
        async with InProcessBot(env, directory) as bot:
            rows = await github_rows(bot, forges)
            rows += await gitee_rows(bot, forges)
        problems = forges.github.violations + forges.gitee.violations
        if problems:
            raise RuntimeError(f"the bot sent requests the fakes refuse: {problems[:3]}")
    return rows


def table(rows: list[Row]) -> Table:
    t = Table(
        "2. Forge traffic per event (warm token)",
        ["platform", "event", "requests", "writes", "floor", "× floor", "target", "by route"],
    )
    for r in rows:
        t.add(
            r.platform,
            r.scenario,
            len(r.requests),
            r.writes,
            r.floor,
            f"{len(r.requests) / r.floor:.2f}x",
            r.target,
            describe(r.requests),
        )
    t.notes += [
        "floor: the commit list; the PR itself when the trigger carries no trustworthy snapshot "
        "(comments; every Gitee event, whose signature does not cover the body); one write per "
        "thing that changes on the PR",
        "above the floor: creating the comment first searches for an earlier one (a worker that "
        "died after posting it must not post a second); a noreply address's account id is asked "
        "of the forge once per id and hour (GitHub GET /user/{account_id}, Gitee GET "
        "/users/{username}), so that only the login the forge confirms is mentioned",
    ]
    return t
