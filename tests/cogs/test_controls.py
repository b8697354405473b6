"""Stop and Regenerate under an answer."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator, Sequence
from typing import Any

from bot.app import Services
from bot.db import history
from bot.domain import ChatMessage, GenerationParams
from bot.streaming.renderer import STOPPED_MARK
from tests.cogs.helpers import server
from tests.standins.scripted import ScriptedBackend


class PausingBackend(ScriptedBackend):
    """Streams a few words, then waits (as a declared external wait) until the test lets it go on."""

    def __init__(self, env: Any) -> None:
        super().__init__(name="pausing", text="one two three four five six")
        self.env, self.gate = env, asyncio.Event()

    async def stream(self, messages: Sequence[ChatMessage], params: GenerationParams) -> AsyncGenerator[str, None]:
        self.calls.append((list(messages), params))
        for piece in ["one", " two", " three"]:
            yield piece
        await self.env.external_wait(self.gate.wait(), reason="the model is paused by the test")
        for piece in [" four", " five", " six"]:
            yield piece


async def test_stop_keeps_the_partial_answer_and_marks_it(simcord_env, services: Services) -> None:
    s = server(simcord_env)
    services.registry.register(PausingBackend(simcord_env))
    services.registry.default_model = "pausing"
    result = await s.member.slash(s.channel, "ask", prompt="count slowly")
    assert result.response.content.startswith("one two three")
    assert "Stop" in str(result.response.components)

    outsider = await s.guild.add_member(simcord_env.create_user("eve")).click(result.response.message, label="Stop")
    assert outsider.ephemeral and "Only the person who asked" in outsider.response.content

    await s.member.click(result.response.message, label="Stop")
    await simcord_env.settle()
    final = result.response.content
    assert final == f"one two three\n\n{STOPPED_MARK}"
    assert "Regenerate" in str(result.response.components)
    async with services.db.sessions() as session:
        turns = await history.recent_turns(session, s.channel.id, 10)
    assert [(t.role, t.content, t.status) for t in turns] == [
        ("user", "count slowly", "complete"),
        ("assistant", "one two three", "interrupted"),
    ]


async def test_regenerate_replaces_the_answer(simcord_env, services: Services) -> None:
    s = server(simcord_env)
    backend = services.registry.backend("scripted")
    assert isinstance(backend, ScriptedBackend)
    backend.text = "First answer."
    result = await s.member.slash(s.channel, "ask", prompt="tell me something")
    backend.text = "Second, better answer."
    await s.member.click(result.response.message, label="Regenerate")
    await simcord_env.settle()
    assert result.response.content == "Second, better answer."
    async with services.db.sessions() as session:
        turns = await history.recent_turns(session, s.channel.id, 10)
    assert [(t.role, t.content) for t in turns] == [
        ("user", "tell me something"),
        ("assistant", "Second, better answer."),
    ]
    # The model saw the conversation without the answer being replaced.
    assert [m["content"] for m in backend.calls[-1][0][1:]] == ["tell me something"]


async def test_shutdown_stops_running_answers_and_takes_no_new_work(
    simcord_env, simcord_bot, services: Services
) -> None:
    s = server(simcord_env)
    services.registry.register(PausingBackend(simcord_env))
    services.registry.default_model = "pausing"
    result = await s.member.slash(s.channel, "ask", prompt="a long story please")
    await simcord_bot.services.answers.shutdown(grace=0.1)
    await simcord_env.settle()
    assert result.response.content.endswith(STOPPED_MARK)
    late = await s.admin.slash(s.channel, "ask", prompt="anyone there?")
    assert late.ephemeral and "restarting" in late.response.content
    async with services.db.sessions() as session:
        turns = await history.recent_turns(session, s.channel.id, 10)
    assert [(t.role, t.status) for t in turns] == [("user", "complete"), ("assistant", "interrupted")]
