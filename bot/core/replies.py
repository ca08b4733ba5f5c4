"""Replies to comment commands, rendered from templates given as strings (pure).

Replies never carry personal data: they name the commenter by ``@login`` and speak of fields
and counts, never of values. A reply that lists people lists at most
:data:`bot.core.messages.MAX_PEOPLE` of them and counts the others (``people_more``), as a
comment does. Each reply carries a hidden marker tied to the comment it answers, so a retried
job finds its reply instead of posting a second one. The texts are validated once
(:func:`validate_replies`): every key present, only its placeholders, the required ones used.

An erasure asks first: :func:`erase_request` says what would be erased and kept and how to
confirm; only :func:`erased` — rendered after the erasure is committed — says it happened.
"""

from __future__ import annotations

import string
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from bot.core.coverage import Coverage, Verdict
from bot.core.errors import BotError
from bot.core.messages import company_name, display_name, listed

# key → (required placeholders, optional ones)
_SPEC: dict[str, tuple[frozenset[str], frozenset[str]]] = {
    "reply_erase_request": (frozenset({"login", "erased", "kept", "expires"}), frozenset()),
    "reply_erase_unconfirmed": (frozenset({"login"}), frozenset()),
    "reply_erase_expired": (frozenset({"login", "requested"}), frozenset()),
    "reply_erased": (frozenset({"login", "erased", "kept"}), frozenset()),
    "reply_nothing_to_erase": (frozenset({"login"}), frozenset()),
    "reply_export": (frozenset({"login", "me_url"}), frozenset()),
    "reply_help": (frozenset({"login"}), frozenset({"word"})),
    "reply_status_refused": (frozenset({"login"}), frozenset()),
    "reply_status_one": (frozenset({"login", "answer"}), frozenset()),
    "reply_status_pr": (frozenset({"login", "lines"}), frozenset()),
    "people_more": (frozenset({"count"}), frozenset()),  # shared with the comment templates
}
REPLY_KEYS = tuple(_SPEC)
HELP_MARKER = "<!-- cla-bot:help -->"


class ReplyTemplateError(BotError, ValueError):
    """The reply texts cannot be used; the message names every problem."""


def validate_replies(texts: Mapping[str, str]) -> dict[str, str]:
    """The reply texts of :data:`REPLY_KEYS`, checked; raises :class:`ReplyTemplateError`."""
    problems = []
    if missing := [k for k in REPLY_KEYS if k not in texts]:
        problems.append("missing: " + ", ".join(missing))
    for key, (required, optional) in _SPEC.items():
        if key not in texts:
            continue
        template = string.Template(texts[key])
        if not template.is_valid():
            problems.append(f"{key}: invalid placeholder syntax")
            continue
        used = set(template.get_identifiers())
        problems += [f"{key}: unknown ${name}" for name in sorted(used - required - optional)]
        problems += [f"{key}: missing ${name}" for name in sorted(required - used)]
    if problems:
        raise ReplyTemplateError("reply templates: " + "; ".join(problems))
    return {key: texts[key] for key in REPLY_KEYS}


def reply_marker(comment_id: int | str, command: str) -> str:
    """The hidden marker of the reply to ``command`` in comment ``comment_id``."""
    return f"<!-- cla-bot:reply:{comment_id}:{command} -->"


@dataclass(frozen=True, slots=True)
class Tombstone:
    agreement: str
    version: str
    signed_on: str  # a date, YYYY-MM-DD
    erased_on: str


@dataclass(frozen=True, slots=True)
class ErasureSummary:
    """What an erasure covers — or would cover: field names and counts, never a value."""

    contact_fields: tuple[str, ...] = ()
    emails: int = 0
    accounts: int = 0
    signatory_fields: tuple[str, ...] = ()  # of the corporate CLAs the person signed
    companies: int = 0  # corporate CLAs they signed: kept, without their details
    manager_roles: int = 0
    entries_added: int = 0  # company list entries they added: their account becomes a hash
    entries_naming: int = 0  # company list entries naming their login or email: removed
    pr_records: int = 0
    sessions: int = 0
    job_payloads: int = 0
    codes: int = 0  # codes they asked for or that were sent to their addresses
    invitations: int = 0  # invitations to manage a company mailed to them
    work_addresses: int = 0  # work addresses they proved for a company's employee list
    kept: tuple[Tombstone, ...] = ()

    @property
    def empty(self) -> bool:
        return not any(
            (
                self.contact_fields,
                self.emails,
                self.accounts,
                self.signatory_fields,
                self.companies,
                self.manager_roles,
                self.entries_added,
                self.entries_naming,
                self.pr_records,
                self.sessions,
                self.job_payloads,
                self.codes,
                self.invitations,
                self.work_addresses,
                self.kept,
            )
        )


