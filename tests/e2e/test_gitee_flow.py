"""Gitee end to end: a signed delivery to the labels and the one comment on the fake Gitee."""

from __future__ import annotations

import json
import re
import time
from pathlib import Path

import aiohttp
from sqlalchemy import func, select

from bot.cli.imports import run_import
from bot.sandbox.fakeforge.github import FakeGitHub
from bot.services.importer import HEADER
from bot.storage.models import Job, SignerAccount
from tests.e2e.conftest import GiteeBot
from tests.helpers import sign

REPO = "open-cla/cla-demo"


def scenario(bot: GiteeBot) -> object:
    g = bot.gitee
    c1 = g.make_commit(
        message="Add op", author=("Zhang Wei", "zhang.wei@example.com"), author_login="zhang-wei"
    )
    c2 = g.make_commit(message="Fix doc", author=("Zhang Wei", "wei.zhang@corp.example"))
    return g.add_pr(REPO, number=7, author="zhang-wei", commits=[c1, c2])


async def test_unsigned_then_signed_by_import(gitee_bot: GiteeBot, tmp_path: Path) -> None:
    g = gitee_bot.gitee
    pr = scenario(gitee_bot)
    assert await gitee_bot.deliver(g.merge_request_event(pr)) == 202
    assert await gitee_bot.run_jobs() == 1
    assert g.labels_of(pr) == ["cla/no"]
    comments = g.bot_comments(pr)
    assert len(comments) == 1
    body = comments[0].body
    assert body.startswith("<!-- cla-bot -->") and "@zhang-wei" in body
    assert "we***@corp.example" in body and "wei.zhang@corp.example" not in body
    assert "/profile/emails" in body  # Gitee's settings page for emails
    # the label change the bot itself made comes back as an update: ignored
    assert (
        await gitee_bot.deliver(
            g.merge_request_event(pr, action="update", action_desc="update_label")
        )
        == 200
    )

    # unchanged re-check via /check-cla: nothing written
    writes = len(g.writes())
    note = g.add_comment(pr, "/check-cla", user="zhang-wei")
    assert await gitee_bot.deliver(g.note_event(note)) == 202
    await gitee_bot.run_jobs()
    assert len(g.writes()) == writes

    csv_file = tmp_path / "g.csv"
    csv_file.write_text(
        ",".join(HEADER)
        + f"\ngitee,zhang-wei,{g.user('zhang-wei').id},wei.zhang@corp.example,,individual,1.0,2024-01-01\n"
    )
    assert await run_import(gitee_bot.runtime.settings, csv_file) == 0
    assert await gitee_bot.run_jobs() == 1  # the import's re-check, by itself
    assert g.labels_of(pr) == ["cla/yes"]
    after = g.bot_comments(pr)
    assert len(after) == 1 and after[0].id == comments[0].id
    assert "All contributors are covered" in after[0].body
    deletes = [r for r in g.requests if r.method == "DELETE"]
    assert all(
        "/labels/" in r.raw_path and "%2F" in r.raw_path for r in deletes
    )  # never the comment


async def test_push_is_update_source_branch_changed(gitee_bot: GiteeBot) -> None:
    g = gitee_bot.gitee
    pr = g.add_pr(REPO, number=2, author="li-na")
    assert await gitee_bot.deliver(g.merge_request_event(pr)) == 202
    await gitee_bot.run_jobs()
    g.add_commit(pr, author=("Li Na", "li-na@example.com"), author_login="li-na")
    event = g.merge_request_event(pr, action="update", action_desc="source_branch_changed")
    assert await gitee_bot.deliver(event) == 202
    await gitee_bot.run_jobs()
    assert len(g.bot_comments(pr)) == 1 and g.labels_of(pr) == ["cla/no"]


