"""Comment bodies and status descriptions, rendered from templates passed in as strings.

Templates are :class:`string.Template` texts with ``$name`` placeholders (write ``$$`` for a
dollar sign). The shell reads them (the defaults are ``templates/comments/<key>.md`` in English
and ``templates/comments/<lang>/<key>.md`` in another language, passed in as ``"<lang>/<key>"``)
and validates them once with :func:`load_templates`: in every language, every key of
:data:`TEMPLATE_KEYS` must be present, use only its allowed placeholders and all of its required
ones. Rendering uses :meth:`string.Template.substitute`, so a placeholder without a value raises
instead of leaking ``$name`` into a comment.

Languages: every renderer takes ``languages`` (a community's list, ``("en",)`` by default). A
comment is written in the first; when a second is listed, a horizontal rule and the same comment
in the second follow it (the marker once, at the top). Each part names the same people, masked
emails and links: :data:`MAX_PEOPLE` counts people, not their mentions in each language. A status
description is short: the first language's only.

Privacy: people are named by ``@login`` only; email-only contributors by a masked email
(:func:`bot.core.identity.mask_email`). The one name from commits that reaches a comment is a
co-author's, as its ``Co-authored-by:`` trailer writes it, when the forge linked the trailer to
no account (:func:`co_author_name`): the PR's commit messages show it already, and without it
nobody could tell which co-author is meant. It is reduced to plain text, never a mention. No
full email is ever rendered. Every comment starts with :data:`MARKER`.

AI agents are named by the name in the table of well-known agents (``ContributorResult.agent``),
never by a login: mentioning ``@Copilot`` would ask the Copilot agent to work on the pull
request, and the account a forge linked to an agent's address may be a stranger's.

Mentions: a login reaches a comment only when the forge gave it (see :mod:`bot.core.identity`);
an account the forge did not confirm is named by its key in inline code (`` `github:123` ``),
which no forge turns into a mention. At most :data:`MAX_PEOPLE` people are named in one comment,
across all its sections in order; the others are counted by the ``people_more`` template
(``and $count more``), so one pull request cannot make the bot notify hundreds of people.
"""

from __future__ import annotations

import re
import string
from collections.abc import Callable, Container, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType

from bot.core.coverage import ContributorResult, Coverage, Verdict
from bot.core.decision import Problem, Report
from bot.core.errors import BotError
from bot.core.identity import LOGIN, Contributor, mask_email
from bot.core.model import ForgeFacts, Role

__all__ = [
    "DEFAULT_LANGUAGES",
    "LANGUAGE",
    "MARKER",
    "MAX_PEOPLE",
    "MAX_STATUS_DESCRIPTION",
    "TEMPLATE_KEYS",
    "Links",
    "TemplateError",
    "Templates",
    "co_author_name",
    "company_name",
    "display_name",
    "emails_settings_url",
    "layered",
    "listed",
    "load_templates",
    "parts_of",
    "permission_names",
    "render_check_failed",
    "render_comment",
    "render_merge_group",
    "render_missing_permission",
    "render_no_cla",
    "render_report",
    "render_status",
]

MARKER = "<!-- cla-bot -->"
MAX_STATUS_DESCRIPTION = 140  # GitHub answers 422 above this
MAX_SHAS_PER_EMAIL = 10
MAX_PEOPLE = 50  # named in one comment or reply; the rest are counted
DEFAULT_LANGUAGES: tuple[str, ...] = ("en",)
LANGUAGE = re.compile(r"[a-z]{2,3}(?:-[A-Za-z0-9]{2,8})*")  # a BCP 47 tag: zh, pt-BR, zh-Hant
_RULE = "\n\n---\n\n"  # between the parts of a comment in two languages

