"""The bot's own exception tree.

::

    BotError
    ├── SettingsError        bad configuration: start-up stops with one line naming the setting
    ├── WebhookRejected      a delivery refused before anything is written (status: 4xx)
    └── StorageUnavailable   the database cannot take a write now (answered 503)

Forge errors live in ``bot.platforms.base``; crypto errors in ``bot.storage.crypto``.
"""

from __future__ import annotations


class BotError(Exception):
    pass


class SettingsError(BotError):
    """Raised with one line: ``NAME: what is wrong`` — never containing a secret value."""

    def __init__(self, name: str, problem: str, *, hint: str = "") -> None:
        super().__init__(f"{name}: {problem}")
        self.name = name
        self.problem = problem
        self.hint = hint  # what to do, when one line cannot say it: printed after the line

    def report(self) -> str:
        """What a command prints: the one line, then the hint's lines (if any)."""
        line = f"cla-bot: configuration error: {self}"
        return f"{line}\n{self.hint}" if self.hint else line


class WebhookRejected(BotError):
    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason


class StorageUnavailable(BotError):
    pass
