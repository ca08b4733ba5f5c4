"""Corporate CLAs against the fake GitHub: a company signs once — recorded only once the
signatory proves an address at the company's domain with the code mailed to it (a real SMTP
server on loopback) — and covers nobody until an administrator approves it with ``cla-bot
company approve``; then a PR whose only unsigned author commits with the company's domain turns
green by itself. Domains nobody single can own are refused, and an account entry is confirmed
through the forge and matched by its id."""

from __future__ import annotations

import argparse
import json
import re
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from bot import settings
from bot.cli import company as cli_company
from bot.sandbox.outbox import Outbox
from bot.storage.models import (
    Company,
    CompanyEntry,
    CompanyInvitation,
    CompanyManager,
    EmailProof,
)
from bot.web.app import RUNTIME, create_app
from tests.cli.test_imports import _dump
from tests.e2e.conftest import PUBLIC, Bot, csrf_of, oauth_login

REPO = "acme/widgets"
ROOT = Path(__file__).resolve().parents[2]
MARIA = {
    "company": "Example Corp",
    "name": "Maria Signatoryname",
    "title": "General Counsel",
    "email": "maria.legal@example.com",
    "address": "1 Corporate Plaza, Canaryville",
    "managers": "co-manager, @Other-Manager",
    "accept": "yes",
    "privacy": "yes",
}


def last_code(box: Outbox, to: str) -> str:
    """The code in the latest code mail to ``to``."""
    for message in reversed(box.messages):
        body = message.message.get_body(("plain",))
        assert body is not None
        found = re.search(r"(?:Your code is|您的验证码是) (\d{6})", body.get_content())
        if found and message.recipients == (to.lower(),):
            return found.group(1)
    raise AssertionError(f"no code mailed to {to}")


async def ask_code(bot: Bot, action: str, data: dict[str, str]) -> tuple[str, str]:
    """Post a form that mails a code: the code page and the code's uid."""
    resp = await bot.client.post(action, data=data, allow_redirects=False)
    page = await resp.text()
    assert resp.status == 200 and 'id="code-sent"' in page, page
    uid = re.search(r'name="uid" value="([0-9a-f]+)"', page)
    assert uid
    return page, uid.group(1)


async def prove_corporate(bot: Bot, box: Outbox, login: str, fields: dict[str, str]) -> str:
    """Sign the corporate CLA as ``login``: the form, then the code mailed to the company
    address; the company's page (the mails are sent)."""
    assert (await oauth_login(bot, login, next_path="/sign/corporate")).status == 303
    html = await (await bot.client.get("/sign/corporate")).text()
    page, uid = await ask_code(bot, "/sign/corporate", {"csrf": csrf_of(html), **fields})
    assert await bot.runtime.drain() >= 1
    resp = await bot.client.post(
        "/sign/corporate/confirm",
        data={"csrf": csrf_of(page), "uid": uid, "code": last_code(box, fields["email"])},
        allow_redirects=False,
    )
    assert resp.status == 303, await resp.text()
    location = resp.headers["Location"]
    assert location.startswith("/company/") and location.endswith("?signed=1")
    await bot.runtime.drain()  # the receipt
    return location.split("?")[0]