async def test_bad_signatures_stale_and_replayed_deliveries_are_401(gitee_bot: GiteeBot) -> None:
    g = gitee_bot.gitee
    pr = g.add_pr(REPO, number=3, author="li-na")
    event = g.merge_request_event(pr)
    headers, body = g.delivery(event)
    client = gitee_bot.client
    bad = dict(headers, **{"X-Gitee-Token": "bm90IHRoZSBzaWduYXR1cmU="})
    assert (await client.post("/webhooks/gitee", data=body, headers=bad)).status == 401
    stale_h, stale_b = g.delivery(event, timestamp_ms=int((time.time() - 7200) * 1000))
    assert (await client.post("/webhooks/gitee", data=stale_b, headers=stale_h)).status == 401
    wrong_secret_h, wrong_secret_b = g.delivery(event, secret="another-secret-of-16+")
    assert (
        await client.post("/webhooks/gitee", data=wrong_secret_b, headers=wrong_secret_h)
    ).status == 401
    async with gitee_bot.runtime.sessions() as s:
        assert await s.scalar(select(func.count()).select_from(Job)) == 0
    assert (await client.post("/webhooks/gitee", data=body, headers=headers)).status == 202
    assert (
        await client.post("/webhooks/gitee", data=body, headers=headers)
    ).status == 401  # replay
    pw_h, pw_b = g.delivery(event, mode="password")
    assert (await client.post("/webhooks/gitee", data=pw_b, headers=pw_h)).status == 202
    async with gitee_bot.runtime.sessions() as s:
        jobs = (await s.scalars(select(Job))).all()
    assert len(jobs) == 2
    stored = " ".join(str(j.payload) for j in jobs)
    assert g.webhook_secret not in stored and "password" not in stored


async def test_ping_is_200(gitee_bot: GiteeBot) -> None:
    headers, body = gitee_bot.gitee.delivery({"hook_name": "push_hooks", "password": ""})
    headers["X-Gitee-Ping"] = "true"
    assert (
        await gitee_bot.client.post("/webhooks/gitee", data=body, headers=headers)
    ).status == 200


async def test_sign_with_gitee_covers_github_commits_with_that_email(
    gitee_bot: GiteeBot, github: FakeGitHub
) -> None:
    """A Gitee sign-in records the Gitee identity and its verified email; a GitHub PR whose
    commit uses that email (not linked to any GitHub account) turns green by itself."""
    g = gitee_bot.gitee
    github.add_installation(4, account="acme", repos=["acme/lib"])
    commit = github.make_commit(author=("Wang Fang", "Wang.Fang@example.cn"))
    gh_pr = github.add_pr("acme/lib", number=1, author="wf-gh", commits=[commit])
    body = json.dumps(github.pull_request_event(gh_pr, installation_id=4)).encode()
    sent = await gitee_bot.client.post(
        "/webhooks/github",
        data=body,
        headers={
            "X-GitHub-Event": "pull_request",
            "X-GitHub-Delivery": "g1",
            "X-Hub-Signature-256": sign(body),
            "Content-Type": "application/json",
        },
    )
    assert sent.status == 202
    await gitee_bot.run_jobs()
    assert github.status_for(gh_pr.head_sha, "cla").state == "failure"  # type: ignore[union-attr]
    g.set_emails("wang-fang", ("wang.fang@example.cn", True), ("old@example.cn", False))
    g.signed_in = "wang-fang"
    client = gitee_bot.client
    start = await client.get("/sign/login/gitee?next=/sign/individual", allow_redirects=False)
    assert start.status == 302
    assert "code_challenge" not in start.headers["Location"]  # Gitee has no PKCE
    async with (
        aiohttp.ClientSession() as browser,
        browser.get(start.headers["Location"], allow_redirects=False) as auth,
    ):
        assert auth.status == 302, await auth.text()
        callback = auth.headers["Location"]
    resp = await client.get(callback[len("http://cla.test") :], allow_redirects=False)
    assert resp.status == 303
    html = await (await client.get("/sign/individual")).text()
    assert "Gitee @wang-fang" in html and "old@example.cn" not in html
    csrf = re.search(r'name="csrf" value="([^"]+)"', html)
    assert csrf
    done = await client.post(
        "/sign/individual",
        data={
            "csrf": csrf.group(1),
            "name": "Wang Fang",
            "email": "wang.fang@example.cn",
            "accept": "yes",
            "privacy": "yes",
        },
        allow_redirects=False,
    )
    assert done.status == 303
    async with gitee_bot.runtime.sessions() as s:
        acc = (await s.scalars(select(SignerAccount))).one()
    assert (acc.platform, acc.login) == ("gitee", "wang-fang")
    assert await gitee_bot.run_jobs() == 1
    assert github.status_for(gh_pr.head_sha, "cla").state == "success"  # type: ignore[union-attr]
    assert github.labels_of(gh_pr) == ["cla/yes"]
