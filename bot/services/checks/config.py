"""What a check is configured with: the comment templates, the allowlist and the report
configuration read from the policy, and how the service reaches a forge (:data:`ClientFactory`)."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from bot.communities import Communities
from bot.core import decision, messages
from bot.core.communities import DEFAULT_COMMUNITY
from bot.core.coverage import Allowlist
from bot.core.identity import BotKind
from bot.core.model import AiAgentPolicy, RepoRef
from bot.platforms.base import ForgeClient
from bot.platforms.bots import known_bots
from bot.services.checks.links import StoredLinks
from bot.settings import Policy, bundled

log = logging.getLogger("bot.checks")

ClientFactory = Callable[[int | None], ForgeClient]
"""A forge's client for one installation (``None`` where the forge has none)."""


async def _up_to_date(*, force: bool = False) -> None:
    return None


@dataclass(frozen=True, slots=True)
class Scopes:
    """Which community checks a repository, and with which policy: ``resolve`` names the
    community of a repository (its link, else the deployment's default), ``None`` when no
    community covers it and the deployment has no default ("no CLA configured")."""

    policies: Mapping[str, Policy]
    resolve: Callable[[RepoRef], str | None]
    # Bring ``resolve`` up to date before a check (the links in the database may have changed).
    refresh: Callable[..., Awaitable[None]] = field(default=_up_to_date)  # (force=False)

    @classmethod
    def of(cls, communities: Communities) -> Scopes:
        """The communities of app.yaml, resolved by their links and the default."""
        table = communities.table()
        return cls(
            {c.id: c.policy for c in communities.communities},
            lambda repo: table.resolve(repo.platform, repo.full_name),
        )

    @classmethod
    def stored(cls, communities: Communities, links: StoredLinks) -> Scopes:
        """The communities of app.yaml, resolved by the links in the database (the file's and
        the console's), read again every little while."""
        return cls({c.id: c.policy for c in communities.communities}, links.resolve, links.refresh)

    @classmethod
    def single(cls, policy: Policy) -> Scopes:
        """One community, :data:`DEFAULT_COMMUNITY`, for every repository."""
        return cls({DEFAULT_COMMUNITY: policy}, lambda _repo: DEFAULT_COMMUNITY)


def load_comment_templates(templates_dir: Path) -> messages.Templates:
    """The comment texts of ``templates_dir``: English in ``comments/<key>.md``, another
    language in ``comments/<lang>/<key>.md``. A text this version added that an operator's own
    directory lacks, in English or in a language the shipped templates have, comes from the
    shipped templates (with a line in the log)."""
    return messages.load_templates(
        texts_with_shipped(templates_dir, messages.TEMPLATE_KEYS, kind="comment")
    )


def texts_with_shipped(templates_dir: Path, keys: Iterable[str], *, kind: str) -> dict[str, str]:
    """The texts of ``keys`` in ``templates_dir`` (:func:`comment_texts`), with the shipped
    one of each key and language that it lacks; a line in the log says which, once for a
    language the directory has no text in."""
    wanted = frozenset(keys)
    texts = {n: t for n, t in comment_texts(templates_dir).items() if _key(n) in wanted}
    shipped = bundled("templates")
    if shipped.resolve() == templates_dir.resolve():
        return texts
    defaults = {n: t for n, t in comment_texts(shipped).items() if _key(n) in wanted}
    own_languages = {name.partition("/")[0] for name in texts if "/" in name}
    for name, text in defaults.items():
        if name in texts:
            continue
        texts[name] = text
        lang = name.rpartition("/")[0]
        if lang and lang not in own_languages:
            continue  # a whole language from the shipped templates: said once, below
        log.info("%s template %s is not in %s: the shipped one is used", kind, name, templates_dir)
    for lang in sorted({n.partition("/")[0] for n in defaults if "/" in n} - own_languages):
        log.info(
            "%s templates in %s are not in %s: the shipped ones are used",
            kind,
            lang,
            templates_dir,
        )
    return texts


def _key(name: str) -> str:
    return name.rpartition("/")[2]


def languages_of(policy: Policy) -> tuple[str, ...]:
    """The languages a community's PR texts are written in (its policy's)."""
    return tuple(policy.languages) or messages.DEFAULT_LANGUAGES


def comment_texts(templates_dir: Path) -> dict[str, str]:
    """Every text of ``templates_dir/comments``: ``<key>`` for ``<key>.md``, ``<lang>/<key>``
    for ``<lang>/<key>.md``."""
    folder = templates_dir / "comments"
    return {
        p.relative_to(folder).with_suffix("").as_posix(): p.read_text(encoding="utf-8")
        for pattern in ("*.md", "*/*.md")
        for p in folder.glob(pattern)
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
