"""`/cla status`: answered for maintainers only (permission asked of the forge), never with
contact data, on GitHub and Gitee."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from bot.cli.imports import run_import
from bot.services.importer import HEADER
from tests.e2e.conftest import Bot, GiteeBot

EMAIL_RE = re.compile(r"[\w.+-]+@[\w-]+\.[\w.]+")


async def import_rows(settings: Any, tmp_path: Path, *rows: str) -> None:
    f = tmp_path / "s.csv"
    f.write_text(",".join(HEADER) + "\n" + "\n".join(rows) + "\n")
    assert await run_import(settings, f) == 0


def reply(bot_comments: list[Any], comment_id: int) -> str:
    found = [c.body for c in bot_comments if f"cla-bot:reply:{comment_id}:status" in c.body]
    assert len(found) == 1, bot_comments
    return found[0]


async def test_status_on_github(bot: Bot, tmp_path: Path) -> None:
    gh = bot.github
    gh.add_installation(1, account="acme", repos=["acme/w"])
    c1 = gh.make_commit(author=("Alice", "alice@example.com"), author_login="alice")
    c2 = gh.make_commit(author=("Bob", "bob@example.com"), author_login="bob")
    pr = gh.add_pr("acme/w", number=1, author="bob", commits=[c1, c2])
    await import_rows(
        bot.runtime.settings,
        tmp_path,
        f"github,alice,{gh.user('alice').id},alice@example.com,Alice Secret,individual,1.0,2024-01-02T00:00:00Z",
    )
    gh.set_permission("acme/w", "mia", "write")
    gh.set_permission("acme/w", "bob", "read")

    asks = {
        "mia-one": gh.add_comment(pr, "/cla status @alice", user="mia"),
        "mia-pr": gh.add_comment(pr, "/cla status", user="mia"),
        "mia-nobody": gh.add_comment(pr, "/cla status @carol", user="mia"),
        "bob": gh.add_comment(pr, "/cla status @alice", user="bob"),
        "stranger": gh.add_comment(pr, "/cla status @alice", user="zed"),
    }
    for c in asks.values():
        assert (
            await bot.deliver("issue_comment", gh.issue_comment_event(c, installation_id=1)) == 202
        )
    await bot.run_jobs()
    comments = gh.bot_comments(pr)
    one = reply(comments, asks["mia-one"].id)
    assert (
        "@alice is covered by the Individual Contributor License Agreement, version 1.0 (individual), since 2024-01-02"
        in one
    )
    whole = reply(comments, asks["mia-pr"].id)
    assert (
        "@alice: covered: version 1.0 (individual) since 2024-01-02" in whole
        and "@bob: must sign" in whole
    )
    assert "has no signature" in reply(comments, asks["mia-nobody"].id)
    for who in ("bob", "stranger"):
        assert "only people with write access" in reply(comments, asks[who].id)
    for c in comments:
        assert not EMAIL_RE.search(c.body.replace("cla-bot", "")), c.body
        assert "Alice Secret" not in c.body


async def test_status_on_gitee(gitee_bot: GiteeBot, tmp_path: Path) -> None:
    g = gitee_bot.gitee
    pr = g.add_pr("open-cla/demo", number=2, author="li-na")
    await import_rows(
        gitee_bot.runtime.settings,
        tmp_path,
        f"gitee,li-na,{g.user('li-na').id},,,individual,1.0,2024-03-04",
    )
    g.set_permission("open-cla/demo", "wang-admin", "admin")
    ok = g.add_comment(pr, "/cla status @li-na", user="wang-admin")
    no = g.add_comment(pr, "/cla status @li-na", user="passer-by")
    for c in (ok, no):
        assert await gitee_bot.deliver(g.note_event(c)) == 202
    await gitee_bot.run_jobs()
    comments = g.bot_comments(pr)
    assert "@li-na is covered" in reply(comments, ok.id)
    assert "only people with write access" in reply(comments, no.id)
