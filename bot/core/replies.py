"""Replies to comment commands, rendered from templates given as strings (pure).

Replies never carry personal data: they name the commenter by ``@login`` and speak of fields
and counts, never of values. A reply that lists people lists at most
:data:`bot.core.messages.MAX_PEOPLE` of them and counts the others (``people_more``), as a
comment does. Each reply carries a hidden marker tied to the comment it answers,
so a retried job finds its reply instead of posting a second one.
"""

from __future__ import annotations

import string
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from bot.core.coverage import Coverage, Verdict
from bot.core.messages import company_name, display_name, listed

REPLY_KEYS = (
    "reply_erased",
    "reply_nothing_to_erase",
    "reply_export",
    "reply_help",
    "reply_status_refused",
    "reply_status_one",
    "reply_status_pr",
    "people_more",  # shared with the comment templates
)
HELP_MARKER = "<!-- cla-bot:help -->"


def reply_marker(comment_id: int | str, command: str) -> str:
    """The hidden marker of the reply to ``command`` in comment ``comment_id``."""
    return f"<!-- cla-bot:reply:{comment_id}:{command} -->"


@dataclass(frozen=True, slots=True)
class Tombstone:
    agreement: str
    version: str
    signed_on: str  # a date, YYYY-MM-DD
    erased_on: str


def _render(texts: Mapping[str, str], key: str, **values: str) -> str:
    return string.Template(texts[key]).substitute(values).strip()


def _bullets(items: Sequence[str]) -> str:
    return "\n".join(f"- {item}" for item in items) if items else "- (none)"


def erased(
    texts: Mapping[str, str],
    *,
    marker: str,
    login: str,
    contact_fields: Sequence[str],
    emails: int,
    accounts: int,
    pr_records: int,
    kept: Sequence[Tombstone],
) -> str:
    what = [f"contact details: {', '.join(contact_fields)}" if contact_fields else ""]
    what += [
        f"{emails} email address(es) and their lookup index" if emails else "",
        f"{accounts} linked account(s)" if accounts else "",
        f"{pr_records} record(s) of pull requests you contributed to" if pr_records else "",
    ]
    kept_lines = [
        f"a record that version {k.version} of `{k.agreement}` was signed on {k.signed_on} and "
        f"erased on {k.erased_on}, with a keyed hash of your account (no contact data)"
        for k in kept
    ]
    body = _render(
        texts,
        "reply_erased",
        login=login,
        erased=_bullets([w for w in what if w]),
        kept=_bullets(kept_lines),
    )
    return f"{marker}\n{body}\n"


def nothing_to_erase(texts: Mapping[str, str], *, marker: str, login: str) -> str:
    body = _render(texts, "reply_nothing_to_erase", login=login)
    return f"{marker}\n{body}\n"


def export_link(texts: Mapping[str, str], *, marker: str, login: str, me_url: str) -> str:
    body = _render(texts, "reply_export", login=login, me_url=me_url)
    return f"{marker}\n{body}\n"


def help_text(texts: Mapping[str, str], *, marker: str, login: str, word: str | None) -> str:
    body = _render(texts, "reply_help", login=login, word=f"`/cla {word}`" if word else "`/cla`")
    return f"{HELP_MARKER}\n{marker}\n{body}\n"


@dataclass(frozen=True, slots=True)
class Standing:
    """What a maintainer may learn about one account: never contact data."""

    login: str
    covered: bool
    agreement_title: str
    version: str | None = None
    since: str | None = None  # a date, YYYY-MM-DD
    company: str | None = None  # set when a company's corporate agreement covers them
    platform_name: str = "GitHub"


def describe(standing: Standing) -> str:
    who = f"@{standing.login}"
    if not standing.covered:
        return (
            f"{who} has no signature of the {standing.agreement_title} on record "
            f"on {standing.platform_name}."
        )
    kind = (
        f"corporate, through {company_name(standing.company)}" if standing.company else "individual"
    )
    return (
        f"{who} is covered by the {standing.agreement_title}, version {standing.version} "
        f"({kind}), since {standing.since}."
    )


def status_refused(texts: Mapping[str, str], *, marker: str, login: str) -> str:
    return f"{marker}\n{_render(texts, 'reply_status_refused', login=login)}\n"


def status_one(texts: Mapping[str, str], *, marker: str, login: str, standing: Standing) -> str:
    body = _render(texts, "reply_status_one", login=login, answer=describe(standing))
    return f"{marker}\n{body}\n"


def status_pr(texts: Mapping[str, str], *, marker: str, login: str, lines: Sequence[str]) -> str:
    """``lines`` (one per person, :func:`coverage_lines`) as a list of at most
    :data:`~bot.core.messages.MAX_PEOPLE`, the others counted."""
    people = listed(lines, more=texts["people_more"])[0] if lines else _bullets(lines)
    body = _render(texts, "reply_status_pr", login=login, lines=people)
    return f"{marker}\n{body}\n"


def coverage_lines(coverage: Coverage) -> list[str]:
    """One line per contributor: who (login or masked email) and where they stand."""
    lines = []
    for r in coverage.results:
        who = display_name(r.contributor)
        sig = r.signature
        if r.verdict is Verdict.SIGNED and sig is not None:
            kind = (
                f"corporate, through {company_name(sig.company)}" if sig.company else "individual"
            )
            state = (
                f"covered: version {sig.version} ({kind}) since {sig.signed_at.date().isoformat()}"
            )
        elif r.verdict is Verdict.ALLOWLISTED:
            state = "covered: allowlisted"
        elif r.verdict is Verdict.UNLINKED:
            state = "commit email not linked to an account"
        elif r.verdict is Verdict.RESIGN:
            state = "must sign the new version"
        elif r.verdict is Verdict.RESTRICTED:
            state = "record restricted by its owner"
        else:
            state = "must sign"
        if not r.blocking and not r.covered:
            state += " (not blocking: co-author)"
        lines.append(f"{who}: {state}")
    return lines
