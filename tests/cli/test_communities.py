"""cla-bot communities list / create / rename / delete / link / unlink: round trips through a
real database as the operator (app.yaml's communities are stored at start, as by `serve`),
app.yaml's rows refused with one line and exit 1, --help on every action."""

from __future__ import annotations

import argparse
import json
from typing import Any

import pytest
from sqlalchemy import select

from bot.cli import communities as cli_communities
from bot.cli import main as cli
from bot.core.communities import DEFAULT_COMMUNITY
from bot.storage import communities as stored
from bot.storage.db import create_engine, session_factory
from bot.storage.models import AuditEvent, Job, PrCheck


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="cla-bot")
    sub = p.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True
    cli_communities.add_parsers(sub)
    return p


async def run(settings: Any, *argv: str) -> int:
    args = parser().parse_args(list(argv))
    assert args.command in cli_communities.COMMANDS
    return await cli_communities.run(args, settings)


@pytest.fixture
async def settings(db_url: str, make_settings: Any) -> Any:
    engine = create_engine(db_url)
    try:
        async with session_factory(engine)() as s, s.begin():
            await stored.require_community(s, DEFAULT_COMMUNITY)
            s.add(
                PrCheck(
                    platform="gitee",
                    repo_full_name="mind/widgets",
                    number=4,
                    head_sha="b" * 40,
                )
            )
    finally:
        await engine.dispose()
    return make_settings(db_url)


async def _rows(settings: Any) -> tuple[list[str], list[str], int]:
    engine = create_engine(settings.database_url)
    try:
        async with session_factory(engine)() as s:
            actions = [e.action for e in (await s.scalars(select(AuditEvent))).all()]
            links = [link.scope for link in await stored.list_links(s)]
            jobs = len((await s.scalars(select(Job))).all())
            return actions, links, jobs
    finally:
        await engine.dispose()


async def test_a_community_made_linked_and_removed(settings: Any, capsys: Any) -> None:
    assert await run(settings, "communities", "create", "mind", "--name", "Mind") == 0
    assert "community mind (Mind) created" in capsys.readouterr().out
    assert await run(settings, "communities", "link", "mind", "gitee:Mind") == 0
    assert "1 PR re-check(s) queued" in capsys.readouterr().out
    assert await run(settings, "communities", "list") == 0
    out = capsys.readouterr().out
    assert "mind (Mind, console): no agreements\n  gitee:mind (console)" in out
    assert "default (Default, file): corporate, individual\n  no links" in out
    assert await run(settings, "communities", "list", "--json") == 0
    listed = json.loads(capsys.readouterr().out)
    assert [c["id"] for c in listed] == ["default", "mind"]
    assert await run(settings, "communities", "rename", "mind", "--name", "Mind Lab") == 0
    assert await run(settings, "communities", "unlink", "mind", "gitee:mind") == 0
    assert await run(settings, "communities", "delete", "mind") == 0
    actions, links, jobs = await _rows(settings)
    assert actions == [
        "community-create",
        "community-link",
        "community-rename",
        "community-unlink",
        "community-delete",
    ]
    assert links == []
    assert jobs == 2


@pytest.mark.parametrize(
    ("argv", "says"),
    [
        (("delete", "default"), "app.yaml"),
        (("rename", "default", "--name", "X"), "app.yaml"),
        (("unlink", "default", "github:acme"), "not linked"),
        (("link", "default", "svn:acme"), "unknown forge"),
        (("create", "login", "--name", "X"), "reserved"),
        (("link", "nope", "github:x"), "no community 'nope'"),
    ],
)
async def test_refusals_exit_1_with_one_line(
    settings: Any, capsys: Any, argv: tuple[str, ...], says: str
) -> None:
    assert await run(settings, "communities", *argv) == 1
    err = capsys.readouterr().err
    assert err.startswith(f"cla-bot communities {argv[0]}: ")
    assert says in err
    assert err.count("\n") == 1
    assert await _rows(settings) == ([], [], 0)


@pytest.mark.parametrize("action", ["list", "create", "rename", "delete", "link", "unlink"])
def test_every_action_has_help(action: str, capsys: Any) -> None:
    with pytest.raises(SystemExit) as done:
        cli.main(["communities", action, "--help"])
    assert done.value.code == 0
    assert f"cla-bot communities {action}" in capsys.readouterr().out
