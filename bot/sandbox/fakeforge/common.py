"""What both fake forges share: ids handed out in order, the HMAC-SHA256 their webhook
signatures are made of, and PKCE's S256 challenge their OAuth flows check.

Faults are in :mod:`bot.sandbox.fakeforge.faults`, the App key pair in
:mod:`bot.sandbox.fakeforge.keys`.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import itertools

__all__ = ["Ids", "hmac_sha256", "s256_challenge"]


class Ids:
    """Ids handed out in order from ``start``, as a forge numbers its objects."""

    def __init__(self, start: int) -> None:
        self._ids = itertools.count(start)

    def __call__(self) -> int:
        return next(self._ids)


def hmac_sha256(secret: str, message: bytes | str) -> bytes:
    """HMAC-SHA256 of ``message`` keyed with ``secret`` (GitHub's ``X-Hub-Signature-256`` is
    its hex digest of the body, Gitee's ``X-Gitee-Token`` its base64 of a timestamp line)."""
    data = message.encode() if isinstance(message, str) else message
    return hmac.new(secret.encode(), data, hashlib.sha256).digest()


def s256_challenge(verifier: str) -> str:
    """PKCE's ``code_challenge`` for ``verifier`` with method S256 (RFC 7636 §4.2)."""
    digest = hashlib.sha256(verifier.encode()).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()
