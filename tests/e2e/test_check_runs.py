"""Check runs beside the status, on the fake GitHub: the ``cla`` check run shows the same
people and fixes as the comment, GitHub's *Re-run* and the run's *Re-check* button check the PR
again like ``/cla check``, and a re-check that changes nothing writes nothing."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from bot import settings
from bot.sandbox.fakeforge.github import FakeGitHub, FakePR, manifest_permissions
from bot.storage.models import Job, PrCheck
from bot.storage.signatures import NewSignature, record_signature
from bot.web.app import RUNTIME, create_app
from tests.e2e.conftest import Bot
from tests.helpers import sign as sign_body

REPO = "acme/widgets"
INSTALLATION = 31
ROOT = Path(__file__).resolve().parents[2]
CHECK_RUNS = "/repos/{owner}/{repo}/check-runs"
CHECK_RUN = "/repos/{owner}/{repo}/check-runs/{check_run_id}"
STATUSES = "/repos/{owner}/{repo}/statuses/{sha}"
LABELS = "/repos/{owner}/{repo}/issues/{issue_number}/labels"
COMMENTS = "/repos/{owner}/{repo}/issues/{issue_number}/comments"
RECHECK = {
    "label": "Re-check",
    "description": "Check the CLA of this pull request again",
    "identifier": "recheck",
}


async def sign(bot: Bot, login: str) -> None:
    """A signature stored directly, without the re-check that signing on the web queues."""
    user = bot.github.user(login)
    async with bot.runtime.sessions() as session, session.begin():
        await record_signature(
            session,
            bot.runtime.cipher,
            NewSignature(
                platform="github",
                account_id=str(user.id),
                login=login,
                email=f"{login}@example.com",
                name=login.title(),
                agreement_id="individual",
                version="1.0",
                signed_at=datetime(2024, 5, 1, tzinfo=UTC),
                source="web",
            ),
        )


async def opened(bot: Bot, author: str = "alice", number: int = 5) -> FakePR:
    gh = bot.github
    if INSTALLATION not in gh.installations:
        gh.add_installation(INSTALLATION, account="acme", repos=[REPO])
    pr = gh.add_pr(REPO, number=number, author=author, commits=1)
    event = gh.pull_request_event(pr, installation_id=INSTALLATION)
    assert await bot.deliver("pull_request", event) == 202
    assert await bot.run_jobs() == 1
    return pr


def made(gh: FakeGitHub, since: int) -> list[tuple[str, str | None]]:
    return [(r.method, r.route) for r in gh.requests[since:]]


async def jobs(bot: Bot) -> int:
    async with bot.runtime.sessions() as s:
        return int(await s.scalar(select(func.count()).select_from(Job)) or 0)


async def test_unsigned_pr_shows_a_check_run_and_a_status_and_rerun_turns_both_green(
    bot: Bot,
) -> None:
    gh = bot.github
    pr = await opened(bot)
    writes = [(r.method, r.route) for r in gh.writes()]
    assert writes == [
        ("POST", CHECK_RUNS),
        ("POST", STATUSES),
        ("POST", LABELS),
        ("POST", COMMENTS),
    ]
    status = gh.status_for(pr.head_sha, "cla")
    assert status is not None and status.state == "failure"
    run = gh.check_run_for(pr.head_sha, "cla")
    assert run is not None
    assert (run.status, run.conclusion) == ("completed", "action_required")
    assert run.title == "1 contributor must sign the CLA"
    comment = gh.bot_comments(pr)[0].body
    assert run.summary is not None and "@alice" in run.summary
    assert run.summary.strip() == comment.removeprefix("<!-- cla-bot -->").strip()
    assert "alice@example.com" not in run.summary
    assert run.details_url == (
        "https://cla.example.org/sign/individual?platform=github&repo=acme%2Fwidgets&pr=5"
    )
    assert run.actions == [RECHECK]

    # Re-run with nothing changed: a check, and not one write.
    before = len(gh.writes())
    assert await bot.deliver("check_run", gh.check_run_event(run)) == 202
    assert await bot.run_jobs() == 1
    assert len(gh.writes()) == before

    # alice signs (stored directly: no automatic re-check), then someone clicks Re-run.
    await sign(bot, "alice")
    before = len(gh.requests)
    assert await bot.deliver("check_run", gh.check_run_event(run, sender="bob")) == 202
    assert await bot.run_jobs() == 1
    assert [w for w in made(gh, before) if w[0] != "GET"] == [
        ("PATCH", CHECK_RUN),
        ("POST", STATUSES),
        ("POST", LABELS),
        ("DELETE", "/repos/{owner}/{repo}/issues/{issue_number}/labels/{name}"),
        ("PATCH", "/repos/{owner}/{repo}/issues/comments/{comment_id}"),
    ]
    assert gh.check_runs_for(pr.head_sha, "cla") == [run]  # updated in place
    assert (run.conclusion, run.title, run.actions) == (
        "success",
        "All contributors are covered by the CLA",
        [],
    )
    status = gh.status_for(pr.head_sha, "cla")
    assert status is not None and status.state == "success"
    assert gh.labels_of(pr) == ["cla/yes"]
    # No comment was needed to re-check, and none was added: the bot's one comment says so.
    assert gh.count("POST", COMMENTS) == 1
    assert [c.user.type for c in gh.comments_of(pr)] == ["Bot"]
    async with bot.runtime.sessions() as s:
        record = (await s.scalars(select(PrCheck))).one()
    assert (record.check_run_id, record.check_run_sha, record.check_run_conclusion) == (
        run.id,
        pr.head_sha,
        "success",
    )


async def test_the_recheck_button_and_a_suite_rerun_check_again(bot: Bot) -> None:
    gh = bot.github
    pr = await opened(bot)
    run = gh.check_run_for(pr.head_sha, "cla")
    assert run is not None
    await sign(bot, "alice")
    event = gh.check_run_event(run, action="requested_action", identifier="recheck")
    assert await bot.deliver("check_run", event) == 202
    assert await bot.run_jobs() == 1
    assert run.conclusion == "success"
    # A new push, then Re-run all checks of the suite.
    gh.add_commit(pr, author=("Carol", "carol@example.com"), author_login="carol")
    event = gh.check_suite_event(REPO, pr.head_sha)
    assert await bot.deliver("check_suite", event) == 202
    assert await bot.run_jobs() == 1
    new = gh.check_run_for(pr.head_sha, "cla")
    assert new is not None and new is not run  # a new head sha: a new run
    assert new.conclusion == "action_required" and "@carol" in (new.summary or "")


async def test_a_fork_prs_rerun_finds_the_pr_by_its_head(bot: Bot) -> None:
    gh = bot.github
    pr = await opened(bot)
    run = gh.check_run_for(pr.head_sha, "cla")
    assert run is not None
    await sign(bot, "alice")
    assert await bot.deliver("check_run", gh.check_run_event(run, pull_requests=False)) == 202
    assert await bot.run_jobs() == 1
    assert run.conclusion == "success"


@pytest.mark.parametrize(
    ("action", "identifier", "app_id"),
    [
        ("created", None, None),
        ("completed", None, None),
        ("requested_action", "something-else", None),
        ("rerequested", None, 99),  # another App's run
    ],
)
async def test_other_check_run_deliveries_store_nothing(
    bot: Bot, action: str, identifier: str | None, app_id: int | None
) -> None:
    gh = bot.github
    pr = await opened(bot)
    run = gh.check_run_for(pr.head_sha, "cla")
    assert run is not None
    before = await jobs(bot)
    event = gh.check_run_event(run, action=action, identifier=identifier, app_id=app_id)
    resp = await bot.client.post(
        "/webhooks/github", data=body_of(event), headers=headers_for("check_run", event)
    )
    assert resp.status == 200 and (await resp.json())["message"] == "ignored"
    suite = gh.check_suite_event(REPO, pr.head_sha, action="requested")
    assert await bot.deliver("check_suite", suite) == 200
    assert await jobs(bot) == before


def body_of(payload: dict[str, Any]) -> bytes:
    return json.dumps(payload).encode()


def headers_for(event: str, payload: dict[str, Any]) -> dict[str, str]:
    """A delivery's headers, signed like GitHub's, for tests that read the answer's body."""
    return {
        "X-GitHub-Event": event,
        "X-GitHub-Delivery": str(uuid.uuid4()),
        "X-Hub-Signature-256": sign_body(body_of(payload)),
        "Content-Type": "application/json",
    }