async def sign_corporate(bot: Bot, box: Outbox, *, domains: str = "") -> str:
    bot.github.set_emails("maria", ("maria@example.org", True))
    assert (await oauth_login(bot, "maria", next_path="/sign/corporate")).status == 303
    html = await (await bot.client.get("/sign/corporate")).text()
    assert 'name="company"' in html and 'name="title"' in html and 'name="managers"' in html
    # the company's domain is the one its address proves; no field takes others on trust
    assert 'id="corporate-approval"' in html and 'name="domains"' not in html
    return await prove_corporate(bot, box, "maria", {**MARIA, "domains": domains})


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
    mail_bot: Bot, outbox: tuple[Outbox, int], db_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    gh = mail_bot.github
    pr = await unsigned_pr(mail_bot, 1)

    page_url = await sign_corporate(mail_bot, outbox[0])
    page = await (await mail_bot.client.get(page_url + "?signed=1")).text()
    assert 'id="company-signed"' in page and "Example Corp" in page
    assert state_of(page) == "pending"
    resp = await mail_bot.client.post(
        page_url + "/add",
        data={"csrf": csrf_of(page), "kind": "email", "value": "Colleague@Elsewhere.ORG"},
        allow_redirects=False,
    )
    assert resp.status == 303 and resp.headers["Location"].endswith("?saved=1")
    assert await mail_bot.run_jobs() == 0  # a pending company changes no PR
    assert status(mail_bot, pr) == "failure"
    assert "Example Corp" not in gh.bot_comments(pr)[0].body

    company_id = await only_company_id(mail_bot, capsys)
    code, out = await company(mail_bot, capsys, "show", str(company_id))
    assert code == 0 and "example.com (pending, proven)" in out and "pending" in out
    for canary in ("Signatoryname", "Counsel", "Plaza", "maria.legal"):
        assert canary not in out
    code, out = await company(mail_bot, capsys, "approve", str(company_id))
    assert (code, out) == (
        0,
        f"company {company_id} (Example Corp) is now approved; 1 PR re-check(s) queued\n",
    )
    assert await mail_bot.run_jobs() == 1  # the PR it affects, by itself
    assert status(mail_bot, pr) == "success"
    assert gh.labels_of(pr) == ["cla/yes"]
    body = gh.bot_comments(pr)[0].body
    assert "Example Corp" in body and "dev@example.com" not in body
    listing = await (await mail_bot.client.get(page_url)).text()
    assert state_of(listing) == "approved"

    entry = re.search(r'name="entry" value="([0-9a-f]+)"', listing)
    assert entry and "example.com" in listing
    await mail_bot.client.post(
        page_url + "/remove", data={"csrf": csrf_of(listing), "entry": entry.group(1)}
    )
    await mail_bot.run_jobs()
    assert status(mail_bot, pr) == "failure"

    dump = _dump(db_url).lower()
    for canary in (
        "maria signatoryname",
        "general counsel",
        "corporate plaza",
        "maria.legal@example.com",
    ):
        assert canary not in dump, canary


async def test_a_rejected_company_covers_nobody_and_its_managers_see_why(
    mail_bot: Bot, outbox: tuple[Outbox, int], capsys: pytest.CaptureFixture[str]
) -> None:
    gh = mail_bot.github
    pr = await unsigned_pr(mail_bot, 3)
    page_url = await sign_corporate(mail_bot, outbox[0], domains="example.com")
    company_id = await only_company_id(mail_bot, capsys)
    assert (await company(mail_bot, capsys, "approve", str(company_id)))[0] == 0
    await mail_bot.run_jobs()
    assert status(mail_bot, pr) == "success"

    code, out = await company(
        mail_bot, capsys, "reject", str(company_id), "--reason", "not signed by the company"
    )
    assert (code, out) == (
        0,
        f"company {company_id} (Example Corp) is now rejected; 1 PR re-check(s) queued\n",
    )
    await mail_bot.run_jobs()
    assert status(mail_bot, pr) == "failure"
    assert "Example Corp" not in gh.bot_comments(pr)[0].body
    page = await (await mail_bot.client.get(page_url)).text()
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
    mail_bot: Bot, outbox: tuple[Outbox, int], db_url: str, domain: str, why: str
) -> None:
    page_url = await sign_corporate(mail_bot, outbox[0])
    page = await (await mail_bot.client.get(page_url)).text()
    resp = await mail_bot.client.post(
        page_url + "/domains", data={"csrf": csrf_of(page), "email": f"someone@{domain}"}
    )
    html = await resp.text()
    assert resp.status == 400 and 'id="entry-error"' in html and f"{domain} {why}" in html
    assert (
        html.count('data-kind="domain"') == 1
        and domain not in html.split('id="entries"')[1].split("</table>")[0]
    )  # nothing stored: only the proven domain

    # and as the signatory's company address on the signing form: no code, nothing recorded
    form = await (await mail_bot.client.get("/sign/corporate")).text()
    resp = await mail_bot.client.post(
        "/sign/corporate",
        data={
            "csrf": csrf_of(form),
            "company": "Other Corp",
            "name": "Maria Signatoryname",
            "title": "General Counsel",
            "email": f"maria.legal@{domain}",
            "address": "1 Corporate Plaza",
            "accept": "yes",
            "privacy": "yes",
        },
        allow_redirects=False,
    )
    assert resp.status == 400 and 'id="err-email"' in await resp.text()
    assert "other corp" not in _dump(db_url).lower()


