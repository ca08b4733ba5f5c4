"""5. Sign to green: one contributor blocks 50 open PRs — 25 on GitHub across 5 repositories
(commits linked to her GitHub account) and 25 on Gitee across 5 repositories (commits made with
her verified email) — then signs once on the web with GitHub. Measured: from submitting the
signing form to the moment the last of the 50 shows success on its forge (GitHub: the ``cla``
status; Gitee, which has no statuses: the ``cla/yes`` label).

``cla-bot serve`` runs as a subprocess on SQLite; this process plays the browser (OAuth through
the fake GitHub's pages) and hosts the fakes, which tell when the last PR turned green.

Baseline: the same flow for a contributor blocking a single GitHub PR."""

from __future__ import annotations

import re
import time
from dataclasses import dataclass
from typing import Any

import aiohttp

from bench.common import (
    OAUTH_CLIENT_ID,
    OAUTH_CLIENT_SECRET,
    BotProcess,
    Forges,
    Table,
    bot_env,
    free_port,
    fresh_database,
    github_headers,
    ratio,
    run_dir,
)
from bot.sandbox.fakeforge.gitee import FakePR as GiteePR
from bot.sandbox.fakeforge.github import FakePR as GitHubPR

INSTALLATION = 91
REPOS = 5
PER_PLATFORM = 25


@dataclass
class SignResult:
    prs: int
    seconds: float
    blocked_s: float


class Browser:
    """A browser signed in to the fake GitHub, talking to the bot."""

    def __init__(self, bot_url: str, forges: Forges) -> None:
        self.bot_url = bot_url
        self.forges = forges
        self.http = aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True))

    async def close(self) -> None:
        await self.http.close()

    async def login(self, login: str) -> None:
        self.forges.github.signed_in = login
        start = await self.http.get(
            f"{self.bot_url}/sign/login/github?next=/sign/individual", allow_redirects=False
        )
        authorize = start.headers["Location"]
        auth = await self.http.get(authorize, allow_redirects=False)
        callback = await self.http.get(auth.headers["Location"], allow_redirects=False)
        if callback.status != 303:
            raise RuntimeError(f"OAuth callback answered {callback.status}")

    async def sign_form(self, name: str, email: str) -> dict[str, str]:
        async with self.http.get(f"{self.bot_url}/sign/individual") as page:
            html = await page.text()
        m = re.search(r'name="csrf" value="([^"]+)"', html)
        if m is None:
            raise RuntimeError("no signing form (not signed in?)")
        return {"csrf": m.group(1), "name": name, "email": email, "accept": "yes", "privacy": "yes"}

    async def submit(self, form: dict[str, str]) -> None:
        async with self.http.post(
            f"{self.bot_url}/sign/individual", data=form, allow_redirects=False
        ) as resp:
            if resp.status != 303:
                raise RuntimeError(f"signing answered {resp.status}: {(await resp.text())[:300]}")


async def deliver_github(http: aiohttp.ClientSession, url: str, payload: dict[str, Any]) -> None:
    import json

    body = json.dumps(payload).encode()
    async with http.post(url + "/webhooks/github", data=body, headers=github_headers(body)) as r:
        if r.status != 202:
            raise RuntimeError(f"delivery answered {r.status}")


async def deliver_gitee(
    http: aiohttp.ClientSession, url: str, forges: Forges, payload: dict[str, Any]
) -> None:
    headers, body = forges.gitee.delivery(payload)
    async with http.post(url + "/webhooks/gitee", data=body, headers=headers) as r:
        if r.status != 202:
            raise RuntimeError(f"gitee delivery answered {r.status}")


def github_green(forges: Forges, prs: list[GitHubPR]) -> bool:
    gh = forges.github
    for pr in prs:
        st = gh.status_for(pr.head_sha, "cla")
        if st is None or st.state != "success":
            return False
    return True


