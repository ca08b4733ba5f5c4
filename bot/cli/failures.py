"""How a maintainer's command ends when its request fails: one line on standard error naming
the command, and the exit code — 1 for a request the bot refuses (:class:`AdminError`: bad or
unknown input), 2 for a file or folder that cannot be read. A bad setting is left to
``main``, which stops with its own one line."""

from __future__ import annotations

import sys
from collections.abc import Awaitable

from bot.errors import SettingsError
from bot.services import admin


async def reported(command: str, work: Awaitable[int]) -> int:
    """``work``'s exit code, or the failure's line and code."""
    try:
        return await work
    except admin.AdminError as exc:
        print(f"cla-bot {command}: {exc.message}", file=sys.stderr)
        return 1
    except SettingsError:
        raise
    except OSError as exc:
        print(f"cla-bot {command}: {exc.strerror or exc}", file=sys.stderr)
        return 2
