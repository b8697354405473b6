"""/metrics, /healthz and /readyz, scraped over HTTP while the bot answers through discord.py (simcord)."""

from __future__ import annotations

import json

from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import select

from bot.app import Services
from bot.db.models import UsageRow
from bot.ops.server import OpsServer
from tests.cogs.helpers import server
from tests.ops.conftest import get


def samples(exposition: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(exposition)
        for s in family.samples
    }


def value(scraped: dict[tuple[str, tuple[tuple[str, str], ...]], float], name: str, **labels: str) -> float:
    return scraped.get((name, tuple(sorted(labels.items()))), 0.0)


async def test_counters_and_histograms_move_by_what_the_conversation_did(
    simcord_env, services: Services, ops: OpsServer
) -> None:
    s = server(simcord_env)
    _, text = await get(ops, "/metrics")
    before = samples(text)

    await s.member.slash(s.channel, "ask", prompt="first")
    await s.member.slash(s.channel, "ask", prompt="second")
    services.answers.cooldowns.seconds = 3600  # the next question is refused: a cooldown
    await s.member.slash(s.channel, "ask", prompt="third")

    status, text = await get(ops, "/metrics")
    after = samples(text)
    assert status == 200
    moved = {
        name: value(after, name, **labels) - value(before, name, **labels)
        for name, labels in [
            ("hfbot_answers_total", {"path": "ask", "status": "complete", "model": "scripted"}),
            ("hfbot_time_to_first_visible_seconds_count", {"path": "ask"}),
            ("hfbot_time_to_first_token_seconds_count", {"model": "scripted"}),
            ("hfbot_generated_tokens_total", {"model": "scripted"}),
            ("hfbot_prompt_tokens_total", {"model": "scripted"}),
            ("hfbot_refusals_total", {"reason": "busy"}),
        ]
    }
    async with services.db.sessions() as session:
        rows = (await session.scalars(select(UsageRow))).all()
    assert len(rows) == 2
    assert moved == {
        "hfbot_answers_total": 2,
        "hfbot_time_to_first_visible_seconds_count": 2,
        "hfbot_time_to_first_token_seconds_count": 2,
        "hfbot_generated_tokens_total": sum(r.completion_tokens for r in rows),
        "hfbot_prompt_tokens_total": sum(r.prompt_tokens for r in rows),
        "hfbot_refusals_total": 1,
    }
    assert sum(r.completion_tokens for r in rows) > 0
    assert value(after, "hfbot_db_operation_seconds_count", operation="insert") > value(
        before, "hfbot_db_operation_seconds_count", operation="insert"
    )
    assert any(name == "process_cpu_seconds_total" for name, _ in after)  # the default process metrics


async def test_health_and_readiness_say_what_is_up(simcord_env, ops: OpsServer) -> None:
    status, body = await get(ops, "/healthz")
    assert status == 200 and json.loads(body)["status"] == "ok"
    status, body = await get(ops, "/readyz")
    assert status == 200
    assert json.loads(body) == {
        "ready": True,
        "checks": {
            "gateway": {"ready": True},
            "database": {"ready": True},
            "default_model": {"ready": True},
            "model_endpoints": {"ready": True},
        },
    }
