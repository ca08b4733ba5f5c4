"""``cla-bot import-from FORMAT FILE``: signatures exported by other CLA bots.

Formats, one module each: ``cla-assistant`` and ``cla-assistant-lite``
(:mod:`~bot.services.importers.cla_assistant`, whose rows are accounts of the forge the caller
names), and ``app-cla-server`` (:mod:`~bot.services.importers.app_cla_server`: a folder of its
dumps, whose rows are emails, mapped link by link to agreements by
:mod:`~bot.services.importers.links`; its companies are written by
:mod:`~bot.services.importers.companies`). What they share — the result, times, one signature
per person, leaving out what is recorded already — is :mod:`~bot.services.importers.common`.

Every row is checked first: one row that cannot be mapped means nothing is imported (unless
``--skip-unmappable``), and each is reported by its position, never with its values. What the
formats hold and this bot does not keep is reported as counts. The command itself is
:mod:`bot.cli.imports`.
"""

from __future__ import annotations

from bot.core.model import ForgeFacts
from bot.services.importers.app_cla_server import FILES as APP_CLA_SERVER_FILES
from bot.services.importers.app_cla_server import parse_app_cla_server
from bot.services.importers.cla_assistant import parse_cla_assistant, parse_cla_assistant_lite
from bot.services.importers.common import (
    ForeignImport,
    ImportedCompany,
    Options,
    Problem,
    already_recorded,
)
from bot.services.importers.companies import CompaniesWritten, import_companies
from bot.services.importers.links import LinkError, LinkMap, Target, parse_links
from bot.settings import Policy

ACCOUNT_FORMATS = ("cla-assistant", "cla-assistant-lite")  # rows are one forge's accounts
FOLDER_FORMATS = ("app-cla-server",)  # a folder of dumps whose rows are emails
FORMATS = ACCOUNT_FORMATS + FOLDER_FORMATS


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
    "APP_CLA_SERVER_FILES",
    "FOLDER_FORMATS",
    "FORMATS",
    "CompaniesWritten",
    "ForeignImport",
    "ImportedCompany",
    "LinkError",
    "LinkMap",
    "Options",
    "Problem",
    "Target",
    "already_recorded",
    "import_companies",
    "parse",
    "parse_app_cla_server",
    "parse_links",
]
