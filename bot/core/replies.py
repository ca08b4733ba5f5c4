"""Replies to comment commands, rendered from templates given as strings (pure).

Replies never carry personal data: they name the commenter by ``@login`` and speak of fields
and counts, never of values. A reply that lists people lists at most
:data:`bot.core.messages.MAX_PEOPLE` of them and counts the others (``people_more``), as a
comment does. Each reply carries a hidden marker tied to the comment it answers, so a retried
job finds its reply instead of posting a second one. The texts are validated once
(:func:`validate_replies`): every key present, only its placeholders, the required ones used.

Languages: English texts are given as ``<key>``, another language's as ``<lang>/<key>``, each
language checked by the same rules. Every reply takes ``languages`` (``("en",)`` by default): it
is written in the first, and when a second is listed, a horizontal rule and the same reply in the
second follow (the marker once, at the top), as a comment is
(:func:`bot.core.messages.layered`). The few words this module writes itself (what an erasure
covers, where someone stands) are in :data:`_PHRASES`; a language it lacks gets English ones.

An erasure asks first: :func:`erase_request` says what would be erased and kept and how to
confirm; only :func:`erased` — rendered after the erasure is committed — says it happened.
"""

from __future__ import annotations

import string
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from bot.core.coverage import Coverage, Verdict
from bot.core.errors import BotError
from bot.core.messages import (
    DEFAULT_LANGUAGES,
    by_language,
    company_name,
    display_name,
    language_problems,
    layered,
    listed,
    parts_of,
)

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
    """The reply texts of :data:`REPLY_KEYS` (``<key>`` in English, ``<lang>/<key>`` in another
    language), checked; raises :class:`ReplyTemplateError` naming every problem, with its
    language unless it is English."""
    others = by_language(texts, _SPEC)
    problems = language_problems(texts, others, _problems)
    if problems:
        raise ReplyTemplateError("reply templates: " + "; ".join(problems))
    valid = {key: texts[key] for key in REPLY_KEYS}
    for lang, own in sorted(others.items()):
        valid.update({f"{lang}/{key}": own[key] for key in REPLY_KEYS})
    return valid


def _problems(texts: Mapping[str, str], *, prefix: str) -> list[str]:
    """What is wrong with one language's texts; ``prefix`` (``"zh/"``) names the language."""
    problems = []
    if missing := [k for k in REPLY_KEYS if k not in texts]:
        head = f"{prefix.rstrip('/')}: " if prefix else ""
        problems.append(f"{head}missing: " + ", ".join(prefix + k for k in missing))
    for key, (required, optional) in _SPEC.items():
        if key not in texts:
            continue
        name = prefix + key
        template = string.Template(texts[key])
        if not template.is_valid():
            problems.append(f"{name}: invalid placeholder syntax")
            continue
        used = set(template.get_identifiers())
        problems += [f"{name}: unknown ${n}" for n in sorted(used - required - optional)]
        problems += [f"{name}: missing ${n}" for n in sorted(required - used)]
    return problems


def reply_languages(texts: Mapping[str, str]) -> tuple[str, ...]:
    """The languages ``texts`` have replies in, English first."""
    return ("en", *sorted({n.partition("/")[0] for n in texts if n.endswith("/reply_help")}))


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


def _texts_of(texts: Mapping[str, str], lang: str) -> Mapping[str, str]:
    """One language's texts, by key."""
    if lang == "en":
        return texts
    prefix = f"{lang}/"
    own = {
        name.removeprefix(prefix): text for name, text in texts.items() if name.startswith(prefix)
    }
    if not own:
        raise ReplyTemplateError(f"no reply templates in language {lang!r}")
    return own


def _render(texts: Mapping[str, str], key: str, **values: str) -> str:
    return string.Template(texts[key]).substitute(values).strip()


def _reply(
    texts: Mapping[str, str],
    languages: Sequence[str],
    marker: str,
    key: str,
    values: Callable[[str], Mapping[str, str]],
) -> str:
    """The reply ``key``: ``marker``, then its text in each language (``values`` gives that
    language's values of its placeholders)."""
    return layered(
        marker,
        (_render(_texts_of(texts, lang), key, **values(lang)) for lang in parts_of(languages)),
    )