# key → (required placeholders, optional placeholders)
_SPEC: dict[str, tuple[frozenset[str], frozenset[str]]] = {
    "comment_blocked": (frozenset({"sections"}), frozenset({"agreement"})),
    "comment_covered": (frozenset({"sections"}), frozenset({"agreement"})),
    "section_sign": (frozenset({"people", "sign_url"}), frozenset({"agreement"})),
    "section_resign": (frozenset({"people", "sign_url"}), frozenset({"agreement"})),
    "section_unlinked": (
        frozenset({"commits", "emails_url"}),
        frozenset({"platform_name", "sign_url", "agreement"}),
    ),
    "section_prove_email": (frozenset({"prove_url"}), frozenset({"sign_url", "agreement"})),
    "section_restricted": (frozenset({"people", "me_url"}), frozenset({"agreement"})),
    "section_bots": (frozenset({"people"}), frozenset({"agreement"})),
    "section_coauthors": (frozenset({"people"}), frozenset({"sign_url", "agreement"})),
    "section_coauthors_sign": (frozenset({"people", "sign_url"}), frozenset({"agreement"})),
    "section_coauthors_unlinked": (
        frozenset({"people", "emails_url"}),
        frozenset({"platform_name", "sign_url", "agreement"}),
    ),
    "section_corporate": (frozenset({"people"}), frozenset({"agreement"})),
    "section_agents_ignored": (frozenset({"people"}), frozenset({"agreement"})),
    "section_agents_listed": (frozenset({"people"}), frozenset({"agreement"})),
    "section_agents_blocked": (frozenset({"people"}), frozenset({"agreement"})),
    "status_covered": (frozenset(), frozenset()),
    "status_blocked_one": (frozenset(), frozenset({"count"})),
    "status_blocked_other": (frozenset({"count"}), frozenset()),
    "status_no_agreement": (frozenset(), frozenset()),
    "people_more": (frozenset({"count"}), frozenset()),
    "comment_check_failed": (frozenset(), frozenset()),
    "status_check_failed": (frozenset(), frozenset()),
    "comment_missing_permission": (frozenset({"permissions"}), frozenset()),
    "status_missing_permission": (frozenset(), frozenset({"permissions"})),
    "comment_no_cla": (frozenset({"console_url"}), frozenset()),
    "status_no_cla": (frozenset(), frozenset()),
    "status_queue_covered": (frozenset({"number"}), frozenset()),
    "status_queue_blocked": (frozenset({"number"}), frozenset()),
    "status_queue_unmatched": (frozenset(), frozenset()),
}
TEMPLATE_KEYS: tuple[str, ...] = tuple(_SPEC)


class TemplateError(BotError, ValueError):
    """A template set is incomplete or a template is malformed."""


@dataclass(frozen=True, slots=True)
class Templates:
    """A validated set of texts per language; build with :func:`load_templates`. ``texts`` are
    the English ones, ``translations`` the others by language."""

    texts: Mapping[str, str]
    translations: Mapping[str, Mapping[str, str]] = field(
        default_factory=lambda: MappingProxyType({})
    )

    @property
    def languages(self) -> tuple[str, ...]:
        """Every language this set has texts in, English first."""
        return ("en", *sorted(self.translations))

    def texts_of(self, lang: str) -> Mapping[str, str]:
        if lang == "en":
            return self.texts
        try:
            return self.translations[lang]
        except KeyError:
            raise TemplateError(f"no comment templates in language {lang!r}") from None

    def render(self, key: str, lang: str = "en", **values: str) -> str:
        return string.Template(self.texts_of(lang)[key]).substitute(values)


def load_templates(texts: Mapping[str, str]) -> Templates:
    """Validate ``texts`` (key → English template text, ``"<lang>/<key>"`` → the same text in
    another language); keys other than :data:`TEMPLATE_KEYS` are ignored. Every language with a
    text is checked by the same rules. Raises :class:`TemplateError` naming every problem found,
    with its language unless it is English."""
    english = {key: text for key, text in texts.items() if "/" not in key}
    others = by_language(texts, _SPEC)
    problems = language_problems(english, others, _problems)
    if problems:
        raise TemplateError("; ".join(problems))
    return Templates(
        MappingProxyType({key: english[key] for key in TEMPLATE_KEYS}),
        MappingProxyType(
            {
                lang: MappingProxyType({key: own[key] for key in TEMPLATE_KEYS})
                for lang, own in sorted(others.items())
            }
        ),
    )


def by_language(texts: Mapping[str, str], keys: Container[str]) -> dict[str, dict[str, str]]:
    """The texts of other languages than English (``"<lang>/<key>"``), by language."""
    others: dict[str, dict[str, str]] = {}
    for name, text in texts.items():
        lang, _, key = name.partition("/")
        if key in keys:
            others.setdefault(lang, {})[key] = text
    return others


