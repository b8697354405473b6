"""The answer pipeline's admission and server slot, through its public entry point with a recording surface."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator, Sequence
from typing import Any

from prometheus_client import REGISTRY

from bot.answers.limits import GuildGate
from bot.answers.question import Question
from bot.answers.service import AnswerService
from bot.answers.surface import NO_CONTROLS, Controls
from bot.db.database import Database
from bot.domain import Asker, ChatMessage, GenerationParams, Place
from bot.errors import BotError
from bot.generation.registry import ModelRegistry
from bot.services.conversation import ConversationService
from bot.services.cooldowns import Cooldowns
from bot.streaming.pacing import PacerRegistry
from bot.streaming.page import Page
from bot.streaming.renderer import Outcome
from tests.standins.scripted import ScriptedBackend


class GatedBackend(ScriptedBackend):
    """Streams a word, then waits for the test; counts streams running at once."""

    def __init__(self) -> None:
        super().__init__(name="gated", text="one two")
        self.gate = asyncio.Event()
        self.active = self.most_active = 0

    async def stream(self, messages: Sequence[ChatMessage], params: GenerationParams) -> AsyncGenerator[str, None]:
        self.calls.append((list(messages), params))
        self.active += 1
        self.most_active = max(self.most_active, self.active)
        try:
            yield "one"
            await self.gate.wait()
            yield " two"
        finally:
            self.active -= 1


class RecordingSink:
    def __init__(self) -> None:
        self.contents: list[str] = []

    async def create(self, page: Page) -> int:
        content = page.text()
        self.contents.append(content)
        return len(self.contents) - 1

    async def edit(self, handle: Any, page: Page) -> None:
        content = page.text()
        self.contents[handle] = content


class RecordingSurface:
    def lane(self, pacers: Any, channel_id: int) -> Any:
        return pacers.for_channel(channel_id)

    def __init__(self) -> None:
        self.acknowledged: list[bool] = []
        self.refusals: list[str] = []
        self.messages = RecordingSink()

    async def acknowledge(self, queued: bool) -> None:
        self.acknowledged.append(queued)

    async def refuse(self, message: str) -> None:
        self.refusals.append(message)

    async def note(self, message: str) -> None:
        return None

    def sink(self) -> RecordingSink:
        return self.messages

    async def player(self) -> Any:
        raise BotError("no voice here")

    def controls(self, question: Any, actions: Any) -> Controls:
        return NO_CONTROLS

    async def finished(self, outcome: Outcome) -> None:
        return None


def gated_pipeline(database: Database, registry: ModelRegistry) -> tuple[GatedBackend, AnswerService]:
    """One answer at a time per server (two may wait), on a model that pauses until the test opens its gate."""
    backend = GatedBackend()
    registry.register(backend)
    registry.default_model = "gated"
    conversations = ConversationService(database, registry)
    return backend, AnswerService(conversations, PacerRegistry(), Cooldowns(0), GuildGate(1))


async def test_the_server_slot_is_held_until_the_answer_is_shown(database: Database, registry: ModelRegistry) -> None:
    backend, answers = gated_pipeline(database, registry)
    first, second = RecordingSurface(), RecordingSurface()
    asking = [
        asyncio.create_task(answers.answer(Question(Place(7, 70), Asker(1, "ann"), "first", "mention"), first)),
        asyncio.create_task(answers.answer(Question(Place(7, 71), Asker(2, "bob"), "second", "chat"), second)),
    ]
    await asyncio.sleep(0.3)  # both admitted; the first is streaming, the second waits for the slot
    assert (first.acknowledged, second.acknowledged) == ([False], [True])  # the second asker is told it waits
    assert len(backend.calls) == 1  # and its model stream has not started
    backend.gate.set()
    outcomes = await asyncio.gather(*asking)
    assert backend.most_active == 1 and len(backend.calls) == 2
    assert [o.text for o in outcomes if o is not None] == ["one two", "one two"]
    assert first.messages.contents == second.messages.contents == ["one two"]


async def test_a_full_queue_refuses_at_once_and_other_servers_are_unaffected(
    database: Database, registry: ModelRegistry
) -> None:
    backend, answers = gated_pipeline(database, registry)
    running = [
        asyncio.create_task(answers.answer(Question(Place(7, 70), Asker(i, "x"), "q", "ask"), RecordingSurface()))
        for i in range(3)  # one runs, two wait (two waiting per slot)
    ]
    await asyncio.sleep(0.2)
    refused = RecordingSurface()
    assert await answers.answer(Question(Place(7, 70), Asker(9, "late"), "q", "ask"), refused) is None
    assert refused.refusals == [
        "I'm answering as many questions here as I can right now. Please try again in a minute."
    ]
    assert refused.acknowledged == []  # refused before anything was shown
    elsewhere = RecordingSurface()
    other = asyncio.create_task(answers.answer(Question(Place(8, 80), Asker(10, "eve"), "q", "ask"), elsewhere))
    await asyncio.sleep(0.2)
    assert elsewhere.acknowledged == [False]
    backend.gate.set()
    await asyncio.gather(*running, other)


async def test_a_burst_of_questions_is_refused_before_anything_is_shown(
    database: Database, registry: ModelRegistry
) -> None:
    # Ten questions arriving in the same instant: the line (one running, two waiting) fills as they arrive, and
    # the other seven are refused with their first response, never after a public "thinking…".
    backend, answers = gated_pipeline(database, registry)
    surfaces = [RecordingSurface() for _ in range(10)]
    asking = [
        asyncio.create_task(answers.answer(Question(Place(7, 70), Asker(i, "x"), "q", "ask"), s))
        for i, s in enumerate(surfaces)
    ]
    await asyncio.sleep(0.3)
    refused = [s for s in surfaces if s.refusals]
    assert len(refused) == 7 and all(s.acknowledged == [] for s in refused)
    assert sorted(s.acknowledged for s in surfaces if not s.refusals) == [[False], [True], [True]]
    backend.gate.set()
    await asyncio.gather(*asking)


async def test_a_question_that_leaves_the_line_is_no_longer_counted_as_waiting(
    database: Database, registry: ModelRegistry
) -> None:
    backend, answers = gated_pipeline(database, registry)
    before = REGISTRY.get_sample_value("hfbot_answers_queued")
    running = asyncio.create_task(answers.answer(Question(Place(7, 70), Asker(1, "x"), "q", "ask"), RecordingSurface()))
    waiting = asyncio.create_task(answers.answer(Question(Place(7, 70), Asker(2, "y"), "q", "ask"), RecordingSurface()))
    await asyncio.sleep(0.2)
    assert REGISTRY.get_sample_value("hfbot_answers_queued") == before + 1 and answers.gate.waiting() == 1
    waiting.cancel()  # the asker's task ends while it waits for the slot (shutdown, a dropped interaction)
    await asyncio.gather(waiting, return_exceptions=True)
    assert REGISTRY.get_sample_value("hfbot_answers_queued") == before and answers.gate.waiting() == 0
    backend.gate.set()
    await running
