"""The apply half of a check: make a plan's writes on the forge (check run, status, labels, the
bot's one comment), writing only what the plan holds, and find the bot's comment again before
creating one — a run killed after the forge write and before the record converges on one.

:class:`Reporter` also knows what this forge and installation can show: no status where the
forge has none, no check run where it has none or the installation refused them lately (then
a status instead, so that the PR still shows a result).
"""

from __future__ import annotations

import dataclasses
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass

from bot.core import decision, messages
from bot.core.model import PullRequest, RepoRef
from bot.platforms import registry
from bot.platforms.base import ForgeClient, MissingPermission

log = logging.getLogger("bot.checks")

NO_CHECKS_TTL_S = 3600.0  # how long an installation that refused check runs is not asked again

Redecide = Callable[[decision.ReportConfig], decision.Plan]
"""The plan again for another report configuration (when a check run was refused)."""


@dataclass(frozen=True, slots=True)
class Applied:
    """What was written: ``plan`` as written (a refused check run replaced by the status),
    the bot's comment id and check run id afterwards."""

    plan: decision.Plan
    comment_id: int | None
    run_id: int | None

    @property
    def writes(self) -> int:
        return self.plan.writes


class Reporter:
    def __init__(
        self, config: decision.ReportConfig, *, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.config = config
        self.clock = clock
        # Installations that answered 403 on check runs (``checks: write`` not accepted yet),
        # until when they get statuses only.
        self._no_check_runs: dict[tuple[str, int | None], float] = {}

    def sharing(self, config: decision.ReportConfig) -> Reporter:
        """A reporter with another configuration (another community's context and labels)
        that knows the same installations' refusals of check runs."""
        other = Reporter(config, clock=self.clock)
        other._no_check_runs = self._no_check_runs
        return other

    def config_for(self, client: ForgeClient, installation_id: int | None) -> decision.ReportConfig:
        """The report configuration as this client can show it: no status where the forge has
        none, no check run where it has none or the installation refused them lately — and then
        the status, whatever ``cla.report.github`` says, so that the PR still shows a result."""
        config = self.config
        if not registry.forge(client.platform).reports.statuses:
            config = dataclasses.replace(config, write_status=False)
        if config.write_check_run and (
            client.check_runs is None or self._refused_check_runs(client, installation_id)
        ):
            config = dataclasses.replace(
                config,
                write_check_run=False,
                write_status=config.write_status or client.check_runs is not None,
            )
        return config

    def _refused_check_runs(self, client: ForgeClient, installation_id: int | None) -> bool:
        key = (client.platform, installation_id)
        until = self._no_check_runs.get(key)
        if until is None:
            return False
        if until <= self.clock():
            del self._no_check_runs[key]
            return False
        return True

    async def write_check_run(
        self,
        client: ForgeClient,
        repo: RepoRef,
        run: decision.CheckRunWrite,
        installation_id: int | None,
    ) -> int | None:
        """Create or update ``run``; its id, or ``None`` when the installation has not
        accepted ``checks: write`` (remembered for a while; one log line, nothing personal)."""
        runs = client.check_runs
        if runs is None:
            return None
        try:
            if run.run_id is None:
                return await runs.create_check_run(repo, run)
            await runs.update_check_run(repo, run.run_id, run)
            return run.run_id
        except MissingPermission:
            self._no_check_runs[(client.platform, installation_id)] = self.clock() + NO_CHECKS_TTL_S
            log.warning(
                "installation %s has not accepted the App permission Checks: write: reporting "
                "commit statuses only until it does",
                installation_id,
            )
            return None

    async def apply(
        self,
        client: ForgeClient,
        pr: PullRequest,
        plan: decision.Plan,
        *,
        installation_id: int | None,
        comment_id: int | None,
        redecide: Redecide,
    ) -> Applied:
        """Make the plan's writes on the forge. A check run the installation refuses becomes
        the status of the plan made again without check runs (where it was not written
        anyway); ``comment_id`` is the bot's comment on record."""
        run_id: int | None = None
        if plan.check_run is not None:
            run_id = await self.write_check_run(client, pr.repo, plan.check_run, installation_id)
            if run_id is None:
                fallback = redecide(self.config_for(client, installation_id))
                plan = dataclasses.replace(plan, check_run=None, status=fallback.status)
        if plan.status is not None:
            await set_status(client, pr.repo, plan.status)
        if plan.add_labels:
            await client.add_labels(pr.repo, pr.number, plan.add_labels)
        for name in plan.remove_labels:
            await client.remove_label(pr.repo, pr.number, name)
        if plan.comment is not None:
            comment_id = await write_comment(client, pr, plan.comment)
        return Applied(plan, comment_id, run_id)


async def set_status(client: ForgeClient, repo: RepoRef, status: decision.StatusWrite) -> None:
    await client.set_status(
        repo,
        status.sha,
        state=status.state,
        description=status.description,
        context=status.context,
        target_url=status.target_url,
    )


async def write_comment(client: ForgeClient, pr: PullRequest, write: decision.CommentWrite) -> int:
    """Edit the bot's comment, or create it — unless a previous run created it and died
    before recording it: then that one is found (every page searched) and edited if needed."""
    if write.action is decision.CommentAction.EDIT and write.comment_id is not None:
        await client.edit_comment(pr.repo, write.comment_id, write.body)
        return write.comment_id
    existing = await client.find_comment(pr.repo, pr.number, messages.MARKER)
    if existing is not None:
        if not decision.same_text(existing.body, write.body):
            await client.edit_comment(pr.repo, existing.comment_id, write.body)
        return existing.comment_id
    return await client.create_comment(pr.repo, pr.number, write.body)
