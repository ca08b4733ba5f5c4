"""/metrics in the Prometheus text format, parsed by prometheus_client's own parser, with the
counters moving during a run."""

from __future__ import annotations

from prometheus_client.parser import text_string_to_metric_families

from tests.e2e.conftest import Bot


async def scrape(bot: Bot) -> dict[str, list[tuple[dict[str, str], float]]]:
    resp = await bot.client.get("/metrics")
    assert resp.status == 200 and resp.content_type == "text/plain"
    out: dict[str, list[tuple[dict[str, str], float]]] = {}
    for family in text_string_to_metric_families(await resp.text()):
        for sample in family.samples:
            out.setdefault(sample.name, []).append((dict(sample.labels), sample.value))
    return out


def value(m: dict[str, list[tuple[dict[str, str], float]]], name: str, **labels: str) -> float:
    return sum(v for lab, v in m.get(name, []) if all(lab.get(k) == x for k, x in labels.items()))


async def test_counters_move(bot: Bot) -> None:
    gh = bot.github
    before = await scrape(bot)
    assert value(before, "cla_queue_depth") == 0
    gh.add_installation(1, account="acme", repos=["acme/w"])
    pr = gh.add_pr("acme/w", number=1, author="kim")
    await bot.deliver("pull_request", gh.pull_request_event(pr, installation_id=1))
    mid = await scrape(bot)
    assert value(mid, "cla_queue_depth") == 1
    assert value(mid, "cla_queue_oldest_age_seconds") >= 0
    assert (
        value(
            mid,
            "cla_webhook_deliveries_total",
            platform="github",
            event="pull_request",
            outcome="accepted",
        )
        == 1
    )
    await bot.run_jobs()
    after = await scrape(bot)
    assert value(after, "cla_queue_depth") == 0
    assert value(after, "cla_jobs_total", kind="check", outcome="done") == 1
    assert value(after, "cla_checks_total", platform="github", outcome="blocked") == 1
    # POSTs answered 201: the installation token, the status, the check run, the comment.
    assert (
        value(after, "cla_forge_requests_total", forge="github", method="POST", status="201") == 4
    )
    assert value(after, "cla_forge_requests_total", forge="github", method="GET", status="200") == 3
    await bot.client.get("/sign/individual")
    funnel = await scrape(bot)
    assert value(funnel, "cla_signing_funnel_total", step="page") == 1
