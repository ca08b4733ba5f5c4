"""GitHub's webhook receiver: ``X-Hub-Signature-256`` over the raw body, then the event's
typed fields decoded once and routed (``routing.route``).

A redelivery carries the same ``X-GitHub-Delivery`` id as the original, so a key stored
already is a duplicate (200), never an attack: the signature covers the body.
"""

from __future__ import annotations

from collections.abc import Mapping

from bot.platforms.github import routing
from bot.platforms.payload import NotJson
from bot.platforms.webhooks import Answer, Routed, hmac_sha256_matches

SIGNATURE_HEADER = "X-Hub-Signature-256"


def verify_github_signature(secret: str, body: bytes, header: str | None) -> bool:
    """``X-Hub-Signature-256`` = ``sha256=`` + hex HMAC-SHA256 of the raw body, constant time.
    The legacy SHA-1 header is never accepted."""
    return hmac_sha256_matches(secret, body, header, prefix="sha256=")


class GitHubWebhooks:
    """The receiver of one GitHub App's deliveries (``app_id`` picks its own check runs)."""

    duplicate = Answer(200, "duplicate delivery", "duplicate")

    def __init__(self, *, secret: str, app_id: int | None) -> None:
        self._secret = secret
        self._app_id = app_id

    async def receive(
        self, headers: Mapping[str, str], content_type: str, body: bytes
    ) -> Routed | Answer:
        if not verify_github_signature(self._secret, body, headers.get(SIGNATURE_HEADER)):
            return Answer(401, f"missing or invalid {SIGNATURE_HEADER}", "bad_signature")
        event = headers.get("X-GitHub-Event", "").strip()
        delivery = headers.get("X-GitHub-Delivery", "").strip()
        if not event or len(event) > 64:
            return Answer(400, "missing X-GitHub-Event header", None)
        if not delivery or len(delivery) > 128:
            return Answer(400, "missing X-GitHub-Delivery header", None)
        if content_type != "application/json":
            return Answer(
                415, "send deliveries as application/json (the App's content type setting)", None
            )
        try:
            payload = routing.decode(event, body)
            decision = routing.route(event, payload, app_id=self._app_id)
        except NotJson as exc:
            return Answer(400, str(exc), "malformed", event)
        except routing.PayloadError as exc:
            return Answer(400, f"malformed {event} event: {exc}", "malformed", event)
        return Routed(delivery, event, payload.action, decision)
