"""Proving an address on ``/me``, end to end: signed in with GitHub (the fake forge's OAuth), the
code goes out through the queue to a real SMTP server on loopback, and the address typed with
it is listed as proven by code; a wrong code says how many tries are left; without SMTP the
page says that addresses can only come from the forge."""

from __future__ import annotations

import re

from bot.sandbox.outbox import Outbox
from tests.e2e.conftest import Bot, csrf_of, oauth_login
from tests.e2e.test_rights import sign_web

WORK = "rita@work.example"


def code_in(box: Outbox) -> str:
    body = box.messages[-1].message.get_body(("plain",))
    assert body is not None
    found = re.search(r"Your code is (\d{6})", body.get_content())
    assert found, body.get_content()
    return found.group(1)


async def test_an_address_is_proven_by_the_code_mailed_to_it_and_can_be_removed(
    mail_bot: Bot, outbox: tuple[Outbox, int]
) -> None:
    box, _ = outbox
    mail_bot.github.set_emails("rita", ("rita@example.org", True))
    assert (await oauth_login(mail_bot, "rita", next_path="/me")).status == 303
    page = await (await mail_bot.client.get("/me")).text()
    assert 'action="/me/emails"' in page and 'id="no-mail"' not in page
    sent = await mail_bot.client.post(
        "/me/emails", data={"csrf": csrf_of(page), "email": WORK}, allow_redirects=False
    )
    code_page = await sent.text()
    assert sent.status == 200, code_page
    assert WORK not in str(sent.url) and "We sent a code" in code_page
    assert await mail_bot.runtime.drain() == 1
    [message] = box.messages
    assert message.recipients == (WORK,)
    code = code_in(box)
    uid = re.search(r'name="uid" value="([0-9a-f]+)"', code_page)
    assert uid
    form = {"csrf": csrf_of(code_page), "uid": uid.group(1)}

    wrong = await mail_bot.client.post(
        "/me/emails/confirm", data={**form, "code": "000000" if code != "000000" else "111111"}
    )
    assert wrong.status == 400
    assert "That is not the code. 4 tries left." in await wrong.text()

    right = await mail_bot.client.post(
        "/me/emails/confirm", data={**form, "code": code}, allow_redirects=False
    )
    assert (right.status, right.headers["Location"]) == (303, "/me?proven=1")
    page = await (await mail_bot.client.get("/me?proven=1")).text()
    assert 'id="proven"' in page
    row = re.search(rf"<tr><td>{re.escape(WORK)}</td><td>([^<]+)</td>", page)
    assert row and row.group(1) == "a code sent to it"

    again = await mail_bot.client.post(
        "/me/emails/confirm", data={**form, "code": code}, allow_redirects=False
    )
    assert again.status == 410
    assert "This code was used already." in await again.text()

    address = re.search(
        r'name="address" value="([0-9a-f]+)">\s*<button[^>]*aria-label="Remove ' + re.escape(WORK),
        page,
    )
    assert address, page
    removed = await mail_bot.client.post(
        "/me/emails/remove",
        data={"csrf": csrf_of(page), "address": address.group(1)},
        allow_redirects=False,
    )
    assert removed.status == 303
    assert WORK not in await (await mail_bot.client.get("/me")).text()


async def test_without_smtp_the_page_says_addresses_come_from_the_forge(web_bot: Bot) -> None:
    web_bot.github.set_emails("rita", ("rita@example.org", True))
    assert (await oauth_login(web_bot, "rita", next_path="/me")).status == 303
    page = await (await web_bot.client.get("/me")).text()
    assert 'id="no-mail"' in page and 'action="/me/emails"' not in page
    refused = await web_bot.client.post("/me/emails", data={"csrf": csrf_of(page), "email": WORK})
    assert refused.status == 409
    assert "This deployment sends no mail" in await refused.text()
    assert await web_bot.runtime.drain() == 0


async def test_a_post_without_the_pages_token_sends_nothing(
    mail_bot: Bot, outbox: tuple[Outbox, int]
) -> None:
    mail_bot.github.set_emails("rita", ("rita@example.org", True))
    assert (await oauth_login(mail_bot, "rita", next_path="/me")).status == 303
    refused = await mail_bot.client.post("/me/emails", data={"csrf": "forged", "email": WORK})
    assert refused.status == 403
    assert await mail_bot.runtime.drain() == 0 and list(outbox[0].messages) == []


async def test_a_commit_email_on_no_account_turns_green_once_its_owner_proves_it(
    mail_bot: Bot, outbox: tuple[Outbox, int]
) -> None:
    """The PR's only commit is by an address no GitHub account has: the comment offers the
    proof by code; its owner signs, proves the address with the mailed code, and the PR turns
    green by itself."""
    box, _ = outbox
    gh = mail_bot.github
    gh.add_installation(1, account="acme", repos=["acme/w"])
    commit = gh.make_commit(author=("Rita Q", WORK))  # linked to no account
    pr = gh.add_pr("acme/w", number=1, author="rita", commits=[commit])
    assert (
        await mail_bot.deliver("pull_request", gh.pull_request_event(pr, installation_id=1)) == 202
    )
    await mail_bot.run_jobs()
    assert gh.status_for(pr.head_sha, "cla").state == "failure"
    [body] = [c.body for c in gh.bot_comments(pr)]
    assert "http://cla.test/me#emails-title" in body

    await sign_web(mail_bot, "rita", "rita@example.org", name="Rita Q")
    page = await (await mail_bot.client.get("/me")).text()
    code_page = await (
        await mail_bot.client.post("/me/emails", data={"csrf": csrf_of(page), "email": WORK})
    ).text()
    await mail_bot.run_jobs()  # the receipt and the code go out
    uid = re.search(r'name="uid" value="([0-9a-f]+)"', code_page)
    assert uid
    proved = await mail_bot.client.post(
        "/me/emails/confirm",
        data={"csrf": csrf_of(code_page), "uid": uid.group(1), "code": code_in(box)},
        allow_redirects=False,
    )
    assert proved.status == 303
    await mail_bot.run_jobs()  # the re-check the proof queued
    assert gh.status_for(pr.head_sha, "cla").state == "success"
