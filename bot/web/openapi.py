"""The OpenAPI 3.1 description of ``/api/v1``, served at ``GET /api/v1/openapi.json``.

Every operation, parameter, body and answer of :mod:`bot.web.admin` is here; the schemathesis
test holds the two together.
"""

from __future__ import annotations

from typing import Any

from bot import __version__
from bot.core.identity import LOGIN_PATTERN

ACCOUNT_PATTERN = rf"^([0-9]{{1,20}}|{LOGIN_PATTERN})$"
# owner/repository names: at least one character that is not a dot ("." and ".." are not names)
NAME_PATTERN = r"^[A-Za-z0-9_.-]*[A-Za-z0-9_-][A-Za-z0-9_.-]*$"
AGREEMENT_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$"
VERSION_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.+-]{0,31}$"

_NULLABLE_STR: dict[str, Any] = {"type": ["string", "null"]}
_TIME: dict[str, Any] = {"type": "string", "format": "date-time"}
_NULLABLE_TIME: dict[str, Any] = {"type": ["string", "null"], "format": "date-time"}


def _ref(name: str) -> dict[str, Any]:
    return {"$ref": f"#/components/schemas/{name}"}


def _json(schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def _error(description: str) -> dict[str, Any]:
    return _json(_ref("Error"), description)


_NO_STORE = {"Cache-Control": {"description": "always `no-store`", "schema": {"type": "string"}}}


def _ok(schema: dict[str, Any], description: str, status: str = "200") -> dict[str, Any]:
    return {status: {**_json(schema, description), "headers": _NO_STORE}}


def _errors(*codes: str) -> dict[str, Any]:
    texts = {
        "400": "malformed request (body not JSON, not UTF-8)",
        "404": "unknown platform, agreement, version, repository or pull request",
        "413": "the body is too large",
        "415": "the body must be `application/json`",
        "422": "a parameter or body field is invalid",
    }
    out: dict[str, Any] = {
        "401": {
            "description": "no token, or an unknown or revoked one",
            "headers": {
                "WWW-Authenticate": {
                    "description": '`Bearer realm="cla-bot"`, with `error="invalid_token"` '
                    "when a token was given",
                    "schema": {"type": "string"},
                }
            },
            "content": {"application/json": {"schema": _ref("Error")}},
        },
        "403": {
            "description": "the token's scope is too small for this operation",
            "headers": {
                "WWW-Authenticate": {
                    "description": '`Bearer error="insufficient_scope", scope="…"`',
                    "schema": {"type": "string"},
                }
            },
            "content": {"application/json": {"schema": _ref("Error")}},
        },
    }
    for code in codes:
        out[code] = _error(texts[code])
    return out


def _path(name: str, schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {
        "name": name,
        "in": "path",
        "required": True,
        "description": description,
        "schema": schema,
    }


def _query(name: str, schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {
        "name": name,
        "in": "query",
        "required": False,
        "description": description,
        "schema": schema,
    }


PLATFORM = _path("platform", {"type": "string", "enum": ["github", "gitee"]}, "the forge")
OWNER = _path(
    "owner",
    {"type": "string", "pattern": NAME_PATTERN, "minLength": 1, "maxLength": 100},
    "the repository's owner (user or organisation)",
)
REPO = _path(
    "repo",
    {"type": "string", "pattern": NAME_PATTERN, "minLength": 1, "maxLength": 100},
    "the repository's name",
)
NUMBER = _path(
    "number", {"type": "integer", "minimum": 1, "maximum": 2147483647}, "the pull request number"
)
AGREEMENT_Q = _query(
    "agreement",
    {"type": "string", "pattern": AGREEMENT_PATTERN},
    "an agreement id (default for status: the required agreement)",
)
VERSION_Q = _query(
    "version",
    {"type": "string", "pattern": VERSION_PATTERN},
    "a version of that agreement (needs `agreement`)",
)
CONTACT_Q = _query(
    "include_contact",
    {"type": "boolean", "default": False},
    "add each person's contact fields (name, emails, address, phone, fax); needs the `export` "
    "scope; every person read is written to the audit trail. Never for a restricted record.",
)

_STATUS = {
    "type": "object",
    "description": "Where one person stands with an agreement. Never contact data.",
    "required": ["subject", "covered", "verdict", "agreement", "matched_by"],
    "properties": {
        "subject": {"type": "string", "description": "what was asked; `email` for emails"},
        "covered": {"type": "boolean"},
        "verdict": {
            "type": "string",
            "enum": ["signed", "allowlisted", "unsigned", "resign", "restricted"],
        },
        "agreement": {"type": "string"},
        "version": _NULLABLE_STR,
        "kind": {"type": ["string", "null"], "enum": ["individual", "corporate", None]},
        "company": {**_NULLABLE_STR, "description": "corporate coverage: the company name"},
        "since": _NULLABLE_TIME,
        "account": {**_NULLABLE_STR, "description": "the resolved account, `github:123`"},
        "login": _NULLABLE_STR,
        "matched_by": {"type": "string", "enum": ["account_id", "login", "email"]},
        "note": _NULLABLE_STR,
    },
}

_ACCOUNT = {
    "type": "object",
    "required": ["platform", "account_id", "login"],
    "properties": {
        "platform": {"type": "string"},
        "account_id": {"type": "string"},
        "login": _NULLABLE_STR,
    },
}

_CONTACT = {
    "type": ["object", "null"],
    "description": "present only with `include_contact=true`; null for a restricted record",
    "properties": {
        "name": _NULLABLE_STR,
        "emails": {"type": "array", "items": {"type": "string"}},
        "address": _NULLABLE_STR,
        "phone": _NULLABLE_STR,
        "fax": _NULLABLE_STR,
    },
}

_SIGNATURE = {
    "type": "object",
    "required": [
        "id",
        "agreement",
        "version",
        "kind",
        "signed_at",
        "source",
        "signer",
        "accounts",
        "restricted",
    ],
    "properties": {
        "id": {"type": "integer"},
        "agreement": {"type": "string"},
        "version": {"type": "string"},
        "kind": {"type": "string"},
        "signed_at": _TIME,
        "source": {"type": "string", "description": "`web` or `import`"},
        "signer": {"type": "integer", "description": "the bot's internal id of the person"},
        "signed_by": {**_NULLABLE_STR, "description": "the account that signed on the web"},
        "accounts": {"type": "array", "items": _ref("Account")},
        "restricted": {"type": "boolean"},
        "contact": _ref("Contact"),
    },
}

_PAGE = {
    "type": "object",
    "required": ["items", "next_cursor"],
    "properties": {
        "items": {"type": "array", "items": _ref("Signature")},
        "next_cursor": {
            "type": ["integer", "null"],
            "description": "pass as `cursor` for the next page; null on the last page",
        },
    },
}

_PR = {
    "type": "object",
    "required": [
        "platform",
        "repository",
        "number",
        "state",
        "outcome",
        "head_sha",
        "status",
        "checked_at",
        "blocking",
        "contributors",
    ],
    "properties": {
        "platform": {"type": "string"},
        "repository": {"type": "string"},
        "number": {"type": "integer"},
        "state": {"type": "string"},
        "outcome": _NULLABLE_STR,
        "head_sha": {"type": "string"},
        "status": {
            "type": "object",
            "properties": {
                "state": _NULLABLE_STR,
                "description": _NULLABLE_STR,
                "sha": _NULLABLE_STR,
            },
        },
        "checked_at": _NULLABLE_TIME,
        "blocking": {"type": "integer"},
        "contributors": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["identity", "login", "blocking"],
                "properties": {
                    "identity": {
                        "type": "string",
                        "description": "`github:123`, `gitee:45`, or `email (not linked)` — "
                        "never an address",
                    },
                    "login": _NULLABLE_STR,
                    "blocking": {"type": "boolean"},
                },
            },
        },
    },
}

_AGREEMENTS = {
    "type": "object",
    "required": ["required", "agreements"],
    "properties": {
        "required": {"type": "string"},
        "agreements": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["id", "title", "kind", "required", "versions"],
                "properties": {
                    "id": {"type": "string"},
                    "title": {"type": "string"},
                    "kind": {"type": "string"},
                    "required": {"type": "boolean"},
                    "versions": {
                        "type": "array",
                        "items": {
                            "type": "object",
                            "required": [
                                "version",
                                "position",
                                "text_sha256",
                                "compatible",
                                "counting",
                                "published_at",
                                "signatures",
                            ],
                            "properties": {
                                "version": {"type": "string"},
                                "position": {"type": "integer"},
                                "text_sha256": {"type": "string"},
                                "compatible": {"type": "boolean"},
                                "counting": {
                                    "type": "boolean",
                                    "description": "its signatures count today",
                                },
                                "published_at": _NULLABLE_TIME,
                                "signatures": {
                                    "type": "integer",
                                    "description": "valid signatures",
                                },
                            },
                        },
                    },
                },
            },
        },
    },
}

