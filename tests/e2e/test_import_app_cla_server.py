"""Moving a Gitee community over from app-cla-server, end to end: the fixture dump is imported
with ``cla-bot import-from app-cla-server`` while pull requests wait on the fake Gitee, and the
PRs of the people it covered turn green by themselves — an individual signer by the commit
email they signed with, an enabled employee through the company — while a disabled employee, a
signing deleted there and another link's signer stay blocked until an administrator approves
the company's imported domains."""

from __future__ import annotations

import argparse
import io
import re
from pathlib import Path

import pytest

from bot.cli import company as cli_company
from bot.cli.imports import run_app_cla_server
from tests.e2e.conftest import GiteeBot

ACS = Path(__file__).resolve().parents[1] / "fixtures" / "app_cla_server"
LINK = "64b7f0c2e1d3a45b6c7d8e90"
REPO = "open-harbor/harbor-core"
AUTHORS = {  # PR number → (PR author's login, commit author, the commit's account or None)
    21: ("liang-qm", ("Liang Qiaoming", "liang.qm@example.net"), "liang-qm"),
    22: ("chen-yh", ("陈玉华", "Chen.Yuhua@example.cn"), None),
    23: ("wujie", ("Wu Jie", "wu.jie@harbourtech.cn"), None),
    24: ("linfei", ("Lin Fei", "lin.fei@harbourtech.cn"), None),  # disabled there
    25: ("hokw", ("Ho Ka-wing", "ho.kawing@harbourtech.cn"), None),  # deleted there
    26: ("newhire", ("Zhou Ping", "zhou.ping@harbourtech-labs.com"), None),  # domain only
    27: ("svetla", ("Svetla Ivanova", "svetla.i@example.org"), None),  # another link
}


async def labels(bot: GiteeBot) -> dict[int, list[str]]:
    g = bot.gitee
    return {n: g.labels_of(g.prs[(REPO, n)]) for n in AUTHORS}


async def test_the_dump_turns_its_contributors_prs_green(
    gitee_bot: GiteeBot, capsys: pytest.CaptureFixture[str]
) -> None:
    g = gitee_bot.gitee
    for number, (login, person, account) in AUTHORS.items():
        commit = g.make_commit(message="Port the scheduler", author=person, author_login=account)
        pr = g.add_pr(REPO, number=number, author=login, commits=[commit])
        assert await gitee_bot.deliver(g.merge_request_event(pr)) == 202
    assert await gitee_bot.run_jobs() == len(AUTHORS)
    assert set(map(tuple, (await labels(gitee_bot)).values())) == {("cla/no",)}

    out = io.StringIO()
    settings = gitee_bot.runtime.settings
    assert await run_app_cla_server(settings, ACS, [LINK], out=out, err=io.StringIO()) == 0
    assert "3 blocked pull request(s) queued for a re-check" in out.getvalue()
    assert await gitee_bot.run_jobs() == 3  # the import's re-checks, by themselves
    assert await labels(gitee_bot) == {
        21: ["cla/yes"],  # an individual signing, by the email he committed with
        22: ["cla/yes"],  # signed the Chinese text: the zh translation of individual 1.0
        23: ["cla/yes"],  # an enabled employee of Harbour Tech
        24: ["cla/no"],
        25: ["cla/no"],
        26: ["cla/no"],  # the domain waits for an administrator
        27: ["cla/no"],
    }
    wu = g.bot_comments(g.prs[(REPO, 23)])
    assert len(wu) == 1 and "All contributors are covered" in wu[0].body
    assert "Harbour Tech Co., Ltd." in wu[0].body  # covered through the company, named
    assert "wu.jie" not in wu[0].body

    # An administrator approves what waits: Harbour Tech's domains (the company itself was
    # approved by the import) — then everyone committing from them is covered.
    parser = argparse.ArgumentParser()
    cli_company.add_parsers(parser.add_subparsers(dest="command"))
    code = await cli_company.run(parser.parse_args(["company", "list", "--pending"]), settings)
    listing = capsys.readouterr().out
    assert code == 0 and "Lotus Semiconductor" in listing
    harbour = re.search(r"^\s*(\d+)\s+approved\s.*Harbour Tech Co\., Ltd\.", listing, re.M)
    assert harbour, listing
    code = await cli_company.run(
        parser.parse_args(["company", "approve", harbour.group(1)]), settings
    )
    assert code == 0 and "3 PR re-check(s) queued" in capsys.readouterr().out
    assert await gitee_bot.run_jobs() == 3
    assert await labels(gitee_bot) == {
        21: ["cla/yes"],
        22: ["cla/yes"],
        23: ["cla/yes"],
        24: ["cla/yes"],
        25: ["cla/yes"],
        26: ["cla/yes"],
        27: ["cla/no"],  # Svetla signed another community's CLA
    }
