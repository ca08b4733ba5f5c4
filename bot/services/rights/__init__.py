"""Contributors' rights over their data: access and copy (export), correction and restriction
(:mod:`.access`), and erasure (:mod:`.erasure`). Every operation is written to the audit trail
without the values it touched."""

from __future__ import annotations

from bot.services.rights.access import (
    CONTACT_FIELDS,
    EXPORT_FORMAT,
    Actor,
    correct,
    export,
    restrict,
)
from bot.services.rights.erasure import (
    REQUEST_TTL,
    Confirmation,
    Erasure,
    Person,
    confirmation,
    erase,
    request_erasure,
    survey,
    without_person,
)

__all__ = [
    "CONTACT_FIELDS",
    "EXPORT_FORMAT",
    "REQUEST_TTL",
    "Actor",
    "Confirmation",
    "Erasure",
    "Person",
    "confirmation",
    "correct",
    "erase",
    "export",
    "request_erasure",
    "restrict",
    "survey",
    "without_person",
]
