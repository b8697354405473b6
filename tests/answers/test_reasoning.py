"""Reasoning models over the API: the thinking is never streamed as the answer, never stored, shown only on request."""

from __future__ import annotations

from typing import Any

import pytest

from bot.answers.limits import GuildGate
from bot.answers.question import Question
from bot.answers.service import THINKING, AnswerService
from bot.answers.surface import NO_CONTROLS, Controls
from bot.db import history
from bot.db.database import Database
from bot.domain import Asker, Place
from bot.errors import BotError
from bot.generation.hf_api import ApiConfig, HFApiBackend
from bot.generation.registry import ModelRegistry
from bot.services.conversation import ConversationService
from bot.services.cooldowns import Cooldowns
from bot.streaming.pacing import PacerRegistry
from bot.streaming.page import Page
from bot.streaming.renderer import Outcome
from tests.standins.chat_server import REPLY, THOUGHT, ChatServer

HERE = Place(guild_id=3, channel_id=33)


class ShowingSurface:
    """Records every state of the answer's message a reader could have seen."""

    def __init__(self) -> None:
        self.shown: list[str] = []
        self.current: list[str] = []

    def lane(self, pacers: PacerRegistry, channel_id: int) -> Any:
        return pacers.for_channel(channel_id)

    async def acknowledge(self, queued: bool) -> None:
        return None

    async def waiting(self) -> None:
        return None

    async def refuse(self, message: str) -> None:
        raise AssertionError(f"refused: {message}")

    async def note(self, message: str) -> None:
        return None

    def sink(self) -> Any:
        return self

    async def create(self, page: Page) -> int:
        content = page.text()
        self.current.append(content)
        self.shown.append(content)
        return len(self.current) - 1

    async def edit(self, handle: int, page: Page) -> None:
        content = page.text()
        self.current[handle] = content
        self.shown.append(content)

    async def player(self) -> Any:
        raise BotError("no voice here")

    def controls(self, question: Any, actions: Any) -> Controls:
        return NO_CONTROLS

    async def finished(self, outcome: Outcome) -> None:
        return None


@pytest.mark.parametrize("kind", ["think", "reasoning"])
@pytest.mark.parametrize("display", ["hidden", "spoiler"])
async def test_reasoning_is_kept_out_of_the_answer(
    kind: str, display: str, database: Database, chat_server: ChatServer
) -> None:
    chat_server.chunk_delay = 0.08  # the thinking lasts long enough to be seen
    registry = ModelRegistry(kind)
    registry.register(HFApiBackend(kind, ApiConfig(base_url=chat_server.url, token="hf_test", timeout_seconds=5.0)))
    answers = AnswerService(
        ConversationService(database, registry),
        PacerRegistry(),
        Cooldowns(0),
        GuildGate(2),
        reasoning_display=display,  # type: ignore[arg-type]
    )
    surface = ShowingSurface()
    await answers.answer(Question(HERE, Asker(1, "ann"), "What is the capital of France?", "ask"), surface)

    assert surface.shown[0] == THINKING  # the reader sees the model is thinking, not its thoughts
    assert not any("The user asks" in s for s in surface.shown[:-1])
    final = "\n".join(surface.current)
    assert final.startswith(REPLY)
    if display == "spoiler":
        assert final.endswith(f"||{THOUGHT}||")  # attached under the answer, hidden until clicked
    else:
        assert "The user asks" not in final and "think>" not in final
    async with database.sessions() as s:
        stored = await history.recent_turns(s, HERE.channel_id, 10)
    assert [t.content for t in stored] == ["What is the capital of France?", REPLY]  # history keeps the answer only