_RECHECK = {
    "type": "object",
    "required": ["queued", "known"],
    "properties": {
        "queued": {"type": "integer", "description": "checks queued"},
        "known": {
            "type": "boolean",
            "description": "the bot had a record of the pull request (or of the repository)",
        },
    },
}


COMPANY_ID = _path(
    "id", {"type": "integer", "minimum": 1, "maximum": 2147483647}, "the company's id"
)
_COMPANY_STATUS = {"type": "string", "enum": ["pending", "approved", "rejected"]}

_DOMAIN = {
    "type": "object",
    "required": ["domain", "status", "reason"],
    "properties": {
        "domain": {"type": "string"},
        "status": {"type": "string", "enum": ["pending", "approved", "rejected"]},
        "reason": {**_NULLABLE_STR, "description": "why it was rejected"},
    },
}

_COMPANY_SUMMARY_PROPS: dict[str, Any] = {
    "id": {"type": "integer"},
    "name": {"type": "string"},
    "status": _COMPANY_STATUS,
    "signed_at": _TIME,
    "domains": {"type": "array", "items": _ref("CompanyDomain")},
}

_COMPANY_SUMMARY = {
    "type": "object",
    "description": "A corporate CLA. Never the signatory's contact data.",
    "required": list(_COMPANY_SUMMARY_PROPS),
    "properties": _COMPANY_SUMMARY_PROPS,
}