async def test_a_domain_nobody_proved_is_never_listed(
    mail_bot: Bot, outbox: tuple[Outbox, int], capsys: pytest.CaptureFixture[str]
) -> None:
    """Neither the signing form nor a manager can list a domain without the code mailed to an
    address there: a claimed domain covers nobody, even once the company is approved."""
    gh = mail_bot.github
    gh.add_installation(1, account="acme", repos=[REPO])
    commit = gh.make_commit(author=("Dev Eloper", "dev@example.net"))
    pr = gh.add_pr(REPO, number=9, author="dev-gh", commits=[commit])
    await mail_bot.deliver("pull_request", gh.pull_request_event(pr, installation_id=1))
    await mail_bot.run_jobs()
    page_url = await sign_corporate(mail_bot, outbox[0], domains="example.net")
    page = await (await mail_bot.client.get(page_url)).text()
    resp = await mail_bot.client.post(
        page_url + "/add", data={"csrf": csrf_of(page), "kind": "domain", "value": "example.net"}
    )
    html = await resp.text()
    assert resp.status == 400 and 'id="entry-error"' in html
    assert "prove" in html.split('id="entry-error"')[1].split("</")[0]
    listed = html.split('id="entries"')[1].split("</table>")[0]
    assert "example.net" not in listed and listed.count('data-kind="domain"') == 1
    await company(mail_bot, capsys, "approve", str(await only_company_id(mail_bot, capsys)))
    await mail_bot.run_jobs()
    assert status(mail_bot, pr) == "failure"


async def test_the_proven_domain_is_approved_with_the_company(
    mail_bot: Bot, outbox: tuple[Outbox, int], capsys: pytest.CaptureFixture[str]
) -> None:
    pr = await unsigned_pr(mail_bot, 4)
    page_url = await sign_corporate(mail_bot, outbox[0])
    page = await (await mail_bot.client.get(page_url)).text()
    assert re.search(
        r'data-kind="domain" data-status="pending"><td>[^<]*</td><td>example.com', page
    )
    await mail_bot.run_jobs()
    assert status(mail_bot, pr) == "failure"
    company_id = await only_company_id(mail_bot, capsys)
    await company(mail_bot, capsys, "approve", str(company_id))
    await mail_bot.run_jobs()
    assert status(mail_bot, pr) == "success"


