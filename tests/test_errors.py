"""Every exception the bot defines roots in :class:`bot.errors.BotError`, so that a caller
can tell the bot's own refusals from a library's failure with one ``except``.

The fake forges under ``bot/sandbox/`` imitate other systems; their errors are not the bot's.
"""

from __future__ import annotations

import importlib
import inspect
from pathlib import Path

from bot.errors import BotError

ROOT = Path(__file__).resolve().parents[1]


def _modules() -> list[str]:
    names = []
    for path in sorted((ROOT / "bot").rglob("*.py")):
        rel = path.relative_to(ROOT).with_suffix("")
        if "migrations" in rel.parts or rel.parts[1] == "sandbox" or rel.name == "__main__":
            continue
        parts = list(rel.parts)
        if parts[-1] == "__init__":
            parts.pop()
        names.append(".".join(parts))
    return names


def test_every_exception_the_bot_defines_is_a_bot_error() -> None:
    strays = []
    for name in _modules():
        module = importlib.import_module(name)
        for _, cls in inspect.getmembers(module, inspect.isclass):
            if cls.__module__ != name or not issubclass(cls, BaseException):
                continue
            if not issubclass(cls, BotError):
                strays.append(f"{name}.{cls.__qualname__}")
    assert strays == []
