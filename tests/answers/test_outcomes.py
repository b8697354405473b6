"""One answer, one outcome: what the asker sees, the stored row, the metric and the log agree on every path; and
nothing waits for the store before the question is acknowledged."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncGenerator, Sequence
from typing import Any

import pytest
from prometheus_client import REGISTRY

from bot.answers.limits import GuildGate
from bot.answers.question import Question
from bot.answers.service import TRUNCATED_NOTICE, AnswerService
from bot.answers.surface import AnswerActions, Controls
from bot.db import history
from bot.db.database import Database
from bot.domain import Asker, ChatMessage, GenerationParams, Place, StreamEnd
from bot.generation.hf_api import ApiConfig, HFApiBackend
from bot.generation.registry import ModelRegistry
from bot.services.conversation import ConversationService
from bot.services.cooldowns import SharedCooldowns
from bot.services.usage import UsageService
from bot.streaming.pacing import PacerRegistry
from bot.streaming.page import Page
from bot.streaming.renderer import STOPPED_MARK, Outcome
from tests.answers.test_service import RecordingSink, store_statements
from tests.standins.chat_server import REPLY, ChatServer
from tests.standins.scripted import ScriptedBackend

HERE = Place(guild_id=5, channel_id=55)


class CutBackend(ScriptedBackend):
    """Says its text, then that the length limit cut it."""

    async def stream(self, messages: Sequence[ChatMessage], params: GenerationParams) -> AsyncGenerator[Any, None]:
        async for piece in super().stream(messages, params):
            yield piece
        yield StreamEnd(finish_reason="length")


class BreakingBackend(ScriptedBackend):
    async def stream(self, messages: Sequence[ChatMessage], params: GenerationParams) -> AsyncGenerator[Any, None]:
        yield "Half an"
        raise RuntimeError("the model server dropped the connection")


class EndlessBackend(ScriptedBackend):
    async def stream(self, messages: Sequence[ChatMessage], params: GenerationParams) -> AsyncGenerator[Any, None]:
        yield "Counting:"
        while True:
            await asyncio.sleep(0.01)
            yield " more"


class RefusingSink(RecordingSink):
    """Discord accepts the first message, then refuses every edit for good (the message was deleted)."""

    async def edit(self, handle: Any, page: Page) -> None:
        raise RuntimeError("404 Unknown Message")


class Surface:
    def __init__(self, sink: RecordingSink | None = None) -> None:
        self.events: list[str] = []
        self.messages = sink or RecordingSink()
        self.actions: AnswerActions | None = None
        self.finished_with: list[bool] = []  # can_continue, each time the finished controls were built
        self.refusals: list[str] = []

    def lane(self, pacers: Any, channel_id: int) -> Any:
        return pacers.for_channel(channel_id)

    async def acknowledge(self, queued: bool) -> None:
        self.events.append("acknowledged")

    async def waiting(self) -> None:
        return None

    async def refuse(self, message: str) -> None:
        self.events.append("refused")
        self.refusals.append(message)

    async def note(self, message: str) -> None:
        return None

    def sink(self) -> RecordingSink:
        return self.messages

    def controls(self, question: Question, actions: AnswerActions) -> Controls:
        self.actions = actions

        def finished(can_continue: bool) -> str:
            self.finished_with.append(can_continue)
            return "regenerate+continue" if can_continue else "regenerate"

        return Controls("stop", finished)

    async def player(self) -> Any:
        raise AssertionError("not spoken")

    async def finished(self, outcome: Outcome) -> None:
        return None


def answered(status: str, model: str) -> float:
    return REGISTRY.get_sample_value("hfbot_answers_total", {"path": "ask", "status": status, "model": model}) or 0.0


async def stored_answer(database: Database) -> history.Turn:
    async with database.sessions() as session:
        turns = await history.recent_turns(session, HERE.channel_id, 10)
    return turns[-1]


def pipeline(database: Database, registry: ModelRegistry, backend: ScriptedBackend) -> AnswerService:
    registry.register(backend)
    registry.default_model = backend.name
    conversations = ConversationService(database, registry)
    return AnswerService(conversations, PacerRegistry(), SharedCooldowns(database, 0), GuildGate(2))


@pytest.mark.parametrize(
    ("backend", "status", "shown_end"),
    [
        (ScriptedBackend(name="fine", text="All is well."), "complete", "All is well."),
        (CutBackend(name="cut", text="A long story"), "truncated", TRUNCATED_NOTICE),
        (BreakingBackend(name="breaking"), "failed", "Something went wrong while answering. Please try again."),
    ],
)
async def test_what_is_shown_stored_counted_and_logged_agree(
    backend: ScriptedBackend, status: str, shown_end: str, database: Database, registry: ModelRegistry, caplog: Any
) -> None:
    answers = pipeline(database, registry, backend)
    surface = Surface()
    before = answered(status, backend.name)
    with caplog.at_level(logging.INFO):
        outcome = await answers.answer(Question(HERE, Asker(1, "ann"), "tell me", "ask"), surface)
    assert outcome is not None and outcome.status == status
    assert surface.messages.contents[-1].endswith(shown_end)
    stored = await stored_answer(database)
    assert stored.role == "assistant" and stored.status == status
    assert answered(status, backend.name) == before + 1
    if status == "failed":
        assert any("Answer failed" in r.message and r.levelno == logging.ERROR for r in caplog.records)
        assert stored.content == "Half an"  # what was shown is kept
    else:
        assert any(f"Answer {status}" in r.getMessage() for r in caplog.records)
        assert surface.finished_with == [status == "truncated"]  # Continue offered only for a cut answer


async def test_an_answer_stopped_by_its_controls_is_interrupted_everywhere(
    database: Database, registry: ModelRegistry
) -> None:
    answers = pipeline(database, registry, EndlessBackend(name="endless"))
    surface = Surface()
    before = answered("interrupted", "endless")
    running = asyncio.create_task(answers.answer(Question(HERE, Asker(1, "ann"), "count", "ask"), surface))
    while not surface.messages.contents:  # noqa: ASYNC110 - the first message is the signal
        await asyncio.sleep(0.01)
    assert surface.actions is not None
    surface.actions.stop()
    outcome = await running
    assert outcome is not None and outcome.status == "interrupted"
    assert surface.messages.contents[-1].endswith(STOPPED_MARK)
    assert (await stored_answer(database)).status == "interrupted"
    assert answered("interrupted", "endless") == before + 1


async def test_an_answer_discord_refuses_to_show_is_failed_in_the_store_the_metric_and_the_log(
    database: Database, registry: ModelRegistry, caplog: Any
) -> None:
    answers = pipeline(database, registry, ScriptedBackend(name="unseen", text="one two three four", delay=0.05))
    surface = Surface(RefusingSink())
    before = answered("failed", "unseen")
    with caplog.at_level(logging.INFO):
        outcome = await answers.answer(Question(HERE, Asker(1, "ann"), "hello", "ask"), surface)
    assert outcome is not None and outcome.status == "failed"
    assert (await stored_answer(database)).status == "failed"
    assert answered("failed", "unseen") == before + 1
    assert any("Answer failed" in r.message for r in caplog.records)


async def test_nothing_waits_for_the_store_before_the_acknowledgement(
    database: Database, registry: ModelRegistry
) -> None:
    # A shared cooldown (a database write) and a quota (database reads) both run, and only after the question was
    # acknowledged: Discord forgets an interaction not acknowledged within 3 s, and under a burst those waits add up.
    registry.register(ScriptedBackend(name="fine"))
    registry.default_model = "fine"
    usage = UsageService(database, member_daily_tokens=1000)
    answers = AnswerService(
        ConversationService(database, registry), PacerRegistry(), SharedCooldowns(database, 30), GuildGate(2), usage
    )
    events: list[str] = []
    with store_statements(database, lambda: events.append("store")):
        for text in ("first", "second, too soon"):
            surface = Surface()
            surface.events = events
            events.append(f"asked: {text}")
            await answers.answer(Question(HERE, Asker(1, "ann"), text, "ask"), surface)
    for asked in ("asked: first", "asked: second, too soon"):
        after = events[events.index(asked) + 1 :]
        assert after[0] == "acknowledged", after[:3]
    second = events[events.index("asked: second, too soon") + 1 :]
    assert second[-1] == "refused" and "store" in second  # the cooldown was read from the store, after the ack


async def test_an_api_answer_cut_by_its_length_limit_is_truncated_and_offers_continue(
    database: Database, registry: ModelRegistry, chat_server: ChatServer
) -> None:
    api = HFApiBackend("length", ApiConfig(base_url=chat_server.url, token="hf_test", timeout_seconds=5.0))
    registry.register(api)
    registry.default_model = "length"
    answers = AnswerService(
        ConversationService(database, registry), PacerRegistry(), SharedCooldowns(database, 0), GuildGate(2)
    )
    surface = Surface()
    outcome = await answers.answer(Question(HERE, Asker(1, "ann"), "Tell me about Paris", "ask"), surface)
    assert outcome is not None and outcome.status == "truncated"
    assert surface.messages.contents == [f"{REPLY}\n\n{TRUNCATED_NOTICE}"]
    assert surface.finished_with == [True]  # the finished answer's buttons include Continue
    stored = await stored_answer(database)
    assert (stored.content, stored.status) == (REPLY, "truncated")
