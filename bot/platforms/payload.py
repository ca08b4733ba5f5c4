"""Reading forge JSON at the boundary: typed field access that raises :class:`PayloadError`
(a ``ValueError`` naming the field) instead of ``KeyError`` or ``TypeError``, and the typed
decoding of webhook bodies (:func:`decode`)."""

from __future__ import annotations

import functools
from collections.abc import Hashable, Mapping
from typing import Annotated, Any, TypeVar, cast

import msgspec

from bot.core.errors import BotError


class PayloadError(BotError, ValueError):
    """A forge payload or API answer lacks a field the bot needs, or has the wrong type."""


def root(data: object, where: str = "payload") -> Mapping[str, Any]:
    if not isinstance(data, Mapping):
        raise PayloadError(f"{where}: expected an object")
    return data


def obj(parent: Mapping[str, Any], key: str, where: str) -> Mapping[str, Any]:
    value = parent.get(key)
    if not isinstance(value, Mapping):
        raise PayloadError(f"{where}.{key}: expected an object")
    return value


def string(parent: Mapping[str, Any], key: str, where: str) -> str:
    value = parent.get(key)
    if not isinstance(value, str):
        raise PayloadError(f"{where}.{key}: expected a string")
    return value


def integer(parent: Mapping[str, Any], key: str, where: str, *, digits_ok: bool = False) -> int:
    """An integer field; ``digits_ok`` also takes a decimal string (Gitee types ids loosely)."""
    value = parent.get(key)
    if isinstance(value, bool) or not isinstance(value, int):
        if digits_ok and isinstance(value, str) and value.isascii() and value.isdigit():
            return int(value)
        raise PayloadError(f"{where}.{key}: expected an integer")
    return value


def opt_integer(
    parent: Mapping[str, Any], key: str, where: str, *, digits_ok: bool = False
) -> int | None:
    if parent.get(key) is None:
        return None
    return integer(parent, key, where, digits_ok=digits_ok)


# -- webhook bodies: decoded straight into typed structs ----------------------------------------
#
# A delivery is decoded once, by msgspec, into a Struct that declares only the fields routing
# reads: everything else is skipped without being built. The declared fields are checked while
# decoding — types, integer ranges that fit the columns they end in, strings without NUL (which
# PostgreSQL cannot store) and at most as long as their columns — and the JSON itself is refused
# when it is malformed, not UTF-8, nested deeper than the decoder recurses, or carries a lone
# surrogate escape (not encodable as UTF-8). So nothing unstorable reaches the database, and a
# wrong-typed field is a 400 naming its path (``$.pull_request.labels``), never a stringified
# list later.

INT64_MAX = 2**63 - 1  # BigInteger columns (ids) are signed 64-bit
INT32_MAX = 2**31 - 1  # Integer columns (PR numbers) are signed 32-bit
_NO_NUL = r"^[^\x00]*$"

Id = Annotated[int, msgspec.Meta(ge=0, le=INT64_MAX)]
Number = Annotated[int, msgspec.Meta(ge=1, le=INT32_MAX)]
Count = Annotated[int, msgspec.Meta(ge=0, le=INT32_MAX)]
Name = Annotated[str, msgspec.Meta(min_length=1, max_length=255, pattern=_NO_NUL)]
"""A login, repository name or ref: stored in ``String(255)`` columns."""
Word = Annotated[str, msgspec.Meta(max_length=64, pattern=_NO_NUL)]
"""An action or a type: stored in ``String(64)``."""
Sha = Annotated[str, msgspec.Meta(pattern=r"^[0-9a-fA-F]{40}(?:[0-9a-fA-F]{24})?$")]
"""A commit id: SHA-1, or SHA-256 for repositories that use it."""


class Skipped(msgspec.Struct):
    """An object whose presence matters, not its contents (decoded without being kept)."""


class NotJson(PayloadError):
    """The body is not one JSON document the bot can decode."""


_T = TypeVar("_T")


@functools.cache
def _decoder(kind: Any) -> msgspec.json.Decoder[Any]:
    return msgspec.json.Decoder(kind)


def decode(
    data: bytes | Mapping[str, Any],
    kind: type[_T],
    *,
    malformed: type[PayloadError] = PayloadError,
) -> _T:
    """``data`` (a raw body, or an already parsed mapping) as ``kind``; raises
    :class:`NotJson` for a body that is not JSON and ``malformed`` naming the field for a value
    of the wrong type or out of range."""
    try:
        if isinstance(data, bytes | bytearray):
            if not data.isascii():
                data.decode("utf-8")  # the skipped fields too (msgspec checks only the read ones)
            decoder: msgspec.json.Decoder[Any] = _decoder(cast(Hashable, kind))
            decoded: _T = decoder.decode(data)
            return decoded
        return msgspec.convert(data, kind)
    except msgspec.ValidationError as exc:
        raise malformed(str(exc)) from None
    except msgspec.DecodeError as exc:
        raise NotJson(f"body is not UTF-8 JSON: {exc}") from None
    except UnicodeDecodeError:
        raise NotJson("body is not UTF-8 JSON") from None
    except RecursionError:
        raise NotJson("body is nested too deeply") from None
