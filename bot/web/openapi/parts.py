"""The parts the API description is built of: patterns, parameters and the answers' schemas."""

from __future__ import annotations

from typing import Any

from bot.core.identity import LOGIN_PATTERN
from bot.platforms.registry import NAMES

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


PLATFORM = _path("platform", {"type": "string", "enum": list(NAMES)}, "the forge")
_EXAMPLE = NAMES[0]  # an account key's spelling, `forge:id`
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
        "account": {**_NULLABLE_STR, "description": f"the resolved account, `{_EXAMPLE}:123`"},
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
                        "description": f"`{_EXAMPLE}:123` (a forge and an account id), or "
                        "`email (not linked)` — never an address",
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
    "required": ["domain", "status", "reason", "proven"],
    "properties": {
        "domain": {"type": "string"},
        "status": {"type": "string", "enum": ["pending", "approved", "rejected"]},
        "reason": {**_NULLABLE_STR, "description": "why it was rejected"},
        "proven": {
            "type": "boolean",
            "description": "proven by a code sent to an address at it; false for older and "
            "imported domains (approving them is still allowed)",
        },
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

# --- communities ----------------------------------------------------------------------------

COMMUNITY_PATTERN = r"^[a-z0-9][a-z0-9-]{0,62}$"
SCOPE_PATTERN = r"^[a-z0-9-]+:[A-Za-z0-9_.-]+(/[A-Za-z0-9_.-]+)?$"
COMMUNITY_ID = _path(
    "id",
    {"type": "string", "pattern": COMMUNITY_PATTERN, "maxLength": 63},
    "the community's id (its slug)",
)
LINK_SCOPE = _path(
    "scope",
    {"type": "string", "pattern": SCOPE_PATTERN, "maxLength": 300},
    "the link's scope, `forge:owner` or `forge:owner/repo` (URL-encoded or not)",
)
_SOURCE = {
    "type": "string",
    "enum": ["file", "console"],
    "description": "`file`: declared in app.yaml, changed only there; `console`: made in the "
    "console or through this API",
}
_COMMUNITY = {
    "type": "object",
    "required": ["id", "name", "source", "links", "agreements"],
    "properties": {
        "id": {"type": "string"},
        "name": {"type": "string"},
        "source": _SOURCE,
        "links": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["scope", "source"],
                "properties": {"scope": {"type": "string"}, "source": _SOURCE},
            },
        },
        "agreements": {"type": "array", "items": {"type": "string"}},
    },
}
_COMMUNITY_CHANGE = {
    "type": "object",
    "required": ["community", "rechecks"],
    "properties": {
        "community": _ref("Community"),
        "rechecks": {"type": "integer", "description": "pull request checks queued"},
    },
}
_COMMUNITY_DELETED = {
    "type": "object",
    "required": ["deleted", "rechecks"],
    "properties": {
        "deleted": {"type": "string", "description": "the id of the community deleted"},
        "rechecks": {"type": "integer", "description": "pull request checks queued"},
    },
}
