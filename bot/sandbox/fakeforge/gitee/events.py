"""Webhooks as Gitee sends them: the signature (Gitee help article 4290, computed here
independently of ``bot.platforms.gitee.sansio``), the headers, and ``Merge Request Hook`` /
``Note Hook`` bodies consistent with the fake's state (templates: the fixtures)."""

from __future__ import annotations

import base64
import json
import time
import urllib.parse
from collections.abc import Mapping
from typing import Any

from bot.sandbox.fakeforge.common import hmac_sha256
from bot.sandbox.fakeforge.gitee.records import (
    FakeComment,
    FakePR,
    FakeRepo,
    FakeUser,
    Mode,
    load_fixture,
)
from bot.sandbox.fakeforge.gitee.render import Render

# -- webhook signing (Gitee help article 4290), independent of the bot's code ------------------


def gitee_signature(timestamp_ms: int | str, secret: str) -> str:
    """base64(HMAC-SHA256(key=secret, msg=f"{timestamp}\\n{secret}"))."""
    return base64.b64encode(hmac_sha256(secret, f"{timestamp_ms}\n{secret}")).decode()


def signed_headers(
    body: bytes | Mapping[str, Any] | None = None,
    *,
    secret: str,
    mode: Mode = "signature",
    timestamp_ms: int | None = None,
    event: str | None = None,
    url_encode: bool = False,
    ping: bool = False,
) -> dict[str, str]:
    """The headers Gitee sends with a delivery. ``event`` defaults from the body's
    ``hook_name``; ``url_encode`` applies the doc's optional URL-encoding step."""
    if timestamp_ms is None:
        timestamp_ms = int(time.time() * 1000)
    if event is None:
        payload: Any = body
        if isinstance(body, bytes | bytearray):
            try:
                payload = json.loads(body)
            except ValueError:
                payload = None
        hook_name = payload.get("hook_name") if isinstance(payload, Mapping) else None
        event = HOOK_EVENTS.get(str(hook_name), "Merge Request Hook")
    if mode == "password":
        token = secret
    else:
        token = gitee_signature(timestamp_ms, secret)
        if url_encode:
            token = urllib.parse.quote_plus(token)
    return {
        "Content-Type": "application/json",
        "User-Agent": "git-oschina-hook",
        "X-Gitee-Token": token,
        "X-Gitee-Timestamp": str(timestamp_ms),
        "X-Gitee-Event": event,
        "X-Gitee-Ping": "true" if ping else "false",
    }


HOOK_EVENTS = {
    "push_hooks": "Push Hook",
    "tag_push_hooks": "Tag Push Hook",
    "issue_hooks": "Issue Hook",
    "merge_request_hooks": "Merge Request Hook",
    "note_hooks": "Note Hook",
}


