"""Reading forge JSON at the boundary: typed field access that raises :class:`PayloadError`
(a ``ValueError`` naming the field) instead of ``KeyError`` or ``TypeError``."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


class PayloadError(ValueError):
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
