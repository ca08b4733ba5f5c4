"""The maintainers' console: who may manage a community (:mod:`.admins`)."""

from __future__ import annotations

from bot.services.console.admins import (
    ADMIN_TTL_S,
    Administrators,
    ClientFor,
    Link,
    Named,
)

__all__ = ["ADMIN_TTL_S", "Administrators", "ClientFor", "Link", "Named"]
