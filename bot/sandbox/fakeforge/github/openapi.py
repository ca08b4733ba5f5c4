"""GitHub's REST API as the fake knows it: the OpenAPI subset's routes, and a validator for
the JSON-schema keywords that subset uses (requests are checked against it, and the fake's own
answers too)."""

from __future__ import annotations

import functools
import json
import re
import urllib.parse
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bot.sandbox.fakeforge.github.records import (
    OPENAPI_SUBSET,
)

# -- OpenAPI subset: routes and a validator for the keywords it uses ------------------------------

SCHEMA_KEYWORDS = frozenset(
    {
        "$ref",
        "additionalProperties",
        "allOf",
        "anyOf",
        "discriminator",  # an annotation: oneOf is still checked in full
        "default",
        "deprecated",
        "enum",
        "format",
        "items",
        "maxItems",
        "maxLength",
        "minItems",
        "minLength",
        "nullable",
        "oneOf",
        "pattern",
        "properties",
        "readOnly",
        "required",
        "type",
        "writeOnly",
    }
)


@dataclass(frozen=True)
class _Route:
    template: str
    regex: re.Pattern[str]
    literals: int
    methods: Mapping[str, Any]


class OpenAPI:
    """Routes and schemas of the extracted subset, with a small OpenAPI 3.0 schema validator.

    Only the keywords in ``SCHEMA_KEYWORDS`` are understood; loading a subset that uses any
    other keyword fails, so a re-extraction cannot silently weaken the checks.
    """

    def __init__(self, doc: Mapping[str, Any]) -> None:
        self.doc = doc
        self.source: Mapping[str, Any] = doc["source"]
        self.schemas: Mapping[str, Any] = doc["components"]["schemas"]
        routes = []
        for template, methods in doc["paths"].items():
            parts = []
            literals = 0
            for seg in template.strip("/").split("/"):
                m = re.fullmatch(r"\{([a-z_]+)\}", seg)
                if m:
                    parts.append(f"(?P<{m.group(1)}>[^/]+)")
                else:
                    parts.append(re.escape(seg))
                    literals += 1
            regex = re.compile("/" + "/".join(parts))
            routes.append(_Route(template, regex, literals, methods))
        self.routes = sorted(routes, key=lambda r: -r.literals)
        for schema in self._all_schemas():
            self._check_keywords(schema)

    @classmethod
    def load(cls, path: Path = OPENAPI_SUBSET) -> OpenAPI:
        return _load_openapi(path)

    def _all_schemas(self) -> Iterable[Any]:
        yield from self.schemas.values()
        for methods in self.doc["paths"].values():
            for op in methods.values():
                for p in op["parameters"]:
                    yield p["schema"]
                if op["requestBody"] and op["requestBody"]["schema"]:
                    yield op["requestBody"]["schema"]
                for resp in op["responses"].values():
                    if resp["schema"]:
                        yield resp["schema"]

    def _check_keywords(self, schema: Any) -> None:
        if isinstance(schema, list):
            for s in schema:
                self._check_keywords(s)
            return
        if not isinstance(schema, dict):
            return
        unknown = set(schema) - SCHEMA_KEYWORDS
        if unknown:
            raise ValueError(f"schema keyword(s) the fake cannot check: {sorted(unknown)}")
        for key, value in schema.items():
            if key == "properties":
                for sub in value.values():
                    self._check_keywords(sub)
            elif key in ("items", "additionalProperties", "oneOf", "anyOf", "allOf"):
                self._check_keywords(value)

    def match(self, raw_path: str) -> tuple[_Route, dict[str, str]] | None:
        """The route for a raw (percent-encoded) path, with decoded path parameters."""
        for route in self.routes:
            m = route.regex.fullmatch(raw_path)
            if m:
                return route, {k: urllib.parse.unquote(v) for k, v in m.groupdict().items()}
        return None

    def resolve(self, ref: str) -> Any:
        prefix = "#/components/schemas/"
        if not ref.startswith(prefix):
            raise ValueError(f"unsupported $ref {ref}")
        return self.schemas[ref[len(prefix) :]]

    def validate(self, schema: Any, value: Any, where: str = "$") -> list[str]:
        errors: list[str] = []
        self._check(schema, value, where, errors)
        return errors

    def _check(self, schema: Any, value: Any, where: str, errors: list[str]) -> None:
        if not isinstance(schema, dict):
            return
        if value is None and schema.get("nullable") is True:
            return
        if "$ref" in schema:
            self._check(self.resolve(schema["$ref"]), value, where, errors)
            return
        if "oneOf" in schema:
            n = sum(1 for s in schema["oneOf"] if not self.validate(s, value, where))
            if n != 1:
                errors.append(f"{where}: matches {n} schemas of oneOf, expected exactly 1")
        if "anyOf" in schema and not any(
            not self.validate(s, value, where) for s in schema["anyOf"]
        ):
            errors.append(f"{where}: matches no schema of anyOf")
        for sub in schema.get("allOf", ()):
            self._check(sub, value, where, errors)
        typ = schema.get("type")
        if value is None:
            if typ is not None or "enum" in schema:
                errors.append(f"{where}: null is not allowed")
            return
        if typ is not None and not _type_ok(typ, value):
            errors.append(f"{where}: expected {typ}, got {type(value).__name__}")
            return
        if "enum" in schema and value not in schema["enum"]:
            errors.append(f"{where}: {value!r} is not one of {schema['enum']}")
        if isinstance(value, dict):
            props = schema.get("properties", {})
            for name in schema.get("required", ()):
                if name not in value:
                    errors.append(f"{where}: missing required property {name!r}")
            extra = schema.get("additionalProperties", True)
            for key, sub_value in value.items():
                if key in props:
                    self._check(props[key], sub_value, f"{where}.{key}", errors)
                elif extra is False:
                    errors.append(f"{where}: unexpected property {key!r}")
                elif isinstance(extra, dict):
                    self._check(extra, sub_value, f"{where}.{key}", errors)
        elif isinstance(value, list):
            if "items" in schema:
                for i, item in enumerate(value):
                    self._check(schema["items"], item, f"{where}[{i}]", errors)
            if len(value) < schema.get("minItems", 0):
                errors.append(f"{where}: fewer than {schema['minItems']} items")
            if "maxItems" in schema and len(value) > schema["maxItems"]:
                errors.append(f"{where}: more than {schema['maxItems']} items")
        elif isinstance(value, str):
            if len(value) < schema.get("minLength", 0):
                errors.append(f"{where}: shorter than {schema['minLength']}")
            if "maxLength" in schema and len(value) > schema["maxLength"]:
                errors.append(f"{where}: longer than {schema['maxLength']}")
            if "pattern" in schema and not re.search(schema["pattern"], value):
                errors.append(f"{where}: does not match {schema['pattern']!r}")

    def check_request(
        self,
        op: Mapping[str, Any],
        path_params: Mapping[str, str],
        query: Sequence[tuple[str, str]],
        body: bytes,
        content_type: str,
    ) -> tuple[list[str], Any]:
        """Problems with a request for ``op``, and the decoded JSON body (or ``None``)."""
        problems: list[str] = []
        declared = {(p["in"], p["name"]): p for p in op["parameters"]}
        for name, raw in path_params.items():
            p = declared.get(("path", name))
            if p is None:
                problems.append(f"path parameter {name!r} not declared")
            else:
                problems += self._check_param(p, raw, f"path:{name}")
        seen = Counter(name for name, _ in query)
        for name, raw in query:
            p = declared.get(("query", name))
            if p is None:
                problems.append(f"query parameter {name!r} is not declared for this operation")
            else:
                problems += self._check_param(p, raw, f"query:{name}")
        problems += [f"query parameter {n!r} given {c} times" for n, c in seen.items() if c > 1]
        for (where, name), p in declared.items():
            if where == "query" and p["required"] and name not in seen:
                problems.append(f"required query parameter {name!r} missing")
        data: Any = None
        spec = op["requestBody"]
        if body.strip():
            if spec is None:
                problems.append("this operation takes no request body")
            elif not content_type.startswith("application/json"):
                problems.append(f"request body content-type {content_type!r}, expected JSON")
            else:
                try:
                    data = json.loads(body)
                except ValueError:
                    problems.append("request body is not valid JSON")
                else:
                    if spec["schema"] is not None:
                        problems += self.validate(spec["schema"], data, "body")
        elif spec is not None and spec["required"]:
            problems.append("request body required")
        return problems, data

    def _check_param(self, param: Mapping[str, Any], raw: str, where: str) -> list[str]:
        schema = param["schema"]
        typ = schema.get("type")
        value: Any = raw
        if typ == "integer":
            if not re.fullmatch(r"-?\d+", raw):
                return [f"{where}: {raw!r} is not an integer"]
            value = int(raw)
        elif typ == "boolean":
            if raw not in ("true", "false"):
                return [f"{where}: {raw!r} is not a boolean"]
            value = raw == "true"
        return self.validate(schema, value, where)


def _type_ok(typ: str, value: Any) -> bool:
    if typ == "string":
        return isinstance(value, str)
    if typ == "integer":
        return isinstance(value, int) and not isinstance(value, bool)
    if typ == "number":
        return isinstance(value, int | float) and not isinstance(value, bool)
    if typ == "boolean":
        return isinstance(value, bool)
    if typ == "array":
        return isinstance(value, list)
    if typ == "object":
        return isinstance(value, dict)
    raise ValueError(f"unknown schema type {typ!r}")


@functools.cache
def _load_openapi(path: Path) -> OpenAPI:
    return OpenAPI(json.loads(path.read_text(encoding="utf-8")))
