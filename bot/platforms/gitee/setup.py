"""Gitee's part of ``/setup``: Gitee has no Apps, so there is nothing to register from the
browser; ``GET /setup/gitee`` explains the bot account, its token, the repository webhook and
the OAuth application. It answers 404 once Gitee is configured: an anonymous page never calls
Gitee, so it cannot be used to spend the bot's rate limit or probe its token. The token is
checked once at start-up instead (:func:`bot.platforms.gitee.forge.report_gitee_token`).
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from typing import Any

from bot.config import MIN_WEBHOOK_SECRET_BYTES
from bot.platforms.base import ForgeSettings, ForgeSetup, SetupContext, SetupPage


def section_values(
    ctx: SetupContext, _form: Mapping[str, str] | None, _errors: Mapping[str, str]
) -> dict[str, Any]:
    return {"gitee_connected": ctx.forge.settings is not None}


def page(ctx: SetupContext) -> SetupPage:
    values = {
        "public_url": ctx.public_url,
        "gitee_url": ctx.forge.web_url,
        "api_url": ctx.forge.api_url,
        "index_open": ctx.index_open,
        "example_secret": secrets.token_urlsafe(24),
        "min_secret": MIN_WEBHOOK_SECRET_BYTES,
    }
    return SetupPage("setup_gitee.html", values)


def disabled(_conf: ForgeSettings) -> SetupPage:
    return SetupPage(None, status=404, message="setup_gitee_disabled")


SETUP = ForgeSetup(
    section="setup_gitee_section.html",
    section_values=section_values,
    disabled=disabled,
    page=page,
)
