"""A new agreement version: `compatible` keeps earlier signatures counting, `re-sign` does not,
and the bot's comment says a new version needs signing."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from bot import settings
from bot.cli.imports import run_import
from bot.sandbox.fakeforge.github import FakeGitHub
from bot.services.importer import HEADER
from bot.web.app import RUNTIME, create_app
from tests.e2e.conftest import Bot

ROOT = Path(__file__).resolve().parents[2]


def two_versions(tmp_path: Path, compatibility: str) -> tuple[Path, Path]:
    templates = tmp_path / "templates"
    shutil.copytree(ROOT / "templates", templates)
    (templates / "agreements" / "individual-2.0.md").write_text(
        "# Individual CLA 2.0\n\nNew terms.\n"
    )
    conf = yaml.safe_load((ROOT / "app.yaml").read_text())
    versions = conf["cla"]["agreements"][0]["versions"]
    versions.append(
        {
            "version": "2.0",
            "text": "agreements/individual-2.0.md",
            "compatibility": compatibility,
            "fields": {"name": "required", "email": "required"},
        }
    )
    path = tmp_path / "app.yaml"
    path.write_text(yaml.safe_dump(conf))
    return path, templates


@pytest.mark.parametrize(
    ("compatibility", "state"), [("compatible", "success"), ("re-sign", "failure")]
)
async def test_new_version(
    compatibility: str,
    state: str,
    aiohttp_client: Any,
    db_url: str,
    github: FakeGitHub,
    bot_env: Callable[..., dict[str, str]],
    tmp_path: Path,
) -> None:
    app_yaml, templates = two_versions(tmp_path, compatibility)
    conf = settings.load(
        bot_env(db_url, CLA_CONFIG=str(app_yaml), CLA_TEMPLATES_DIR=str(templates)), cwd=tmp_path
    )
    app = create_app(conf, run_worker=False)
    bot = Bot(client=await aiohttp_client(app), runtime=app[RUNTIME], github=github)
    github.add_installation(2, account="acme", repos=["acme/w"])
    pr = github.add_pr("acme/w", number=1, author="vic")
    csv_file = tmp_path / "v.csv"
    csv_file.write_text(
        ",".join(HEADER) + f"\ngithub,vic,{github.user('vic').id},,,individual,1.0,2024-01-01\n"
    )
    assert await run_import(conf, csv_file) == 0
    await bot.deliver("pull_request", github.pull_request_event(pr, installation_id=2))
    await bot.run_jobs()
    assert github.status_for(pr.head_sha, "cla").state == state  # type: ignore[union-attr]
    if state == "failure":
        body = github.bot_comments(pr)[0].body
        assert "@vic" in body and "new version" in body.lower()


async def test_a_published_text_cannot_change_under_the_same_version(
    db_url: str, make_settings: Callable[..., Any], tmp_path: Path
) -> None:
    from bot.errors import SettingsError
    from bot.runtime import build_runtime

    runtime = await build_runtime(make_settings(db_url), clients={})
    await runtime.close()
    templates = tmp_path / "templates"
    shutil.copytree(ROOT / "templates", templates)
    (templates / "agreements" / "individual-1.0.md").write_text("Quietly different terms.\n")
    with pytest.raises(SettingsError) as exc:
        await build_runtime(make_settings(db_url, CLA_TEMPLATES_DIR=str(templates)), clients={})
    assert (
        exc.value.name == "app.yaml cla.agreements"
        and "publish the edit as a new version" in str(exc.value)
    )


async def test_replicas_starting_together_publish_the_agreements_once(
    db_url: str, make_settings: Callable[..., Any]
) -> None:
    import asyncio

    from sqlalchemy import func, select

    from bot.runtime import build_runtime
    from bot.storage.models import AgreementVersionRow

    settings = make_settings(db_url)
    runtimes = await asyncio.gather(*(build_runtime(settings, clients={}) for _ in range(4)))
    try:
        async with runtimes[0].sessions() as s:
            count = await s.scalar(select(func.count()).select_from(AgreementVersionRow))
        assert count == sum(len(a.versions) for a in settings.policy.agreements)
    finally:
        for r in runtimes:
            await r.close()