def language_problems(
    english: Mapping[str, str],
    others: Mapping[str, Mapping[str, str]],
    problems_of: Callable[..., list[str]],
) -> list[str]:
    """What is wrong with English and every other language's texts (``problems_of(texts,
    prefix=…)``, the prefix naming the language), and folders that name no language."""
    problems = problems_of(english, prefix="")
    for lang, own in sorted(others.items()):
        if lang == "en" or not LANGUAGE.fullmatch(lang):
            problems.append(f"{lang}/: not a language folder (English texts are <key>.md)")
            continue
        problems += problems_of(own, prefix=f"{lang}/")
    return problems


def _problems(texts: Mapping[str, str], *, prefix: str) -> list[str]:
    """What is wrong with one language's texts; ``prefix`` (``"zh/"``) names the language."""
    problems: list[str] = []
    missing = [key for key in TEMPLATE_KEYS if key not in texts]
    if missing:
        head = f"{prefix.rstrip('/')}: " if prefix else ""
        problems.append(f"{head}missing templates: " + ", ".join(prefix + k for k in missing))
    for key, (required, optional) in _SPEC.items():
        if key not in texts:
            continue
        name = prefix + key
        template = string.Template(texts[key])
        if not template.is_valid():
            problems.append(f"{name}: malformed placeholder (write $$ for a dollar sign)")
            continue
        used = set(template.get_identifiers())
        if unknown := used - required - optional:
            problems.append(f"{name}: unknown placeholders " + ", ".join(sorted(unknown)))
        if absent := required - used:
            problems.append(f"{name}: missing placeholders " + ", ".join(sorted(absent)))
    return problems


def parts_of(languages: Sequence[str]) -> tuple[str, ...]:
    """The languages a comment is written in: the first of ``languages`` and, when listed, a
    second one (each once); English when none is listed."""
    return tuple(dict.fromkeys(languages))[:2] or DEFAULT_LANGUAGES


def layered(marker: str, parts: Iterable[str]) -> str:
    """A comment or reply: ``marker`` once, then each language's text, a horizontal rule
    between them."""
    return f"{marker}\n" + _RULE.join(part.strip() for part in parts) + "\n"


@dataclass(frozen=True, slots=True)
class Links:
    """Where the comment sends people. ``web_url`` is the forge's web base (``CLA_GITHUB_URL``
    or ``CLA_GITEE_URL``); ``me_url`` is the signer's self-service page."""

    sign_url: str
    web_url: str
    me_url: str
    prove_url: str = ""  # where a signer proves an address by a mailed code; "" without mail


def emails_settings_url(forge: ForgeFacts, web_url: str) -> str:
    """The forge page where a user adds an email to their account."""
    return web_url.rstrip("/") + forge.emails_path


def display_name(contributor: Contributor) -> str:
    """``@login`` for accounts whose login the forge gave, the account key in backticks for
    other accounts, a masked email in backticks for email-only contributors."""
    identity = contributor.identity
    if identity.is_account:
        if identity.login is not None and LOGIN.fullmatch(identity.login):
            return f"@{identity.login}"
        return f"`{identity.key}`"
    return f"`{mask_email(identity.email or '')}`"


def co_author_name(contributor: Contributor) -> str:
    """A co-author as a comment names them: ``@login`` (or the account key) when the forge
    linked the trailer to an account, else the trailer's name as plain text with the masked
    email (``Katherine Johnson (`ka***@example.com`)``)."""
    if contributor.identity.is_account:
        return display_name(contributor)
    name = _plain(contributor.co_author_name, keep=" .'-", limit=60)
    return f"{name} ({display_name(contributor)})" if name else display_name(contributor)


def listed(lines: Sequence[str], *, more: str, room: int = MAX_PEOPLE) -> tuple[str, int]:
    """A Markdown list of the first ``room`` of ``lines`` (one per person), then one item
    ``more`` (a ``people_more`` template, ``$count`` unfilled) counting the others; with the
    room left for the next list."""
    shown = list(lines[: max(room, 0)])
    items = [f"- {line}" for line in shown]
    if len(lines) > len(shown):
        rest = str(len(lines) - len(shown))
        items.append("- " + string.Template(more.strip()).substitute(count=rest))
    return "\n".join(items), room - len(shown)