class Events(Render):
    # -- webhooks --------------------------------------------------------------------------------

    def merge_request_event(
        self,
        pr: FakePR,
        *,
        action: str = "open",
        action_desc: str | None = None,
        sender: str | None = None,
    ) -> dict[str, Any]:
        """A ``Merge Request Hook`` body for ``pr`` (template: the fixture)."""
        payload: dict[str, Any] = load_fixture("merge_request_hook.open")
        who = self._hook_user(self.user(sender) if sender else pr.user)
        hook_pr = self._hook_pr(pr)
        repo = self._hook_repo(pr.repo)
        payload.update(
            action=action,
            action_desc=action_desc,
            pull_request=hook_pr,
            number=pr.number,
            iid=pr.number,
            title=pr.title,
            state=pr.state,
            url=hook_pr["html_url"],
            source_branch=pr.head_ref,
            target_branch=pr.base_ref,
            source_repo={"project": repo, "repository": repo},
            target_repo={"project": repo, "repository": repo},
            project=repo,
            repository=repo,
            author=self._hook_user(pr.user),
            updated_by=who,
            sender=who,
            hook_url=f"https://gitee.com/{pr.repo.full_name}/hooks/{payload['hook_id']}/edit",
            timestamp=str(int(self.clock() * 1000)),
        )
        return payload

    def note_event(self, comment: FakeComment, *, action: str = "comment") -> dict[str, Any]:
        """A ``Note Hook`` body for a comment on a pull request."""
        payload: dict[str, Any] = load_fixture("note_hook.pull_request")
        pr = self.pr(comment.repo.full_name, comment.pr_number)
        user = self._hook_user(comment.user)
        html = f"https://gitee.com/{pr.repo.full_name}/pulls/{pr.number}#note_{comment.id}"
        repo = self._hook_repo(pr.repo)
        payload.update(
            action=action,
            comment={
                "id": comment.id,
                "body": comment.body,
                "user": user,
                "created_at": comment.created_at,
                "updated_at": comment.updated_at,
                "html_url": html,
            },
            repository=repo,
            project=repo,
            author=user,
            sender=user,
            url=html,
            note=comment.body,
            noteable_type="PullRequest",
            noteable_id=pr.id,
            title=pr.title,
            per_iid=f"!{pr.number}",
            pull_request=self._hook_pr(pr),
            hook_url=f"https://gitee.com/{pr.repo.full_name}/hooks/{payload['hook_id']}/edit",
            timestamp=str(int(self.clock() * 1000)),
        )
        return payload

    def delivery(
        self,
        payload: Mapping[str, Any],
        *,
        mode: Mode = "signature",
        timestamp_ms: int | None = None,
        secret: str | None = None,
        url_encode: bool = False,
    ) -> tuple[dict[str, str], bytes]:
        """(headers, raw body) as Gitee would POST them; the body repeats ``timestamp`` and,
        per mode, ``password`` or ``sign`` like real deliveries."""
        secret = self.webhook_secret if secret is None else secret
        if timestamp_ms is None:
            timestamp_ms = int(self.clock() * 1000)
        body = dict(payload)
        body["timestamp"] = str(timestamp_ms)
        if mode == "password":
            body["password"], body["sign"] = secret, ""
        else:
            body["password"], body["sign"] = "", gitee_signature(timestamp_ms, secret)
        raw = json.dumps(body, ensure_ascii=False).encode("utf-8")
        headers = signed_headers(
            raw, secret=secret, mode=mode, timestamp_ms=timestamp_ms, url_encode=url_encode
        )
        return headers, raw

    # -- JSON shapes -----------------------------------------------------------------------------

    @staticmethod
    def _hook_user(u: FakeUser) -> dict[str, Any]:
        return {
            "id": u.id,
            "name": u.name,
            "email": u.email,
            "username": u.login,
            "user_name": u.login,
            "url": f"https://gitee.com/{u.login}",
            "login": u.login,
            "avatar_url": "https://gitee.com/assets/no_portrait.png",
            "html_url": f"https://gitee.com/{u.login}",
            "type": "User",
            "site_admin": False,
        }

    def _hook_repo(self, r: FakeRepo) -> dict[str, Any]:
        data: dict[str, Any] = load_fixture("merge_request_hook.open")["repository"]
        full = r.full_name
        data.update(
            id=r.id,
            name=r.name,
            path=r.path,
            full_name=full,
            owner=self._hook_user(r.owner),
            html_url=f"https://gitee.com/{full}",
            url=f"https://gitee.com/{full}",
            git_http_url=f"https://gitee.com/{full}.git",
            clone_url=f"https://gitee.com/{full}.git",
            ssh_url=f"git@gitee.com:{full}.git",
            git_ssh_url=f"git@gitee.com:{full}.git",
            namespace=r.namespace,
            name_with_namespace=f"{r.namespace_name}/{r.name}",
            path_with_namespace=full,
        )
        return data

    def _hook_pr(self, pr: FakePR) -> dict[str, Any]:
        data: dict[str, Any] = load_fixture("merge_request_hook.open")["pull_request"]
        user = self._hook_user(pr.user)
        repo = self._hook_repo(pr.repo)
        html = f"https://gitee.com/{pr.repo.full_name}/pulls/{pr.number}"
        data.update(
            id=pr.id,
            number=pr.number,
            state=pr.state,
            html_url=html,
            diff_url=html + ".diff",
            patch_url=html + ".patch",
            title=pr.title,
            labels=[self._label_json(pr.repo, n) for n in pr.labels],
            user=user,
            updated_by=user,
            merge_reference_name=f"refs/pull/{pr.number}/MERGE",
            head={
                "label": f"{pr.user.login}:{pr.head_ref}",
                "ref": pr.head_ref,
                "sha": pr.head_sha,
                "user": user,
                "repo": repo,
            },
            base={
                "label": f"{pr.repo.namespace}:{pr.base_ref}",
                "ref": pr.base_ref,
                "sha": pr.base_sha,
                "user": self._hook_user(pr.repo.owner),
                "repo": repo,
            },
            merged=pr.state == "merged",
            commits=len(pr.commits),
            comments=len(self.comments_of(pr)),
        )
        return data
