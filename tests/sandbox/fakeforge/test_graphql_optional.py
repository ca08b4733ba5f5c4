"""graphql-core is a test dependency (the fake GitHub checks queries against GitHub's schema
with it): the sandbox, which ``cla-bot demo`` runs on the runtime's dependencies alone, must not
import it."""

from __future__ import annotations

import subprocess
import sys


def test_the_sandbox_does_not_import_graphql_core() -> None:
    """Every module of the sandbox and its fakes, imported as ``cla-bot demo`` does: graphql
    stays out (it is not in the runtime's lock)."""
    script = (
        "import importlib, pkgutil, sys, bot.sandbox\n"
        "import bot.cli.main\n"
        "for m in pkgutil.walk_packages(bot.sandbox.__path__, 'bot.sandbox.'):\n"
        "    importlib.import_module(m.name)\n"
        "assert 'graphql' not in sys.modules, sorted(n for n in sys.modules if 'graphql' in n)\n"
    )
    subprocess.run([sys.executable, "-c", script], check=True, timeout=120)


def test_the_query_the_fake_answers_alone_is_the_bots() -> None:
    """Without graphql-core the fake answers one query, kept as a file beside its schema so
    that the fake imports nothing of the bot's GitHub client: that file must be what the bot
    sends."""
    from bot.platforms.github.coauthors import CO_AUTHORS_QUERY
    from bot.sandbox.fakeforge.github.records import CO_AUTHORS_QUERY_FILE

    assert CO_AUTHORS_QUERY_FILE.read_text("utf-8").split() == CO_AUTHORS_QUERY.split()
