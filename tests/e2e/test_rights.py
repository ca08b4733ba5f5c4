"""Contributors' rights end to end: erase by comment or page, export, correct, restrict."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from sqlalchemy import func, select
from sqlalchemy.engine import make_url

from bot.sandbox.outbox import Outbox
from bot.storage.identity_keys import email_bidx
from bot.storage.models import (
    AuditEvent,
    Company,
    ErasureRequest,
    PrBlocker,
    Signature,
    Signer,
    SignerEmail,
)
from tests.cli.test_imports import _dump
from tests.e2e.conftest import PUBLIC, Bot, GiteeBot, authorize, csrf_of, oauth_login

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

    async def signers() -> int:
        async with web_bot.runtime.sessions() as s:
            return int(await s.scalar(select(func.count()).select_from(Signer)) or 0)

    # a confirmation with no request before it changes nothing, and says so
    early = await comment(web_bot, prs[0], "olive", "/cla delete-my-data confirm")
    await web_bot.run_jobs()
    (reply,) = replies_to(web_bot, prs[0], early)
    assert "no erasure request of yours" in reply.body and "nothing was erased" in reply.body
    assert await signers() == 1

    # a third person's request finds nothing of theirs
    other = await comment(web_bot, prs[0], "mallory", "/cla delete-my-data")
    await web_bot.run_jobs()
    refusal = replies_to(web_bot, prs[0], other)
    assert len(refusal) == 1 and "no record for your account" in refusal[0].body

    # the owner's request, delivered twice: answered once, with what would go; nothing goes
    ask = await comment(web_bot, prs[0], "olive", "/cla delete-my-data", times=2)
    await web_bot.run_jobs()
    await web_bot.run_jobs()
    (question,) = replies_to(web_bot, prs[0], ask)
    text = question.body
    assert "@olive" in text and "Nothing has been erased yet" in text
    assert "contact details: name, address, phone, fax" in text
    assert "1 email address(es)" in text and "version 1.0 of `individual`" in text
    assert "`/cla delete-my-data confirm`" in text and " UTC" in text
    assert "has been erased as you asked" not in text
    for value in CANARY.values():
        assert value.lower() not in text.lower()
    assert await signers() == 1
    assert [state(web_bot, p) for p in prs] == ["success", "success"]

    # someone else cannot confirm it
    theirs = await comment(web_bot, prs[0], "mallory", "/cla delete-my-data confirm")
    await web_bot.run_jobs()
    (refused,) = replies_to(web_bot, prs[0], theirs)
    assert "no erasure request of yours" in refused.body
    assert await signers() == 1

    # the owner's confirmation, delivered twice: acted on once
    mine = await comment(web_bot, prs[1], "olive", "/cla delete-my-data confirm", times=2)
    await web_bot.run_jobs()
    await web_bot.run_jobs()
    reply_list = replies_to(web_bot, prs[1], mine)
    assert len(reply_list) == 1
    text = reply_list[0].body
    assert "@olive" in text and "has been erased as you asked" in text
    assert "contact details: name, address, phone, fax" in text
    assert "1 email address(es)" in text and "version 1.0 of `individual`" in text
    for value in CANARY.values():
        assert value.lower() not in text.lower()
    # both PRs go back to "CLA required" by themselves
    assert [state(web_bot, p) for p in prs] == ["failure", "failure"]
    assert all(gh.labels_of(p) == ["cla/no"] for p in prs)

    async with web_bot.runtime.sessions() as s:
        assert await s.scalar(select(func.count()).select_from(Signer)) == 0
        assert await s.scalar(select(func.count()).select_from(SignerEmail)) == 0
        assert await s.scalar(select(func.count()).select_from(ErasureRequest)) == 0
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
    assert 'id="no-data"' not in me and "/sign/login/github" in me  # signed out everywhere


async def test_an_erasure_request_lapses_after_24_hours(web_bot: Bot) -> None:
    gh = web_bot.github
    gh.add_installation(1, account="acme", repos=[REPO])
    await sign_web(web_bot, "paula", "paula@example.com", name="Paula Keep")
    pr = await open_pr(web_bot, REPO, 8, "dan")
    await comment(web_bot, pr, "paula", "/cla delete-my-data")
    await web_bot.run_jobs()
    async with web_bot.runtime.sessions() as s, s.begin():
        request = (await s.scalars(select(ErasureRequest))).one()
        request.requested_at -= timedelta(hours=24, minutes=1)
        request.expires_at -= timedelta(hours=24, minutes=1)
        requested = request.requested_at.strftime("%Y-%m-%d %H:%M UTC")
    late = await comment(web_bot, pr, "paula", "/cla delete-my-data confirm")
    await web_bot.run_jobs()
    (reply,) = replies_to(web_bot, pr, late)
    assert "has expired" in reply.body and requested in reply.body
    assert "nothing was erased" in reply.body
    again = await comment(web_bot, pr, "paula", "/cla delete-my-data confirm")
    await web_bot.run_jobs()
    (reply,) = replies_to(web_bot, pr, again)
    assert "no erasure request of yours" in reply.body
    async with web_bot.runtime.sessions() as s:
        assert await s.scalar(select(func.count()).select_from(Signer)) == 1
        assert await s.scalar(select(func.count()).select_from(ErasureRequest)) == 0


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
    from bot.cli.maintenance import run_audit, run_purge

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


# --- canaries: nothing of an erased person is left anywhere in the database -----------------

PERSON = "Ottoline-Canary"
PERSON_ID = 4700123
CANARIES = {
    **CANARY,
    "login": PERSON,
    "account": f"github:{PERSON_ID}",
    "signatory": "Signatoria Canarywell",
    "title": "Chief Canary Officer",
    "company address": "7 Canary Wharf Plaza",
    "company phone": "+44 20 7946 0777",
    "company fax": "+44 20 7946 0666",
}


async def _login_elsewhere(bot: Bot, login: str) -> aiohttp.ClientSession:
    """A second browser (its own cookies), signed in as ``login`` through the OAuth flow."""
    browser = aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True))
    bot.github.signed_in = login
    start = await browser.get(
        bot.client.make_url("/sign/login/github?next=/me"), allow_redirects=False
    )
    assert start.status == 302, await start.text()
    callback = await authorize(start.headers["Location"])
    done = await browser.get(bot.client.make_url(callback[len(PUBLIC) :]), allow_redirects=False)
    assert done.status == 303
    page = await (await browser.get(bot.client.make_url("/me"))).text()
    assert f"@{login}" in page
    return browser


async def _sign_company(
    bot: Bot, box: Outbox, login: str, email: str, fields: dict[str, str]
) -> str:
    """Sign a corporate CLA, its company address proven by the code mailed to it."""
    from tests.e2e.test_corporate import prove_corporate

    return await prove_corporate(
        bot, box, login, {"email": email, "accept": "yes", "privacy": "yes", **fields}
    )


async def _add_entry(bot: Bot, page_url: str, kind: str, value: str) -> None:
    page = await (await bot.client.get(page_url)).text()
    resp = await bot.client.post(
        page_url + "/add",
        data={"csrf": csrf_of(page), "kind": kind, "value": value},
        allow_redirects=False,
    )
    assert resp.status == 303, await resp.text()


def _sqlite_files(database: str) -> str:
    """The raw bytes of the database file, its write-ahead log and its shared-memory index."""
    files = [Path(database + suffix) for suffix in ("", "-wal", "-shm")]
    return b"".join(f.read_bytes() for f in files if f.exists()).decode("latin-1")


async def _stored_text(db_url: str, cipher: Any) -> tuple[str, str]:
    """Everything the database holds, lower-cased: the raw bytes of the SQLite files (main,
    ``-wal``, ``-shm``) or, on PostgreSQL, every text and JSON column of every table; and every
    ciphertext decrypted (a value encrypted is still held)."""
    from sqlalchemy import text

    from bot.services.keys import ENCRYPTED
    from bot.storage.db import create_engine

    url = make_url(db_url)
    engine = create_engine(db_url)
    try:
        async with engine.connect() as conn:
            if url.drivername.startswith("sqlite"):
                stored = _sqlite_files(str(url.database))
            else:
                columns = (
                    await conn.execute(
                        text(
                            "SELECT table_name, column_name FROM information_schema.columns "
                            "WHERE table_schema = current_schema() AND data_type IN "
                            "('text', 'character varying', 'json', 'jsonb') "
                            "ORDER BY table_name, column_name"
                        )
                    )
                ).all()
                assert len(columns) > 40, columns  # the query sees the schema
                values = []
                for table, column in columns:
                    values += (
                        (await conn.execute(text(f'SELECT "{column}"::text FROM "{table}"')))
                        .scalars()
                        .all()
                    )
                stored = "\n".join(v for v in values if v is not None)
            plain = []
            for model, row_attr, cts in ENCRYPTED:
                table = model.__table__
                for row in (await conn.execute(table.select())).mappings().all():
                    for attr, column in cts.items():
                        if row[attr] is not None:
                            plain.append(
                                cipher.decrypt(
                                    row[attr], table=table.name, column=column, row=row[row_attr]
                                )
                            )
    finally:
        await engine.dispose()
    return stored.lower(), "\n".join(plain).lower()


def _found(stored: str, plain: str, cipher: Any) -> list[str]:
    needles = [v.lower() for v in CANARIES.values()] + [email_bidx(cipher, CANARY["email"])]
    return [n for n in needles if n in stored or n in plain]


@pytest.mark.parametrize("path", ["comment", "web"])
async def test_an_erased_person_leaves_no_canary_behind(
    mail_bot: Bot, outbox: tuple[Outbox, int], db_url: str, cipher: Any, path: str
) -> None:
    """One person who was an individual signer, a corporate signatory and a manager of two
    companies, signed in in two browsers and with a command still queued, erased through the
    comment command or the self-service page: none of their values, nor the blind index of
    their email, is left in the database files."""
    gh = mail_bot.github
    gh.add_installation(1, account="acme", repos=[REPO])
    gh.user(PERSON, user_id=PERSON_ID)
    gh.set_emails("bert", ("bert@bert-works.example.com", True))
    bert_company = await _sign_company(
        mail_bot,
        outbox[0],
        "bert",
        "bert@bert-works.example.com",
        {
            "company": "Bert Works",
            "name": "Bert Boss",
            "title": "Owner",
            "address": "1 Bert Street",
            "managers": PERSON,
        },
    )
    # Bert invites her to manage his company too, by email (an invitation names her address)
    bert_page = await (await mail_bot.client.get(bert_company)).text()
    invited = await mail_bot.client.post(
        bert_company + "/invite",
        data={"csrf": csrf_of(bert_page), "email": CANARY["email"]},
        allow_redirects=False,
    )
    assert invited.status == 303
    await mail_bot.run_jobs()
    await sign_web(
        mail_bot, PERSON, CANARY["email"], **{k: v for k, v in CANARY.items() if k != "email"}
    )
    mine = await _sign_company(
        mail_bot,
        outbox[0],
        PERSON,
        CANARY["email"],
        {
            "company": "Tombstone Widgets",
            "name": CANARIES["signatory"],
            "title": CANARIES["title"],
            "address": CANARIES["company address"],
            "phone": CANARIES["company phone"],
            "fax": CANARIES["company fax"],
            "managers": "",
        },
    )
    # a checked PR tells the bot of the installation it asks the forge about accounts with
    pr = await open_pr(mail_bot, REPO, 9, "dan")
    await mail_bot.run_jobs()
    gh.user("a-colleague")
    await _add_entry(mail_bot, mine, "email", CANARY["email"])
    await _add_entry(mail_bot, mine, "login", "a-colleague")
    await _add_entry(mail_bot, bert_company, "email", CANARY["email"].upper())  # as manager
    second = await _login_elsewhere(mail_bot, PERSON)

    stored, plain = await _stored_text(db_url, cipher)
    assert len(_found(stored, plain, cipher)) == len(CANARIES) + 1  # the scan sees them all

    try:
        if path == "comment":
            await comment(mail_bot, pr, PERSON, "/cla delete-my-data")
            await mail_bot.run_jobs()
            confirm = await comment(mail_bot, pr, PERSON, "/cla delete-my-data confirm")
            await comment(mail_bot, pr, PERSON, "/cla export-my-data")  # queued behind it
            await mail_bot.run_jobs()
            (reply,) = replies_to(mail_bot, pr, confirm)
            assert "has been erased as you asked" in reply.body
            assert "the signatory details of 1 corporate CLA(s)" in reply.body
            assert "2 company manager role(s)" in reply.body
            assert "2 signed-in browser session(s)" in reply.body
            assert "what 1 queued job(s) held about you" in reply.body
        else:
            await comment(mail_bot, pr, PERSON, "/cla export-my-data")  # queued, not run
            page = await (await mail_bot.client.get("/me/delete")).text()
            assert 'id="erase-counts"' in page
            assert "1 corporate signatory record(s), 2 company manager role(s)" in page
            assert "2 signed-in session(s)" in page
            resp = await mail_bot.client.post(
                "/me/delete", data={"csrf": csrf_of(page), "confirm": "yes"}
            )
            assert resp.status == 200 and 'id="erased"' in await resp.text()
            await mail_bot.run_jobs()
        # the other browser is signed out too
        me = await (await second.get(mail_bot.client.make_url("/me"))).text()
        assert f"@{PERSON}" not in me and "/sign/login/github" in me
    finally:
        await second.close()

    stored, plain = await _stored_text(db_url, cipher)
    assert _found(stored, plain, cipher) == []
    # what stays: the two companies, without her; Bert's details untouched
    assert "bert@bert-works.example.com" in plain and "bert boss" in plain
    async with mail_bot.runtime.sessions() as s:
        names = sorted((await s.scalars(select(Company.name))).all())
    assert names == ["Bert Works", "Tombstone Widgets"]


async def test_on_gitee_the_erasure_asks_first_too(gitee_bot: GiteeBot, tmp_path: Path) -> None:
    """Gitee's command is re-read from its API: the confirmation survives that path too."""
    from bot.cli.imports import run_import
    from bot.services.importer import HEADER

    g = gitee_bot.gitee
    pr = g.add_pr("open-cla/cla-demo", number=3, author="han-mei")
    csv_file = tmp_path / "g.csv"
    csv_file.write_text(
        ",".join(HEADER)
        + f"\ngitee,li-lei,{g.user('li-lei').id},li.lei@example.cn,,individual,1.0,2024-01-01\n"
    )
    assert await run_import(gitee_bot.runtime.settings, csv_file) == 0

    async def say(body: str) -> str:
        note = g.add_comment(pr, body, user="li-lei")
        assert await gitee_bot.deliver(g.note_event(note)) == 202
        await gitee_bot.run_jobs()
        (reply,) = [c for c in g.bot_comments(pr) if f"cla-bot:reply:{note.id}:" in c.body]
        return reply.body

    async def signers() -> int:
        async with gitee_bot.runtime.sessions() as s:
            return int(await s.scalar(select(func.count()).select_from(Signer)) or 0)

    assert "Nothing has been erased yet" in await say("/cla delete-my-data")
    assert await signers() == 1
    assert "has been erased as you asked" in await say("/cla delete-my-data CONFIRM")
    assert await signers() == 0


async def test_a_corporate_signatory_alone_can_erase_from_the_page(
    mail_bot: Bot, outbox: tuple[Outbox, int]
) -> None:
    mail_bot.github.set_emails("carla", ("carla@carla-ltd.example.com", True))
    await _sign_company(
        mail_bot,
        outbox[0],
        "carla",
        "carla@carla-ltd.example.com",
        {
            "company": "Carla Ltd",
            "name": "Carla Counsel",
            "title": "Counsel",
            "address": "3 Lane",
            "managers": "",
        },
    )
    me = await (await mail_bot.client.get("/me")).text()
    assert 'id="no-data"' in me and 'id="erase-other"' in me
    page = await (await mail_bot.client.get("/me/delete")).text()
    assert "1 corporate signatory record(s), 1 company manager role(s)" in page
    resp = await mail_bot.client.post("/me/delete", data={"csrf": csrf_of(page), "confirm": "yes"})
    assert resp.status == 200 and 'id="erased"' in await resp.text()
    async with mail_bot.runtime.sessions() as s:
        company = (await s.scalars(select(Company))).one()
    assert company.name == "Carla Ltd" and company.signatory_name_ct is None
    assert company.address_ct is None and company.email_ct is None
