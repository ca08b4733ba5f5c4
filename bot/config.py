"""The parsing helpers every part of the settings shares: :mod:`bot.settings` and each forge's
``settings_from_env`` (``bot/platforms/<forge>/settings.py``) read their variables with these, so
that a bad value stops start-up with the same one line (:class:`bot.errors.SettingsError`).

It sits on the floor below ``platforms`` because :mod:`bot.settings` sits above it (it asks the
registry for every forge's settings): the adapters cannot import :mod:`bot.settings` itself.
"""

from __future__ import annotations

from collections.abc import Mapping
from urllib.parse import urlsplit

from bot.errors import SettingsError

MIN_WEBHOOK_SECRET_BYTES = 16


def url_setting(env: Mapping[str, str], name: str, default: str) -> str:
    """``env[name]`` (or ``default``) as an absolute http(s) URL without a trailing slash."""
    value = env.get(name, "").strip() or default
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise SettingsError(name, "must be an absolute http(s) URL")
    return value.rstrip("/")


def webhook_secret_setting(env: Mapping[str, str], name: str) -> str:
    """``env[name]``, a configured forge's webhook secret: never missing or short."""
    value = env.get(name, "")
    if len(value.encode()) < MIN_WEBHOOK_SECRET_BYTES:
        raise SettingsError(
            name,
            f"is missing or shorter than {MIN_WEBHOOK_SECRET_BYTES} bytes; "
            "a configured platform needs a webhook secret",
        )
    return value


def forge_secrets_setting(
    env: Mapping[str, str], prefix: str
) -> tuple[str, str | None, str | None]:
    """A configured forge's webhook secret (``{prefix}_WEBHOOK_SECRET``, never missing or short)
    and its OAuth client id and secret (``{prefix}_CLIENT_ID``, ``{prefix}_CLIENT_SECRET``: both
    set, or neither)."""
    secret = webhook_secret_setting(env, f"{prefix}_WEBHOOK_SECRET")
    id_name, secret_name = f"{prefix}_CLIENT_ID", f"{prefix}_CLIENT_SECRET"
    client_id = env.get(id_name) or None
    client_secret = env.get(secret_name) or None
    if bool(client_id) != bool(client_secret):
        missing = secret_name if client_id else id_name
        raise SettingsError(missing, "OAuth needs both the client id and the client secret")
    return secret, client_id, client_secret


def is_loopback_url(url: str) -> bool:
    """Whether ``url`` names this machine only (127.0.0.0/8, ::1, localhost): links to it work
    for nobody else, and no forge can deliver a webhook there."""
    host = (urlsplit(url).hostname or "").lower()
    return host in ("localhost", "::1") or host.startswith("127.") or host.endswith(".localhost")