# The words this module writes itself, by language; English is the key. ``{n}`` and the other
# fields are filled with str.format.
_PHRASES: dict[str, dict[str, str]] = {
    "zh": {
        "- (none)": "- （无）",
        "contact details: {fields}": "联系信息：{fields}",
        "{n} email address(es) and their lookup index": "{n} 个邮箱地址及其查询索引",
        "{n} linked account(s)": "{n} 个关联账号",
        "the signatory details of {n} corporate CLA(s): {fields}": (
            "{n} 份企业 CLA 中的签署人信息：{fields}"
        ),
        "{n} company manager role(s)": "{n} 个公司管理员角色",
        "{n} company list entry(ies) naming you": "公司名单中列出您的 {n} 个条目",
        "your account on {n} company list entry(ies) you added (replaced by a keyed hash)": (
            "您添加的 {n} 个公司名单条目上的账号（替换为带密钥的哈希值）"
        ),
        "{n} record(s) of pull requests you contributed to": (
            "{n} 条您参与贡献的 Pull Request 记录"
        ),
        "{n} signed-in browser session(s)": "{n} 个已登录的浏览器会话",
        "what {n} queued job(s) held about you": "{n} 个排队任务中保存的关于您的信息",
        "{n} verification code(s) asked for or sent to your addresses": (
            "{n} 个您申请的或发送到您邮箱的验证码"
        ),
        "{n} invitation(s) to manage a company sent to you": "{n} 份发给您的公司管理邀请",
        "{n} work address(es) you proved for a company": "{n} 个您为公司验证过的工作邮箱",
        "a record that version {version} of `{agreement}` was signed on {signed_on} and "
        "erased on {erased_on}, with a keyed hash of your account (no contact data)": (
            "一条记录：`{agreement}` 的 {version} 版于 {signed_on} 签署、于 {erased_on} 删除，"
            "附带您账号的带密钥哈希值（不含联系信息）"
        ),
        "{n} corporate CLA(s) you signed, without your details: the company, its agreement "
        "version, signing date and approval, with a keyed hash of your account; it keeps "
        "covering the people its list names": (
            "您签署的 {n} 份企业 CLA（不含您的个人信息）：公司、协议版本、签署日期和审批状态，"
            "以及您账号的带密钥哈希值；它们继续覆盖名单中列出的人员"
        ),
        "{who} has no signature of the {title} on record on {platform}.": (
            "{who} 在 {platform} 上没有 {title} 的签署记录。"
        ),
        "{who} is covered by the {title}, version {version} ({kind}), since {since}.": (
            "{who} 自 {since} 起受 {title} 覆盖（{version} 版，{kind}）。"
        ),
        "corporate, through {company}": "企业签署，通过 {company}",
        "individual": "个人签署",
        "covered: an AI agent, needs no signature": "已覆盖：AI 智能体，无需签署",
        "AI agent, not covered": "AI 智能体，未覆盖",
        "covered: version {version} ({kind}) since {since}": (
            "已覆盖：{version} 版（{kind}），自 {since} 起"
        ),
        "covered: allowlisted": "已覆盖：在白名单中",
        "commit email not linked to an account": "提交邮箱未关联任何账号",
        "must sign the new version": "须签署新版本",
        "record restricted by its owner": "记录已被其所有者限制",
        "must sign": "须签署",
        " (not blocking)": "（不阻塞）",
        " (not blocking: co-author)": "（不阻塞：合著者）",
        "{who}: {state}": "{who}：{state}",
        "no CLA is configured for this repository": "本仓库未配置 CLA",
    },
}


def _say(lang: str, english: str, **fields: object) -> str:
    """``english`` (a :data:`_PHRASES` key) in ``lang``, its fields filled."""
    return _PHRASES.get(lang, {}).get(english, english).format(**fields)


def _bullets(items: Sequence[str], lang: str = "en") -> str:
    return "\n".join(f"- {item}" for item in items) if items else _say(lang, "- (none)")