class _People:
    """The people lists of one comment, sharing :data:`MAX_PEOPLE` in the order they are made."""

    def __init__(self, templates: Templates, lang: str = "en") -> None:
        self.more = templates.texts_of(lang)["people_more"]
        self.lang = lang
        self.room = MAX_PEOPLE

    def items(self, lines: Sequence[str]) -> str:
        text, self.room = listed(lines, more=self.more, room=self.room)
        return text

    def names(self, results: Iterable[ContributorResult]) -> str:
        return self.items([display_name(r.contributor) for r in results])

    def co_authors(self, results: Iterable[ContributorResult]) -> str:
        return self.items([co_author_name(r.contributor) for r in results])

    def commits(
        self,
        results: Iterable[ContributorResult],
        name: Callable[[Contributor], str] = display_name,
    ) -> str:
        return self.items([_with_shas(name(r.contributor), r.contributor.shas) for r in results])

    def agents(self, results: Iterable[ContributorResult]) -> str:
        """One line per AI agent, by its name (never a mention: the account the forge linked
        to an agent's address may be a stranger's), with the commits it took part in."""
        shas: dict[str, dict[str, None]] = {}
        for result in results:
            shas.setdefault(result.agent or "an AI agent", {}).update(
                dict.fromkeys(result.contributor.shas)
            )
        return self.items([_with_shas(name, tuple(s)) for name, s in shas.items()])


def _with_shas(label: str, shas: Sequence[str]) -> str:
    shown = [f"`{sha[:7]}`" for sha in shas[:MAX_SHAS_PER_EMAIL]]
    more = len(shas) - MAX_SHAS_PER_EMAIL
    tail = f", … (+{more})" if more > 0 else ""
    return f"{label}: {', '.join(shown)}{tail}"


def _pick(
    results: Sequence[ContributorResult],
    verdict: Verdict,
    *,
    bot: bool | None = None,
    co_author: bool | None = None,
) -> list[ContributorResult]:
    """Results of ``verdict``; of bots or not (``bot``); of people who are only co-authors
    (named in trailers, never authors or committers) or not (``co_author``). AI agents are
    apart: they have sections of their own."""
    return [
        r
        for r in results
        if r.verdict is verdict
        and r.agent is None
        and (bot is None or r.contributor.is_bot is bot)
        and (co_author is None or _co_author_only(r.contributor) is co_author)
    ]


def _co_author_only(contributor: Contributor) -> bool:
    return contributor.roles == frozenset({Role.CO_AUTHOR})


def render_comment(
    coverage: Coverage,
    *,
    templates: Templates,
    forge: ForgeFacts,
    links: Links,
    agreement_title: str,
    languages: Sequence[str] = DEFAULT_LANGUAGES,
) -> str:
    """The bot's comment for ``coverage``: who must act and how, or that everyone is covered;
    in the first of ``languages``, and below it in the second when one is listed."""
    return layered(
        MARKER,
        (
            _comment_text(
                coverage,
                templates=templates,
                forge=forge,
                links=links,
                agreement_title=agreement_title,
                lang=lang,
            )
            for lang in parts_of(languages)
        ),
    )


