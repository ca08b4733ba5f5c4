"""Corporate CLAs against the fake GitHub: a company signs once and covers nobody until an
administrator approves it with ``cla-bot company approve``; then a PR whose only unsigned author
commits with the company's domain turns green by itself. Domains nobody single can own are
refused, and an account entry is confirmed through the forge and matched by its id."""

from __future__ import annotations

import argparse
import json
import re
from typing import Any

import pytest

from bot.cli import company as cli_company
from tests.cli.test_imports import _dump
from tests.e2e.conftest import Bot, csrf_of, oauth_login

REPO = "acme/widgets"


async def sign_corporate(bot: Bot, *, domains: str = "") -> str:
    bot.github.set_emails("maria", ("maria.legal@example.com", True))
    assert (await oauth_login(bot, "maria", next_path="/sign/corporate")).status == 303
    html = await (await bot.client.get("/sign/corporate")).text()
    assert 'name="company"' in html and 'name="title"' in html and 'name="managers"' in html
    assert 'id="corporate-approval"' in html and 'name="domains"' in html
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
            "domains": domains,
            "accept": "yes",
            "privacy": "yes",
        },
        allow_redirects=False,
    )
    assert resp.status == 303, await resp.text()
    location = resp.headers["Location"]
    assert location.startswith("/company/") and location.endswith("?signed=1")
    return location.split("?")[0]


async def company(bot: Bot, capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str]:
    """``cla-bot company …`` on the bot's database: (exit code, standard output)."""
    parser = argparse.ArgumentParser(prog="cla-bot")
    cli_company.add_parsers(parser.add_subparsers(dest="command"))
    capsys.readouterr()
    code = await cli_company.run(parser.parse_args(["company", *argv]), bot.runtime.settings)
    return code, capsys.readouterr().out


async def only_company_id(bot: Bot, capsys: pytest.CaptureFixture[str]) -> int:
    code, out = await company(bot, capsys, "list", "--pending", "--json")
    assert code == 0
    [item] = json.loads(out)
    return int(item["id"])


async def unsigned_pr(bot: Bot, number: int) -> Any:
    """An open PR whose only author commits as dev@example.com, linked to no account: the bot
    has checked it once and it fails."""
    gh = bot.github
    gh.add_installation(1, account="acme", repos=[REPO])
    commit = gh.make_commit(author=("Dev Eloper", "dev@example.com"))
    pr = gh.add_pr(REPO, number=number, author="dev-gh", commits=[commit])
    assert await bot.deliver("pull_request", gh.pull_request_event(pr, installation_id=1)) == 202
    await bot.run_jobs()
    assert status(bot, pr) == "failure"
    return pr


def state_of(page: str) -> str:
    m = re.search(r'id="company-status" data-status="(\w+)"', page)
    assert m, "no company state on the page"
    return m.group(1)


def status(bot: Bot, pr: Any) -> str | None:
    found = bot.github.status_for(pr.head_sha, "cla")
    return found.state if found else None


