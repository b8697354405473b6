"""The answer pipeline's admission and server slot, through its public entry point with a recording surface."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator, Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from prometheus_client import REGISTRY
from sqlalchemy import event

from bot.answers.limits import GuildGate
from bot.answers.question import Question
from bot.answers.service import AnswerService
from bot.answers.surface import NO_CONTROLS, Controls
from bot.db.database import Database
from bot.domain import Asker, ChatMessage, GenerationParams, Place
from bot.errors import BotError, BusyError
from bot.generation.registry import ModelRegistry
from bot.services.conversation import ConversationService
from bot.services.cooldowns import Cooldowns, SharedCooldowns
from bot.services.usage import UsageService
from bot.streaming.pacing import PacerRegistry
from bot.streaming.page import Page
from bot.streaming.renderer import Outcome
from tests.standins.scripted import ScriptedBackend
from tests.streaming.fakes import check_length


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
        check_length(content, None)
        self.contents.append(content)
        return len(self.contents) - 1

    async def edit(self, handle: Any, page: Page) -> None:
        content = page.text()
        check_length(content, None)
        self.contents[handle] = content


@contextmanager
def store_statements(database: Database, seen: Callable[[], object]) -> Iterator[None]:
    """Calls `seen` for every SQL statement the store runs (on both engines where SQLite has a writer of its own)."""
    engines = [database.engine.sync_engine]
    if database._write_engine is not None:
        engines.append(database._write_engine.sync_engine)

    def statement(*_args: Any) -> None:
        seen()

    for engine in engines:
        event.listen(engine, "before_cursor_execute", statement)
    try:
        yield
    finally:
        for engine in engines:
            event.remove(engine, "before_cursor_execute", statement)


class RecordingSurface:
    def lane(self, pacers: Any, channel_id: int) -> Any:
        return pacers.for_channel(channel_id)

    def __init__(self) -> None:
        self.acknowledged: list[bool] = []
        self.refusals: list[str] = []
        self.messages = RecordingSink()
        self.told_waiting = 0

    async def acknowledge(self, queued: bool) -> None:
        self.acknowledged.append(queued)

    async def waiting(self) -> None:
        self.told_waiting += 1

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
    assert (first.acknowledged, second.acknowledged) == ([False], [True])  # the second is deferred privately
    assert (first.told_waiting, second.told_waiting) == (0, 1)  # and told it waits its turn
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
    async with asyncio.timeout(5):  # a line one place too long would make this question wait for the gate forever
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


async def test_a_question_refused_by_its_cooldown_is_never_told_it_waits(
    database: Database, registry: ModelRegistry
) -> None:
    backend = GatedBackend()
    registry.register(backend)
    registry.default_model = "gated"
    answers = AnswerService(ConversationService(database, registry), PacerRegistry(), Cooldowns(60), GuildGate(1))
    running = asyncio.create_task(
        answers.answer(Question(Place(7, 70), Asker(1, "ann"), "q", "ask"), RecordingSurface())
    )
    await asyncio.sleep(0.2)
    first = RecordingSurface()
    waiting = asyncio.create_task(answers.answer(Question(Place(7, 70), Asker(2, "bob"), "first", "ask"), first))
    await asyncio.sleep(0.2)
    assert first.told_waiting == 1  # in line behind ann's answer
    again = RecordingSurface()
    await asyncio.wait_for(answers.answer(Question(Place(7, 70), Asker(2, "bob"), "again", "ask"), again), 5)
    assert again.acknowledged == [True] and again.refusals == ["Slow down a little: you can ask again in 60 s."]
    assert again.told_waiting == 0  # the refusal is all the asker reads: no "in line" first
    backend.gate.set()
    await asyncio.gather(running, waiting)


async def test_acknowledgements_of_a_burst_go_before_any_answer_reads_the_store(
    database: Database, registry: ModelRegistry
) -> None:
    # Each acknowledgement has Discord's 3 s deadline; what comes after it has none. An answer already acknowledged
    # waits for the others' acknowledgements before its first store read (cooldown, quota, the turns).
    registry.register(ScriptedBackend(name="fine"))
    registry.default_model = "fine"
    answers = AnswerService(
        ConversationService(database, registry), PacerRegistry(), SharedCooldowns(database, 0), GuildGate(5)
    )
    events: list[str] = []

    class SlowAck(RecordingSurface):
        def __init__(self, delay: float) -> None:
            super().__init__()
            self.delay = delay

        async def acknowledge(self, queued: bool) -> None:
            await asyncio.sleep(self.delay)  # the round trip to Discord
            events.append("acknowledged")

    with store_statements(database, lambda: events.append("store")):
        await asyncio.gather(
            *(
                answers.answer(Question(Place(7, 70 + i), Asker(i, "x"), "q", "ask"), SlowAck(0.05 * (i + 1)))
                for i in range(3)
            )
        )
    assert events[:3] == ["acknowledged"] * 3, events[:5]
    assert "store" in events


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


class Refusing:
    """A cooldown that always refuses."""

    async def check(self, user_id: int) -> None:
        raise BusyError("Slow down a little: you can ask again in 9 s.")


async def test_every_refused_question_gives_its_place_in_the_line_back(
    database: Database, registry: ModelRegistry
) -> None:
    backend, answers = gated_pipeline(database, registry)
    backend.gate.set()
    here = Place(7, 70)

    async def refusals(text: str, asker: int = 1) -> list[str]:
        said: list[str] = []
        for _ in range(4):  # more refusals than the line has places (one running, two waiting)
            surface = RecordingSurface()
            await answers.answer(Question(here, Asker(asker, "x"), text, "ask"), surface)
            said += surface.refusals
        return said

    answers.usage = UsageService(database, member_daily_tokens=1)
    await answers.answer(Question(here, Asker(1, "x"), "q", "ask"), RecordingSurface())  # uses up the quota
    assert all(r.startswith("You've used your 1 tokens for today here.") for r in await refusals("q"))
    answers.usage = None
    answers.cooldowns = Refusing()
    assert await refusals("q") == ["Slow down a little: you can ask again in 9 s."] * 4
    answers.cooldowns = Cooldowns(0)
    assert len(await refusals("   ")) == 4
    answers.accepting = False
    assert await refusals("q") == ["I'm restarting; please ask again in a moment."] * 4
    answers.accepting = True

    assert answers.gate.waiting() == 0
    fine = [RecordingSurface() for _ in range(3)]  # the whole line is free again
    asked = [answers.answer(Question(here, Asker(40 + i, "x"), "q", "ask"), s) for i, s in enumerate(fine)]
    await asyncio.gather(*asked)
    assert [s.refusals for s in fine] == [[], [], []]
    assert all(s.messages.contents == ["one two"] for s in fine)