def _erasure_lines(s: ErasureSummary, lang: str = "en") -> tuple[str, str]:
    """The erased and the kept items, as Markdown lists."""

    def say(english: str, count: int = 0, **fields: object) -> str:
        return _say(lang, english, n=count, **fields)

    what = [
        say("contact details: {fields}", fields=", ".join(s.contact_fields))
        if s.contact_fields
        else "",
        say("{n} email address(es) and their lookup index", s.emails) if s.emails else "",
        say("{n} linked account(s)", s.accounts) if s.accounts else "",
        say(
            "the signatory details of {n} corporate CLA(s): {fields}",
            s.companies,
            fields=", ".join(s.signatory_fields),
        )
        if s.companies
        else "",
        say("{n} company manager role(s)", s.manager_roles) if s.manager_roles else "",
        say("{n} company list entry(ies) naming you", s.entries_naming) if s.entries_naming else "",
        say(
            "your account on {n} company list entry(ies) you added (replaced by a keyed hash)",
            s.entries_added,
        )
        if s.entries_added
        else "",
        say("{n} record(s) of pull requests you contributed to", s.pr_records)
        if s.pr_records
        else "",
        say("{n} signed-in browser session(s)", s.sessions) if s.sessions else "",
        say("what {n} queued job(s) held about you", s.job_payloads) if s.job_payloads else "",
        say("{n} verification code(s) asked for or sent to your addresses", s.codes)
        if s.codes
        else "",
        say("{n} invitation(s) to manage a company sent to you", s.invitations)
        if s.invitations
        else "",
        say("{n} work address(es) you proved for a company", s.work_addresses)
        if s.work_addresses
        else "",
    ]
    kept = [
        say(
            "a record that version {version} of `{agreement}` was signed on {signed_on} and "
            "erased on {erased_on}, with a keyed hash of your account (no contact data)",
            version=k.version,
            agreement=k.agreement,
            signed_on=k.signed_on,
            erased_on=k.erased_on,
        )
        for k in s.kept
    ]
    if s.companies:
        kept.append(
            say(
                "{n} corporate CLA(s) you signed, without your details: the company, its "
                "agreement version, signing date and approval, with a keyed hash of your "
                "account; it keeps covering the people its list names",
                s.companies,
            )
        )
    return _bullets([w for w in what if w], lang), _bullets(kept, lang)


def erase_request(
    texts: Mapping[str, str],
    *,
    marker: str,
    login: str,
    summary: ErasureSummary,
    expires: str,
    languages: Sequence[str] = DEFAULT_LANGUAGES,
) -> str:
    """The answer to ``/cla delete-my-data``: what would go, what would stay, how to confirm
    (``expires``: when the request lapses, e.g. ``2025-03-05 10:00 UTC``)."""

    def values(lang: str) -> dict[str, str]:
        erased_items, kept_items = _erasure_lines(summary, lang)
        return {"login": login, "erased": erased_items, "kept": kept_items, "expires": expires}

    return _reply(texts, languages, marker, "reply_erase_request", values)


def erase_unconfirmed(
    texts: Mapping[str, str],
    *,
    marker: str,
    login: str,
    languages: Sequence[str] = DEFAULT_LANGUAGES,
) -> str:
    """A confirmation with no request of the commenter's to confirm: nothing changes."""
    return _reply(texts, languages, marker, "reply_erase_unconfirmed", lambda _: {"login": login})


def erase_expired(
    texts: Mapping[str, str],
    *,
    marker: str,
    login: str,
    requested: str,
    languages: Sequence[str] = DEFAULT_LANGUAGES,
) -> str:
    """A confirmation after the request lapsed: nothing changes."""
    values = {"login": login, "requested": requested}
    return _reply(texts, languages, marker, "reply_erase_expired", lambda _: values)


def erased(
    texts: Mapping[str, str],
    *,
    marker: str,
    login: str,
    summary: ErasureSummary,
    languages: Sequence[str] = DEFAULT_LANGUAGES,
) -> str:
    """Rendered only once the erasure is committed."""

    def values(lang: str) -> dict[str, str]:
        erased_items, kept_items = _erasure_lines(summary, lang)
        return {"login": login, "erased": erased_items, "kept": kept_items}

    return _reply(texts, languages, marker, "reply_erased", values)


def nothing_to_erase(
    texts: Mapping[str, str],
    *,
    marker: str,
    login: str,
    languages: Sequence[str] = DEFAULT_LANGUAGES,
) -> str:
    return _reply(texts, languages, marker, "reply_nothing_to_erase", lambda _: {"login": login})


def export_link(
    texts: Mapping[str, str],
    *,
    marker: str,
    login: str,
    me_url: str,
    languages: Sequence[str] = DEFAULT_LANGUAGES,
) -> str:
    values = {"login": login, "me_url": me_url}
    return _reply(texts, languages, marker, "reply_export", lambda _: values)


