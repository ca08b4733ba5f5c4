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
