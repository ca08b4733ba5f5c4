"""Corporate CLAs: a company signs once, a community administrator approves it, its managers
list who it covers.

Anyone who signs in can sign for a company they name, so a signature proves nothing by itself:
it starts **pending** and covers nobody — no PR passes through it and no comment names the
company — until an administrator (the operator's ``cla-bot company``, an ``admin``-scope API
token) approves it. A rejected one covers nobody either, and its managers see the reason.

The list holds:

* email domains (plain: a company's domain is not personal data), checked by
  :mod:`bot.services.company_domains`, each listed only once proven by a code mailed to an
  address there (:mod:`bot.services.corporate.proofs`). Each waits for an administrator: the
  one proven at signing is approved with the company, one proven later is pending until an
  administrator approves it;
* emails (a blind index for matching, a ciphertext so managers can read their own list);
* accounts: a login a manager types is resolved through the forge to its account id, and only
  that id matches (``github:583231``), never the login.

Emails and accounts count as soon as they are added, while the company is approved. Every
change and every decision is in the audit trail (kinds and counts, never values) and re-checks
the open PRs it can affect, found through the account, email and domain keys each PR records
for its contributors.
"""

from __future__ import annotations

from bot.services.corporate.approvals import (
    CompanyView,
    Decision,
    DomainState,
    approve,
    list_companies,
    reject,
    show_company,
)
from bot.services.corporate.common import (
    KINDS,
    SIGNATORY,
    AccountLookup,
    EntryError,
    check_domain,
    parse_domains,
    parse_logins,
)
from bot.services.corporate.entries import (
    Entry,
    NewEntry,
    add_entry,
    entries,
    prepare_entry,
    remove_entry,
)
from bot.services.corporate.signing import managed, sign

__all__ = [
    "KINDS",
    "SIGNATORY",
    "AccountLookup",
    "CompanyView",
    "Decision",
    "DomainState",
    "Entry",
    "EntryError",
    "NewEntry",
    "add_entry",
    "approve",
    "check_domain",
    "entries",
    "list_companies",
    "managed",
    "parse_domains",
    "parse_logins",
    "prepare_entry",
    "reject",
    "remove_entry",
    "show_company",
    "sign",
]