async def test_an_installation_without_checks_write_gets_the_status(
    bot: Bot, caplog: pytest.LogCaptureFixture
) -> None:
    gh = bot.github
    granted = {k: v for k, v in manifest_permissions().items() if k != "checks"}
    gh.add_installation(INSTALLATION, account="acme", repos=[REPO], permissions=granted)
    pr = await opened(bot)
    failed = [(r.method, r.route, r.status) for r in gh.writes(include_failed=True)]
    assert failed == [
        ("POST", CHECK_RUNS, 403),
        ("POST", STATUSES, 201),
        ("POST", LABELS, 200),
        ("POST", COMMENTS, 201),
    ]
    status = gh.status_for(pr.head_sha, "cla")
    assert status is not None and status.state == "failure"
    lines = [r.getMessage() for r in caplog.records if "Checks: write" in r.getMessage()]
    assert lines == [
        f"installation {INSTALLATION} has not accepted the App permission Checks: write: "
        "reporting commit statuses only until it does"
    ]
    # The next check of that installation does not ask again.
    before = len(gh.requests)
    await sign(bot, "alice")
    assert await bot.deliver("check_suite", gh.check_suite_event(REPO, pr.head_sha)) == 202
    await bot.run_jobs()
    assert ("POST", CHECK_RUNS) not in made(gh, before)