async def test_a_company_covers_nobody_until_approved_then_its_domain_covers(
    web_bot: Bot, db_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    gh = web_bot.github
    pr = await unsigned_pr(web_bot, 1)

    page_url = await sign_corporate(web_bot)
    page = await (await web_bot.client.get(page_url + "?signed=1")).text()
    assert 'id="company-signed"' in page and "Example Corp" in page
    assert state_of(page) == "pending"
    resp = await web_bot.client.post(
        page_url + "/add",
        data={"csrf": csrf_of(page), "kind": "domain", "value": "Example.COM"},
        allow_redirects=False,
    )
    assert resp.status == 303 and resp.headers["Location"].endswith("?saved=1")
    assert await web_bot.run_jobs() == 0  # a pending company changes no PR
    assert status(web_bot, pr) == "failure"
    assert "Example Corp" not in gh.bot_comments(pr)[0].body

    company_id = await only_company_id(web_bot, capsys)
    code, out = await company(web_bot, capsys, "show", str(company_id))
    assert code == 0 and "example.com (pending)" in out and "pending" in out
    for canary in ("Signatoryname", "Counsel", "Plaza", "maria.legal"):
        assert canary not in out
    code, out = await company(web_bot, capsys, "approve", str(company_id))
    assert (code, out) == (
        0,
        f"company {company_id} (Example Corp) is now approved; 1 PR re-check(s) queued\n",
    )
    assert await web_bot.run_jobs() == 1  # the PR it affects, by itself
    assert status(web_bot, pr) == "success"
    assert gh.labels_of(pr) == ["cla/yes"]
    body = gh.bot_comments(pr)[0].body
    assert "Example Corp" in body and "dev@example.com" not in body
    listing = await (await web_bot.client.get(page_url)).text()
    assert state_of(listing) == "approved"

    entry = re.search(r'name="entry" value="([0-9a-f]+)"', listing)
    assert entry and "example.com" in listing
    await web_bot.client.post(
        page_url + "/remove", data={"csrf": csrf_of(listing), "entry": entry.group(1)}
    )
    await web_bot.run_jobs()
    assert status(web_bot, pr) == "failure"

    dump = _dump(db_url).lower()
    for canary in (
        "maria signatoryname",
        "general counsel",
        "corporate plaza",
        "maria.legal@example.com",
    ):
        assert canary not in dump, canary


async def test_a_rejected_company_covers_nobody_and_its_managers_see_why(
    web_bot: Bot, capsys: pytest.CaptureFixture[str]
) -> None:
    gh = web_bot.github
    pr = await unsigned_pr(web_bot, 3)
    page_url = await sign_corporate(web_bot, domains="example.com")
    company_id = await only_company_id(web_bot, capsys)
    assert (await company(web_bot, capsys, "approve", str(company_id)))[0] == 0
    await web_bot.run_jobs()
    assert status(web_bot, pr) == "success"

    code, out = await company(
        web_bot, capsys, "reject", str(company_id), "--reason", "not signed by the company"
    )
    assert (code, out) == (
        0,
        f"company {company_id} (Example Corp) is now rejected; 1 PR re-check(s) queued\n",
    )
    await web_bot.run_jobs()
    assert status(web_bot, pr) == "failure"
    assert "Example Corp" not in gh.bot_comments(pr)[0].body
    page = await (await web_bot.client.get(page_url)).text()
    assert state_of(page) == "rejected" and "not signed by the company" in page


@pytest.mark.parametrize(
    ("domain", "why"),
    [
        ("gmail.com", "belongs to a free-mail provider"),
        ("co.uk", "is a public suffix"),
        ("users.noreply.github.com", "is a forge&#39;s noreply domain"),
    ],
)
async def test_a_domain_nobody_single_can_own_is_refused(
    web_bot: Bot, db_url: str, domain: str, why: str
) -> None:
    page_url = await sign_corporate(web_bot)
    page = await (await web_bot.client.get(page_url)).text()
    resp = await web_bot.client.post(
        page_url + "/add", data={"csrf": csrf_of(page), "kind": "domain", "value": domain}
    )
    html = await resp.text()
    assert resp.status == 400 and 'id="entry-error"' in html and f"{domain} {why}" in html
    assert "Nobody yet." in html  # nothing stored

    # and on the signing form: the signature is not recorded at all
    form = await (await web_bot.client.get("/sign/corporate")).text()
    resp = await web_bot.client.post(
        "/sign/corporate",
        data={
            "csrf": csrf_of(form),
            "company": "Other Corp",
            "name": "Maria Signatoryname",
            "title": "General Counsel",
            "email": "maria.legal@example.com",
            "address": "1 Corporate Plaza",
            "domains": f"example.org, {domain}",
            "accept": "yes",
            "privacy": "yes",
        },
        allow_redirects=False,
    )
    assert resp.status == 400 and 'id="err-domains"' in await resp.text()
    assert "other corp" not in _dump(db_url).lower()


async def test_domains_named_at_signing_are_approved_with_the_company(
    web_bot: Bot, capsys: pytest.CaptureFixture[str]
) -> None:
    pr = await unsigned_pr(web_bot, 4)
    page_url = await sign_corporate(web_bot, domains="example.com")
    page = await (await web_bot.client.get(page_url)).text()
    assert re.search(
        r'data-kind="domain" data-status="pending"><td>[^<]*</td><td>example.com', page
    )
    await web_bot.run_jobs()
    assert status(web_bot, pr) == "failure"
    company_id = await only_company_id(web_bot, capsys)
    await company(web_bot, capsys, "approve", str(company_id))
    await web_bot.run_jobs()
    assert status(web_bot, pr) == "success"


async def test_managers_only(web_bot: Bot) -> None:
    gh = web_bot.github
    gh.add_installation(1, account="acme", repos=[REPO])
    gh.user("newhire")
    pr = gh.add_pr(REPO, number=5, author="someone")
    await web_bot.deliver("pull_request", gh.pull_request_event(pr, installation_id=1))
    await web_bot.run_jobs()
    page_url = await sign_corporate(web_bot)
    # a named co-manager sees the company once signed in
    web_bot.github.set_emails("co-manager", ("co@example.com", True))
    await oauth_login(web_bot, "co-manager", next_path="/company")
    overview = await (await web_bot.client.get("/company")).text()
    assert "Example Corp" in overview and 'data-status="pending"' in overview
    page = await (await web_bot.client.get(page_url)).text()
    resp = await web_bot.client.post(
        page_url + "/add", data={"csrf": csrf_of(page), "kind": "login", "value": "newhire"}
    )
    assert resp.status == 200 and "github:newhire" in await resp.text()
    bad = await web_bot.client.post(
        page_url + "/add", data={"csrf": csrf_of(page), "kind": "domain", "value": "not a domain"}
    )
    assert bad.status == 400 and 'id="entry-error"' in await bad.text()
    # anyone else does not
    web_bot.github.set_emails("stranger", ("s@example.org", True))
    await oauth_login(web_bot, "stranger", next_path="/company")
    assert 'id="no-company"' in await (await web_bot.client.get("/company")).text()
    assert (await web_bot.client.get(page_url)).status == 404


async def test_a_listed_account_covers_its_commits_by_its_id(
    web_bot: Bot, capsys: pytest.CaptureFixture[str]
) -> None:
    gh = web_bot.github
    gh.add_installation(1, account="acme", repos=[REPO])
    pr = gh.add_pr(REPO, number=2, author="newhire")
    await web_bot.deliver("pull_request", gh.pull_request_event(pr, installation_id=1))
    await web_bot.run_jobs()
    page_url = await sign_corporate(web_bot)
    company_id = await only_company_id(web_bot, capsys)
    await company(web_bot, capsys, "approve", str(company_id))
    page = await (await web_bot.client.get(page_url)).text()
    ghost = await web_bot.client.post(
        page_url + "/add", data={"csrf": csrf_of(page), "kind": "login", "value": "nobody-here"}
    )
    assert ghost.status == 400 and "GitHub has no user account named nobody-here" in (
        await ghost.text()
    )
    resp = await web_bot.client.post(
        page_url + "/add",
        data={"csrf": csrf_of(page), "kind": "login", "value": "@NewHire"},
        allow_redirects=False,
    )
    assert resp.status == 303 and resp.headers["Location"].endswith("?changed=1")
    assert [r.path for r in gh.requests if r.route == "/users/{username}"] == [
        "/users/nobody-here",
        "/users/newhire",
    ]
    assert await web_bot.run_jobs() == 1
    assert status(web_bot, pr) == "success"
    assert "Example Corp" in gh.bot_comments(pr)[0].body

    # a contributor who only claims the login in a noreply address is not covered
    forged = gh.make_commit(author=("Not Newhire", "666+newhire@users.noreply.github.com"))
    impostor = gh.add_pr(REPO, number=6, author="someone-else", commits=[forged])
    await web_bot.deliver("pull_request", gh.pull_request_event(impostor, installation_id=1))
    await web_bot.run_jobs()
    assert status(web_bot, impostor) == "failure"