_COMPANY = {
    "type": "object",
    "description": "A corporate CLA with what an administrator needs to decide on it: never "
    "the signatory's contact data, nor the emails listed (only how many).",
    "required": [
        *_COMPANY_SUMMARY_PROPS,
        "agreement",
        "version",
        "emails",
        "accounts",
        "managers",
        "decided_at",
        "decided_by",
        "reason",
    ],
    "properties": {
        **_COMPANY_SUMMARY_PROPS,
        "agreement": {"type": "string"},
        "version": {"type": "string"},
        "emails": {"type": "integer", "description": "how many emails its managers listed"},
        "accounts": {"type": "integer", "description": "how many accounts they listed"},
        "managers": {
            "type": "array",
            "items": {"type": "string"},
            "description": "`platform:login` of each manager",
        },
        "decided_at": _NULLABLE_TIME,
        "decided_by": {**_NULLABLE_STR, "description": "`operator` or `token:<prefix>`"},
        "reason": {**_NULLABLE_STR, "description": "why it was rejected"},
    },
}

_DECISION = {
    "type": "object",
    "required": ["company", "changed", "rechecks", "refused"],
    "properties": {
        "company": _ref("Company"),
        "changed": {
            "type": "boolean",
            "description": "false when it was so already (nothing written, nothing audited)",
        },
        "rechecks": {"type": "integer", "description": "pull request checks queued"},
        "refused": {
            "type": "array",
            "items": {"type": "string"},
            "description": "pending domains the rules refuse (rejected instead of approved)",
        },
    },
}


