"""SQLite's single writer: many answers writing at once, on a busy event loop, never see "database is locked"."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import pytest

from bot.db import engine, history
from bot.db.database import Database
from bot.domain import Asker, Overrides, Place
from bot.generation.registry import ModelRegistry
from bot.services.conversation import ConversationService
from tests.standins.scripted import ScriptedBackend

COUNT = 60


async def busy_loop(stop: asyncio.Event) -> None:
    """What a crowded gateway does to the loop: short stretches of blocking work between awaits."""
    while not stop.is_set():
        time.sleep(0.001)  # noqa: ASYNC251 - blocking on purpose
        await asyncio.sleep(0)


async def test_many_writers_at_once_on_a_busy_loop_lose_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A short busy timeout makes any lock contention between the bot's own connections fail fast: with the single
    # writer there is none, so every turn is stored; without it, writers time out waiting for each other.
    monkeypatch.setattr(engine, "BUSY_TIMEOUT_MS", 50)
    db = await Database.open(f"sqlite+aiosqlite:///{tmp_path / 'bot.db'}")
    registry = ModelRegistry("scripted")
    registry.register(ScriptedBackend())
    service = ConversationService(db, registry)

    async def ask(i: int) -> str:
        place = Place(guild_id=1 + i % 5, channel_id=500 + i % 50)
        asker = Asker(1000 + i, f"user{i}")
        return await service.answer_text(place, asker, f"Question {i}?", Overrides(model="scripted"))

    stop = asyncio.Event()
    busy = asyncio.create_task(busy_loop(stop))
    try:
        answers = await asyncio.gather(*(ask(i) for i in range(COUNT)))
    finally:
        stop.set()
        await busy
    assert answers == ["Hello there, friend."] * COUNT
    async with db.sessions() as s:
        stored = [t for c in range(500, 550) for t in await history.recent_turns(s, c, 100)]
    assert sorted(t.content for t in stored if t.role == "user") == sorted(f"Question {i}?" for i in range(COUNT))
    assert [t.status for t in stored if t.role == "assistant"] == ["complete"] * COUNT
    await db.close()
