"""The comment and reply texts in another language (``comments/<lang>/<key>.md``): an
operator's directory without a text of a shipped language gets the shipped one, a language the
shipped templates lack must be complete, and a broken text is named with its language."""

from __future__ import annotations

import dataclasses
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from bot.core.messages import MARKER, TemplateError
from bot.core.model import StatusState
from bot.core.replies import HELP_MARKER, ReplyTemplateError, reply_marker
from bot.services.checks import load_comment_templates
from bot.services.checks.config import Scopes, languages_of
from bot.services.commands import load_reply_templates
from tests.services.conftest import (
    AMY,
    REPO,
    Bot,
    add_labels,
    blocked,
    create_comment,
    set_status,
)

SHIPPED = Path(__file__).resolve().parents[2] / "templates"


def own_copy(tmp_path: Path) -> Path:
    own = tmp_path / "templates"
    shutil.copytree(SHIPPED / "comments", own / "comments")
    return own


def test_the_shipped_templates_load_in_english_and_chinese() -> None:
    templates = load_comment_templates(SHIPPED)
    assert templates.languages == ("en", "zh")
    zh = (SHIPPED / "comments" / "zh" / "section_sign.md").read_text(encoding="utf-8")
    assert templates.texts_of("zh")["section_sign"] == zh
    texts = load_reply_templates(SHIPPED)
    assert texts["zh/reply_help"] == (SHIPPED / "comments/zh/reply_help.md").read_text("utf-8")


def test_a_chinese_text_the_operators_directory_lacks_comes_from_the_shipped_ones(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    own = own_copy(tmp_path)
    (own / "comments" / "zh" / "section_prove_email.md").unlink()
    (own / "comments" / "zh" / "reply_export.md").unlink()
    (own / "comments" / "zh" / "section_sign.md").write_text("请签署：$sign_url\n\n$people\n")
    with caplog.at_level("INFO"):
        templates = load_comment_templates(own)
        texts = load_reply_templates(own)
    zh = templates.texts_of("zh")
    assert zh["section_sign"] == "请签署：$sign_url\n\n$people\n"
    shipped = SHIPPED / "comments" / "zh"
    assert zh["section_prove_email"] == (shipped / "section_prove_email.md").read_text("utf-8")
    assert texts["zh/reply_export"] == (shipped / "reply_export.md").read_text("utf-8")
    assert (
        f"comment template zh/section_prove_email is not in {own}: the shipped one is used"
        in caplog.text
    )
    assert f"reply template zh/reply_export is not in {own}: the shipped one is used" in (
        caplog.text
    )
    # the English ones are the operator's own, untouched
    assert templates.texts["section_sign"] == (SHIPPED / "comments/section_sign.md").read_text()


def test_a_directory_of_english_texts_only_gets_the_shipped_chinese_ones(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    own = own_copy(tmp_path)
    shutil.rmtree(own / "comments" / "zh")
    with caplog.at_level("INFO"):
        templates = load_comment_templates(own)
        load_reply_templates(own)
    assert templates.languages == ("en", "zh")
    assert f"comment templates in zh are not in {own}: the shipped ones are used" in caplog.text
    assert f"reply templates in zh are not in {own}: the shipped ones are used" in caplog.text
    assert "comment template zh/" not in caplog.text  # said once, not once per text


def test_a_broken_chinese_text_is_named_by_language(tmp_path: Path) -> None:
    own = own_copy(tmp_path)
    (own / "comments" / "zh" / "section_sign.md").write_text("请签署，$nobody\n")
    (own / "comments" / "zh" / "reply_help.md").write_text("@$login $who\n")
    with pytest.raises(TemplateError, match="zh/section_sign: unknown placeholders nobody"):
        load_comment_templates(own)
    with pytest.raises(ReplyTemplateError, match=r"zh/reply_help: unknown \$who"):
        load_reply_templates(own)


def test_a_language_the_shipped_templates_lack_must_be_complete(tmp_path: Path) -> None:
    own = own_copy(tmp_path)
    (own / "comments" / "fr").mkdir()
    (own / "comments" / "fr" / "section_sign.md").write_text("Signez : $sign_url\n\n$people\n")
    with pytest.raises(TemplateError, match="fr: missing templates: fr/comment_blocked"):
        load_comment_templates(own)
    shutil.copytree(SHIPPED / "comments" / "zh", own / "comments" / "pt-BR")
    (own / "comments" / "fr" / "section_sign.md").unlink()
    assert load_comment_templates(own).languages == ("en", "pt-BR", "zh")


def test_the_languages_come_from_the_policy(make_bot: Callable[..., Bot]) -> None:
    plain = make_bot().checks.policy
    assert languages_of(plain) == ("en",)
    assert languages_of(dataclasses.replace(plain, languages=("zh", "en"))) == ("zh", "en")
    assert languages_of(dataclasses.replace(plain, languages=())) == ("en",)


async def test_a_community_in_chinese_and_english_gets_its_comment_in_both(
    make_bot: Callable[..., Bot],
) -> None:
    plain = make_bot().checks.policy
    bot = make_bot(scopes=Scopes.single(dataclasses.replace(plain, languages=("zh", "en"))))
    pr = bot.open_pr(1, AMY)
    await bot.check(1)
    english = blocked(1, "amy").removeprefix(MARKER + "\n")
    writes = bot.forge.writes()
    assert writes[:2] == [
        set_status(1, pr.head_sha, StatusState.FAILURE, "1 位贡献者需要签署 CLA"),
        add_labels(1, "cla/no"),
    ]
    (body,) = [c.body for c in bot.forge.comments_on(pr.repo, 1)]
    assert writes[2:] == [create_comment(1, body)]
    chinese, rest = body.removeprefix(MARKER + "\n").split("\n\n---\n\n")
    assert rest == english
    assert chinese.startswith("### CLA 检查：需要处理\n\n")
    assert "- @amy" in chinese and "/sign/individual?platform=github" in chinese
    assert body.count(MARKER) == 1


async def test_a_command_reply_in_the_repository_community_s_languages(
    make_bot: Callable[..., Bot],
) -> None:
    plain = make_bot().checks.policy
    bot = make_bot(scopes=Scopes.single(dataclasses.replace(plain, languages=("zh", "en"))))
    bot.open_pr(1, AMY)
    comment_id = await bot.comment(1, AMY, "/cla frobnicate")
    (reply,) = [c.body for c in bot.forge.comments_on(REPO, 1) if HELP_MARKER in c.body]
    marker = reply_marker(comment_id, "unknown")
    assert reply.startswith(f"{HELP_MARKER}\n{marker}\n@amy，CLA 机器人不认识 `/cla frobnicate`。")
    assert "\n\n---\n\n@amy, the CLA bot does not know `/cla frobnicate`." in reply
