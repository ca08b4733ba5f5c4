"""Logs are JSON lines that carry delivery, job and request ids — and no personal data,
secrets or tokens, through a whole flow: sign, check, erase."""

from __future__ import annotations

import io
import json
import logging
import re
from collections.abc import Iterator

import pytest

from bot.logs import JsonFormatter
from bot.sandbox.outbox import Outbox
from tests.e2e.conftest import Bot, csrf_of, oauth_login
from tests.e2e.test_email_proofs import code_in
from tests.e2e.test_rights import comment, open_pr, sign_web
from tests.helpers import WEBHOOK_SECRET

CANARIES = [
    "Wilhelmina Logcanary",
    "wilhelmina.logcanary@example.net",
    "+49 30 5550 1234",
    "7 Canary Lane",
]


@pytest.fixture
def log_lines() -> Iterator[io.StringIO]:
    buf = io.StringIO()
    handler = logging.StreamHandler(buf)
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    old_level = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    try:
        yield buf
    finally:
        root.removeHandler(handler)
        root.setLevel(old_level)


async def test_no_personal_data_in_logs(web_bot: Bot, log_lines: io.StringIO) -> None:
    gh = web_bot.github
    gh.add_installation(1, account="acme", repos=["acme/w"])
    await sign_web(
        web_bot, "wil", CANARIES[1], name=CANARIES[0], phone=CANARIES[2], address=CANARIES[3]
    )
    pr = await open_pr(web_bot, "acme/w", 1, "wil")
    await web_bot.run_jobs()
    await comment(web_bot, pr, "wil", "/cla delete-my-data")
    await web_bot.run_jobs()
    await comment(web_bot, pr, "wil", "/cla delete-my-data confirm")
    await web_bot.run_jobs()
    text = log_lines.getvalue()
    lines = [json.loads(line) for line in text.splitlines() if line.startswith("{")]
    assert lines, "nothing was logged"
    low = text.lower()
    for canary in CANARIES:
        assert canary.lower() not in low, canary
    assert WEBHOOK_SECRET not in text and "gho_" not in text and "ghs_" not in text
    assert any(entry["msg"].startswith("erased personal data") for entry in lines)
    checked = [entry for entry in lines if entry["msg"].startswith("checked github")]
    assert checked and all("job_id" in entry for entry in checked)
    assert any("request_id" in entry for entry in lines)


async def test_no_code_address_or_receipt_in_logs_through_mail(
    mail_bot: Bot, outbox: tuple[Outbox, int], log_lines: io.StringIO
) -> None:
    """Sign (a receipt is mailed), prove a second address by its code, all through the queue
    and a real SMTP server: neither the code, the addresses, nor the receipt's content is
    logged."""
    box, _ = outbox
    work = "wilhelmina.work@canary.example"
    await sign_web(
        mail_bot, "wil", CANARIES[1], name=CANARIES[0], phone=CANARIES[2], address=CANARIES[3]
    )
    page = await (await mail_bot.client.get("/me")).text()
    sent = await mail_bot.client.post("/me/emails", data={"csrf": csrf_of(page), "email": work})
    code_page = await sent.text()
    await mail_bot.run_jobs()
    receipt, code_mail = box.messages
    code = code_in(box)
    uid = re.search(r'name="uid" value="([0-9a-f]+)"', code_page)
    assert uid
    done = await mail_bot.client.post(
        "/me/emails/confirm",
        data={"csrf": csrf_of(code_page), "uid": uid.group(1), "code": code},
        allow_redirects=False,
    )
    assert done.status == 303
    text = log_lines.getvalue().lower()
    assert [json.loads(line) for line in text.splitlines() if line.startswith("{")]
    sha = receipt.message.get_body(("plain",)).get_content().split("Text SHA-256:")[1].split()[0]
    for secret in (*CANARIES, work, code, sha, receipt.message["Subject"]):
        assert secret.lower() not in text, secret
    assert code_mail.recipients == (work,)


async def test_no_code_or_company_address_in_logs_through_corporate_signing(
    mail_bot: Bot, outbox: tuple[Outbox, int], log_lines: io.StringIO
) -> None:
    """A corporate signature proven by a code to the company address, a further domain proven
    by a manager, a manager invited by email: neither the codes, the addresses, the invitation's
    token nor the signatory's details are logged."""
    from tests.e2e.test_corporate import ask_code, invitation_link, last_code, prove_corporate

    box, _ = outbox
    work, further = "wilhelmina@canary-corp.example.com", "it@canary-labs.example.org"
    mail_bot.github.set_emails("wil", (CANARIES[1], True))
    page_url = await prove_corporate(
        mail_bot,
        box,
        "wil",
        {
            "company": "Canary Corp",
            "name": CANARIES[0],
            "title": "Canary Counsel",
            "address": CANARIES[3],
            "email": work,
            "accept": "yes",
            "privacy": "yes",
        },
    )
    codes = [last_code(box, work)]
    page = await (await mail_bot.client.get(page_url)).text()
    code_page, uid = await ask_code(
        mail_bot, page_url + "/domains", {"csrf": csrf_of(page), "email": further}
    )
    await mail_bot.run_jobs()
    codes.append(last_code(box, further))
    done = await mail_bot.client.post(
        page_url + "/domains/confirm",
        data={"csrf": csrf_of(code_page), "uid": uid, "code": codes[-1]},
        allow_redirects=False,
    )
    assert done.status == 303
    # and a manager invited by email, who accepts by signing in
    page = await (await mail_bot.client.get(page_url)).text()
    invitee = "colleague@canary-corp.example.com"
    await mail_bot.client.post(page_url + "/invite", data={"csrf": csrf_of(page), "email": invitee})
    await mail_bot.run_jobs()
    link = invitation_link(box, invitee)
    await mail_bot.client.get(link)
    mail_bot.github.set_emails("colleague", ("colleague@example.org", True))
    await oauth_login(mail_bot, "colleague", next_path="/company/invite")
    invite_page = await (await mail_bot.client.get("/company/invite")).text()
    accepted = await mail_bot.client.post(
        "/company/invite", data={"csrf": csrf_of(invite_page)}, allow_redirects=False
    )
    assert accepted.status == 303
    # The mailed link carries the token in its path, as any link does: the test server's access
    # log shows it, which the bot never runs (``cla-bot serve`` and the sandbox start aiohttp
    # with ``access_log=None``); every other line is checked.
    text = "\n".join(
        line
        for line in log_lines.getvalue().lower().splitlines()
        if '"logger": "aiohttp.access"' not in line
    )
    assert [json.loads(line) for line in text.splitlines() if line.startswith("{")]
    token = link.rsplit("/", 1)[1]
    for secret in (*CANARIES, "Canary Counsel", work, further, invitee, *codes, token):
        assert secret.lower() not in text, secret
