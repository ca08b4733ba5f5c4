"""A built-in sandbox forge to try the bot on loopback (``cla-bot demo``).

:class:`Sandbox` is a small GitHub-compatible server with made-up people and repositories and
a web page to open pull requests, comment and watch what the bot does; :func:`run_demo` starts
it together with the bot.
"""

from bot.sandbox.server import Sandbox

__all__ = ["Sandbox"]
