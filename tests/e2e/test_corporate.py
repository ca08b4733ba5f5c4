"""Corporate CLAs: a company signs once; its managers list who it covers; a PR whose only
unsigned author commits with the company's domain turns green by itself."""

from __future__ import annotations

import re

from tests.e2e.conftest import Bot, csrf_of, oauth_login
from tests.services.test_importer import _dump

REPO = "acme/widgets"


async def sign_corporate(bot: Bot) -> str:
    bot.github.set_emails("maria", ("maria.legal@example.com", True))
    assert (await oauth_login(bot, "maria", next_path="/sign/corporate")).status == 303
    html = await (await bot.client.get("/sign/corporate")).text()
    assert 'name="company"' in html and 'name="title"' in html and 'name="managers"' in html
    resp = await bot.client.post(
        "/sign/corporate",
        data={
            "csrf": csrf_of(html),
            "company": "Example Corp",
            "name": "Maria Signatoryname",
            "title": "General Counsel",
            "email": "maria.legal@example.com",
            "address": "1 Corporate Plaza, Canaryville",
            "managers": "co-manager, @Other-Manager",
            "accept": "yes",
            "privacy": "yes",
        },
        allow_redirects=False,
    )
    assert resp.status == 303, await resp.text()
    location = resp.headers["Location"]
    assert location.startswith("/company/") and location.endswith("?signed=1")
    return location.split("?")[0]


async def test_a_company_domain_covers_a_new_employee(web_bot: Bot, db_url: str) -> None:
    gh = web_bot.github
    gh.add_installation(1, account="acme", repos=[REPO])
    commit = gh.make_commit(author=("Dev Eloper", "dev@example.com"))  # not linked to any account
    pr = gh.add_pr(REPO, number=1, author="dev-gh", commits=[commit])
    assert (
        await web_bot.deliver("pull_request", gh.pull_request_event(pr, installation_id=1)) == 202
    )
    await web_bot.run_jobs()
    assert gh.status_for(pr.head_sha, "cla").state == "failure"  # type: ignore[union-attr]

    page_url = await sign_corporate(web_bot)
    page = await (await web_bot.client.get(page_url + "?signed=1")).text()
    assert 'id="company-signed"' in page and "Example Corp" in page
    await web_bot.run_jobs()
    assert gh.status_for(pr.head_sha, "cla").state == "failure"  # type: ignore[union-attr]

    resp = await web_bot.client.post(
        page_url + "/add",
        data={"csrf": csrf_of(page), "kind": "domain", "value": "Example.COM"},
        allow_redirects=False,
    )
    assert resp.status == 303
    assert await web_bot.run_jobs() == 1  # the PR it affects, by itself
    assert gh.status_for(pr.head_sha, "cla").state == "success"  # type: ignore[union-attr]
    assert gh.labels_of(pr) == ["cla/yes"]
    body = gh.bot_comments(pr)[0].body
    assert "Example Corp" in body and "dev@example.com" not in body

    listing = await (await web_bot.client.get(page_url)).text()
    entry = re.search(r'name="entry" value="([0-9a-f]+)"', listing)
    assert entry and "example.com" in listing
    await web_bot.client.post(
        page_url + "/remove", data={"csrf": csrf_of(listing), "entry": entry.group(1)}
    )
    await web_bot.run_jobs()
    assert gh.status_for(pr.head_sha, "cla").state == "failure"  # type: ignore[union-attr]

    dump = _dump(db_url).lower()
    for canary in (
        "maria signatoryname",
        "general counsel",
        "corporate plaza",
        "maria.legal@example.com",
    ):
        assert canary not in dump, canary


async def test_managers_only(web_bot: Bot) -> None:
    page_url = await sign_corporate(web_bot)
    # a named co-manager sees the company once signed in
    web_bot.github.set_emails("co-manager", ("co@example.com", True))
    await oauth_login(web_bot, "co-manager", next_path="/company")
    overview = await (await web_bot.client.get("/company")).text()
    assert "Example Corp" in overview
    page = await (await web_bot.client.get(page_url)).text()
    resp = await web_bot.client.post(
        page_url + "/add", data={"csrf": csrf_of(page), "kind": "login", "value": "newhire"}
    )
    assert resp.status == 200 and "newhire" in await resp.text()
    bad = await web_bot.client.post(
        page_url + "/add", data={"csrf": csrf_of(page), "kind": "domain", "value": "not a domain"}
    )
    assert bad.status == 400 and 'id="entry-error"' in await bad.text()
    # anyone else does not
    web_bot.github.set_emails("stranger", ("s@example.org", True))
    await oauth_login(web_bot, "stranger", next_path="/company")
    assert 'id="no-company"' in await (await web_bot.client.get("/company")).text()
    assert (await web_bot.client.get(page_url)).status == 404


async def test_a_listed_login_covers_its_commits(web_bot: Bot) -> None:
    gh = web_bot.github
    gh.add_installation(1, account="acme", repos=[REPO])
    pr = gh.add_pr(REPO, number=2, author="newhire")
    await web_bot.deliver("pull_request", gh.pull_request_event(pr, installation_id=1))
    await web_bot.run_jobs()
    page_url = await sign_corporate(web_bot)
    page = await (await web_bot.client.get(page_url)).text()
    await web_bot.client.post(
        page_url + "/add", data={"csrf": csrf_of(page), "kind": "login", "value": "@NewHire"}
    )
    await web_bot.run_jobs()
    assert gh.status_for(pr.head_sha, "cla").state == "success"  # type: ignore[union-attr]
    assert "Example Corp" in gh.bot_comments(pr)[0].body
