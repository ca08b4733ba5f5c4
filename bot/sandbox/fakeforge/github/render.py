"""The JSON GitHub answers with, built from the fake's state (each shape is validated against
the OpenAPI response schema when served)."""

from __future__ import annotations

import urllib.parse
from collections import Counter
from typing import Any

from bot.sandbox.fakeforge.github.records import (
    FakeCheckRun,
    FakeComment,
    FakeCommit,
    FakeDelivery,
    FakeIssue,
    FakeLabel,
    FakePR,
    FakeReaction,
    FakeRepo,
    FakeStatus,
    FakeUser,
    _Ctx,
    manifest_permissions,
)
from bot.sandbox.fakeforge.github.state import GitHubState


class Render(GitHubState):
    def _user_json(self, u: FakeUser, api: str, web_base: str) -> dict[str, Any]:
        url = f"{api}/users/{u.login}"
        return {
            "login": u.login,
            "id": u.id,
            "node_id": f"MDQ6VXNlcj{u.id}",
            "avatar_url": f"https://avatars.githubusercontent.com/u/{u.id}?v=4",
            "gravatar_id": "",
            "url": url,
            "html_url": f"{web_base}/{u.login}",
            "followers_url": f"{url}/followers",
            "following_url": f"{url}/following{{/other_user}}",
            "gists_url": f"{url}/gists{{/gist_id}}",
            "starred_url": f"{url}/starred{{/owner}}{{/repo}}",
            "subscriptions_url": f"{url}/subscriptions",
            "organizations_url": f"{url}/orgs",
            "repos_url": f"{url}/repos",
            "events_url": f"{url}/events{{/privacy}}",
            "received_events_url": f"{url}/received_events",
            "type": u.type,
            "user_view_type": "public",
            "site_admin": False,
        }

    def _org_json(self, org: FakeUser, api: str) -> dict[str, Any]:
        """An ``organization-simple`` object."""
        url = f"{api}/orgs/{org.login}"
        return {
            "login": org.login,
            "id": org.id,
            "node_id": f"MDEyOk9yZ2FuaXphdGlvbj{org.id}",
            "url": url,
            "repos_url": f"{url}/repos",
            "events_url": f"{url}/events",
            "hooks_url": f"{url}/hooks",
            "issues_url": f"{url}/issues",
            "members_url": f"{url}/members{{/member}}",
            "public_members_url": f"{url}/public_members{{/member}}",
            "avatar_url": f"https://avatars.githubusercontent.com/u/{org.id}?v=4",
            "description": None,
        }

    def _repo_json(self, r: FakeRepo, api: str, web_base: str) -> dict[str, Any]:
        url = f"{api}/repos/{r.full_name}"
        templated = {
            "archive_url": "/{archive_format}{/ref}",
            "assignees_url": "/assignees{/user}",
            "blobs_url": "/git/blobs{/sha}",
            "branches_url": "/branches{/branch}",
            "collaborators_url": "/collaborators{/collaborator}",
            "comments_url": "/comments{/number}",
            "commits_url": "/commits{/sha}",
            "compare_url": "/compare/{base}...{head}",
            "contents_url": "/contents/{+path}",
            "contributors_url": "/contributors",
            "deployments_url": "/deployments",
            "downloads_url": "/downloads",
            "events_url": "/events",
            "forks_url": "/forks",
            "git_commits_url": "/git/commits{/sha}",
            "git_refs_url": "/git/refs{/sha}",
            "git_tags_url": "/git/tags{/sha}",
            "hooks_url": "/hooks",
            "issue_comment_url": "/issues/comments{/number}",
            "issue_events_url": "/issues/events{/number}",
            "issues_url": "/issues{/number}",
            "keys_url": "/keys{/key_id}",
            "labels_url": "/labels{/name}",
            "languages_url": "/languages",
            "merges_url": "/merges",
            "milestones_url": "/milestones{/number}",
            "notifications_url": "/notifications{?since,all,participating}",
            "pulls_url": "/pulls{/number}",
            "releases_url": "/releases{/id}",
            "stargazers_url": "/stargazers",
            "statuses_url": "/statuses/{sha}",
            "subscribers_url": "/subscribers",
            "subscription_url": "/subscription",
            "tags_url": "/tags",
            "teams_url": "/teams",
            "trees_url": "/git/trees{/sha}",
        }
        host = urllib.parse.urlsplit(web_base).netloc
        body: dict[str, Any] = {
            "id": r.id,
            "node_id": f"MDEwOlJlcG9zaXRvcnk{r.id}",
            "name": r.name,
            "full_name": r.full_name,
            "owner": self._user_json(r.owner, api, web_base),
            "private": r.private,
            "html_url": f"{web_base}/{r.full_name}",
            "description": None,
            "fork": False,
            "url": url,
            **{k: url + v for k, v in templated.items()},
            "git_url": f"git://{host}/{r.full_name}.git",
            "ssh_url": f"git@{host}:{r.full_name}.git",
            "clone_url": f"{web_base}/{r.full_name}.git",
            "svn_url": f"{web_base}/{r.full_name}",
            "mirror_url": None,
            "homepage": None,
            "language": "Python",
            "forks": 0,
            "forks_count": 0,
            "stargazers_count": 0,
            "watchers_count": 0,
            "watchers": 0,
            "size": 1,
            "default_branch": r.default_branch,
            "open_issues": 0,
            "open_issues_count": 0,
            "is_template": False,
            "topics": [],
            "has_issues": True,
            "has_projects": True,
            "has_wiki": True,
            "has_pages": False,
            "has_downloads": True,
            "archived": False,
            "disabled": False,
            "visibility": "private" if r.private else "public",
            "license": None,
            "pushed_at": "2024-01-01T00:00:00Z",
            "created_at": "2020-01-01T00:00:00Z",
            "updated_at": "2024-01-01T00:00:00Z",
        }
        return body

    def _label_json(self, repo: FakeRepo, name: str, api: str) -> dict[str, Any]:
        label = repo.labels.get(name.lower()) or FakeLabel(0, name)
        quoted = urllib.parse.quote(label.name, safe="")
        return {
            "id": label.id,
            "node_id": f"MDU6TGFiZWw{label.id}",
            "url": f"{api}/repos/{repo.full_name}/labels/{quoted}",
            "name": label.name,
            "description": label.description,
            "color": label.color,
            "default": False,
        }

    def _pr_json(self, pr: FakePR, api: str, web_base: str) -> dict[str, Any]:
        full = pr.repo.full_name
        url = f"{api}/repos/{full}/pulls/{pr.number}"
        issue_url = f"{api}/repos/{full}/issues/{pr.number}"
        html = f"{web_base}/{full}/pull/{pr.number}"
        repo_json = self._repo_json(pr.repo, api, web_base)
        owner_json = self._user_json(pr.repo.owner, api, web_base)
        author_json = self._user_json(pr.user, api, web_base)
        links = {
            "self": {"href": url},
            "html": {"href": html},
            "issue": {"href": issue_url},
            "comments": {"href": f"{issue_url}/comments"},
            "review_comments": {"href": f"{url}/comments"},
            "review_comment": {"href": f"{api}/repos/{full}/pulls/comments{{/number}}"},
            "commits": {"href": f"{url}/commits"},
            "statuses": {"href": f"{api}/repos/{full}/statuses/{pr.head_sha}"},
        }
        return {
            "url": url,
            "id": pr.id,
            "node_id": f"MDExOlB1bGxSZXF1ZXN0{pr.id}",
            "html_url": html,
            "diff_url": html + ".diff",
            "patch_url": html + ".patch",
            "issue_url": issue_url,
            "commits_url": f"{url}/commits",
            "review_comments_url": f"{url}/comments",
            "review_comment_url": f"{api}/repos/{full}/pulls/comments{{/number}}",
            "comments_url": f"{issue_url}/comments",
            "statuses_url": f"{api}/repos/{full}/statuses/{pr.head_sha}",
            "number": pr.number,
            "state": "closed" if pr.state in ("closed", "merged") else "open",
            "locked": False,
            "title": pr.title,
            "user": author_json,
            "body": None,
            "labels": self._labels_json(pr, api),
            "milestone": None,
            "active_lock_reason": None,
            "created_at": "2024-01-01T00:00:00Z",
            "updated_at": "2024-01-01T00:00:00Z",
            "closed_at": None if pr.state == "open" else "2024-01-02T00:00:00Z",
            "merged_at": "2024-01-02T00:00:00Z" if pr.merged else None,
            "merge_commit_sha": None,
            "assignee": None,
            "assignees": [],
            "requested_reviewers": [],
            "requested_teams": [],
            "head": {
                "label": f"{pr.user.login}:{pr.head_ref}",
                "ref": pr.head_ref,
                "sha": pr.head_sha,
                "user": author_json,
                "repo": repo_json,
            },
            "base": {
                "label": f"{pr.repo.owner.login}:{pr.base_ref}",
                "ref": pr.base_ref,
                "sha": pr.base_sha,
                "user": owner_json,
                "repo": repo_json,
            },
            "_links": links,
            "author_association": "CONTRIBUTOR",
            "auto_merge": None,
            "draft": pr.draft,
            "merged": pr.merged,
            "mergeable": True,
            "rebaseable": True,
            "mergeable_state": "clean",
            "merged_by": None,
            "comments": len(self.comments_of(pr)),
            "review_comments": 0,
            "maintainer_can_modify": False,
            "commits": len(pr.commits),
            "additions": len(pr.commits),
            "deletions": 0,
            "changed_files": 1 if pr.commits else 0,
        }

    def _commit_json(
        self, repo: FakeRepo, c: FakeCommit, api: str, web_base: str
    ) -> dict[str, Any]:
        full = repo.full_name
        return {
            "url": f"{api}/repos/{full}/commits/{c.sha}",
            "sha": c.sha,
            "node_id": f"MDY6Q29tbWl0{c.sha[:12]}",
            "html_url": f"{web_base}/{full}/commit/{c.sha}",
            "comments_url": f"{api}/repos/{full}/commits/{c.sha}/comments",
            "commit": {
                "url": f"{api}/repos/{full}/git/commits/{c.sha}",
                "author": {"name": c.author_name, "email": c.author_email, "date": c.date},
                "committer": {
                    "name": c.committer_name,
                    "email": c.committer_email,
                    "date": c.date,
                },
                "message": c.message,
                "comment_count": 0,
                "tree": {"sha": c.sha[::-1], "url": f"{api}/repos/{full}/git/trees/{c.sha[::-1]}"},
                "verification": {
                    "verified": False,
                    "reason": "unsigned",
                    "payload": None,
                    "signature": None,
                    "verified_at": None,
                },
            },
            "author": self._user_json(c.author, api, web_base) if c.author else None,
            "committer": self._user_json(c.committer, api, web_base) if c.committer else None,
            "parents": [
                {
                    "sha": p,
                    "url": f"{api}/repos/{full}/commits/{p}",
                    "html_url": f"{web_base}/{full}/commit/{p}",
                }
                for p in c.parents
            ],
        }

    def _comment_json(self, c: FakeComment, api: str, web_base: str) -> dict[str, Any]:
        full = c.repo.full_name
        url = f"{api}/repos/{full}/issues/comments/{c.id}"
        counts = Counter(r.content for r in self.reactions if r.comment_id == c.id)
        reactions: dict[str, Any] = {
            "url": f"{url}/reactions",
            "total_count": sum(counts.values()),
        }
        for content in ("+1", "-1", "laugh", "confused", "heart", "hooray", "eyes", "rocket"):
            reactions[content] = counts.get(content, 0)
        return {
            "id": c.id,
            "node_id": f"MDEyOklzc3VlQ29tbWVudA{c.id}",
            "url": url,
            "html_url": f"{web_base}/{full}/pull/{c.issue_number}#issuecomment-{c.id}",
            "body": c.body,
            "user": self._user_json(c.user, api, web_base),
            "created_at": c.created_at,
            "updated_at": c.updated_at,
            "issue_url": f"{api}/repos/{full}/issues/{c.issue_number}",
            "author_association": "NONE",
            "performed_via_github_app": None,
            "reactions": reactions,
        }

    def _status_json(self, s: FakeStatus, api: str, web_base: str) -> dict[str, Any]:
        return {
            "url": f"{api}/repos/{s.repo.full_name}/statuses/{s.sha}",
            "avatar_url": f"https://avatars.githubusercontent.com/u/{s.creator.id}?v=4",
            "id": s.id,
            "node_id": f"MDEzOlN0YXR1c0NvbnRleHQ{s.id}",
            "state": s.state,
            "description": s.description,
            "target_url": s.target_url,
            "context": s.context,
            "created_at": s.created_at,
            "updated_at": s.created_at,
            "creator": self._user_json(s.creator, api, web_base),
        }

    def _reaction_json(self, r: FakeReaction, api: str, web_base: str) -> dict[str, Any]:
        return {
            "id": r.id,
            "node_id": f"MDg6UmVhY3Rpb24{r.id}",
            "user": self._user_json(r.user, api, web_base),
            "content": r.content,
            "created_at": r.created_at,
        }

    def _labels_json(self, issue: FakeIssue, api: str) -> list[dict[str, Any]]:
        return [self._label_json(issue.repo, n, api) for n in issue.labels]

    def _check_run_json(self, r: FakeCheckRun, api: str, web_base: str) -> dict[str, Any]:
        url = f"{api}/repos/{r.repo.full_name}/check-runs/{r.id}"
        return {
            "id": r.id,
            "node_id": f"MDg6Q2hlY2tSdW4{r.id}",
            "head_sha": r.head_sha,
            "external_id": "",
            "name": r.name,
            "url": url,
            "html_url": f"{web_base}/{r.repo.full_name}/runs/{r.id}",
            "details_url": r.details_url,
            "status": r.status,
            "conclusion": r.conclusion,
            "started_at": r.started_at,
            "completed_at": r.completed_at,
            "output": {
                "title": r.title,
                "summary": r.summary,
                "text": None,
                "annotations_count": 0,
                "annotations_url": f"{url}/annotations",
            },
            "check_suite": {"id": r.id + 1_000_000},
            "app": self._app_json(api, web_base),
            "pull_requests": [],
        }

    def _app_json(self, api: str, web_base: str) -> dict[str, Any]:
        owner = FakeUser("octo-org", 1, "Organization")  # the App's owner: no account here
        return {
            "id": int(self.app_id),
            "slug": self.app_slug,
            "node_id": f"MDM6QXBw{self.app_id}",
            "client_id": "Iv1.fakeclientid",
            "owner": self._user_json(owner, api, web_base),
            "name": self.app_slug,
            "description": "Checks that every contributor of a pull request has signed the CLA.",
            "external_url": "https://cla.example.org",
            "html_url": f"{web_base}/apps/{self.app_slug}",
            "created_at": "2024-01-01T00:00:00Z",
            "updated_at": "2024-01-01T00:00:00Z",
            "permissions": dict(manifest_permissions()),
            "events": ["issue_comment", "pull_request"],
        }

    def _delivery_item(self, d: FakeDelivery) -> dict[str, Any]:
        return {
            "id": d.id,
            "guid": d.guid,
            "delivered_at": d.delivered_at,
            "redelivery": d.redelivery,
            "duration": round(d.duration_s, 3),
            "status": d.status,
            "status_code": d.status_code,
            "event": d.event,
            "action": d.action,
            "installation_id": d.installation_id,
            "repository_id": d.repository_id,
            "throttled_at": None,
        }

    def _public_user_json(self, u: FakeUser, ctx: _Ctx) -> dict[str, Any]:
        """A ``public-user`` object, as ``GET /user`` and ``GET /user/{account_id}`` answer."""
        data = self._user_json(u, ctx.api, ctx.web)
        data.update(
            {
                "name": None,
                "company": None,
                "blog": "",
                "location": None,
                "email": None,
                "hireable": None,
                "bio": None,
                "public_repos": 0,
                "public_gists": 0,
                "followers": 0,
                "following": 0,
                "created_at": "2020-01-01T00:00:00Z",
                "updated_at": "2020-01-01T00:00:00Z",
            }
        )
        return data
