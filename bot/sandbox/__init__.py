"""A built-in sandbox forge to try the bot on loopback (``cla-bot demo``).

:class:`Sandbox` serves the fake GitHub of :mod:`bot.sandbox.fakeforge` (the one the tests
use) with made-up people and repositories in it and web pages to open pull requests, comment
and watch what the bot does; :func:`bot.sandbox.demo.run_demo` starts it together with the bot.
"""

from bot.sandbox.server import Sandbox

__all__ = ["Sandbox"]
