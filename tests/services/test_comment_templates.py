"""An operator's own comment templates (CLA_TEMPLATES_DIR) keep working after an upgrade adds
a text: the new one comes from the shipped templates; a broken one of theirs still fails."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from bot.core.messages import TemplateError
from bot.services.checks import load_comment_templates

SHIPPED = Path(__file__).resolve().parents[2] / "templates"


def test_a_text_the_operators_directory_lacks_comes_from_the_shipped_ones(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    own = tmp_path / "templates"
    shutil.copytree(SHIPPED / "comments", own / "comments")
    (own / "comments" / "section_prove_email.md").unlink()
    (own / "comments" / "section_sign.md").write_text("Sign here, $people: $sign_url\n")
    with caplog.at_level("INFO"):
        templates = load_comment_templates(own)
    assert templates.texts["section_sign"] == "Sign here, $people: $sign_url\n"
    shipped = (SHIPPED / "comments" / "section_prove_email.md").read_text()
    assert templates.texts["section_prove_email"] == shipped
    assert (
        f"comment template section_prove_email is not in {own}: the shipped one is used"
        in caplog.text
    )


def test_a_broken_text_of_the_operators_still_stops_start_up(tmp_path: Path) -> None:
    own = tmp_path / "templates"
    shutil.copytree(SHIPPED / "comments", own / "comments")
    (own / "comments" / "section_sign.md").write_text("Sign, $nobody\n")
    with pytest.raises(TemplateError, match="section_sign: unknown placeholders nobody"):
        load_comment_templates(own)
