"""The conversation pipeline: persona + channel history → model → stored turns with the right status."""

from __future__ import annotations

import asyncio
import json
from contextlib import aclosing

import pytest

from bot.db import history
from bot.db.database import Database
from bot.domain import Asker, Extras, FileText, Overrides, Place
from bot.errors import GenerationInterrupted, InvalidInputError, NotFoundError, UnknownModelError
from bot.generation.registry import ModelRegistry
from bot.services.context import MESSAGE_OVERHEAD_TOKENS, answer_room
from bot.services.conversation import ConversationService
from bot.services.personas import PersonaService
from bot.services.retention import Retention
from tests.standins.scripted import ScriptedBackend

HERE = Place(guild_id=1, channel_id=10)


PEOPLE = {"alice": 1, "bob": 2, "carol": 3}


async def say(service: ConversationService, text: str, who: str = "alice", **kw: str) -> str:
    return await service.answer_text(HERE, Asker(PEOPLE[who], who), text, Overrides(**kw))


async def turns(db: Database, channel: int = HERE.channel_id) -> list[history.Turn]:
    async with db.sessions() as s:
        return await history.recent_turns(s, channel, 100)


async def test_history_and_persona_reach_the_model(database: Database, registry: ModelRegistry) -> None:
    service = ConversationService(database, registry)
    await say(service, "Hi, I am Alice.", model="scripted")
    await say(service, "And I am Bob.", who="bob", model="scripted")
    seen = json.loads(await say(service, "Who is here?", who="carol", model="echo"))
    assert seen[0]["role"] == "system" and "helpful assistant" in seen[0]["content"]
    assert [m["content"] for m in seen[1:]] == [
        "alice: Hi, I am Alice.",
        "Hello there, friend.",
        "bob: And I am Bob.",
        "Hello there, friend.",
        "carol: Who is here?",
    ]
    assert [m["role"] for m in seen[1:]] == ["user", "assistant", "user", "assistant", "user"]


async def test_persona_of_the_channel_and_its_parameters(database: Database, registry: ModelRegistry) -> None:
    await PersonaService(database).use(HERE, "channel", "coder", actor_id=5)
    service = ConversationService(database, registry)
    seen = json.loads(await say(service, "Sort a list", model="echo"))
    assert seen[0]["content"].startswith("You are an expert programmer")
    backend = registry.backend("echo")
    assert isinstance(backend, ScriptedBackend)
    assert backend.calls[-1][1].temperature == 0.5  # coder states no temperature: the model's own default
    await PersonaService(database).edit("coder", {"temperature": 0.35}, actor_id=5, guild_id=None)
    await say(service, "Sort it again", model="echo")
    assert backend.calls[-1][1].temperature == 0.35  # stated: it wins
    stored = await turns(database)
    assert (stored[-1].role, stored[-1].persona, stored[-1].model, stored[-1].status) == (
        "assistant",
        "coder",
        "echo",
        "complete",
    )


async def test_stop_mid_stream_stores_partial_answer_as_interrupted(
    database: Database, registry: ModelRegistry
) -> None:
    slow = ScriptedBackend(name="slow", text="one two three four five six seven eight", delay=0.05)
    registry.register(slow)
    service = ConversationService(database, registry)
    received: list[str] = []
    three_in = asyncio.Event()

    async def consume() -> None:
        async with aclosing(service.reply(HERE, Asker(1, "alice"), "Count", Overrides(model="slow"))) as pieces:
            async for piece in pieces:
                received.append(piece)
                if len(received) == 3:
                    three_in.set()

    task = asyncio.create_task(consume())
    await three_in.wait()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    stored = await turns(database)
    assert [t.role for t in stored] == ["user", "assistant"]
    assert stored[1].status == "interrupted"
    assert stored[1].content == "".join(received) and stored[1].content.startswith("one two three")
    assert slow.cancelled == 1