def _comment_text(
    coverage: Coverage,
    *,
    templates: Templates,
    forge: ForgeFacts,
    links: Links,
    agreement_title: str,
    lang: str,
) -> str:
    """The comment in one language, without the marker: each language names the same people
    (its own :class:`_People`, so the cap counts people once)."""
    common = {"agreement": agreement_title, "sign_url": links.sign_url}
    blocking = coverage.blocking
    named = _People(templates, lang)

    def render(key: str, **values: str) -> str:
        return templates.render(key, lang, **values)

    sections: list[str] = []
    emails = {
        "emails_url": emails_settings_url(forge, links.web_url),
        "platform_name": forge.display_name,
    }
    if people := _pick(blocking, Verdict.UNSIGNED, bot=False, co_author=False):
        sections.append(render("section_sign", people=named.names(people), **common))
    if people := _pick(blocking, Verdict.UNSIGNED, bot=False, co_author=True):
        sections.append(render("section_coauthors_sign", people=named.co_authors(people), **common))
    if people := _pick(blocking, Verdict.RESIGN):
        sections.append(render("section_resign", people=named.names(people), **common))
    if people := _pick(blocking, Verdict.UNLINKED, co_author=False):
        sections.append(
            render("section_unlinked", commits=named.commits(people), **emails, **common)
        )
    if people := _pick(blocking, Verdict.UNLINKED, co_author=True):
        sections.append(
            render(
                "section_coauthors_unlinked",
                people=named.commits(people, co_author_name),
                **emails,
                **common,
            )
        )
    if links.prove_url and _pick(blocking, Verdict.UNLINKED):
        sections.append(render("section_prove_email", prove_url=links.prove_url, **common))
    if people := _pick(blocking, Verdict.RESTRICTED):
        sections.append(
            render(
                "section_restricted",
                people=named.names(people),
                me_url=links.me_url,
                agreement=agreement_title,
            )
        )
    if people := _pick(blocking, Verdict.UNSIGNED, bot=True):
        sections.append(
            render("section_bots", people=named.names(people), agreement=agreement_title)
        )
    if agents := [r for r in blocking if r.agent is not None]:
        sections.append(
            render("section_agents_blocked", people=named.agents(agents), agreement=agreement_title)
        )
    if people := [r for r in coverage.warnings if r.agent is None]:
        sections.append(render("section_coauthors", people=named.co_authors(people), **common))
    if agents := [r for r in coverage.warnings if r.agent is not None]:
        sections.append(
            render("section_agents_listed", people=named.agents(agents), agreement=agreement_title)
        )
    if agents := [r for r in coverage.results if r.agent is not None and r.covered]:
        sections.append(
            render("section_agents_ignored", people=named.agents(agents), agreement=agreement_title)
        )
    through_company = [
        r
        for r in coverage.results
        if r.verdict is Verdict.SIGNED and r.signature is not None and r.signature.corporate
    ]
    if through_company:
        companies = named.items(
            [
                f"{display_name(r.contributor)}: {company_name(r.signature.company, lang=lang)}"
                for r in through_company
                if r.signature is not None
            ]
        )
        sections.append(render("section_corporate", people=companies, agreement=agreement_title))
    key = "comment_covered" if coverage.passes else "comment_blocked"
    return render(key, sections="\n\n".join(s.strip() for s in sections), agreement=agreement_title)


def _plain(text: str | None, *, keep: str, limit: int) -> str:
    """Letters, digits and the characters of ``keep`` only, spaces collapsed: no markup, no
    mention, no link can come through."""
    cleaned = "".join(ch for ch in (text or "") if ch.isalnum() or ch in keep)
    return " ".join(cleaned.split())[:limit].strip()


def company_name(name: str | None, *, lang: str = "en") -> str:
    """A company's name as shown in a comment or reply: plain text, no markup or mentions
    (whoever signs a corporate CLA chooses it)."""
    return _plain(name, keep=" .,&'()-", limit=100) or _word("their company", lang)


# The few words the code itself writes into a comment, in the languages it knows; another
# language an operator adds gets the English ones.
_WORDS: dict[str, dict[str, str]] = {
    "zh": {
        "their company": "其所在公司",
        " and ": " 和 ",
        "a permission it lacks": "所缺少的权限",
    },
}


def _word(english: str, lang: str) -> str:
    return _WORDS.get(lang, {}).get(english, english)


def _fit(description: str) -> str:
    description = " ".join(description.split())
    if len(description) <= MAX_STATUS_DESCRIPTION:
        return description
    return description[: MAX_STATUS_DESCRIPTION - 1].rstrip() + "…"


def render_status(
    coverage: Coverage, *, templates: Templates, languages: Sequence[str] = DEFAULT_LANGUAGES
) -> str:
    """The status description, on one line and at most 140 characters, in the first of
    ``languages`` only."""
    lang = parts_of(languages)[0]
    if coverage.passes:
        return _fit(templates.render("status_covered", lang))
    count = len(coverage.blocking)
    key = "status_blocked_one" if count == 1 else "status_blocked_other"
    return _fit(templates.render(key, lang, count=str(count)))


