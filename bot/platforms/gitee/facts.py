"""Gitee's name and the facts about it that the core decides with (as data)."""

from __future__ import annotations

from bot.core.model import ForgeFacts, Platform

GITEE = Platform("gitee")

FACTS = ForgeFacts(
    name=GITEE,
    display_name="Gitee",
    # ``ID+login@user.noreply.gitee.com`` (and the same without ``ID+``, parsed alike).
    noreply_domains=("user.noreply.gitee.com",),
    # The web editor commits as ``noreply@gitee.com``. No login is exempted: the web-edit
    # committer's login is not documented, and exempting a login that a person could register
    # would open a hole.
    web_committer_emails=frozenset({"noreply@gitee.com"}),
    emails_path="/profile/emails",
)
