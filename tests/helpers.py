"""Small helpers shared by tests (fixtures live in conftest.py files)."""

from __future__ import annotations

import hashlib
import hmac

WEBHOOK_SECRET = "test-webhook-secret-0123456789"


def sign(body: bytes, secret: str = WEBHOOK_SECRET) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
