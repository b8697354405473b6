"""Round trips of every repository function, on a migrated SQLite file and on PostgreSQL."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import update
from sqlalchemy.exc import IntegrityError

from bot.db import audit, history, personas
from bot.db.database import Database
from bot.db.models import TurnRow, utcnow
from bot.db.place_settings import resolve, set_values
from bot.domain import Persona, Place, VoiceSettings

HOSTILE = [
    "Robert'); DROP TABLE turns;--",
    "quotes \" ' ` and backslashes \\ \\\\",
    "emoji 🐉🔥 and ZWJ 👩‍👩‍👧‍👦",
    "עברית مرحبا RTL text",
    "x" * 100_000,
    "line\nbreaks\r\nand\ttabs",
]


async def test_turns_round_trip_hostile_text_exactly(database: Database) -> None:
    async with database.sessions.begin() as s:
        for i, text in enumerate(HOSTILE):
            await history.add_turn(
                s, channel_id=7, guild_id=1, role="user", content=text, author_id=i, author_name=f"user{i}"
            )
    async with database.sessions() as s:
        turns = await history.recent_turns(s, 7, 100)
    assert [t.content for t in turns] == HOSTILE
    assert [t.author_name for t in turns] == [f"user{i}" for i in range(len(HOSTILE))]


async def test_recent_turns_are_the_newest_in_order_and_per_channel(database: Database) -> None:
    async with database.sessions.begin() as s:
        for i in range(10):
            await history.add_turn(
                s,
                channel_id=1,
                role="user" if i % 2 == 0 else "assistant",
                content=f"a{i}",
                model="m",
                persona="p",
                token_count=i,
                status="complete",
            )
            await history.add_turn(s, channel_id=2, role="user", content=f"b{i}")
    async with database.sessions() as s:
        newest = await history.recent_turns(s, 1, 3)
        assert len(await history.recent_turns(s, 1, 100)) == 10
    assert [t.content for t in newest] == ["a7", "a8", "a9"]
    assert (newest[0].role, newest[0].model, newest[0].persona, newest[0].token_count) == ("assistant", "m", "p", 7)


async def test_clear_and_prune(database: Database) -> None:
    async with database.sessions.begin() as s:
        for i in range(12):
            await history.add_turn(s, channel_id=3, role="user", content=str(i))
        await history.add_turn(s, channel_id=4, role="user", content="other channel")
    async with database.sessions.begin() as s:
        assert await history.prune_channel(s, 3, max_turns=5, max_age=timedelta(days=1)) == 7
        assert [t.content for t in await history.recent_turns(s, 3, 50)] == ["7", "8", "9", "10", "11"]
        # Age: make two turns old, they go even though the count allows them.
        await s.execute(
            update(TurnRow).where(TurnRow.content.in_(["7", "8"])).values(created_at=utcnow() - timedelta(days=3))
        )
        assert await history.prune_channel(s, 3, max_turns=5, max_age=timedelta(days=1)) == 2
        assert await history.clear_channel(s, 3) == 3
        assert len(await history.recent_turns(s, 4, 100)) == 1


async def test_invalid_status_is_refused_by_the_schema(database: Database) -> None:
    with pytest.raises(IntegrityError):
        async with database.sessions.begin() as s:
            await history.add_turn(s, channel_id=1, role="user", content="x", status="half-written")


async def test_persona_crud_case_insensitive(database: Database) -> None:
    pirate = Persona(
        name="Pirate",
        system_prompt="Talk like a pirate.",
        description="Arr",
        temperature=0.9,
        top_p=0.8,
        top_k=30,
        max_tokens=200,
        voice=VoiceSettings("en-GB", "en-GB-Wavenet-B", 1.1, -2.0),
    )
    async with database.sessions.begin() as s:
        await personas.create_persona(s, pirate, created_by=42)
    async with database.sessions() as s:
        assert await personas.get_persona(s, "pirate") == pirate
        assert "Pirate" in [p.name for p in await personas.list_personas(s)]
    with pytest.raises(IntegrityError):
        async with database.sessions.begin() as s:
            await personas.create_persona(s, Persona(name="PIRATE", system_prompt="x"), created_by=1)
    async with database.sessions.begin() as s:
        changed = await personas.replace_persona(s, "PIRATE", Persona(name="Pirate", system_prompt="Yo ho."))
        assert changed is not None and changed.system_prompt == "Yo ho." and changed.voice is None
        assert await personas.delete_persona(s, "pirate")
        assert not await personas.delete_persona(s, "pirate")
        assert await personas.get_persona(s, "Pirate") is None


async def test_settings_fall_back_channel_guild_global(database: Database) -> None:
    here = Place(guild_id=10, channel_id=100)
    elsewhere = Place(guild_id=10, channel_id=101)
    dm = Place(guild_id=None, channel_id=555)
    async with database.sessions.begin() as s:
        tutor = await personas.persona_row(s, "tutor")
        assert tutor is not None
        await set_values(s, "global", 0, model="global-model", speak=False)
        await set_values(s, "guild", 10, model="guild-model", persona_id=tutor.id)
        await set_values(s, "channel", 100, model="channel-model", persona_chat=True)
    async with database.sessions() as s:
        r = await resolve(s, here)
        assert (r.model, r.model_from) == ("channel-model", "channel")
        assert (r.persona.name if r.persona else None, r.persona_from) == ("tutor", "guild")
        assert (r.persona_chat, r.speak, r.speak_from) == (True, False, "global")
        r2 = await resolve(s, elsewhere)
        assert (r2.model, r2.model_from, r2.persona_chat, r2.persona_chat_from) == (
            "guild-model",
            "guild",
            False,
            "default",
        )
        r3 = await resolve(s, dm)
        assert (r3.model, r3.model_from, r3.persona) == ("global-model", "global", None)
    async with database.sessions.begin() as s:
        await set_values(s, "channel", 100, model=None)  # back to inheriting
    async with database.sessions() as s:
        assert (await resolve(s, here)).model == "guild-model"


async def test_deleting_a_used_persona_falls_back_without_dangling_reference(database: Database) -> None:
    async with database.sessions.begin() as s:
        await personas.create_persona(s, Persona(name="temp", system_prompt="Temporary."), created_by=None)
        row = await personas.persona_row(s, "temp")
        coder = await personas.persona_row(s, "coder")
        assert row is not None and coder is not None
        await set_values(s, "guild", 1, persona_id=coder.id)
        await set_values(s, "channel", 2, persona_id=row.id)
    async with database.sessions.begin() as s:
        assert await personas.delete_persona(s, "temp")
    async with database.sessions() as s:
        r = await resolve(s, Place(guild_id=1, channel_id=2))
    assert r.persona is not None and r.persona.name == "coder" and r.persona_from == "guild"


async def test_audit_trail(database: Database) -> None:
    async with database.sessions.begin() as s:
        await audit.record(s, guild_id=1, actor_id=9, action="model.set", target="channel:2", detail="smollm2")
        await audit.record(s, guild_id=3, actor_id=9, action="persona.delete", target="x")
    async with database.sessions() as s:
        entries = await audit.recent(s, guild_id=1)
    assert [(e.actor_id, e.action, e.target, e.detail) for e in entries] == [(9, "model.set", "channel:2", "smollm2")]
