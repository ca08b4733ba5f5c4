"""The maintainers' console: who may manage a community (:mod:`.admins`), the client that may
ask the forge about an owner (:mod:`.clients`) and what the console shows (:mod:`.overview`)."""

from __future__ import annotations

from bot.services.console.admins import (
    ADMIN_TTL_S,
    Administrators,
    ClientFor,
    Link,
    Named,
)
from bot.services.console.clients import clients_for
from bot.services.console.overview import (
    FROM_CONSOLE,
    FROM_FILE,
    AgreementView,
    BlockedPr,
    CommunityItem,
    Console,
    LinkView,
    Managed,
    Overview,
    Person,
    SignatureHit,
    VersionView,
)

__all__ = [
    "ADMIN_TTL_S",
    "FROM_CONSOLE",
    "FROM_FILE",
    "Administrators",
    "AgreementView",
    "BlockedPr",
    "ClientFor",
    "CommunityItem",
    "Console",
    "Link",
    "LinkView",
    "Managed",
    "Named",
    "Overview",
    "Person",
    "SignatureHit",
    "VersionView",
    "clients_for",
]
