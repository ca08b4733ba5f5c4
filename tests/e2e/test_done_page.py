"""The confirmation page after signing: it says whether the signer was blocking anything (and,
when not, which account signed and how to sign with another), and links back to the pull
request whose comment the signer came from — on the configured forge only."""

from __future__ import annotations

import html as html_mod
import re
from typing import Any
from urllib.parse import quote

import pytest

from bot.platforms.gitee.facts import GITEE
from tests.e2e.conftest import PUBLIC, Bot, authorize, csrf_of

REPO = "acme/widgets"
FROM_PR = "platform=github&repo=acme%2Fwidgets&pr=12"
REDIRECTED = "platform=github&repo=acme/widgets&pr=12"  # aiohttp's Location leaves / unquoted


async def login_from(bot: Bot, sign_path: str, login: str) -> str:
    """Follow the page's own *Sign in with GitHub* link as ``login``: where the bot sends the
    browser back after the login."""
    bot.github.signed_in = login
    page = await (await bot.client.get(sign_path)).text()
    link = re.search(r'href="(/sign/login/github\?[^"]+)"', page)
    assert link, page
    start = await bot.client.get(html_mod.unescape(link.group(1)), allow_redirects=False)
    assert start.status == 302, await start.text()
    callback = await authorize(start.headers["Location"])
    back = await bot.client.get(callback[len(PUBLIC) :], allow_redirects=False)
    assert back.status == 303
    return str(back.headers["Location"])


async def sign(bot: Bot, path: str, email: str) -> Any:
    form_page = await (await bot.client.get(path)).text()
    hidden = dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', form_page))
    return await bot.client.post(
        path.split("?")[0],
        data={
            **{k: html_mod.unescape(v) for k, v in hidden.items()},
            "csrf": csrf_of(form_page),
            "name": "Lin Example",
            "email": email,
            "accept": "yes",
            "privacy": "yes",
        },
        allow_redirects=False,
    )


async def test_the_comment_link_carries_the_pr_through_login_and_signing(web_bot: Bot) -> None:
    gh = web_bot.github
    gh.add_installation(1, account="acme", repos=[REPO])
    gh.set_emails("lin", ("lin@example.com", True))
    pr = gh.add_pr(REPO, number=12, author="lin")
    assert await web_bot.deliver("pull_request", gh.pull_request_event(pr, installation_id=1))
    await web_bot.run_jobs()
    body = gh.bot_comments(pr)[0].body
    link = f"{PUBLIC}/sign/individual?{FROM_PR}"
    assert link in body
    assert gh.status_for(pr.head_sha, "cla").target_url == link  # type: ignore[union-attr]

    back = await login_from(web_bot, link[len(PUBLIC) :], "lin")
    assert back == f"/sign/individual?{REDIRECTED}"
    resp = await sign(web_bot, back, "lin@example.com")
    assert resp.status == 303, await resp.text()
    assert resp.headers["Location"] == f"/sign/individual/done?{REDIRECTED}&rechecked=1"
    done = await (await web_bot.client.get(resp.headers["Location"])).text()
    assert 'id="rechecked"' in done
    assert "1 pull request you were blocking is being checked again" in done
    assert 'id="nothing-blocked"' not in done
    assert (
        f'<a class="button primary" id="back-to-pr" href="{gh.web_url}/acme/widgets/pull/12">'
        in (done)
    )
    assert "acme/widgets#12" in done
    assert await web_bot.run_jobs() == 1
    assert gh.status_for(pr.head_sha, "cla").state == "success"  # type: ignore[union-attr]


