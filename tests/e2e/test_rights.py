"""Contributors' rights end to end: erase by comment or page, export, correct, restrict."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import func, select

from bot.storage.models import AuditEvent, PrBlocker, Signature, Signer, SignerEmail
from bot.storage.repositories import email_bidx
from tests.e2e.conftest import Bot, csrf_of, oauth_login
from tests.services.test_importer import _dump

REPO = "acme/widgets"
CANARY = {
    "name": "Ottoline Canaryfield",
    "address": "9 Canary Mews, Quietown",
    "phone": "+44 20 7946 0999",
    "fax": "+44 20 7946 0888",
    "email": "Ottoline.Canary@Example.NET",
}


async def sign_web(bot: Bot, login: str, email: str, **fields: str) -> None:
    bot.github.set_emails(login, (email, True))
    assert (await oauth_login(bot, login)).status == 303
    html = await (await bot.client.get("/sign/individual")).text()
    resp = await bot.client.post(
        "/sign/individual",
        data={
            "csrf": csrf_of(html),
            "email": email,
            "accept": "yes",
            "privacy": "yes",
            "name": fields.pop("name", login.title()),
            **fields,
        },
        allow_redirects=False,
    )
    assert resp.status == 303, await resp.text()


async def open_pr(bot: Bot, repo: str, number: int, author: str) -> Any:
    gh = bot.github
    pr = gh.add_pr(repo, number=number, author=author)
    assert await bot.deliver("pull_request", gh.pull_request_event(pr, installation_id=1)) == 202
    return pr


async def comment(bot: Bot, pr: Any, login: str, body: str, *, times: int = 1) -> Any:
    c = bot.github.add_comment(pr, body, user=login)
    for _ in range(times):
        assert await bot.deliver(
            "issue_comment", bot.github.issue_comment_event(c, installation_id=1)
        ) in (200, 202)
    return c


def state(bot: Bot, pr: Any) -> str:
    s = bot.github.status_for(pr.head_sha, "cla")
    return s.state if s else "none"


def replies_to(bot: Bot, pr: Any, c: Any) -> list[Any]:
    return [x for x in bot.github.bot_comments(pr) if f"cla-bot:reply:{c.id}:" in x.body]


async def test_delete_my_data_by_comment(web_bot: Bot, db_url: str, cipher: Any) -> None:
    gh = web_bot.github
    gh.add_installation(1, account="acme", repos=[REPO, "acme/other"])
    await sign_web(
        web_bot, "olive", CANARY["email"], **{k: v for k, v in CANARY.items() if k != "email"}
    )
    prs = [
        await open_pr(web_bot, REPO, 1, "olive"),
        await open_pr(web_bot, "acme/other", 2, "olive"),
    ]
    await web_bot.run_jobs()
    assert [state(web_bot, p) for p in prs] == ["success", "success"]

    # a third person's attempt changes nothing
    other = await comment(web_bot, prs[0], "mallory", "/cla delete-my-data")
    await web_bot.run_jobs()
    refusal = replies_to(web_bot, prs[0], other)
    assert len(refusal) == 1 and "no record for your account" in refusal[0].body
    async with web_bot.runtime.sessions() as s:
        assert await s.scalar(select(func.count()).select_from(Signer)) == 1
    assert [state(web_bot, p) for p in prs] == ["success", "success"]

    # the owner's, delivered twice: acted on once
    mine = await comment(web_bot, prs[0], "olive", "/cla delete-my-data", times=2)
    await web_bot.run_jobs()
    await web_bot.run_jobs()
    reply = replies_to(web_bot, prs[0], mine)
    assert len(reply) == 1
    text = reply[0].body
    assert "@olive" in text and "contact details: name, address, phone, fax" in text
    assert "1 email address(es)" in text and "version 1.0 of `individual`" in text
    for value in CANARY.values():
        assert value.lower() not in text.lower()
    # both PRs go back to "CLA required" by themselves
    assert [state(web_bot, p) for p in prs] == ["failure", "failure"]
    assert all(gh.labels_of(p) == ["cla/no"] for p in prs)

    async with web_bot.runtime.sessions() as s:
        assert await s.scalar(select(func.count()).select_from(Signer)) == 0
        assert await s.scalar(select(func.count()).select_from(SignerEmail)) == 0
        tomb = (await s.scalars(select(Signature))).one()
        assert tomb.signer_id is None and tomb.erased_at is not None and tomb.account_hash
        assert tomb.signed_account_id is None
        actors = {e.actor for e in (await s.scalars(select(AuditEvent))).all()}
    olive_id = str(gh.user("olive").id)
    assert not any(olive_id in a for a in actors), actors  # the trail no longer names the account

    dump = _dump(db_url).lower()
    for value in [*CANARY.values(), "ottoline", "canary mews"]:
        assert value.lower() not in dump, value
    assert email_bidx(cipher, CANARY["email"]) not in dump
    # /me shows nothing for them
    me = await (await web_bot.client.get("/me")).text()
    assert 'id="no-data"' in me


async def test_me_pages_export_correct_restrict_erase(web_bot: Bot) -> None:
    gh = web_bot.github
    gh.add_installation(1, account="acme", repos=[REPO])
    await sign_web(web_bot, "bob", "bob@example.com", name="Bob Other", phone="+1 555 0100")
    await sign_web(web_bot, "rita", "rita@example.org", name="Rita Example", address="1 Road")
    pr = await open_pr(web_bot, REPO, 3, "rita")
    await web_bot.run_jobs()
    assert state(web_bot, pr) == "success"

    page = await web_bot.client.get("/me")
    html = await page.text()
    assert page.headers["Cache-Control"] == "no-store"
    assert "Rita Example" in html and "rita@example.org" in html and "1 Road" in html
    export = await (await web_bot.client.get("/me/export.json")).json()
    assert export["format"] == "cla-bot/personal-data/v1"
    assert export["person"]["name"] == "Rita Example" and export["person"]["address"] == "1 Road"
    assert [e["email"] for e in export["emails"]] == ["rita@example.org"]
    assert export["accounts"][0]["login"] == "rita"
    assert export["signatures"][0]["agreement"] == "individual"
    flat = json.dumps(export)
    assert "Bob Other" not in flat and "bob@example.com" not in flat and "555 0100" not in flat

    resp = await web_bot.client.post(
        "/me/correct",
        data={"csrf": csrf_of(html), "name": "Rita Corrected", "address": "2 Road"},
        allow_redirects=False,
    )
    assert resp.status == 303
    export = await (await web_bot.client.get("/me/export.json")).json()
    assert export["person"]["name"] == "Rita Corrected"
    async with web_bot.runtime.sessions() as s:
        corrections = (
            await s.scalars(select(AuditEvent).where(AuditEvent.action == "correct"))
        ).all()
    assert len(corrections) == 1 and corrections[0].details == {"fields": ["name", "address"]}
    assert "Rita" not in json.dumps(corrections[0].details)

    # restrict: kept but not used; the PR shows the CLA as required with the reason
    resp = await web_bot.client.post(
        "/me/restrict", data={"csrf": csrf_of(html), "restricted": "yes"}, allow_redirects=False
    )
    assert resp.status == 303
    await web_bot.run_jobs()
    assert state(web_bot, pr) == "failure"
    assert "restricted" in web_bot.github.bot_comments(pr)[0].body.lower()
    await web_bot.client.post("/me/restrict", data={"csrf": csrf_of(html), "restricted": "no"})
    await web_bot.run_jobs()
    assert state(web_bot, pr) == "success"

    # erase from the page, after a confirmation that says what is erased and kept
    confirm = await (await web_bot.client.get("/me/delete")).text()
    assert "This will erase" in confirm and "This will keep" in confirm
    resp = await web_bot.client.post("/me/delete", data={"csrf": csrf_of(html)})
    assert resp.status == 400  # not confirmed
    resp = await web_bot.client.post("/me/delete", data={"csrf": csrf_of(html), "confirm": "yes"})
    assert resp.status == 200 and 'id="erased"' in await resp.text()
    await web_bot.run_jobs()
    assert state(web_bot, pr) == "failure"
    async with web_bot.runtime.sessions() as s:
        assert await s.scalar(select(func.count()).select_from(Signer)) == 1  # bob's remains


async def test_me_requires_csrf_and_login(web_bot: Bot) -> None:
    assert (await web_bot.client.post("/me/delete", data={"confirm": "yes"})).status == 401
    await sign_web(web_bot, "carla", "carla@example.com")
    assert (await web_bot.client.post("/me/delete", data={"confirm": "yes"})).status == 403
    assert (
        await web_bot.client.post("/me/correct", data={"name": "x", "csrf": "nope"})
    ).status == 403
    async with web_bot.runtime.sessions() as s:
        assert await s.scalar(select(func.count()).select_from(Signer)) == 1


async def test_export_command_replies_with_a_link_and_unknown_gets_help_once(web_bot: Bot) -> None:
    gh = web_bot.github
    gh.add_installation(1, account="acme", repos=[REPO])
    pr = await open_pr(web_bot, REPO, 4, "dan")
    c = await comment(web_bot, pr, "dan", "/cla export-my-data")
    await web_bot.run_jobs()
    reply = replies_to(web_bot, pr, c)
    assert len(reply) == 1 and "http://cla.test/me" in reply[0].body
    u1 = await comment(web_bot, pr, "dan", "/cla frobnicate")
    u2 = await comment(web_bot, pr, "erin", "/cla what")
    await web_bot.run_jobs()
    helps = [x for x in gh.bot_comments(pr) if "cla-bot:help" in x.body]
    assert (
        len(helps) == 1
        and "`/cla frobnicate`" in helps[0].body
        and "/cla delete-my-data" in helps[0].body
    )
    assert replies_to(web_bot, pr, u2) == [] and len(replies_to(web_bot, pr, u1)) == 1


async def test_processed_job_payloads_are_purged(web_bot: Bot) -> None:
    from bot.storage.models import Job

    web_bot.github.add_installation(1, account="acme", repos=[REPO])
    await open_pr(web_bot, REPO, 5, "fay")
    await web_bot.run_jobs()
    async with web_bot.runtime.sessions() as s:
        jobs = (await s.scalars(select(Job))).all()
        blockers = (await s.scalars(select(PrBlocker))).all()
    assert jobs and all(j.payload == {} for j in jobs)
    assert blockers  # fay blocks the PR: recorded until it closes or ages out


async def test_closing_a_pr_forgets_its_contributors_and_purge_ages_them_out(web_bot: Bot) -> None:
    from datetime import timedelta

    from bot.services.retention import purge
    from bot.storage.models import PrCheck, utcnow

    gh = web_bot.github
    gh.add_installation(1, account="acme", repos=[REPO])
    closed = await open_pr(web_bot, REPO, 6, "gus")
    stale = await open_pr(web_bot, REPO, 7, "hal")
    await web_bot.run_jobs()
    async with web_bot.runtime.sessions() as s:
        before = await s.scalar(select(func.count()).select_from(PrBlocker))
        assert before and before % 2 == 0  # the same number of keys for each of the two PRs
    closed.state = "closed"
    assert (
        await web_bot.deliver(
            "pull_request", gh.pull_request_event(closed, action="closed", installation_id=1)
        )
        == 202
    )
    async with web_bot.runtime.sessions() as s:
        assert await s.scalar(select(func.count()).select_from(PrBlocker)) == before // 2
    async with web_bot.runtime.sessions() as s, s.begin():
        assert (await purge(s, pending_days=90, jobs_days=35)).contributor_records == 0
        await s.execute(PrCheck.__table__.update().values(checked_at=utcnow() - timedelta(days=91)))
    async with web_bot.runtime.sessions() as s, s.begin():
        assert (await purge(s, pending_days=90, jobs_days=35)).contributor_records == before // 2
    assert stale.number == 7


async def test_audit_and_purge_commands(web_bot: Bot, capsys: Any) -> None:
    from bot.services.maintenance_cli import run_audit, run_purge

    await sign_web(web_bot, "ivy", "ivy@example.com", name="Ivy Secretname")
    settings = web_bot.runtime.settings
    assert await run_audit(settings, limit=10, as_json=True) == 0
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [e["action"] for e in lines] == ["sign"]
    assert (
        lines[0]["actor"] == f"github:{web_bot.github.user('ivy').id}" and lines[0]["via"] == "web"
    )
    assert "Secretname" not in json.dumps(lines) and "ivy@example.com" not in json.dumps(lines)
    assert await run_purge(settings) == 0
    assert "purged" in capsys.readouterr().out
