"""The maintainers' questions, answered for the admin API and the CLI alike, one part a module:
:mod:`~bot.services.admin.tokens` (the API's tokens), :mod:`~bot.services.admin.status` (where
an account, an email or a PR stands, the agreements), :mod:`~bot.services.admin.rechecks`
(queue checks of a PR or a repository) and :mod:`~bot.services.admin.export` (signatures, with
contact fields only under an audited :class:`ContactReader`). What the callers outside this
package use is named here, so that they keep one ``admin`` name (``admin.pr_status``) that does
not collide with their own handlers of the same names.
"""

from bot.services.admin.common import (
    AGREEMENT_RE,
    MAX_DB_INT,
    MAX_PAGE,
    PLATFORMS,
    VERSION_RE,
    AdminError,
    Invalid,
    NotFound,
    validate_repo,
)
from bot.services.admin.export import ContactReader, Page, all_signatures, list_signatures, to_csv
from bot.services.admin.rechecks import recheck_pr, recheck_repo
from bot.services.admin.status import (
    Status,
    account_status,
    agreements,
    email_status,
    parse_subject,
    pr_status,
)
from bot.services.admin.tokens import (
    SCOPES,
    TokenInfo,
    authenticate,
    create_token,
    list_tokens,
    revoke_token,
    scope_allows,
)

__all__ = [
    "AGREEMENT_RE",
    "MAX_DB_INT",
    "MAX_PAGE",
    "PLATFORMS",
    "SCOPES",
    "VERSION_RE",
    "AdminError",
    "ContactReader",
    "Invalid",
    "NotFound",
    "Page",
    "Status",
    "TokenInfo",
    "account_status",
    "agreements",
    "all_signatures",
    "authenticate",
    "create_token",
    "email_status",
    "list_signatures",
    "list_tokens",
    "parse_subject",
    "pr_status",
    "recheck_pr",
    "recheck_repo",
    "revoke_token",
    "scope_allows",
    "to_csv",
    "validate_repo",
]