async def test_a_signer_who_blocked_nothing_is_told_which_account_signed(web_bot: Bot) -> None:
    gh = web_bot.github
    gh.add_installation(1, account="acme", repos=[REPO])
    gh.set_emails("lin-work", ("lin@work.example", True))
    pr = gh.add_pr(REPO, number=12, author="lin")  # opened with the other account
    assert await web_bot.deliver("pull_request", gh.pull_request_event(pr, installation_id=1))
    await web_bot.run_jobs()

    back = await login_from(web_bot, f"/sign/individual?{FROM_PR}", "lin-work")
    resp = await sign(web_bot, back, "lin@work.example")
    assert resp.headers["Location"] == f"/sign/individual/done?{REDIRECTED}&rechecked=0"
    done = await (await web_bot.client.get(resp.headers["Location"])).text()
    assert "being checked again" not in done
    assert 'id="nothing-blocked"' in done
    assert "No open pull request was waiting for the signature of GitHub @lin-work." in done
    # how to sign with the other account: sign out, back to the same signing link
    logout = re.search(
        r'<form method="post" action="/sign/logout" id="sign-other">(.*?)</form>', done, re.S
    )
    assert logout, done
    assert (
        f'<input type="hidden" name="next" value="/sign/individual?{html_mod.escape(FROM_PR)}">'
        in logout.group(1)
    )
    assert f'href="{gh.web_url}/acme/widgets/pull/12"' in done
    assert await web_bot.run_jobs() == 0
    assert gh.status_for(pr.head_sha, "cla").state == "failure"  # type: ignore[union-attr]


@pytest.mark.parametrize(
    "query",
    [
        "platform=github&repo=" + quote("//evil.example/x", safe="") + "&pr=1",
        "platform=github&repo=" + quote("https://evil.example/a", safe="") + "&pr=1",
        "platform=github&repo=" + quote("evil.example/../../x", safe="") + "&pr=1",
        "platform=github&repo=" + quote("../..", safe="") + "&pr=1",
        "platform=github&repo=acme%2Fwidgets&pr=1e3",
        "platform=github&repo=acme%2Fwidgets&pr=-1",
        "platform=github&repo=acme%2Fwidgets&pr=%EF%BC%91",  # a full-width digit
        "platform=github&repo=acme%2Fwidgets%2Fmore&pr=1",
        "platform=gitee&repo=acme%2Fwidgets&pr=1",  # Gitee is not configured on this bot
        "platform=gitlab&repo=acme%2Fwidgets&pr=1",
        "repo=acme%2Fwidgets&pr=1",
    ],
)
async def test_only_a_pull_request_on_the_configured_forge_is_linked(
    web_bot: Bot, query: str
) -> None:
    web_bot.github.set_emails("lin", ("lin@example.com", True))
    back = await login_from(web_bot, f"/sign/individual?{query}", "lin")
    form = await (await web_bot.client.get(back)).text()
    assert 'name="repo"' not in form and 'name="pr"' not in form
    resp = await sign(web_bot, back, "lin@example.com")
    location = resp.headers["Location"]
    assert location == "/sign/individual/done?rechecked=0"
    done = await (await web_bot.client.get(location)).text()
    assert 'id="back-to-pr"' not in done and "evil" not in done
    hrefs = re.findall(r'href="([^"]+)"', done)
    assert all(h.startswith(("/", "?")) for h in hrefs), hrefs
    # A link crafted straight to the page is held to the same rule.
    crafted = await (await web_bot.client.get(f"/sign/individual/done?{query}")).text()
    assert 'id="back-to-pr"' not in crafted and "evil" not in crafted


def test_a_gitee_pull_request_links_to_its_pulls_page(make_settings: Any, sqlite_url: str) -> None:
    from bot.web.signing import PrLink, pr_link

    conf = make_settings(
        sqlite_url,
        CLA_GITEE_TOKEN="t",
        CLA_GITEE_WEBHOOK_SECRET="s" * 16,
        CLA_GITEE_URL="https://gitee.example/",
    )
    assert pr_link(conf, {"platform": "gitee", "repo": "mind/spore", "pr": "7"}) == PrLink(
        GITEE, "mind/spore", 7, "https://gitee.example/mind/spore/pulls/7"
    )
    assert pr_link(conf, {"platform": "github", "repo": "mind/spore", "pr": "7"}) is None