def _company_paths() -> dict[str, Any]:
    return {
        "/api/v1/companies": {
            "get": {
                "operationId": "listCompanies",
                "summary": "Corporate CLAs with their state, signing time and domains",
                "description": "Oldest first. A corporate CLA covers nobody until it is "
                "approved. Scope: `read`.",
                "parameters": [
                    _query(
                        "pending",
                        {"type": "boolean", "default": False},
                        "only those awaiting a decision: pending, or approved with a pending "
                        "domain",
                    )
                ],
                "responses": {
                    **_ok(
                        {
                            "type": "object",
                            "required": ["items"],
                            "properties": {
                                "items": {"type": "array", "items": _ref("CompanySummary")}
                            },
                        },
                        "the companies",
                    ),
                    **_errors("422"),
                },
            }
        },
        "/api/v1/companies/{id}": {
            "get": {
                "operationId": "showCompany",
                "summary": "One corporate CLA",
                "description": "Scope: `read`.",
                "parameters": [COMPANY_ID],
                "responses": {**_ok(_ref("Company"), "the company"), **_errors("404", "422")},
            }
        },
        "/api/v1/companies/{id}/approve": {
            "post": {
                "operationId": "approveCompany",
                "summary": "Approve a corporate CLA and every domain waiting in its list",
                "description": "A pending domain the rules refuse today (a free-mail "
                "provider's, a public suffix, a forge's noreply domain) is rejected instead. "
                "Audited; re-checks the pull requests its entries now cover. Scope: `admin`.",
                "parameters": [COMPANY_ID],
                "responses": {**_ok(_ref("CompanyDecision"), "decided"), **_errors("404", "422")},
            }
        },
        "/api/v1/companies/{id}/reject": {
            "post": {
                "operationId": "rejectCompany",
                "summary": "Reject a corporate CLA, or one domain of its list",
                "description": "It then covers nobody (or the domain covers nobody); its "
                "managers see the reason, so it must hold no personal data. Audited; re-checks "
                "the pull requests it covered. Scope: `admin`.",
                "parameters": [COMPANY_ID],
                "requestBody": {
                    "required": True,
                    "content": {
                        "application/json": {
                            "schema": {
                                "type": "object",
                                "required": ["reason"],
                                "properties": {
                                    "reason": {"type": "string", "minLength": 1, "maxLength": 500},
                                    "domain": {
                                        "type": "string",
                                        "maxLength": 253,
                                        "description": "reject only this domain of its list",
                                    },
                                },
                            }
                        }
                    },
                },
                "responses": {
                    **_ok(_ref("CompanyDecision"), "decided"),
                    **_errors("400", "404", "413", "415", "422"),
                },
            }
        },
    }


