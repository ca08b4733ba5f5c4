"""The bot's own exception tree: every exception the bot defines roots in :class:`BotError`
(``tests/test_errors.py`` holds it so).

::

    BotError                        (bot.core.errors)
    ├── SettingsError               bad configuration: start-up stops with one line naming it
    ├── WebhookRejected             a delivery refused before anything is written (status: 4xx)
    ├── TemplateError, ReplyTemplateError   a comment or reply template is invalid (core)
    ├── ForgeError                  a forge call failed (the tree is in bot.platforms.base)
    ├── OAuthError                  a sign-in with a forge failed
    ├── PayloadError                a delivery's body is not what its forge sends
    ├── BotTableError               the known-bots table is invalid
    ├── CryptoError                 DecryptError, KeyConfigError (bot.storage.crypto)
    ├── AgreementTextChanged        a published agreement text differs from app.yaml's
    ├── Unstorable                  a delivery the database refuses to store (answered 400)
    ├── AdminError, EntryError      a maintainer's request is invalid or names nothing
    ├── ApiError                    the admin API's refusals, with their HTTP status (web)
    └── SetupError                  a forge's setup flow failed, with its HTTP status
                                    (GitHub's manifest flow: bot.platforms.github)
"""

from __future__ import annotations

from bot.core.errors import BotError

__all__ = ["BotError", "SettingsError", "WebhookRejected"]


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