def github_blocked(forges: Forges, prs: list[GitHubPR]) -> bool:
    gh = forges.github
    for pr in prs:
        st = gh.status_for(pr.head_sha, "cla")
        if st is None or st.state != "failure":
            return False
    return True


def gitee_state(forges: Forges, prs: list[GiteePR], label: str) -> bool:
    return all(label in pr.labels for pr in prs)


async def run_case(
    forges: Forges, bot: BotProcess, login: str, github_prs: int, gitee_prs: int
) -> SignResult:
    gh, ge = forges.github, forges.gitee
    email = f"{login}@example.org"
    gh.set_emails(login, (email, True))
    hub: list[GitHubPR] = []
    for i in range(github_prs):
        repo = f"acme/{login}-app-{i % REPOS}"
        gh.installations[INSTALLATION].repos = None  # the installation sees every repository
        hub.append(gh.add_pr(repo, author=login, commits=1))
    tee: list[GiteePR] = []
    for i in range(gitee_prs):
        repo = f"open-cla/{login}-lib-{i % REPOS}"
        commit = ge.make_commit(author=(login.title(), email))  # no Gitee account linked
        tee.append(ge.add_pr(repo, author=f"{login}-gitee", commits=[commit]))
    started = time.monotonic()
    async with aiohttp.ClientSession() as http:
        for hub_pr in hub:
            await deliver_github(
                http, bot.url, gh.pull_request_event(hub_pr, installation_id=INSTALLATION)
            )
        for tee_pr in tee:
            await deliver_gitee(http, bot.url, forges, ge.merge_request_event(tee_pr))
    await forges.wait_for(
        lambda: github_blocked(forges, hub) and gitee_state(forges, tee, "cla/no"), timeout_s=300
    )
    blocked_s = time.monotonic() - started

    browser = Browser(bot.url, forges)
    try:
        await browser.login(login)
        form = await browser.sign_form(login.title(), email)
        signed = time.monotonic()
        await browser.submit(form)
        done = await forges.wait_for(
            lambda: github_green(forges, hub) and gitee_state(forges, tee, "cla/yes"),
            timeout_s=300,
        )
    finally:
        await browser.close()
    return SignResult(len(hub) + len(tee), done - signed, blocked_s)


async def sign_to_green() -> tuple[SignResult, SignResult]:
    directory = run_dir("sign")
    async with Forges() as forges, fresh_database("sqlite", directory) as url:
        port = free_port()
        env = bot_env(url, directory, forges.env(directory), port=port)
        forges.github.add_installation(INSTALLATION, account="acme", repos=None)
        forges.github.add_oauth_app(
            OAUTH_CLIENT_ID,
            OAUTH_CLIENT_SECRET,
            f"http://127.0.0.1:{port}/sign/oauth/github/callback",
        )
        async with BotProcess(env, directory, "serve") as bot:
            base = await run_case(forges, bot, "bert", 1, 0)
            many = await run_case(forges, bot, "sigrid", PER_PLATFORM, PER_PLATFORM)
        problems = forges.github.violations + forges.gitee.violations
        if problems:
            raise RuntimeError(f"the bot sent requests the fakes refuse: {problems[:3]}")
    return base, many


def table(base: SignResult, many: SignResult) -> Table:
    t = Table(
        "5. Sign to green (form submitted → every blocked PR shows success)",
        ["case", "PRs", "sign → all green", "× baseline", "deliveries → all blocked"],
    )
    t.add(
        "baseline: one GitHub PR",
        base.prs,
        f"{base.seconds:.2f} s",
        "1.00x",
        f"{base.blocked_s:.2f} s",
    )
    t.add(
        f"one signer, {PER_PLATFORM} GitHub + {PER_PLATFORM} Gitee PRs, {REPOS * 2} repositories",
        many.prs,
        f"{many.seconds:.2f} s",
        ratio(many.seconds, base.seconds),
        f"{many.blocked_s:.2f} s",
    )
    t.notes.append("target: ≤ 10 s on the fake forges")
    return t