async def test_managers_only(mail_bot: Bot, outbox: tuple[Outbox, int]) -> None:
    gh = mail_bot.github
    gh.add_installation(1, account="acme", repos=[REPO])
    gh.user("newhire")
    pr = gh.add_pr(REPO, number=5, author="someone")
    await mail_bot.deliver("pull_request", gh.pull_request_event(pr, installation_id=1))
    await mail_bot.run_jobs()
    page_url = await sign_corporate(mail_bot, outbox[0])
    # a named co-manager sees the company once signed in
    mail_bot.github.set_emails("co-manager", ("co@example.com", True))
    await oauth_login(mail_bot, "co-manager", next_path="/company")
    overview = await (await mail_bot.client.get("/company")).text()
    assert "Example Corp" in overview and 'data-status="pending"' in overview
    page = await (await mail_bot.client.get(page_url)).text()
    resp = await mail_bot.client.post(
        page_url + "/add", data={"csrf": csrf_of(page), "kind": "login", "value": "newhire"}
    )
    assert resp.status == 200 and "github:newhire" in await resp.text()
    bad = await mail_bot.client.post(
        page_url + "/domains", data={"csrf": csrf_of(page), "email": "someone@not-a-domain"}
    )
    assert bad.status == 400 and 'id="entry-error"' in await bad.text()
    # anyone else does not
    mail_bot.github.set_emails("stranger", ("s@example.org", True))
    await oauth_login(mail_bot, "stranger", next_path="/company")
    assert 'id="no-company"' in await (await mail_bot.client.get("/company")).text()
    assert (await mail_bot.client.get(page_url)).status == 404


async def test_a_listed_account_covers_its_commits_by_its_id(
    mail_bot: Bot, outbox: tuple[Outbox, int], capsys: pytest.CaptureFixture[str]
) -> None:
    gh = mail_bot.github
    gh.add_installation(1, account="acme", repos=[REPO])
    pr = gh.add_pr(REPO, number=2, author="newhire")
    await mail_bot.deliver("pull_request", gh.pull_request_event(pr, installation_id=1))
    await mail_bot.run_jobs()
    page_url = await sign_corporate(mail_bot, outbox[0])
    company_id = await only_company_id(mail_bot, capsys)
    await company(mail_bot, capsys, "approve", str(company_id))
    page = await (await mail_bot.client.get(page_url)).text()
    ghost = await mail_bot.client.post(
        page_url + "/add", data={"csrf": csrf_of(page), "kind": "login", "value": "nobody-here"}
    )
    assert ghost.status == 400 and "GitHub has no user account named nobody-here" in (
        await ghost.text()
    )
    resp = await mail_bot.client.post(
        page_url + "/add",
        data={"csrf": csrf_of(page), "kind": "login", "value": "@NewHire"},
        allow_redirects=False,
    )
    assert resp.status == 303 and resp.headers["Location"].endswith("?changed=1")
    assert [r.path for r in gh.requests if r.route == "/users/{username}"] == [
        "/users/nobody-here",
        "/users/newhire",
    ]
    assert await mail_bot.run_jobs() == 1
    assert status(mail_bot, pr) == "success"
    assert "Example Corp" in gh.bot_comments(pr)[0].body

    # a contributor who only claims the login in a noreply address is not covered
    forged = gh.make_commit(author=("Not Newhire", "666+newhire@users.noreply.github.com"))
    impostor = gh.add_pr(REPO, number=6, author="someone-else", commits=[forged])
    await mail_bot.deliver("pull_request", gh.pull_request_event(impostor, installation_id=1))
    await mail_bot.run_jobs()
    assert status(mail_bot, impostor) == "failure"


async def _companies(bot: Bot) -> int:
    async with bot.runtime.sessions() as s:
        return int(await s.scalar(select(func.count()).select_from(Company)) or 0)


