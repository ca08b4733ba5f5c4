"""Webhook payloads consistent with the fake's state (pull requests, comments, merge groups,
check runs and suites), from the published examples."""

from __future__ import annotations

import copy
import functools
import gzip
import json
from typing import Any

from bot.sandbox.fakeforge.github.records import (
    WEBHOOK_FIXTURES,
    FakeCheckRun,
    FakeComment,
    FakeMergeGroup,
    FakePR,
    FakeRepo,
    _sha,
)
from bot.sandbox.fakeforge.github.render import Render


class Events(Render):
    # -- merge queues and check runs: the events GitHub sends -------------------------------------

    def add_merge_group(self, pr: FakePR) -> FakeMergeGroup:
        """Queue ``pr``: GitHub makes a merge commit on ``gh-readonly-queue/<base>/pr-<N>-<sha>``
        and waits for the required checks on it."""
        group = FakeMergeGroup(pr.repo, pr, _sha(), pr.base_sha, pr.base_ref)
        self.merge_groups.append(group)
        return group

    def merge_group_event(
        self,
        group: FakeMergeGroup,
        *,
        action: str = "checks_requested",
        head_ref: str | None = None,
        installation_id: int | None = None,
    ) -> dict[str, Any]:
        """A ``merge_group`` delivery body for ``group``, shaped like the real example."""
        payload = webhook_example("merge_group", "checks_requested")
        api, web_base = self.payload_api, self.payload_web
        payload["action"] = action
        mg = payload["merge_group"]
        mg.update(
            head_sha=group.head_sha,
            head_ref=head_ref if head_ref is not None else group.head_ref,
            base_sha=group.base_sha,
            base_ref=f"refs/heads/{group.base_ref}",
        )
        mg["head_commit"]["id"] = group.head_sha
        if action == "destroyed":
            payload["reason"] = "dequeued"
        payload["repository"] = self._repo_json(group.repo, api, web_base)
        payload["sender"] = self._user_json(group.pr.user, api, web_base)
        self._set_installation(payload, group.repo, installation_id)
        return payload

    def check_run_event(
        self,
        run: FakeCheckRun,
        *,
        action: str = "rerequested",
        identifier: str | None = None,
        sender: str = "alice",
        app_id: int | None = None,
        pull_requests: bool = True,
        installation_id: int | None = None,
    ) -> dict[str, Any]:
        """A ``check_run`` delivery body for ``run``, as GitHub sends it when someone clicks
        *Re-run* (``rerequested``) or a button of the run (``requested_action`` with its
        ``identifier``). ``pull_requests=False`` is a fork PR's run: GitHub names no PR."""
        kind = "requested_action" if action == "requested_action" else "rerequested"
        payload = webhook_example("check_run", kind)
        api, web_base = self.payload_api, self.payload_web
        payload["action"] = action
        cr = payload["check_run"]
        cr.update(
            id=run.id,
            head_sha=run.head_sha,
            name=run.name,
            status=run.status,
            conclusion=run.conclusion,
            url=f"{api}/repos/{run.repo.full_name}/check-runs/{run.id}",
            html_url=f"{web_base}/{run.repo.full_name}/runs/{run.id}",
            details_url=run.details_url,
            pull_requests=self._check_pulls(run.repo, run.head_sha, api) if pull_requests else [],
        )
        cr["app"]["id"] = int(self.app_id) if app_id is None else app_id
        cr["check_suite"]["head_sha"] = run.head_sha
        cr["check_suite"]["app"]["id"] = cr["app"]["id"]
        if action == "requested_action":
            payload["requested_action"] = {"identifier": identifier or "recheck"}
        else:
            payload.pop("requested_action", None)
        payload["repository"] = self._repo_json(run.repo, api, web_base)
        payload["sender"] = self._user_json(self.user(sender), api, web_base)
        self._set_installation(payload, run.repo, installation_id)
        return payload

    def check_suite_event(
        self,
        repo_name: str,
        head_sha: str,
        *,
        action: str = "rerequested",
        sender: str = "alice",
        app_id: int | None = None,
        installation_id: int | None = None,
    ) -> dict[str, Any]:
        """A ``check_suite`` delivery body (*Re-run all checks* is ``rerequested``)."""
        payload = webhook_example("check_suite", action)
        api, web_base = self.payload_api, self.payload_web
        repo = self.repo(repo_name)
        payload["action"] = action
        cs = payload["check_suite"]
        cs.update(
            head_sha=head_sha,
            after=head_sha,
            pull_requests=self._check_pulls(repo, head_sha, api),
        )
        cs["app"]["id"] = int(self.app_id) if app_id is None else app_id
        payload["repository"] = self._repo_json(repo, api, web_base)
        payload["sender"] = self._user_json(self.user(sender), api, web_base)
        self._set_installation(payload, repo, installation_id)
        return payload

    def _check_pulls(self, repo: FakeRepo, sha: str, api: str) -> list[dict[str, Any]]:
        """The ``pull_requests`` of a check run or suite: the open PRs whose head is ``sha``."""
        out = []
        for issue in self.issues.values():
            if isinstance(issue, FakePR) and issue.repo is repo and issue.head_sha == sha:
                ref = {"id": repo.id, "url": f"{api}/repos/{repo.full_name}", "name": repo.name}
                out.append(
                    {
                        "url": f"{api}/repos/{repo.full_name}/pulls/{issue.number}",
                        "id": issue.id,
                        "number": issue.number,
                        "head": {"ref": issue.head_ref, "sha": issue.head_sha, "repo": ref},
                        "base": {"ref": issue.base_ref, "sha": issue.base_sha, "repo": ref},
                    }
                )
        return out

    # -- webhook payloads consistent with the state ------------------------------------------------

    def pull_request_event(
        self,
        pr: FakePR,
        *,
        action: str = "opened",
        installation_id: int | None = None,
        sender: str | None = None,
    ) -> dict[str, Any]:
        """A ``pull_request`` delivery body for ``pr``, shaped like the real example payload."""
        payload = _webhook_template("pull_request.opened")
        api, web_base = self.payload_api, self.payload_web
        payload["action"] = action
        payload["number"] = pr.number
        payload["pull_request"] = self._pr_json(pr, api, web_base)
        payload["repository"] = self._repo_json(pr.repo, api, web_base)
        payload["sender"] = self._user_json(self.user(sender) if sender else pr.user, api, web_base)
        if action == "synchronize":
            payload["before"] = pr.commits[-2].sha if len(pr.commits) > 1 else pr.base_sha
            payload["after"] = pr.head_sha
        if action == "edited":
            payload["changes"] = {"base": {"ref": {"from": "old-base"}, "sha": {"from": _sha()}}}
        self._set_installation(payload, pr.repo, installation_id)
        return payload

    def issue_comment_event(
        self,
        comment: FakeComment,
        *,
        action: str = "created",
        installation_id: int | None = None,
    ) -> dict[str, Any]:
        """An ``issue_comment`` delivery body for ``comment``."""
        payload = _webhook_template("issue_comment.created")
        api, web_base = self.payload_api, self.payload_web
        issue = self.issues[(comment.repo.full_name.lower(), comment.issue_number)]
        payload["action"] = action
        iss = payload["issue"]
        kind = "pull" if issue.is_pull else "issues"
        iss.update(
            url=f"{api}/repos/{issue.repo.full_name}/issues/{issue.number}",
            html_url=f"{web_base}/{issue.repo.full_name}/{kind}/{issue.number}",
            number=issue.number,
            id=issue.id,
            title=issue.title,
            state=issue.state,
            user=self._user_json(issue.user, api, web_base),
            labels=[self._label_json(issue.repo, n, api) for n in issue.labels],
        )
        iss.pop("pull_request", None)
        if issue.is_pull:
            base = f"{web_base}/{issue.repo.full_name}/pull/{issue.number}"
            iss["pull_request"] = {
                "url": f"{api}/repos/{issue.repo.full_name}/pulls/{issue.number}",
                "html_url": base,
                "diff_url": base + ".diff",
                "patch_url": base + ".patch",
                "merged_at": None,
            }
        payload["comment"] = self._comment_json(comment, api, web_base)
        payload["repository"] = self._repo_json(comment.repo, api, web_base)
        payload["sender"] = self._user_json(comment.user, api, web_base)
        self._set_installation(payload, comment.repo, installation_id)
        return payload

    def _set_installation(
        self, payload: dict[str, Any], repo: FakeRepo, installation_id: int | None
    ) -> None:
        if installation_id is None:
            installation_id = next(
                (i.id for i in self.installations.values() if i.can_see(repo)), None
            )
        if installation_id is None:
            payload.pop("installation", None)
        else:
            payload["installation"] = {"id": installation_id, "node_id": f"MDIz{installation_id}"}


