"""GitHub's name and the facts about it that the core decides with (as data)."""

from __future__ import annotations

from bot.core.model import ForgeFacts, Platform

GITHUB = Platform("github")

FACTS = ForgeFacts(
    name=GITHUB,
    display_name="GitHub",
    # ``ID+login@users.noreply.github.com`` (accounts since 2017-07-18) and the legacy
    # ``login@users.noreply.github.com``.
    noreply_domains=("users.noreply.github.com",),
    # Commits made in the web editor are committed by ``web-flow <noreply@github.com>``.
    web_committer_emails=frozenset({"noreply@github.com"}),
    web_committer_logins=frozenset({"web-flow"}),
    emails_path="/settings/emails",
)