async def test_a_corporate_signature_is_not_recorded_without_a_proven_company_address(
    mail_bot: Bot, outbox: tuple[Outbox, int], capsys: pytest.CaptureFixture[str]
) -> None:
    box, _ = outbox
    mail_bot.github.set_emails("maria", ("maria@example.org", True))
    await oauth_login(mail_bot, "maria", next_path="/sign/corporate")
    html = await (await mail_bot.client.get("/sign/corporate")).text()
    assert 'id="company-no-mail"' not in html and 'type="email"' in html
    # an address no company can own is refused at once, and nothing is mailed or written
    for address in ("maria@gmail.com", "maria@co.uk", "1+maria@users.noreply.github.com"):
        resp = await mail_bot.client.post(
            "/sign/corporate", data={"csrf": csrf_of(html), **MARIA, "email": address}
        )
        assert resp.status == 400 and 'id="err-email"' in await resp.text()
    assert not box.messages and await _companies(mail_bot) == 0

    page, uid = await ask_code(
        mail_bot, "/sign/corporate", {"csrf": csrf_of(html), **MARIA, "email": "m@eng.example.com"}
    )
    assert await mail_bot.runtime.drain() == 1
    assert "Example Corp" in box.messages[0].message.get_body(("plain",)).get_content()
    assert await _companies(mail_bot) == 0  # the form waits for the code
    code = last_code(box, "m@eng.example.com")
    form = {"csrf": csrf_of(page), "uid": uid}
    wrong = await mail_bot.client.post(
        "/sign/corporate/confirm", data={**form, "code": "000000" if code != "000000" else "1"}
    )
    assert wrong.status == 400 and "4 tries left" in await wrong.text()
    assert await _companies(mail_bot) == 0
    right = await mail_bot.client.post(
        "/sign/corporate/confirm", data={**form, "code": code}, allow_redirects=False
    )
    assert right.status == 303 and await _companies(mail_bot) == 1
    again = await mail_bot.client.post("/sign/corporate/confirm", data={**form, "code": code})
    assert again.status == 410 and await _companies(mail_bot) == 1  # once

    # the address proves its own domain only, and administrators see it proven
    company_id = await only_company_id(mail_bot, capsys)
    code_, out = await company(mail_bot, capsys, "show", str(company_id), "--json")
    assert code_ == 0
    assert json.loads(out)["domains"] == [
        {"domain": "eng.example.com", "status": "pending", "reason": None, "proven": True}
    ]
    async with mail_bot.runtime.sessions() as s:
        [row] = (await s.scalars(select(Company))).all()
        [entry] = (await s.scalars(select(CompanyEntry))).all()
        proofs = (await s.scalars(select(EmailProof))).all()
    assert row.email_ct and "eng.example.com" not in row.email_ct
    assert (entry.proven_by, entry.proven_at is not None) == ("code", True)
    assert [p.payload_ct for p in proofs] == [None]  # the waiting form is dropped once used


async def test_without_mail_the_corporate_form_says_so_and_writes_nothing(
    web_bot: Bot, db_url: str
) -> None:
    web_bot.github.set_emails("maria", ("maria@example.org", True))
    await oauth_login(web_bot, "maria", next_path="/sign/corporate")
    html = await (await web_bot.client.get("/sign/corporate")).text()
    assert 'id="company-no-mail"' in html and 'name="company"' not in html
    resp = await web_bot.client.post("/sign/corporate", data={"csrf": csrf_of(html), **MARIA})
    assert resp.status == 409 and 'id="company-no-mail"' in await resp.text()
    assert await _companies(web_bot) == 0
    async with web_bot.runtime.sessions() as s:
        assert (await s.scalars(select(EmailProof))).all() == []
    assert "example corp" not in _dump(db_url).lower()


async def test_without_mail_a_manager_cannot_prove_a_domain_nor_invite(
    web_bot: Bot, db_url: str, cipher: Any
) -> None:
    """A company from before (or an import) on a bot with no SMTP: its page says mail is
    needed; proving a domain and inviting answer 409 and write nothing."""
    from tests.helpers import sign_company

    web_bot.github.set_emails("boss", ("boss@example.org", True))
    async with web_bot.runtime.sessions() as s, s.begin():
        company_row = await sign_company(s, cipher, name="Old Corp", managers=["boss"])
    await oauth_login(web_bot, "boss", next_path="/company")
    page = await (await web_bot.client.get(f"/company/{company_row.uid}")).text()
    assert 'id="company-no-mail"' in page and 'id="invite-email"' not in page
    for path in ("/domains", "/invite"):
        resp = await web_bot.client.post(
            f"/company/{company_row.uid}{path}",
            data={"csrf": csrf_of(page), "email": "it@old-corp.example.com"},
        )
        assert resp.status == 409, path
    async with web_bot.runtime.sessions() as s:
        assert (await s.scalars(select(EmailProof))).all() == []
        assert (await s.scalars(select(CompanyInvitation))).all() == []
        assert (await s.scalars(select(CompanyEntry))).all() == []