def help_text(
    texts: Mapping[str, str],
    *,
    marker: str,
    login: str,
    word: str | None,
    languages: Sequence[str] = DEFAULT_LANGUAGES,
) -> str:
    values = {"login": login, "word": f"`/cla {word}`" if word else "`/cla`"}
    return f"{HELP_MARKER}\n" + _reply(texts, languages, marker, "reply_help", lambda _: values)


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


def describe(standing: Standing, lang: str = "en") -> str:
    who = f"@{standing.login}"
    if not standing.covered:
        return _say(
            lang,
            "{who} has no signature of the {title} on record on {platform}.",
            who=who,
            title=standing.agreement_title,
            platform=standing.platform_name,
        )
    kind = (
        _say(
            lang, "corporate, through {company}", company=company_name(standing.company, lang=lang)
        )
        if standing.company
        else _say(lang, "individual")
    )
    return _say(
        lang,
        "{who} is covered by the {title}, version {version} ({kind}), since {since}.",
        who=who,
        title=standing.agreement_title,
        version=standing.version,
        kind=kind,
        since=standing.since,
    )


def status_refused(
    texts: Mapping[str, str],
    *,
    marker: str,
    login: str,
    languages: Sequence[str] = DEFAULT_LANGUAGES,
) -> str:
    return _reply(texts, languages, marker, "reply_status_refused", lambda _: {"login": login})


def status_one(
    texts: Mapping[str, str],
    *,
    marker: str,
    login: str,
    standing: Standing,
    languages: Sequence[str] = DEFAULT_LANGUAGES,
) -> str:
    return _reply(
        texts,
        languages,
        marker,
        "reply_status_one",
        lambda lang: {"login": login, "answer": describe(standing, lang)},
    )


Lines = Sequence[str] | Callable[[str], Sequence[str]]
"""The lines of a ``/cla status`` reply: the same in every language, or a language's lines
(``functools.partial(coverage_lines, coverage)``, :func:`no_cla_lines`)."""


def status_pr(
    texts: Mapping[str, str],
    *,
    marker: str,
    login: str,
    lines: Lines,
    languages: Sequence[str] = DEFAULT_LANGUAGES,
) -> str:
    """``lines`` (one per person, :func:`coverage_lines`) as a list of at most
    :data:`~bot.core.messages.MAX_PEOPLE`, the others counted (in each language: the cap
    counts people, not their lines in each part)."""

    def values(lang: str) -> dict[str, str]:
        own = lines(lang) if callable(lines) else lines
        more = _texts_of(texts, lang)["people_more"]
        people = listed(own, more=more)[0] if own else _bullets(own, lang)
        return {"login": login, "lines": people}

    return _reply(texts, languages, marker, "reply_status_pr", values)


def no_cla_lines(lang: str = "en") -> list[str]:
    """The one line of a ``/cla status`` reply where no CLA is configured."""
    return [_say(lang, "no CLA is configured for this repository")]


def coverage_lines(coverage: Coverage, lang: str = "en") -> list[str]:
    """One line per contributor: who (login or masked email) and where they stand."""
    lines = []
    for r in coverage.results:
        who = r.agent or display_name(r.contributor)  # an AI agent by name, never mentioned
        sig = r.signature
        if r.agent is not None and r.verdict is Verdict.ALLOWLISTED:
            state = _say(lang, "covered: an AI agent, needs no signature")
        elif r.agent is not None and not r.covered:
            state = _say(lang, "AI agent, not covered")
        elif r.verdict is Verdict.SIGNED and sig is not None:
            kind = (
                _say(
                    lang,
                    "corporate, through {company}",
                    company=company_name(sig.company, lang=lang),
                )
                if sig.company
                else _say(lang, "individual")
            )
            state = _say(
                lang,
                "covered: version {version} ({kind}) since {since}",
                version=sig.version,
                kind=kind,
                since=sig.signed_at.date().isoformat(),
            )
        elif r.verdict is Verdict.ALLOWLISTED:
            state = _say(lang, "covered: allowlisted")
        elif r.verdict is Verdict.UNLINKED:
            state = _say(lang, "commit email not linked to an account")
        elif r.verdict is Verdict.RESIGN:
            state = _say(lang, "must sign the new version")
        elif r.verdict is Verdict.RESTRICTED:
            state = _say(lang, "record restricted by its owner")
        else:
            state = _say(lang, "must sign")
        if not r.blocking and not r.covered:
            state += _say(lang, " (not blocking)" if r.agent else " (not blocking: co-author)")
        lines.append(_say(lang, "{who}: {state}", who=who, state=state))
    return lines
