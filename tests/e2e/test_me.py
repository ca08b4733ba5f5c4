"""``/me`` corrections keep a postal address's lines, and are held to the signing form's limits
(the signing form normalises line breaks the same way)."""

from __future__ import annotations

import re

from tests.e2e.conftest import Bot, csrf_of
from tests.e2e.test_rights import sign_web

ADDRESS = "Flat 2\r\n9 Canary Mews\r\nQuietown QT1 2AB"
STORED = "Flat 2\n9 Canary Mews\nQuietown QT1 2AB"


async def person(bot: Bot) -> dict[str, str]:
    export = await (await bot.client.get("/me/export.json")).json()
    return {k: v for k, v in export["person"].items() if k in ("name", "address", "phone", "fax")}


async def test_signing_keeps_the_address_lines_with_unix_line_breaks(web_bot: Bot) -> None:
    await sign_web(web_bot, "rita", "rita@example.org", name="Rita", address=ADDRESS)
    assert (await person(web_bot))["address"] == STORED


async def test_me_edits_the_address_in_a_textarea_and_keeps_its_lines(web_bot: Bot) -> None:
    await sign_web(web_bot, "rita", "rita@example.org", name="Rita", address="1 Road\r\nTown")
    html = await (await web_bot.client.get("/me")).text()
    field = re.search(r"<textarea[^>]*\bid=\"c-address\"[^>]*>([^<]*)</textarea>", html)
    assert field, html
    assert field.group(1) == "1 Road\nTown"
    assert 'maxlength="500"' in field.group(0) and 'name="address"' in field.group(0)
    assert not re.search(r"<input[^>]*\bid=\"c-address\"", html)
    resp = await web_bot.client.post(
        "/me/correct",
        data={"csrf": csrf_of(html), "name": "Rita", "address": ADDRESS, "phone": "", "fax": ""},
        allow_redirects=False,
    )
    assert resp.status == 303
    assert (await person(web_bot))["address"] == STORED


async def test_me_holds_corrections_to_the_signing_forms_limits(web_bot: Bot) -> None:
    await sign_web(web_bot, "rita", "rita@example.org", name="Rita", address="1 Road")
    html = await (await web_bot.client.get("/me")).text()
    before = await person(web_bot)
    cases = [
        ({"address": "x" * 501}, "address", "This is too long."),
        ({"name": "n" * 201}, "name", "This is too long."),
        ({"phone": "call me"}, "phone", "Use digits, spaces and + ( ) - only."),
        ({"fax": "9" * 33}, "fax", "This is too long."),
    ]
    for change, name, message in cases:
        resp = await web_bot.client.post(
            "/me/correct", data={"csrf": csrf_of(html), **change}, allow_redirects=False
        )
        page = await resp.text()
        assert resp.status == 400, (name, page)
        assert f'<p class="error" id="err-c-{name}">{message}</p>' in page
        assert re.search(
            rf'id="c-{name}"[^>]*aria-invalid="true"[^>]*aria-describedby="err-c-{name}"', page
        ), page
        assert await person(web_bot) == before  # nothing written, nothing truncated
    # A line break in the address counts once, as the browser's maxlength counts it.
    exactly = "\r\n".join(["y" * 99] * 4 + ["y" * 100])  # 496 characters + 4 line breaks
    assert len(exactly.replace("\r\n", "\n")) == 500
    resp = await web_bot.client.post(
        "/me/correct", data={"csrf": csrf_of(html), "address": exactly}, allow_redirects=False
    )
    assert resp.status == 303
    assert (await person(web_bot))["address"] == exactly.replace("\r\n", "\n")
