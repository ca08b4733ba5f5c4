"""The root of every exception the bot defines (:class:`BotError`); the tree is drawn in
``bot.errors``. It lives in the core so that the core's own errors can root in it too."""

from __future__ import annotations


class BotError(Exception):
    """An error of the bot's own (not a library's, not a bug's)."""