async def test_failure_after_some_text_keeps_it_as_failed(database: Database, registry: ModelRegistry) -> None:
    class Breaking(ScriptedBackend):
        async def stream(self, messages, params):  # type: ignore[no-untyped-def,override]
            yield "Partial "
            yield "answer"
            raise GenerationInterrupted("The connection dropped.", "Partial answer")

    registry.register(Breaking(name="breaking"))
    service = ConversationService(database, registry)
    with pytest.raises(GenerationInterrupted):
        await say(service, "Hello", model="breaking")
    stored = await turns(database)
    assert (stored[-1].content, stored[-1].status) == ("Partial answer", "failed")


async def test_bad_input_is_refused_before_anything_is_stored(database: Database, registry: ModelRegistry) -> None:
    service = ConversationService(database, registry, max_prompt_chars=50)
    for text, message in [("   ", "empty"), ("nul\x00byte", "NUL"), ("x" * 51, "limit")]:
        with pytest.raises(InvalidInputError, match=message):
            await say(service, text, model="scripted")
    with pytest.raises(UnknownModelError, match="Available"):
        await say(service, "hi", model="no-such-model")
    with pytest.raises(NotFoundError, match="persona"):
        await say(service, "hi", persona="nobody", model="scripted")
    assert await turns(database) == []


async def test_retention_runs_after_answers(database: Database, registry: ModelRegistry) -> None:
    service = ConversationService(database, registry, retention=Retention(max_turns=4))
    for i in range(4):
        await say(service, f"message {i}", model="scripted")
    await service.drain()
    stored = await turns(database)
    assert [t.content for t in stored] == ["message 2", "Hello there, friend.", "message 3", "Hello there, friend."]


async def test_clear_history(database: Database, registry: ModelRegistry) -> None:
    service = ConversationService(database, registry)
    await say(service, "remember me", model="scripted")
    assert await service.clear_history(HERE) == 2
    assert await turns(database) == []


async def test_a_file_in_a_long_conversation_still_leaves_room_for_the_answer(
    database: Database, registry: ModelRegistry
) -> None:
    # The file's share is taken out of the history's budget: history that already filled the window gives way,
    # rather than the prompt overflowing it (a local model then refuses the question as too long).
    small = ScriptedBackend(name="small", window=400)
    registry.register(small)
    service = ConversationService(database, registry, max_new_tokens=100)
    for i in range(20):
        await say(service, " ".join([f"turn{i}"] * 30), model="small")
    extras = Extras(files=[FileText("notes.txt", "word " * 500)], described=["notes.txt (text, 2.5 KB)"])
    reply = await service.start(HERE, Asker(1, "alice"), "What do these notes say?", Overrides(model="small"), extras)
    async with aclosing(reply.stream()) as pieces:
        [p async for p in pieces]
    sent = sum(len(m["content"].split()) + MESSAGE_OVERHEAD_TOKENS for m in reply.context.messages)
    assert sent <= small.window - answer_room(small.window, 100)
    question = reply.context.messages[-1]["content"]
    assert question.startswith("[File notes.txt:]") and "What do these notes say?" in question
    assert reply.left_out > 0  # older turns made way for the file


async def test_an_answer_still_streaming_is_nobodys_context(database: Database, registry: ModelRegistry) -> None:
    service = ConversationService(database, registry)
    await say(service, "First question.", model="scripted")
    async with database.writes.begin() as session:  # another process's answer, or a crashed one's, still streaming
        await history.add_turn(session, channel_id=HERE.channel_id, guild_id=HERE.guild_id, role="user", content="Q2")
        await history.add_turn(
            session,
            channel_id=HERE.channel_id,
            guild_id=HERE.guild_id,
            role="assistant",
            content="Half an answer being writ",
            status="streaming",
            owner="another-process",
        )
    seen = json.loads(await say(service, "Who is here?", model="echo"))
    contents = [m["content"] for m in seen[1:]]
    assert contents == ["First question.", "Hello there, friend.", "Q2", "Who is here?"]