async def test_a_manager_proves_a_further_domain_then_an_administrator_approves_it(
    mail_bot: Bot, outbox: tuple[Outbox, int], capsys: pytest.CaptureFixture[str]
) -> None:
    box, _ = outbox
    gh = mail_bot.github
    gh.add_installation(1, account="acme", repos=[REPO])
    commit = gh.make_commit(author=("Dev Eloper", "dev@widgets.example.org"))
    pr = gh.add_pr(REPO, number=7, author="dev-gh", commits=[commit])
    await mail_bot.deliver("pull_request", gh.pull_request_event(pr, installation_id=1))
    page_url = await sign_corporate(mail_bot, box)
    company_id = await only_company_id(mail_bot, capsys)
    await company(mail_bot, capsys, "approve", str(company_id))
    await mail_bot.run_jobs()
    assert status(mail_bot, pr) == "failure"

    page = await (await mail_bot.client.get(page_url)).text()
    assert f'action="{page_url}/domains"' in page
    bad = await mail_bot.client.post(
        page_url + "/domains", data={"csrf": csrf_of(page), "email": "x@gmail.com"}
    )
    assert bad.status == 400 and "free-mail" in await bad.text()
    code_page, uid = await ask_code(
        mail_bot, page_url + "/domains", {"csrf": csrf_of(page), "email": "it@widgets.example.org"}
    )
    await mail_bot.run_jobs()
    resp = await mail_bot.client.post(
        page_url + "/domains/confirm",
        data={
            "csrf": csrf_of(code_page),
            "uid": uid,
            "code": last_code(box, "it@widgets.example.org"),
        },
        allow_redirects=False,
    )
    assert resp.status == 303 and resp.headers["Location"].endswith("?proven=1")
    listing = await (await mail_bot.client.get(page_url + "?proven=1")).text()
    assert 'id="domain-proven"' in listing and 'data-proven="yes"' in listing
    assert await mail_bot.run_jobs() == 0  # proven, but not approved: covers nobody yet
    assert status(mail_bot, pr) == "failure"
    _, out = await company(mail_bot, capsys, "list", "--pending")
    assert "widgets.example.org (pending, proven)" in out
    await company(mail_bot, capsys, "approve", str(company_id))
    assert await mail_bot.run_jobs() == 1
    assert status(mail_bot, pr) == "success"

    # a code for one company's domain proves nothing for another's
    other_page, other_uid = await ask_code(
        mail_bot, page_url + "/domains", {"csrf": csrf_of(page), "email": "it@other.example.org"}
    )
    await mail_bot.run_jobs()
    wrong_place = await mail_bot.client.post(
        "/sign/corporate/confirm",
        data={
            "csrf": csrf_of(other_page),
            "uid": other_uid,
            "code": last_code(box, "it@other.example.org"),
        },
    )
    assert wrong_place.status == 410


def invitation_link(box: Outbox, to: str, base: str = PUBLIC) -> str:
    """The path of the invitation link in the latest mail to ``to`` (on ``base``)."""
    message = next(m for m in reversed(box.messages) if m.recipients == (to,))
    body = message.message.get_body(("plain",))
    assert body is not None
    found = re.search(re.escape(base) + r"(/company/invite/[A-Za-z0-9_-]+)", body.get_content())
    assert found, body.get_content()
    return found.group(1)


