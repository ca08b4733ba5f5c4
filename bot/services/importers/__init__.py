"""``cla-bot import-from FORMAT FILE``: signatures exported by other CLA bots.

Formats, one module each: ``cla-assistant`` and ``cla-assistant-lite``
(:mod:`~bot.services.importers.cla_assistant`, whose rows are accounts of the forge the caller
names). What they share — the result, times, one signature per person, leaving out what is
recorded already — is :mod:`~bot.services.importers.common`.

Every row is checked first: one row that cannot be mapped means nothing is imported (unless
``--skip-unmappable``), and each is reported by its position, never with its values. What the
formats hold and this bot does not keep is reported as counts. The command itself is
:mod:`bot.cli.imports`.
"""

from __future__ import annotations

from bot.core.model import ForgeFacts
from bot.services.importers.cla_assistant import parse_cla_assistant, parse_cla_assistant_lite
from bot.services.importers.common import (
    ForeignImport,
    ImportedCompany,
    Options,
    Problem,
    already_recorded,
)
from bot.settings import Policy

ACCOUNT_FORMATS = ("cla-assistant", "cla-assistant-lite")  # rows are one forge's accounts
FORMATS = ACCOUNT_FORMATS


def parse(
    fmt: str, text: str, policy: Policy, options: Options, forge: ForgeFacts
) -> ForeignImport:
    """Read ``text`` in one of :data:`ACCOUNT_FORMATS`, whose accounts are ``forge``'s."""
    if fmt == "cla-assistant":
        return parse_cla_assistant(text, policy, options, forge)
    if fmt == "cla-assistant-lite":
        return parse_cla_assistant_lite(text, policy, options, forge)
    raise ValueError(f"unknown format {fmt!r}; expected one of {', '.join(ACCOUNT_FORMATS)}")


__all__ = [
    "ACCOUNT_FORMATS",
    "FORMATS",
    "ForeignImport",
    "ImportedCompany",
    "Options",
    "Problem",
    "already_recorded",
    "parse",
]
