"""The JSON Gitee answers with, built from the fake's state."""

from __future__ import annotations

import urllib.parse
from typing import Any

from bot.sandbox.fakeforge.gitee.records import (
    FakeComment,
    FakeCommit,
    FakeLabel,
    FakePR,
    FakeRepo,
    FakeUser,
    load_fixture,
)
from bot.sandbox.fakeforge.gitee.state import GiteeState


class Render(GiteeState):
    @staticmethod
    def _user_json(u: FakeUser, api: str) -> dict[str, Any]:
        base = f"{api}/users/{u.login}"
        return {
            "id": u.id,
            "login": u.login,
            "name": u.name,
            "avatar_url": "https://gitee.com/assets/no_portrait.png",
            "url": base,
            "html_url": f"https://gitee.com/{u.login}",
            "remark": "",
            "followers_url": base + "/followers",
            "following_url": base + "/following_url{/other_user}",
            "gists_url": base + "/gists{/gist_id}",
            "starred_url": base + "/starred{/owner}{/repo}",
            "subscriptions_url": base + "/subscriptions",
            "organizations_url": base + "/orgs",
            "repos_url": base + "/repos",
            "events_url": base + "/events{/privacy}",
            "received_events_url": base + "/received_events",
            "type": "User",
        }

    def _repo_json(self, r: FakeRepo, api: str) -> dict[str, Any]:
        full = r.full_name
        owner = self._user_json(r.owner, api)
        return {
            "id": r.id,
            "full_name": full,
            "human_name": f"{r.namespace_name}/{r.name}",
            "url": f"{api}/repos/{full}",
            "namespace": {
                "id": r.id + 1,
                "type": "group",
                "name": r.namespace_name,
                "path": r.namespace,
                "html_url": f"https://gitee.com/{r.namespace}",
            },
            "path": r.path,
            "name": r.name,
            "owner": owner,
            "assigner": owner,
            "description": "",
            "private": False,
            "public": True,
            "internal": False,
            "fork": False,
            "html_url": f"https://gitee.com/{full}.git",
            "ssh_url": f"git@gitee.com:{full}.git",
        }

    def _label_json(self, r: FakeRepo, name: str, api: str = "https://gitee.com/api/v5") -> Any:
        label = r.labels.get(name) or FakeLabel(0, name)
        return {
            "id": label.id,
            "name": label.name,
            "color": label.color,
            "repository_id": r.id,
            "url": f"{api}/repos/{r.full_name}/labels/{urllib.parse.quote(name, safe='')}",
            "created_at": "2024-05-20T09:32:00+08:00",
            "updated_at": "2024-05-20T09:32:00+08:00",
        }

    def _pr_json(self, pr: FakePR, api: str) -> dict[str, Any]:
        data: dict[str, Any] = load_fixture("api_pull")
        base = f"{api}/repos/{pr.repo.full_name}"
        html = f"https://gitee.com/{pr.repo.full_name}/pulls/{pr.number}"
        user = self._user_json(pr.user, api)
        repo = self._repo_json(pr.repo, api)
        data.update(
            id=pr.id,
            url=f"{base}/pulls/{pr.number}",
            html_url=html,
            diff_url=html + ".diff",
            patch_url=html + ".patch",
            issue_url=f"{base}/pulls/{pr.number}/issues",
            commits_url=f"{base}/pulls/{pr.number}/commits",
            comments_url=f"{base}/pulls/{pr.number}/comments",
            number=pr.number,
            state=pr.state,
            labels=[self._label_json(pr.repo, n, api) for n in pr.labels],
            draft=pr.draft,
            merged_at="2024-05-21T10:00:00+08:00" if pr.state == "merged" else None,
            user=user,
            title=pr.title,
            head={
                "label": pr.head_ref,
                "ref": pr.head_ref,
                "sha": pr.head_sha,
                "user": user,
                "repo": repo,
            },
            base={
                "label": pr.base_ref,
                "ref": pr.base_ref,
                "sha": pr.base_sha,
                "user": self._user_json(pr.repo.owner, api),
                "repo": repo,
            },
        )
        return data

    def _commit_json(self, r: FakeRepo, c: FakeCommit, api: str) -> dict[str, Any]:
        base = f"{api}/repos/{r.full_name}"
        return {
            "url": f"{base}/commits/{c.sha}",
            "sha": c.sha,
            "html_url": f"https://gitee.com/{r.full_name}/commit/{c.sha}",
            "comments_url": f"{base}/commits/{c.sha}/comments",
            "commit": {
                "author": {"name": c.author_name, "email": c.author_email, "date": c.date},
                "committer": {"name": c.committer_name, "email": c.committer_email, "date": c.date},
                "message": c.message,
                "tree": {"sha": c.sha[::-1], "url": f"{base}/git/trees/{c.sha[::-1]}"},
            },
            "author": self._user_json(c.author, api) if c.author else None,
            "committer": self._user_json(c.committer, api) if c.committer else {},
            "parents": [{"sha": p, "url": f"{base}/commits/{p}"} for p in c.parents],
        }

    def _comment_json(self, c: FakeComment, api: str) -> dict[str, Any]:
        base = f"{api}/repos/{c.repo.full_name}"
        html = f"https://gitee.com/{c.repo.full_name}/pulls/{c.pr_number}#note_{c.id}"
        return {
            "url": f"{base}/pulls/comments/{c.id}",
            "id": c.id,
            "path": None,
            "position": None,
            "original_position": None,
            "new_line": None,
            "commit_id": None,
            "original_commit_id": None,
            "user": self._user_json(c.user, api),
            "created_at": c.created_at,
            "updated_at": c.updated_at,
            "body": c.body,
            "html_url": html,
            "pull_request_url": f"{base}/pulls/{c.pr_number}",
            "_links": {
                "self": {"href": f"{base}/pulls/comments/{c.id}"},
                "html": {"href": html},
                "pull_request": {"href": f"{base}/pulls/{c.pr_number}"},
            },
            "comment_type": "pr_comment",
            "in_reply_to_id": None,
        }

    def _profile_json(self, u: FakeUser, api: str) -> dict[str, Any]:
        """A user's profile, as ``GET /user`` and ``GET /users/{username}`` answer."""
        data = self._user_json(u, api)
        data.update(blog=None, weibo=None, bio=None, public_repos=0, followers=0, following=0)
        return data
