"""An installation's writes: the commit status, check runs, labels, the comment, a reaction."""

from __future__ import annotations

import contextlib
from collections.abc import Mapping, Sequence
from typing import Any

from bot.core.decision import CheckRunWrite
from bot.core.model import RepoRef, StatusState
from bot.platforms.base import ForgeError, ForgeNotFound
from bot.platforms.github.transport import InstallationCalls, repo_vars

STATUS_DESCRIPTION_MAX = 140  # longer descriptions get a 422


class WriteCalls(InstallationCalls):
    """What the bot writes through an installation (every write is idempotent to repeat)."""

    async def set_status(
        self,
        repo: RepoRef,
        sha: str,
        *,
        state: StatusState,
        description: str,
        context: str,
        target_url: str | None,
    ) -> None:
        if len(description) > STATUS_DESCRIPTION_MAX:
            description = description[: STATUS_DESCRIPTION_MAX - 1] + "…"
        data: dict[str, Any] = {
            "state": str(state),
            "description": description,
            "context": context,
        }
        if target_url is not None:
            data["target_url"] = target_url
        url = "/repos/{owner}/{repo}/statuses/{sha}"
        await self._call(
            f"set status on {repo.full_name}@{sha[:12]}",
            lambda gh: gh.post(url, repo_vars(repo, sha=sha), data=data),
        )

    @staticmethod
    def _check_run_body(run: CheckRunWrite) -> dict[str, Any]:
        body: dict[str, Any] = {
            "name": run.name,
            "status": "completed",
            "conclusion": str(run.conclusion),
            "output": {"title": run.title, "summary": run.summary},
            # Always sent: an update to success takes the Re-check button away.
            "actions": [
                {"label": a.label, "description": a.description, "identifier": a.identifier}
                for a in run.actions
            ],
        }
        if run.details_url is not None:
            body["details_url"] = run.details_url
        return body

    async def create_check_run(self, repo: RepoRef, run: CheckRunWrite) -> int:
        url = "/repos/{owner}/{repo}/check-runs"
        body = {"head_sha": run.sha, **self._check_run_body(run)}
        data = await self._call(
            f"create check run on {repo.full_name}@{run.sha[:12]}",
            lambda gh: gh.post(url, repo_vars(repo), data=body),
        )
        run_id = data.get("id") if isinstance(data, Mapping) else None
        if isinstance(run_id, bool) or not isinstance(run_id, int):
            raise ForgeError("create check run: the answer has no id")
        return run_id

    async def update_check_run(self, repo: RepoRef, run_id: int, run: CheckRunWrite) -> None:
        url = "/repos/{owner}/{repo}/check-runs/{check_run_id}"
        body = self._check_run_body(run)
        await self._call(
            f"update check run {run_id} on {repo.full_name}",
            lambda gh: gh.patch(url, repo_vars(repo, check_run_id=run_id), data=body),
        )

    async def add_labels(self, repo: RepoRef, number: int, names: Sequence[str]) -> None:
        if not names:
            return
        url = "/repos/{owner}/{repo}/issues/{number}/labels"
        body = {"labels": list(names)}
        await self._call(
            f"add labels to {repo.full_name}#{number}",
            lambda gh: gh.post(url, repo_vars(repo, number=number), data=body),
        )

    async def remove_label(self, repo: RepoRef, number: int, name: str) -> None:
        url = "/repos/{owner}/{repo}/issues/{number}/labels/{name}"
        with contextlib.suppress(ForgeNotFound):  # absent label: already the wanted state
            await self._call(
                f"remove label from {repo.full_name}#{number}",
                lambda gh: gh.delete(url, repo_vars(repo, number=number, name=name)),
            )

    async def create_comment(self, repo: RepoRef, number: int, body: str) -> int:
        url = "/repos/{owner}/{repo}/issues/{number}/comments"
        data = await self._call(
            f"comment on {repo.full_name}#{number}",
            lambda gh: gh.post(url, repo_vars(repo, number=number), data={"body": body}),
        )
        return int(data["id"])

    async def edit_comment(self, repo: RepoRef, comment_id: int, body: str) -> None:
        url = "/repos/{owner}/{repo}/issues/comments/{comment_id}"
        await self._call(
            f"edit comment {comment_id} of {repo.full_name}",
            lambda gh: gh.patch(url, repo_vars(repo, comment_id=comment_id), data={"body": body}),
        )

    # -- extras beyond ForgeClient ---------------------------------------------------------------

    async def add_reaction(self, repo: RepoRef, comment_id: int, content: str = "+1") -> None:
        """Acknowledge a command comment (``+1``, ``eyes``, …); an existing reaction is fine."""
        url = "/repos/{owner}/{repo}/issues/comments/{comment_id}/reactions"
        await self._call(
            f"react to comment {comment_id} of {repo.full_name}",
            lambda gh: gh.post(
                url, repo_vars(repo, comment_id=comment_id), data={"content": content}
            ),
        )