@functools.cache
def _webhook_template_text(stem: str) -> str:
    return (WEBHOOK_FIXTURES / f"{stem}.json").read_text(encoding="utf-8")


def _webhook_template(stem: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(_webhook_template_text(stem))
    return copy.deepcopy(data)


def load_webhook_example(name: str) -> dict[str, Any]:
    """One of the plain example payloads in ``bot/sandbox/fakeforge/data/webhooks`` (e.g. ``ping``,
    ``pull_request.opened``, ``issue_comment.created.pr``)."""
    return _webhook_template(name)


@functools.cache
def _webhook_examples() -> dict[str, list[dict[str, Any]]]:
    with gzip.open(WEBHOOK_FIXTURES / "examples.json.gz", "rt", encoding="utf-8") as fh:
        data = json.load(fh)
    return {e["name"]: e["examples"] for e in data["events"]}


def webhook_example(event: str, action: str) -> dict[str, Any]:
    """A copy of the first example of ``event``/``action`` in ``@octokit/webhooks-examples``
    (``examples.json.gz``, see ``extract_examples.py``) that carries an ``installation``, as the
    App receives it (``merge_group``, ``check_run``, ``check_suite``)."""
    examples = [e for e in _webhook_examples()[event] if e.get("action") == action]
    chosen = next((e for e in examples if "installation" in e), examples[0])
    return copy.deepcopy(chosen)


def load_all_webhook_examples() -> list[tuple[str, dict[str, Any]]]:
    """Every (event name, payload) of ``@octokit/webhooks-examples``."""
    with gzip.open(WEBHOOK_FIXTURES / "examples.json.gz", "rt", encoding="utf-8") as fh:
        data = json.load(fh)
    return [(e["name"], ex) for e in data["events"] for ex in e["examples"]]