@pytest.fixture
async def check_only_bot(
    aiohttp_client: Any,
    db_url: str,
    bot_env: Callable[..., dict[str, str]],
    github: FakeGitHub,
    tmp_path: Path,
) -> Bot:
    """A bot with ``cla.report.github: check`` and failures concluded ``failure``."""
    text = (ROOT / "app.yaml").read_text(encoding="utf-8")
    text = text.replace("    github: both\n", "    github: check\n")
    text = text.replace(
        "check_failure_conclusion: action_required", "check_failure_conclusion: failure"
    )
    config = tmp_path / "app.yaml"
    config.write_text(text, encoding="utf-8")
    conf = settings.load(bot_env(db_url, CLA_CONFIG=str(config)), cwd=tmp_path)
    app = create_app(conf, run_worker=False)
    return Bot(client=await aiohttp_client(app), runtime=app[RUNTIME], github=github)


async def test_check_only_writes_no_status_and_falls_back_when_refused(
    check_only_bot: Bot,
) -> None:
    bot, gh = check_only_bot, check_only_bot.github
    pr = await opened(bot)
    assert [(r.method, r.route) for r in gh.writes()] == [
        ("POST", CHECK_RUNS),
        ("POST", LABELS),
        ("POST", COMMENTS),
    ]
    run = gh.check_run_for(pr.head_sha, "cla")
    assert run is not None and run.conclusion == "failure" and run.actions == [RECHECK]
    assert gh.status_for(pr.head_sha, "cla") is None
    # Another installation that has not accepted checks: write still gets a status.
    granted = {k: v for k, v in manifest_permissions().items() if k != "checks"}
    gh.add_installation(32, account="other", repos=["other/thing"], permissions=granted)
    theirs = gh.add_pr("other/thing", number=1, author="bob", commits=1)
    assert (
        await bot.deliver("pull_request", gh.pull_request_event(theirs, installation_id=32)) == 202
    )
    assert await bot.run_jobs() == 1
    status = gh.status_for(theirs.head_sha, "cla")
    assert status is not None and status.state == "failure"
    assert gh.check_run_for(theirs.head_sha, "cla") is None
