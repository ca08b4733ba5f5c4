"""The check of a pull request, one module per step: :mod:`~bot.services.checks.plan` (read and
decide), :mod:`~bot.services.checks.apply` (the forge writes), :mod:`~bot.services.checks.records`
(the bot's record of the PR), :mod:`~bot.services.checks.failure` (a check that could not run),
:mod:`~bot.services.checks.merge_group`, :mod:`~bot.services.checks.accounts` (noreply ids the
forge confirmed) and :mod:`~bot.services.checks.config`; :class:`CheckService` composes them
for the worker. Import the names from here."""

from __future__ import annotations

from bot.services.checks.accounts import AccountLookup, ConfirmedAccounts
from bot.services.checks.apply import Applied, Reporter
from bot.services.checks.config import (
    ClientFactory,
    build_allowlist,
    load_comment_templates,
    report_config,
)
from bot.services.checks.plan import CheckPlan, Evaluation, Planner
from bot.services.checks.service import CheckResult, CheckService

__all__ = [
    "AccountLookup",
    "Applied",
    "CheckPlan",
    "CheckResult",
    "CheckService",
    "ClientFactory",
    "ConfirmedAccounts",
    "Evaluation",
    "Planner",
    "Reporter",
    "build_allowlist",
    "load_comment_templates",
    "report_config",
]