async def test_a_manager_invited_by_email_accepts_by_signing_in(
    mail_bot: Bot, outbox: tuple[Outbox, int], db_url: str
) -> None:
    box, _ = outbox
    page_url = await sign_corporate(mail_bot, box)
    page = await (await mail_bot.client.get(page_url)).text()
    for address in ("new.manager@example.com", "other@example.com"):
        resp = await mail_bot.client.post(
            page_url + "/invite",
            data={"csrf": csrf_of(page), "email": address},
            allow_redirects=False,
        )
        assert resp.status == 303 and resp.headers["Location"].endswith("?invited=1")
    await mail_bot.run_jobs()
    link = invitation_link(box, "new.manager@example.com")
    token = link.rsplit("/", 1)[1]
    page = await (await mail_bot.client.get(page_url)).text()
    assert "new.manager@example.com" in page and "invited, not accepted yet" in page
    # the second is cancelled: its address is dropped at once
    cancel = re.findall(r'name="invitation" value="([0-9a-f]+)"', page)[1]
    await mail_bot.client.post(
        page_url + "/invitations/cancel", data={"csrf": csrf_of(page), "invitation": cancel}
    )
    async with mail_bot.runtime.sessions() as s:
        rows = (await s.scalars(select(CompanyInvitation).order_by(CompanyInvitation.id))).all()
    assert [(r.email_ct is None, r.cancelled_at is None) for r in rows] == [
        (False, True),
        (True, False),
    ]
    assert all(token not in r.token_hash for r in rows)
    gone = await mail_bot.client.get(invitation_link(box, "other@example.com"))
    assert gone.status == 410 and 'id="invite-gone"' in await gone.text()

    # someone else opens the link, signs in with the forge, accepts
    await mail_bot.client.post("/sign/logout", data={"csrf": csrf_of(page)})
    opened = await mail_bot.client.get(link, allow_redirects=False)
    assert (opened.status, opened.headers["Location"]) == (303, "/company/invite")
    invite_page = await (await mail_bot.client.get("/company/invite")).text()
    assert "Example Corp" in invite_page and "next=/company/invite" in invite_page
    mail_bot.github.set_emails("newbie", ("newbie@example.org", True))
    login = await oauth_login(mail_bot, "newbie", next_path="/company/invite")
    assert login.headers["Location"] == "/company/invite"
    invite_page = await (await mail_bot.client.get("/company/invite")).text()
    accepted = await mail_bot.client.post(
        "/company/invite", data={"csrf": csrf_of(invite_page)}, allow_redirects=False
    )
    assert accepted.status == 303 and accepted.headers["Location"].startswith(page_url)
    assert token not in accepted.headers["Location"]
    overview = await (await mail_bot.client.get("/company")).text()
    assert "Example Corp" in overview
    async with mail_bot.runtime.sessions() as s:
        managers = (await s.scalars(select(CompanyManager).order_by(CompanyManager.id))).all()
        [used, _] = (
            await s.scalars(select(CompanyInvitation).order_by(CompanyInvitation.id))
        ).all()
    newbie = str(mail_bot.github.user("newbie").id)
    assert [(m.login, m.account_id) for m in managers][-1] == ("newbie", newbie)
    assert used.used_at is not None and used.email_ct is None and used.email_bidx is None
    assert token not in _dump(db_url)  # not in the login attempt, nor anywhere
    again = await mail_bot.client.get(link)
    assert again.status == 410

    # a manager removes another, never the last one
    page = await (await mail_bot.client.get(page_url)).text()
    ids = re.findall(r'name="manager" value="(\d+)"', page)
    assert len(ids) == len(managers) - 1  # not themselves
    for manager_id in ids:
        resp = await mail_bot.client.post(
            page_url + "/managers/remove",
            data={"csrf": csrf_of(page), "manager": manager_id},
            allow_redirects=False,
        )
        assert resp.status == 303
    page = await (await mail_bot.client.get(page_url)).text()
    assert 'name="manager"' not in page
    async with mail_bot.runtime.sessions() as s:
        [last] = (await s.scalars(select(CompanyManager))).all()
    assert last.login == "newbie"
    refused = await mail_bot.client.post(
        page_url + "/managers/remove", data={"csrf": csrf_of(page), "manager": str(last.id)}
    )
    assert refused.status == 400 and "at least one manager" in await refused.text()


