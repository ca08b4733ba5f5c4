"""The ``cla-bot`` parser: every command of every family, in the order ``--help`` lists them,
each answering ``--help``; ``python -m bot`` and the console script reach the same ``main``."""

from __future__ import annotations

import argparse
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from bot.cli.main import _parser, main

ROOT = Path(__file__).resolve().parents[2]
COMMANDS = [
    "serve",
    "worker",
    "migrate",
    "import",
    "audit",
    "purge",
    "status",
    "export",
    "token",
    "import-from",
    "agreements",
    "company",
    "communities",
    "jobs",
    "reconcile",
    "rotate-keys",
    "mail-test",
    "receipt-verify",
    "demo",
]


def _commands(parser: argparse.ArgumentParser) -> list[str]:
    (sub,) = (a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    return list(sub.choices)


def test_every_command_in_its_order() -> None:
    assert _commands(_parser()) == COMMANDS


@pytest.mark.parametrize("command", COMMANDS)
def test_every_command_answers_help(command: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        main([command, "--help"])
    assert exc.value.code == 0
    assert capsys.readouterr().out.startswith(f"usage: cla-bot {command}")


def test_an_unknown_command_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        main(["no-such-command"])
    assert exc.value.code == 2
    assert "invalid choice: 'no-such-command'" in capsys.readouterr().err


def test_the_console_script_and_python_m_bot_reach_main() -> None:
    scripts = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["scripts"]
    assert scripts == {"cla-bot": "bot.cli.main:main"}
    done = subprocess.run(
        [sys.executable, "-m", "bot", "--version"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    assert (done.returncode, done.stdout.startswith("cla-bot ")) == (0, True)
