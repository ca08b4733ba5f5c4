"""``cla-bot migrate`` through ``main``: one line, exit 0, and a second run changes nothing;
``serve`` and ``worker`` refuse a database that is not migrated, with one line and exit 2
(``serve`` after its "serving on" line, on standard output, as the server reports it)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from bot.cli.main import main

REFUSED = (
    "cla-bot: configuration error: CLA_DATABASE_URL: the database schema is not up to date; "
    "run `cla-bot migrate` first"
)


@pytest.mark.parametrize(
    ("command", "out", "err"),
    [
        (
            "serve",
            [
                "cla-bot serving on http://127.0.0.1:PORT (public URL https://cla.example.org)",
                REFUSED,
            ],
            [],
        ),
        ("worker", [], [REFUSED]),
    ],
)
def test_an_unmigrated_database_is_refused_with_one_line(
    command: str,
    out: list[str],
    err: list[str],
    tmp_path: Path,
    unused_tcp_port: int,
    make_env: Callable[..., dict[str, str]],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    env = make_env(
        f"sqlite+aiosqlite:///{tmp_path / 'empty.db'}",
        CLA_LOG_LEVEL="ERROR",
        CLA_PORT=str(unused_tcp_port),
    )
    monkeypatch.setattr("os.environ", env)
    monkeypatch.chdir(tmp_path)
    assert main([command]) == 2
    said = capsys.readouterr()
    assert said.out.replace(str(unused_tcp_port), "PORT").splitlines() == out
    assert [line for line in said.err.splitlines() if not line.startswith("{")] == err


def test_migrate_then_migrate_again(
    tmp_path: Path,
    make_env: Callable[..., dict[str, str]],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    env = make_env(f"sqlite+aiosqlite:///{tmp_path / 'cla.db'}", CLA_LOG_LEVEL="ERROR")
    monkeypatch.setattr("os.environ", env)
    monkeypatch.chdir(tmp_path)
    assert main(["migrate"]) == 0
    assert main(["migrate"]) == 0
    assert capsys.readouterr().out == "database is at the latest schema\n" * 2
