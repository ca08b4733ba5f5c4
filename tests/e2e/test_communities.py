"""Two communities in one deployment, end to end: one on a GitHub organisation, one on a Gitee
repository, each with its own agreement. Signing one community's agreement turns that
community's PRs green by itself and leaves the other's asking for a signature; a repository no
community links gets "no CLA configured"."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import aiohttp
import yaml

from bot import settings
from bot.sandbox.fakeforge.gitee import FakeGitee
from bot.sandbox.fakeforge.github import FakeGitHub
from bot.web.app import RUNTIME, create_app
from tests.conftest import ROOT
from tests.e2e.conftest import GITEE_CLIENT_ID, GITEE_CLIENT_SECRET, GiteeBot
from tests.helpers import sign

PUBLIC = "http://cla.test"


def agreement(title: str) -> dict[str, Any]:
    return {
        "id": "individual",
        "title": title,
        "kind": "individual",
        "versions": [
            {
                "version": "1.0",
                "text": "agreements/individual-1.0.md",
                "compatibility": "compatible",
                "fields": {"name": "required", "email": "required"},
            }
        ],
    }


def write_config(path: Path) -> Path:
    """The stock manifest with two communities and no default."""
    raw = yaml.safe_load((ROOT / "app.yaml").read_text(encoding="utf-8"))
    raw.pop("cla")
    raw["communities"] = [
        {
            "id": "widgets",
            "name": "Acme Widgets",
            "links": ["github:acme"],
            "agreements": [agreement("Widgets Individual CLA")],
        },
        {
            "id": "mindspore",
            "name": "MindSpore",
            "languages": ["zh", "en"],
            "links": ["gitee:mindspore/mindspore"],
            "agreements": [agreement("MindSpore Individual CLA")],
        },
    ]
    path.write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")
    return path


async def two_communities(
    aiohttp_client: Any,
    db_url: str,
    bot_env: Callable[..., dict[str, str]],
    gitee_env: dict[str, str],
    gitee: FakeGitee,
    tmp_path: Path,
) -> GiteeBot:
    env = bot_env(
        db_url,
        CLA_PUBLIC_URL=PUBLIC,
        CLA_CONFIG=str(write_config(tmp_path / "app.yaml")),
        **gitee_env,
    )
    gitee.add_oauth_app(GITEE_CLIENT_ID, GITEE_CLIENT_SECRET, f"{PUBLIC}/sign/oauth/gitee/callback")
    app = create_app(settings.load(env, cwd=tmp_path), run_worker=False)
    return GiteeBot(client=await aiohttp_client(app), runtime=app[RUNTIME], gitee=gitee)


async def deliver_github(bot: GiteeBot, event: str, payload: dict[str, Any], key: str) -> int:
    body = json.dumps(payload).encode()
    sent = await bot.client.post(
        "/webhooks/github",
        data=body,
        headers={
            "X-GitHub-Event": event,
            "X-GitHub-Delivery": key,
            "X-Hub-Signature-256": sign(body),
            "Content-Type": "application/json",
        },
    )
    return int(sent.status)


async def sign_with_gitee(bot: GiteeBot, path: str, login: str, email: str) -> None:
    """``login`` signs in with Gitee and signs the agreement at ``path``."""
    bot.gitee.signed_in = login
    client = bot.client
    start = await client.get(f"/sign/login/gitee?next={path}", allow_redirects=False)
    assert start.status == 302
    async with (
        aiohttp.ClientSession() as browser,
        browser.get(start.headers["Location"], allow_redirects=False) as auth,
    ):
        callback = auth.headers["Location"]
    back = await client.get(callback[len(PUBLIC) :], allow_redirects=False)
    assert back.status == 303 and back.headers["Location"] == path
    html = await (await client.get(path)).text()
    csrf = re.search(r'name="csrf" value="([^"]+)"', html)
    assert csrf
    done = await client.post(
        path,
        data={
            "csrf": csrf.group(1),
            "name": "Wang Fang",
            "email": email,
            "accept": "yes",
            "privacy": "yes",
        },
        allow_redirects=False,
    )
    assert done.status == 303, await done.text()
    assert done.headers["Location"].startswith(f"{path}/done?")


async def test_a_signature_in_one_community_leaves_the_other_asking(
    aiohttp_client: Any,
    db_url: str,
    bot_env: Callable[..., dict[str, str]],
    gitee_env: dict[str, str],
    gitee: FakeGitee,
    github: FakeGitHub,
    tmp_path: Path,
) -> None:
    bot = await two_communities(aiohttp_client, db_url, bot_env, gitee_env, gitee, tmp_path)
    email = "wang.fang@example.cn"
    gitee.set_emails("wang-fang", (email, True))
    # GitHub: the acme organisation is the widgets community's; other/tools is nobody's
    github.add_installation(4, account="acme", repos=["acme/lib"])
    github.add_installation(5, account="other", repos=["other/tools"])
    gh_pr = github.add_pr(
        "acme/lib",
        number=1,
        author="wf-gh",
        commits=[github.make_commit(author=("Wang Fang", email))],
    )
    loose = github.add_pr("other/tools", number=2, author="wf-gh", commits=1)
    assert (
        await deliver_github(
            bot, "pull_request", github.pull_request_event(gh_pr, installation_id=4), "d1"
        )
        == 202
    )
    assert (
        await deliver_github(
            bot, "pull_request", github.pull_request_event(loose, installation_id=5), "d2"
        )
        == 202
    )
    # Gitee: mindspore/mindspore is the MindSpore community's
    ge_pr = gitee.add_pr(
        "mindspore/mindspore",
        number=7,
        author="wang-fang",
        commits=[
            gitee.make_commit(
                message="Add op", author=("Wang Fang", email), author_login="wang-fang"
            )
        ],
    )
    assert await bot.deliver(gitee.merge_request_event(ge_pr)) == 202
    assert await bot.run_jobs() == 3

    widgets = github.status_for(gh_pr.head_sha, "cla")
    assert widgets is not None and widgets.state == "failure"
    assert f"{PUBLIC}/sign/widgets/individual?" in (widgets.target_url or "")
    assert "Widgets Individual CLA" in github.bot_comments(gh_pr)[0].body
    nobody = github.status_for(loose.head_sha, "cla")
    assert nobody is not None and nobody.state == "error"
    assert nobody.description == "No CLA is configured for this repository"
    assert f"{PUBLIC}/console" in github.bot_comments(loose)[0].body
    assert gitee.labels_of(ge_pr) == ["cla/no"]
    [asked] = gitee.bot_comments(ge_pr)
    assert f"{PUBLIC}/sign/mindspore/individual?" in asked.body

    # signing the widgets community's agreement re-checks its PR only
    await sign_with_gitee(bot, "/sign/widgets/individual", "wang-fang", email)
    assert await bot.run_jobs() == 1
    after = github.status_for(gh_pr.head_sha, "cla")
    assert after is not None and after.state == "success"
    assert gitee.labels_of(ge_pr) == ["cla/no"]
    # asked again on Gitee, the MindSpore community still wants its own signature
    note = gitee.add_comment(ge_pr, "/cla check", user="wang-fang")
    assert await bot.deliver(gitee.note_event(note)) == 202
    await bot.run_jobs()
    assert gitee.labels_of(ge_pr) == ["cla/no"]
    assert gitee.bot_comments(ge_pr)[0].id == asked.id

    await sign_with_gitee(bot, "/sign/mindspore/individual", "wang-fang", email)
    assert await bot.run_jobs() == 1
    assert gitee.labels_of(ge_pr) == ["cla/yes"]
