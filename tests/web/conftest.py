from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from tests.helpers import WEBHOOK_SECRET, sign


@pytest.fixture(scope="session")
def app_private_key_pem() -> str:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()


@pytest.fixture
def github_env(app_private_key_pem: str, tmp_path: Path) -> dict[str, str]:
    pem = tmp_path / "app.pem"
    pem.write_text(app_private_key_pem)
    return {
        "CLA_GITHUB_APP_ID": "12345",
        "CLA_GITHUB_PRIVATE_KEY_PATH": str(pem),
        "CLA_GITHUB_WEBHOOK_SECRET": WEBHOOK_SECRET,
    }


@pytest.fixture
def delivery() -> Callable[..., tuple[bytes, dict[str, str]]]:
    """Build a signed GitHub delivery: (body, headers)."""

    def build(
        event: str, payload: dict[str, Any] | bytes, *, delivery_id: str | None = None
    ) -> tuple[bytes, dict[str, str]]:
        body = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
        headers = {
            "X-GitHub-Event": event,
            "X-GitHub-Delivery": delivery_id or str(uuid.uuid4()),
            "X-Hub-Signature-256": sign(body),
            "Content-Type": "application/json",
            "User-Agent": "GitHub-Hookshot/test",
        }
        return body, headers

    return build
