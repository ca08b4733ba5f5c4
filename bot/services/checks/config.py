"""What a check is configured with: the comment templates, the allowlist and the report
configuration read from the policy, and how the service reaches a forge (:data:`ClientFactory`)."""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

from bot.communities import Communities
from bot.core import decision, messages
from bot.core.communities import DEFAULT_COMMUNITY
from bot.core.coverage import Allowlist
from bot.core.identity import BotKind
from bot.core.model import AiAgentPolicy, RepoRef
from bot.platforms.base import ForgeClient
from bot.platforms.bots import known_bots
from bot.settings import Policy, bundled

log = logging.getLogger("bot.checks")

ClientFactory = Callable[[int | None], ForgeClient]
"""A forge's client for one installation (``None`` where the forge has none)."""


@dataclass(frozen=True, slots=True)
class Scopes:
    """Which community checks a repository, and with which policy: ``resolve`` names the
    community of a repository (its link, else the deployment's default), ``None`` when no
    community covers it and the deployment has no default ("no CLA configured")."""

    policies: Mapping[str, Policy]
    resolve: Callable[[RepoRef], str | None]

    @classmethod
    def of(cls, communities: Communities) -> Scopes:
        """The communities of app.yaml, resolved by their links and the default."""
        table = communities.table()
        return cls(
            {c.id: c.policy for c in communities.communities},
            lambda repo: table.resolve(repo.platform, repo.full_name),
        )

    @classmethod
    def single(cls, policy: Policy) -> Scopes:
        """One community, :data:`DEFAULT_COMMUNITY`, for every repository."""
        return cls({DEFAULT_COMMUNITY: policy}, lambda _repo: DEFAULT_COMMUNITY)


def load_comment_templates(templates_dir: Path) -> messages.Templates:
    """The comment texts of ``templates_dir``; a text this version added that an operator's
    own directory lacks comes from the shipped templates (with a line in the log)."""
    texts = _comment_texts(templates_dir)
    shipped = bundled("templates")
    if shipped.resolve() != templates_dir.resolve():
        missing = [k for k in messages.TEMPLATE_KEYS if k not in texts]
        defaults = _comment_texts(shipped)
        for key in missing:
            if key in defaults:
                texts[key] = defaults[key]
                log.info(
                    "comment template %s is not in %s: the shipped one is used", key, templates_dir
                )
    return messages.load_templates(texts)


def _comment_texts(templates_dir: Path) -> dict[str, str]:
    return {
        p.stem: p.read_text(encoding="utf-8") for p in (templates_dir / "comments").glob("*.md")
    }


def build_allowlist(policy: Policy) -> Allowlist:
    """The policy's allowlist with the built-in table of bots and AI agents: its bots only
    while ``default_bots`` is true, its AI agents always (``ai_agents`` decides about them)."""
    known = tuple(
        k for k in known_bots() if k.kind is BotKind.AI_AGENT or policy.allowlist.default_bots
    )
    return Allowlist(
        logins=tuple(policy.allowlist.logins),
        account_keys=frozenset(policy.allowlist.account_ids),
        email_domains=tuple(policy.allowlist.email_domains),
        known=known,
        ai_agents=AiAgentPolicy(policy.ai_agents),
    )


def report_config(policy: Policy) -> decision.ReportConfig:
    return decision.ReportConfig(
        context=policy.report.status_context,
        label_yes=policy.report.label_covered,
        label_no=policy.report.label_missing,
        comment_when_covered=decision.CommentPolicy.ALWAYS
        if policy.report.comment_when_covered == "always"
        else decision.CommentPolicy.EDIT_ONLY,
        write_status=policy.report.statuses,
        write_check_run=policy.report.check_runs,
        check_failure_conclusion=decision.CheckConclusion(policy.report.check_failure_conclusion),
    )
