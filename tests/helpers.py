"""Small helpers shared by tests (fixtures live in conftest.py files)."""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Sequence
from typing import Any

WEBHOOK_SECRET = "test-webhook-secret-0123456789"


def sign(body: bytes, secret: str = WEBHOOK_SECRET) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


async def sign_company(
    session: Any,
    cipher: Any,
    *,
    name: str = "Example Corp",
    domains: Sequence[str] = (),
    fields: dict[str, str] | None = None,
    managers: Sequence[str] = (),
) -> Any:
    """A corporate signature by github:9 (maria), as the signing page records it: pending."""
    from bot.services import corporate

    return await corporate.sign(
        session,
        cipher,
        platform="github",
        account_id="9",
        login="maria",
        agreement_id="corporate",
        version="1.0",
        fields={"company": name, "name": "Maria", "email": "m@example.com", **(fields or {})},
        managers=list(managers),
        domains=domains,
        request_id="seed",
    )