def document() -> dict[str, Any]:
    read = "Scope: `read`."
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "cla-bot maintainers' API",
            "version": __version__,
            "description": "Who is covered by which agreement, signatures and their export, "
            "re-checks, decisions on corporate CLAs. Authenticate with "
            "`Authorization: Bearer <token>` (create one with "
            "`cla-bot token create --scope read|export|admin`). Scopes: `read` < `export` "
            "(adds contact fields; every read is audited) < `admin` (adds re-checks and "
            "decisions on corporate CLAs). Emails "
            "are only ever sent in request bodies, never in a URL.",
        },
        "servers": [{"url": "/"}],
        "security": [{"bearerAuth": []}],
        "paths": {
            "/api/v1/openapi.json": {
                "get": {
                    "operationId": "openapi",
                    "summary": "This description",
                    "security": [],
                    "responses": {
                        "200": _json({"type": "object"}, "the OpenAPI 3.1 document"),
                    },
                }
            },
            "/api/v1/accounts/{platform}/{account}": {
                "get": {
                    "operationId": "accountStatus",
                    "summary": "Status of a platform account",
                    "description": "By account id (all digits) or by login. A login is resolved "
                    "to the most recent account the bot recorded with it — logins can be "
                    "renamed and reused; ask by id to be certain. " + read,
                    "parameters": [
                        PLATFORM,
                        _path(
                            "account",
                            {"type": "string", "pattern": ACCOUNT_PATTERN, "maxLength": 105},
                            "an account id or a login",
                        ),
                        _query(
                            "by",
                            {"type": "string", "enum": ["auto", "id", "login"], "default": "auto"},
                            "read `account` as an id or a login (auto: all digits is an id)",
                        ),
                        AGREEMENT_Q,
                    ],
                    "responses": {
                        **_ok(_ref("Status"), "the status"),
                        **_errors("404", "422"),
                    },
                }
            },
            "/api/v1/emails/status": {
                "post": {
                    "operationId": "emailStatus",
                    "summary": "Status of an email (in the body, never in a URL)",
                    "description": "Matched case-insensitively through the blind index. The "
                    "answer never repeats the address. " + read,
                    "requestBody": {
                        "required": True,
                        "content": {
                            "application/json": {
                                "schema": {
                                    "type": "object",
                                    "required": ["email"],
                                    "properties": {
                                        "email": {"type": "string", "maxLength": 320},
                                        "agreement": {
                                            "type": "string",
                                            "pattern": AGREEMENT_PATTERN,
                                        },
                                    },
                                }
                            }
                        },
                    },
                    "responses": {
                        **_ok(_ref("Status"), "the status"),
                        **_errors("400", "404", "413", "415", "422"),
                    },
                }
            },
            "/api/v1/prs/{platform}/{owner}/{repo}/{number}": {
                "get": {
                    "operationId": "prStatus",
                    "summary": "What the bot last reported on a pull request, and who blocks it",
                    "description": read,
                    "parameters": [PLATFORM, OWNER, REPO, NUMBER],
                    "responses": {
                        **_ok(_ref("PullRequest"), "the pull request's record"),
                        **_errors("404", "422"),
                    },
                }
            },
            "/api/v1/prs/{platform}/{owner}/{repo}/{number}/recheck": {
                "post": {
                    "operationId": "recheckPr",
                    "summary": "Re-check a pull request",
                    "description": "Queues a check; one the bot has no record of is queued too "
                    "when the bot is installed on the repository. Scope: `admin`.",
                    "parameters": [PLATFORM, OWNER, REPO, NUMBER],
                    "responses": {
                        **_ok(_ref("Recheck"), "queued", "202"),
                        **_errors("404", "422"),
                    },
                }
            },
            "/api/v1/repos/{platform}/{owner}/{repo}/recheck": {
                "post": {
                    "operationId": "recheckRepo",
                    "summary": "Re-check every open pull request the bot knows in a repository",
                    "description": "Scope: `admin`.",
                    "parameters": [PLATFORM, OWNER, REPO],
                    "responses": {
                        **_ok(_ref("Recheck"), "queued", "202"),
                        **_errors("404", "422"),
                    },
                }
            },
            "/api/v1/agreements": {
                "get": {
                    "operationId": "agreements",
                    "summary": "Agreements and their versions, with signature counts",
                    "description": read,
                    "responses": {**_ok(_ref("Agreements"), "the agreements"), **_errors()},
                }
            },
            "/api/v1/signatures": {
                "get": {
                    "operationId": "listSignatures",
                    "summary": "Valid signatures, paginated by id",
                    "description": "Not revoked, not erased, in id order. Scope: `read`; "
                    "`export` with `include_contact=true`.",
                    "parameters": [
                        AGREEMENT_Q,
                        VERSION_Q,
                        _query(
                            "limit",
                            {"type": "integer", "minimum": 1, "maximum": 500, "default": 100},
                            "page size",
                        ),
                        _query(
                            "cursor",
                            {"type": "integer", "minimum": 0, "maximum": 2147483647},
                            "`next_cursor` of the previous page (the last signature id seen)",
                        ),
                        CONTACT_Q,
                    ],
                    "responses": {
                        **_ok(_ref("SignaturePage"), "one page"),
                        **_errors("404", "422"),
                    },
                }
            },
            "/api/v1/signatures.csv": {
                "get": {
                    "operationId": "exportSignaturesCsv",
                    "summary": "Every valid signature as a spreadsheet-friendly CSV",
                    "description": "UTF-8 with a BOM, CRLF line ends, cells that would start "
                    "a formula (`= + - @`) prefixed with a quote. Scope: `export`.",
                    "parameters": [AGREEMENT_Q, VERSION_Q, CONTACT_Q],
                    "responses": {
                        "200": {
                            "description": "the CSV file",
                            "headers": _NO_STORE,
                            "content": {"text/csv": {"schema": {"type": "string"}}},
                        },
                        **_errors("404", "422"),
                    },
                }
            },
            **_company_paths(),
        },
        "components": {
            "securitySchemes": {
                "bearerAuth": {
                    "type": "http",
                    "scheme": "bearer",
                    "description": "`cla_` and 40 URL-safe characters, from `cla-bot token create`",
                }
            },
            "schemas": {
                "Error": {
                    "type": "object",
                    "required": ["message"],
                    "properties": {"message": {"type": "string"}},
                },
                "Status": _STATUS,
                "Account": _ACCOUNT,
                "Contact": _CONTACT,
                "Signature": _SIGNATURE,
                "SignaturePage": _PAGE,
                "PullRequest": _PR,
                "Agreements": _AGREEMENTS,
                "Recheck": _RECHECK,
                "CompanyDomain": _DOMAIN,
                "CompanySummary": _COMPANY_SUMMARY,
                "Company": _COMPANY,
                "CompanyDecision": _DECISION,
            },
        },
    }
