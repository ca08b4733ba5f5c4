"""The OpenAPI 3.1 description of ``/api/v1``, served at ``GET /api/v1/openapi.json``.

Every operation, parameter, body and answer of :mod:`bot.web.admin` is here (the parameters and
schemas in :mod:`bot.web.openapi.parts`); the schemathesis test holds the two together.
"""

from __future__ import annotations

from typing import Any

from bot import __version__
from bot.web.openapi.parts import (
    _ACCOUNT,
    _AGREEMENTS,
    _COMMUNITY,
    _COMMUNITY_CHANGE,
    _COMMUNITY_DELETED,
    _COMPANY,
    _COMPANY_SUMMARY,
    _CONTACT,
    _DECISION,
    _DOMAIN,
    _NO_STORE,
    _PAGE,
    _PR,
    _RECHECK,
    _SIGNATURE,
    _STATUS,
    ACCOUNT_PATTERN,
    AGREEMENT_PATTERN,
    AGREEMENT_Q,
    COMMUNITY_ID,
    COMPANY_ID,
    CONTACT_Q,
    LINK_SCOPE,
    NUMBER,
    OWNER,
    PLATFORM,
    REPO,
    VERSION_Q,
    _errors,
    _json,
    _ok,
    _path,
    _query,
    _ref,
)


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


def _body(schema: dict[str, Any]) -> dict[str, Any]:
    return {"required": True, "content": {"application/json": {"schema": schema}}}


def _conflict(description: str) -> dict[str, Any]:
    return {"409": _json(_ref("Error"), description)}


_FILE_OWNED = (
    "declared in app.yaml (change it there), or in conflict with what is stored; nothing is written"
)
_NAME = {"type": "string", "minLength": 1, "maxLength": 255}


def _community_paths() -> dict[str, Any]:
    return {
        "/api/v1/communities": {
            "get": {
                "operationId": "listCommunities",
                "summary": "Communities with their links and agreements",
                "description": "By id; each link and community says whether app.yaml "
                "declares it (`file`) or it was made in the console or this API (`console`). "
                "Scope: `read`.",
                "responses": {
                    **_ok(
                        {
                            "type": "object",
                            "required": ["items"],
                            "properties": {"items": {"type": "array", "items": _ref("Community")}},
                        },
                        "the communities",
                    ),
                    **_errors(),
                },
            },
            "post": {
                "operationId": "createCommunity",
                "summary": "Create a community (without links or agreements)",
                "description": "The id follows app.yaml's rules: a lower-case slug, not "
                "`login`, `oauth` or `logout`. Audited. Scope: `admin`.",
                "requestBody": _body(
                    {
                        "type": "object",
                        "required": ["id", "name"],
                        "properties": {
                            "id": {
                                "type": "string",
                                "pattern": r"^[a-z0-9][a-z0-9-]{0,62}$",
                            },
                            "name": _NAME,
                        },
                    }
                ),
                "responses": {
                    **_ok(_ref("Community"), "created", "201"),
                    **_errors("400", "413", "415", "422"),
                    **_conflict("the id is taken"),
                },
            },
        },
        "/api/v1/communities/{id}": {
            "get": {
                "operationId": "showCommunity",
                "summary": "One community",
                "description": "Scope: `read`.",
                "parameters": [COMMUNITY_ID],
                "responses": {
                    **_ok(_ref("Community"), "the community"),
                    **_errors("404"),
                },
            },
            "patch": {
                "operationId": "renameCommunity",
                "summary": "Rename a community made in the console",
                "description": "Audited. Scope: `admin`.",
                "parameters": [COMMUNITY_ID],
                "requestBody": _body(
                    {"type": "object", "required": ["name"], "properties": {"name": _NAME}}
                ),
                "responses": {
                    **_ok(_ref("Community"), "renamed"),
                    **_errors("400", "404", "413", "415", "422"),
                    **_conflict(_FILE_OWNED),
                },
            },
            "delete": {
                "operationId": "deleteCommunity",
                "summary": "Delete a community made in the console, with its links",
                "description": "Only while it has no agreements. Audited; re-checks the open "
                "pull requests its links covered. Scope: `admin`.",
                "parameters": [COMMUNITY_ID],
                "responses": {
                    **_ok(_ref("CommunityDeleted"), "deleted"),
                    **_errors("404"),
                    **_conflict(_FILE_OWNED + ", or it has agreements"),
                },
            },
        },
        "/api/v1/communities/{id}/links": {
            "post": {
                "operationId": "addCommunityLink",
                "summary": "Link an owner (all its repositories) or one repository",
                "description": "A repository's own link wins over its owner's. A scope belongs "
                "to one community: one linked already is refused. Audited; re-checks the open "
                "pull requests of the repositories it covers. Scope: `admin`.",
                "parameters": [COMMUNITY_ID],
                "requestBody": _body(
                    {
                        "type": "object",
                        "required": ["scope"],
                        "properties": {
                            "scope": {
                                "type": "string",
                                "maxLength": 300,
                                "description": "`forge:owner` or `forge:owner/repo`",
                                "examples": ["forge:acme", "forge:acme/widgets"],
                            }
                        },
                    }
                ),
                "responses": {
                    **_ok(_ref("CommunityChange"), "linked", "201"),
                    **_errors("400", "404", "413", "415", "422"),
                    **_conflict("the scope is linked already"),
                },
            }
        },
        "/api/v1/communities/{id}/links/{scope}": {
            "delete": {
                "operationId": "removeCommunityLink",
                "summary": "Remove a link made in the console",
                "description": "Audited; re-checks the open pull requests of the repositories "
                "it covered. Scope: `admin`.",
                "parameters": [COMMUNITY_ID, LINK_SCOPE],
                "responses": {
                    **_ok(_ref("CommunityChange"), "unlinked"),
                    **_errors("404", "422"),
                    **_conflict(_FILE_OWNED),
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
            **_community_paths(),
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
                "Community": _COMMUNITY,
                "CommunityChange": _COMMUNITY_CHANGE,
                "CommunityDeleted": _COMMUNITY_DELETED,
            },
        },
    }
