"""/usage and /quota through discord.py (simcord): totals equal what is stored; quotas refuse, survive, reset."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select

from bot.app import Services
from bot.db import history
from bot.db.models import UsageRow
from bot.services.usage import UsageService
from tests.cogs.helpers import server, told_privately


async def stored_tokens(services: Services, user_id: int) -> int:
    async with services.db.sessions() as session:
        total = await session.scalar(
            select(func.sum(UsageRow.prompt_tokens + UsageRow.completion_tokens)).where(UsageRow.user_id == user_id)
        )
    return int(total or 0)


async def test_usage_shows_what_is_stored(simcord_env, services: Services) -> None:
    s = server(simcord_env)
    await s.member.slash(s.channel, "ask", prompt="one question")
    await s.member.slash(s.channel, "ask", prompt="and another one, a little longer than the first")
    await s.admin.slash(s.channel, "ask", prompt="the admin asks too")
    await s.member.slash(s.channel, "forget")  # clearing memory never gives tokens back

    mine = await s.member.slash(s.channel, "usage")
    spent = await stored_tokens(services, s.member.id)
    assert mine.ephemeral and spent > 0
    assert f"**You today:** {spent:,} tokens in 2 answers" in mine.response.content
    assert "Top users" not in mine.response.content  # members see only their own

    theirs = await s.admin.slash(s.channel, "usage")
    server_total = spent + await stored_tokens(services, s.admin.id)
    assert f"**This server today:** {server_total:,} tokens in 3 answers" in theirs.response.content
    assert f"<@{s.member.id}> {spent:,}" in theirs.response.content


async def test_a_member_quota_refuses_with_its_reset_time_survives_restarts_and_resets(
    simcord_env, services: Services
) -> None:
    s = server(simcord_env)
    denied = await s.member.slash(s.channel, "quota", scope="member", tokens=7)
    assert denied.ephemeral and "Only server admins" in denied.response.content
    set_ = await s.admin.slash(s.channel, "quota", scope="member", tokens=7)
    assert "7 tokens a day for each member" in set_.response.content

    first = await s.member.slash(s.channel, "ask", prompt="hello there")
    assert not first.ephemeral and first.response.content == "Hello there, friend."
    assert await stored_tokens(services, s.member.id) >= 7

    refused = await s.member.slash(s.channel, "ask", prompt="and again")
    assert re.fullmatch(
        r"You've used your 7 tokens for today here\. Your quota resets at 00:00 UTC \(in \d+ h \d\d min\)\.",
        told_privately(refused),
    )
    async with services.db.sessions() as session:
        turns = await history.recent_turns(session, s.channel.id, 10)
    assert [t.content for t in turns if t.role == "user"] == ["hello there"]  # the refused question left nothing

    others = await s.admin.slash(s.channel, "ask", prompt="my own quota")  # per member, not shared
    assert not others.ephemeral

    # A new process (same database) keeps the quota; a new UTC day resets it.
    services.answers.usage = UsageService(services.db)
    again = await s.member.slash(s.channel, "ask", prompt="after a restart")
    assert "resets at 00:00 UTC" in told_privately(again)
    tomorrow = datetime.now(UTC) + timedelta(days=1)
    services.answers.usage = UsageService(services.db, clock=lambda: tomorrow)
    fresh = await s.member.slash(s.channel, "ask", prompt="a new day")
    assert not fresh.ephemeral and fresh.response.content == "Hello there, friend."


async def test_a_server_quota_covers_everyone(simcord_env, services: Services) -> None:
    s = server(simcord_env)
    await s.admin.slash(s.channel, "quota", scope="server", tokens=9)
    await s.member.slash(s.channel, "ask", prompt="hello there")
    await s.admin.slash(s.channel, "ask", prompt="hello again")
    refused = await s.admin.slash(s.channel, "ask", prompt="one more")
    assert "This server has used its 9 tokens for today" in told_privately(refused)


async def test_status_is_for_admins_and_says_how_the_bot_is(simcord_env, services: Services) -> None:
    s = server(simcord_env)
    await s.member.slash(s.channel, "ask", prompt="hello there")
    denied = await s.member.slash(s.channel, "status")
    assert denied.ephemeral and "Only server admins" in denied.response.content
    shown = await s.admin.slash(s.channel, "status")
    text = shown.response.content
    assert shown.ephemeral
    assert "`scripted` (plugin)" in text and "default `scripted`" in text
    assert "**Answers:** 0 running, 0 waiting" in text
    assert "**Database:** sqlite" in text and "**voice connections:** 0" in text
    rate = float(re.search(r"\*\*last minute:\*\* ([\d.]+) tokens/s", text).group(1))  # type: ignore[union-attr]
    async with services.db.sessions() as session:
        generated = await session.scalar(select(func.sum(UsageRow.completion_tokens)))
    assert rate == round(generated / 60, 1)