@pytest.fixture
async def confirm_bot(
    aiohttp_client: Any,
    db_url: str,
    bot_env: Any,
    github: Any,
    tmp_path: Path,
    outbox: tuple[Outbox, int],
) -> Bot:
    """A bot with mail whose app.yaml says ``cla.corporate.employees: confirm``."""
    config = tmp_path / "app.yaml"
    shipped = (ROOT / "app.yaml").read_text()
    assert "    employees: domain\n" in shipped
    config.write_text(shipped.replace("    employees: domain\n", "    employees: confirm\n"))
    env = bot_env(
        db_url,
        CLA_PUBLIC_URL=PUBLIC,
        CLA_CONFIG=str(config),
        CLA_SMTP_URL=f"smtp://127.0.0.1:{outbox[1]}",
        CLA_MAIL_FROM="CLA bot <cla@example.org>",
    )
    app = create_app(settings.load(env, cwd=ROOT), run_worker=False)
    return Bot(client=await aiohttp_client(app), runtime=app[RUNTIME], github=github)


async def test_with_employee_confirmation_only_enabled_employees_are_covered(
    confirm_bot: Bot, outbox: tuple[Outbox, int], capsys: pytest.CaptureFixture[str]
) -> None:
    box, _ = outbox
    bot = confirm_bot
    pr = await unsigned_pr(bot, 8)  # dev@example.com
    page_url = await sign_corporate(bot, box)  # example.com, proven
    company_id = await only_company_id(bot, capsys)
    await company(bot, capsys, "approve", str(company_id))
    await bot.run_jobs()
    assert status(bot, pr) == "failure"  # the approved domain alone covers nobody here

    bot.github.set_emails("dev-gh", ("dev@example.org", True))
    await oauth_login(bot, "dev-gh", next_path="/company/employee")
    page = await (await bot.client.get("/company/employee")).text()
    refused = await bot.client.post(
        "/company/employee", data={"csrf": csrf_of(page), "email": "dev@nowhere.example.com"}
    )
    assert refused.status == 400 and "no approved corporate CLA lists" in await refused.text()
    code_page, uid = await ask_code(
        bot, "/company/employee", {"csrf": csrf_of(page), "email": "dev@example.com"}
    )
    await bot.run_jobs()
    done = await bot.client.post(
        "/company/employee/confirm",
        data={"csrf": csrf_of(code_page), "uid": uid, "code": last_code(box, "dev@example.com")},
        allow_redirects=False,
    )
    assert done.status == 303
    mine = await (await bot.client.get("/company/employee?proven=1")).text()
    assert 'id="employee-proven"' in mine and 'data-enabled="no"' in mine
    assert await bot.run_jobs() == 0 and status(bot, pr) == "failure"

    await oauth_login(bot, "maria", next_path="/company")
    listing = await (await bot.client.get(page_url)).text()
    employee = re.search(r'name="employee" value="([0-9a-f]+)"', listing)
    assert employee and "dev@example.com" in listing
    enabled = await bot.client.post(
        page_url + "/employees",
        data={"csrf": csrf_of(listing), "employee": employee.group(1), "enabled": "yes"},
        allow_redirects=False,
    )
    assert enabled.headers["Location"].endswith("?changed=1")
    assert await bot.run_jobs() == 1 and status(bot, pr) == "success"
    await bot.client.post(
        page_url + "/employees",
        data={"csrf": csrf_of(listing), "employee": employee.group(1), "enabled": "no"},
    )
    await bot.run_jobs()
    assert status(bot, pr) == "failure"
