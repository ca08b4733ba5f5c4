"""The receipt mailed after signing, end to end through the queue to a real SMTP server on
loopback: what it says, the signed text attached, and nothing of the fields but their names
and the signer's own name."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

from bot.sandbox.outbox import Outbox
from tests.e2e.conftest import Bot
from tests.e2e.test_rights import sign_web

AGREEMENTS = Path(__file__).resolve().parents[2] / "templates" / "agreements"
TEXT = (AGREEMENTS / "individual-1.0.md").read_text()
CORPORATE = (AGREEMENTS / "corporate-1.0.md").read_text()


async def test_a_signer_gets_a_receipt_with_the_signed_text(
    mail_bot: Bot, outbox: tuple[Outbox, int]
) -> None:
    box, _ = outbox
    await sign_web(mail_bot, "rita", "rita@example.org", name="Rita Q", phone="+44 1234")
    assert list(box.messages) == []  # queued with the signature, sent by the worker
    assert await mail_bot.runtime.drain() >= 1
    [got] = box.messages
    assert got.recipients == ("rita@example.org",)
    m = got.message
    assert m["Subject"].startswith("Your receipt: ") and m["Subject"].endswith(" 1.0")
    body = m.get_body(("plain",))
    assert body is not None
    text = body.get_content()
    assert text.startswith("Dear Rita Q,\n")
    assert f"Text SHA-256:     {hashlib.sha256(TEXT.encode()).hexdigest()}" in text
    assert "It covers:        GitHub @rita, rita@example.org" in text
    assert "Fields you gave:  email, name, phone" in text
    assert "+44 1234" not in m.as_string()  # a field's value other than the name: never
    assert "http://cla.test/me" in text
    [attached] = list(m.iter_attachments())
    assert attached.get_filename() == "individual-1.0.md"
    assert attached.get_content() == TEXT


async def test_without_smtp_signing_queues_no_mail(web_bot: Bot) -> None:
    await sign_web(web_bot, "rita", "rita@example.org", name="Rita Q")
    async with web_bot.runtime.sessions() as s:
        from sqlalchemy import func, select

        from bot.storage.models import Job, JobKind

        mail = await s.scalar(select(func.count()).select_from(Job).where(Job.kind == JobKind.MAIL))
    assert mail == 0


async def test_the_done_page_offers_the_signed_text_as_the_mail_attaches_it(web_bot: Bot) -> None:
    await sign_web(web_bot, "rita", "rita@example.org", name="Rita Q")
    done = await (await web_bot.client.get("/sign/individual/done")).text()
    assert 'href="/sign/individual/signed.md" download' in done
    resp = await web_bot.client.get("/sign/individual/signed.md")
    assert resp.status == 200
    assert resp.headers["Content-Disposition"] == 'attachment; filename="individual-1.0.md"'
    assert "no-store" in resp.headers["Cache-Control"]
    assert await resp.text() == TEXT
    other = await web_bot.client.get("/sign/corporate/signed.md")
    assert other.status == 404


async def test_a_receipt_is_verified_by_what_it_says_and_the_answer_names_nobody(
    mail_bot: Bot, outbox: tuple[Outbox, int]
) -> None:
    box, _ = outbox
    await sign_web(mail_bot, "rita", "rita@example.org", name="Rita Q")
    await mail_bot.runtime.drain()
    text = box.messages[-1].message.get_body(("plain",)).get_content()
    said = dict(
        line.split(":", 1) for line in text.splitlines() if line.startswith(("Signature", "Text"))
    )
    when = re.search(r"on (\d{4}-\d\d-\d\d \d\d:\d\d:\d\d) UTC", text)
    assert when
    query = {
        "signature": said["Signature"].strip(),
        "agreement": "individual",
        "version": "1.0",
        "sha256": said["Text SHA-256"].strip(),
        "signed_at": when.group(1) + " UTC",
    }
    anonymous = mail_bot.client
    anonymous.session.cookie_jar.clear()
    page = await (await anonymous.get("/receipts/verify", params=query)).text()
    assert "This receipt matches a recorded signature." in page
    assert "rita" not in page.lower()
    for field, wrong in (("sha256", "0" * 64), ("version", "2.0"), ("signed_at", "2020-01-01")):
        resp = await anonymous.get("/receipts/verify", params={**query, field: wrong})
        assert "does not match any recorded signature" in await resp.text(), field
    resp = await anonymous.get("/receipts/verify", params={**query, "signature": "x"})
    assert resp.status == 400
    empty = await (await anonymous.get("/receipts/verify")).text()
    assert 'id="verify-result"' not in empty


async def test_a_corporate_signatory_gets_a_receipt_naming_what_awaits_approval(
    mail_bot: Bot, outbox: tuple[Outbox, int]
) -> None:
    from tests.e2e.test_corporate import sign_corporate

    box, _ = outbox
    page = await sign_corporate(mail_bot, box, domains="example.com")
    code, got = box.messages  # the code that proved the company address, then the receipt
    assert code.recipients == got.recipients == ("maria.legal@example.com",)
    m = got.message
    # Python folds a long Subject right after its colon; that white space is not the text's.
    subject = str(m["Subject"]).strip()
    assert subject == "Your receipt: Corporate Contributor License Agreement 1.0 for Example Corp"
    body = m.get_body(("plain",))
    assert body is not None
    text = body.get_content()
    digest = hashlib.sha256(CORPORATE.encode()).hexdigest()
    assert text.startswith("Dear Maria Signatoryname,\n")
    assert f"Text SHA-256:     {digest}" in text
    assert "Signed by:        GitHub @maria" in text
    assert "Managers named:   co-manager, maria, other-manager" in text
    assert "Domains named:    example.com" in text
    assert "Fields you gave:  address, company, email, name, title" in text
    assert f"http://cla.test{page}" in text
    assert "1 Corporate Plaza" not in m.as_string() and "General Counsel" not in m.as_string()
    [attached] = list(m.iter_attachments())
    assert attached.get_filename() == "corporate-1.0.md"