def _render(texts: Mapping[str, str], key: str, **values: str) -> str:
    return string.Template(texts[key]).substitute(values).strip()


def _bullets(items: Sequence[str]) -> str:
    return "\n".join(f"- {item}" for item in items) if items else "- (none)"


def _erasure_lines(s: ErasureSummary) -> tuple[str, str]:
    """The erased and the kept items, as Markdown lists."""
    what = [
        f"contact details: {', '.join(s.contact_fields)}" if s.contact_fields else "",
        f"{s.emails} email address(es) and their lookup index" if s.emails else "",
        f"{s.accounts} linked account(s)" if s.accounts else "",
        f"the signatory details of {s.companies} corporate CLA(s): {', '.join(s.signatory_fields)}"
        if s.companies
        else "",
        f"{s.manager_roles} company manager role(s)" if s.manager_roles else "",
        f"{s.entries_naming} company list entry(ies) naming you" if s.entries_naming else "",
        f"your account on {s.entries_added} company list entry(ies) you added "
        "(replaced by a keyed hash)"
        if s.entries_added
        else "",
        f"{s.pr_records} record(s) of pull requests you contributed to" if s.pr_records else "",
        f"{s.sessions} signed-in browser session(s)" if s.sessions else "",
        f"what {s.job_payloads} queued job(s) held about you" if s.job_payloads else "",
        f"{s.codes} verification code(s) asked for or sent to your addresses" if s.codes else "",
        f"{s.invitations} invitation(s) to manage a company sent to you" if s.invitations else "",
        f"{s.work_addresses} work address(es) you proved for a company" if s.work_addresses else "",
    ]
    kept = [
        f"a record that version {k.version} of `{k.agreement}` was signed on {k.signed_on} and "
        f"erased on {k.erased_on}, with a keyed hash of your account (no contact data)"
        for k in s.kept
    ]
    if s.companies:
        kept.append(
            f"{s.companies} corporate CLA(s) you signed, without your details: the company, "
            "its agreement version, signing date and approval, with a keyed hash of your "
            "account; it keeps covering the people its list names"
        )
    return _bullets([w for w in what if w]), _bullets(kept)


def erase_request(
    texts: Mapping[str, str], *, marker: str, login: str, summary: ErasureSummary, expires: str
) -> str:
    """The answer to ``/cla delete-my-data``: what would go, what would stay, how to confirm
    (``expires``: when the request lapses, e.g. ``2025-03-05 10:00 UTC``)."""
    erased_items, kept_items = _erasure_lines(summary)
    body = _render(
        texts,
        "reply_erase_request",
        login=login,
        erased=erased_items,
        kept=kept_items,
        expires=expires,
    )
    return f"{marker}\n{body}\n"


def erase_unconfirmed(texts: Mapping[str, str], *, marker: str, login: str) -> str:
    """A confirmation with no request of the commenter's to confirm: nothing changes."""
    return f"{marker}\n{_render(texts, 'reply_erase_unconfirmed', login=login)}\n"


def erase_expired(texts: Mapping[str, str], *, marker: str, login: str, requested: str) -> str:
    """A confirmation after the request lapsed: nothing changes."""
    body = _render(texts, "reply_erase_expired", login=login, requested=requested)
    return f"{marker}\n{body}\n"


def erased(texts: Mapping[str, str], *, marker: str, login: str, summary: ErasureSummary) -> str:
    """Rendered only once the erasure is committed."""
    erased_items, kept_items = _erasure_lines(summary)
    body = _render(texts, "reply_erased", login=login, erased=erased_items, kept=kept_items)
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
    platform_name: str = ""  # the forge's display name, from its adapter


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
        who = r.agent or display_name(r.contributor)  # an AI agent by name, never mentioned
        sig = r.signature
        if r.agent is not None and r.verdict is Verdict.ALLOWLISTED:
            state = "covered: an AI agent, needs no signature"
        elif r.agent is not None and not r.covered:
            state = "AI agent, not covered"
        elif r.verdict is Verdict.SIGNED and sig is not None:
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
            state += " (not blocking)" if r.agent else " (not blocking: co-author)"
        lines.append(f"{who}: {state}")
    return lines