def render_report(
    check: Coverage | Problem,
    *,
    templates: Templates,
    forge: ForgeFacts,
    links: Links,
    agreement_title: str,
    languages: Sequence[str] = DEFAULT_LANGUAGES,
) -> Report | None:
    """The texts :func:`bot.core.decision.decide` needs; ``None`` when nothing is to be said
    (closed PR, stale head). The check run's summary is the comment's text, in the same
    languages."""
    if isinstance(check, Problem):
        if check is Problem.NO_AGREEMENT:
            lang = parts_of(languages)[0]
            return Report(_fit(templates.render("status_no_agreement", lang)))
        return None
    body = render_comment(
        check,
        templates=templates,
        forge=forge,
        links=links,
        agreement_title=agreement_title,
        languages=languages,
    )
    return Report(
        description=render_status(check, templates=templates, languages=languages),
        body=body,
        summary=_summary(body),
    )


def _summary(body: str) -> str:
    """A comment's text as a check run's summary: the same people and fixes, without the
    marker that finds the comment again."""
    return body.removeprefix(MARKER).strip() + "\n"


def render_merge_group(
    *,
    templates: Templates,
    number: int | None,
    covered: bool,
    languages: Sequence[str] = DEFAULT_LANGUAGES,
) -> Report:
    """The texts of a merge queue entry: the PR it names (``#N``) and whether everyone is
    covered, or that the entry could not be matched to a PR (``number`` is ``None``); in the
    first of ``languages`` (a status description only)."""
    lang = parts_of(languages)[0]
    if number is None:
        text = templates.render("status_queue_unmatched", lang)
    else:
        key = "status_queue_covered" if covered else "status_queue_blocked"
        text = templates.render(key, lang, number=str(number))
    return Report(description=_fit(text))


def permission_names(permissions: Sequence[tuple[str, str]], *, lang: str = "en") -> str:
    """``(("contents", "read"),)`` → ``Contents: read`` (as the forge's App settings name them);
    only plain words come through."""
    names = []
    for name, level in permissions:
        title = _plain(name.replace("_", " "), keep=" ", limit=40).capitalize()
        names.append(f"{title}: {_plain(level, keep='', limit=10)}")
    return _word(" and ", lang).join(names) or _word("a permission it lacks", lang)


def _report(
    templates: Templates,
    languages: Sequence[str],
    comment: str,
    status: str,
    values: Callable[[str], Mapping[str, str]] = lambda _lang: {},
) -> Report:
    """A report whose comment is the template ``comment`` in each language, whose status
    description is the template ``status`` in the first; ``values`` gives a language's
    values of the placeholders."""
    langs = parts_of(languages)
    body = layered(MARKER, (templates.render(comment, lang, **values(lang)) for lang in langs))
    return Report(
        description=_fit(templates.render(status, langs[0], **values(langs[0]))),
        body=body,
        summary=_summary(body),
    )


def render_missing_permission(
    *,
    templates: Templates,
    permissions: Sequence[tuple[str, str]],
    languages: Sequence[str] = DEFAULT_LANGUAGES,
) -> Report:
    """The texts of a check that cannot run because the App's installation lacks
    ``permissions`` (``(name, level)`` pairs): status and comment say which, and that an owner
    of the account must accept them."""
    return _report(
        templates,
        languages,
        "comment_missing_permission",
        "status_missing_permission",
        lambda lang: {"permissions": permission_names(permissions, lang=lang)},
    )


def render_check_failed(
    *, templates: Templates, languages: Sequence[str] = DEFAULT_LANGUAGES
) -> Report:
    """The texts of a check that could not run (its job gave up): the short status description
    and the bot's comment, which says so and that ``/cla check`` runs it again."""
    return _report(templates, languages, "comment_check_failed", "status_check_failed")


def render_no_cla(
    *, templates: Templates, console_url: str, languages: Sequence[str] = DEFAULT_LANGUAGES
) -> Report:
    """The texts of a check on a repository that no community's link covers, in a deployment
    without a default community: status ``error`` saying no CLA is configured, and the bot's
    comment pointing its maintainers to the console where they link it."""
    return _report(
        templates,
        languages,
        "comment_no_cla",
        "status_no_cla",
        lambda _lang: {"console_url": console_url},
    )
