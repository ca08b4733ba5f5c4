"""HTML pages: a Jinja2 environment over ``templates/pages`` with English and Simplified
Chinese texts (``templates/pages/i18n/*.json``), chosen by ``?lang=``, a cookie, then
``Accept-Language``."""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import jinja2
from aiohttp import web
from markdown_it import MarkdownIt
from markupsafe import Markup

from bot.settings import LANGUAGES

LANG_COOKIE = "cla_lang"
NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}


class Pages:
    def __init__(self, templates_dir: Path) -> None:
        self.env = jinja2.Environment(
            loader=jinja2.FileSystemLoader(str(templates_dir / "pages")),
            autoescape=True,
            undefined=jinja2.StrictUndefined,
        )
        self.texts: dict[str, dict[str, str]] = {
            lang: json.loads((templates_dir / "pages" / "i18n" / f"{lang}.json").read_text("utf-8"))
            for lang in LANGUAGES
        }
        missing = set(self.texts["en"]) ^ set(self.texts["zh"])
        if missing:
            raise ValueError(f"page texts differ between languages: {sorted(missing)}")
        # html=False: agreement texts are Markdown; raw HTML in them is shown, not run.
        self.markdown = MarkdownIt("commonmark", {"html": False})

    def language(self, request: web.Request) -> str:
        asked = request.query.get("lang") or request.cookies.get(LANG_COOKIE)
        if asked in LANGUAGES:
            return asked
        for part in request.headers.get("Accept-Language", "").split(","):
            tag = part.split(";")[0].strip().lower()
            if tag.startswith("zh"):
                return "zh"
            if tag.startswith("en"):
                return "en"
        return "en"

    def t(self, lang: str, key: str, **values: Any) -> str:
        text = self.texts[lang].get(key) or self.texts["en"][key]
        return text.format(**values) if values else text

    def markdown_html(self, text: str) -> Markup:
        return Markup(self.markdown.render(text))  # noqa: S704 - rendered with html disabled

    def render(
        self,
        request: web.Request,
        name: str,
        *,
        status: int = 200,
        personal: bool = False,
        **context: Any,
    ) -> web.Response:
        lang = self.language(request)
        html = self.env.get_template(name).render(
            lang=lang, t=lambda key, **v: self.t(lang, key, **v), **context
        )
        headers: Mapping[str, str] = NO_STORE if personal else {}
        resp = web.Response(text=html, content_type="text/html", status=status, headers=headers)
        if request.query.get("lang") in LANGUAGES:
            resp.set_cookie(
                LANG_COOKIE, request.query["lang"], max_age=365 * 86400, path="/", samesite="Lax"
            )
        return resp

    def error(
        self,
        request: web.Request,
        key: str,
        *,
        status: int = 400,
        again: str | None = None,
        **values: Any,
    ) -> web.Response:
        lang = self.language(request)
        return self.render(
            request,
            "error.html",
            status=status,
            personal=True,
            message=self.t(lang, key, **values),
            again=again,
        )
