"""Tools through the one answer pipeline: a question whose answer left the history window is answered from the
channel's own memory, the reader sees the status line and then the answer, and history keeps a note of the tool."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Sequence
from typing import Any

from bot.answers.limits import GuildGate
from bot.answers.question import Question
from bot.answers.service import AnswerService
from bot.db import history
from bot.db.database import Database
from bot.domain import Asker, Place, Turn
from bot.generation.hf_api import CONTINUE_REQUEST, ApiConfig, HFApiBackend
from bot.generation.registry import ModelRegistry
from bot.services.conversation import HISTORY_FETCH, ConversationService
from bot.services.cooldowns import Cooldowns
from bot.services.tools import ToolService
from bot.streaming.pacing import PacerRegistry
from bot.streaming.page import Page
from bot.tools.stage import DATA_MARK
from tests.answers.test_service import RecordingSurface
from tests.standins.chat_server import ChatServer

PLACE = Place(7, 70)
DECISION = "We decided the release ships on Friday the 18th, after the security review."


class SlowSearch(ToolService):
    """The real search, a little slower, so the reader's status line stays long enough to be seen."""

    async def search(self, channel_id: int, query: str, limit: int, skip: Sequence[int] = ()) -> list[Turn]:
        await asyncio.sleep(0.4)
        return await super().search(channel_id, query, limit, skip)


class HistorySink:
    """Keeps every content each message showed, in order."""

    def __init__(self) -> None:
        self.shown: list[list[str]] = []
        self.created = asyncio.Event()

    async def create(self, page: Page) -> int:
        self.shown.append([page.text()])
        self.created.set()
        return len(self.shown) - 1

    async def edit(self, handle: Any, page: Page) -> None:
        self.shown[handle].append(page.text())


class WatchedSurface(RecordingSurface):
    def __init__(self) -> None:
        super().__init__()
        self.watched = HistorySink()

    def sink(self) -> HistorySink:  # type: ignore[override]
        return self.watched


async def pipeline(
    database: Database, registry: ModelRegistry, server: ChatServer
) -> tuple[AnswerService, ToolService]:
    config = ApiConfig(base_url=server.url, token="hf_test_token", timeout_seconds=5.0, max_retries=0)
    registry.register(HFApiBackend("tools", config, takes_tools=True))
    registry.default_model = "tools"
    tools = SlowSearch(database)
    conversations = ConversationService(database, registry, tools=tools)
    return AnswerService(conversations, PacerRegistry(), Cooldowns(0), GuildGate(4)), tools


async def remember(database: Database) -> None:
    """The decision, then more talk than any answer's history window holds."""
    async with database.writes.begin() as session:
        await history.add_turn(session, channel_id=70, guild_id=7, role="user", content=DECISION, author_name="Alice")
        await history.add_turn(session, channel_id=71, guild_id=7, role="user", content="The release? Monday.")
        for n in range(HISTORY_FETCH + 20):
            await history.add_turn(session, channel_id=70, guild_id=7, role="user", content=f"lunch plan {n}")


async def test_an_answer_that_left_the_window_is_found_in_the_channels_memory(
    database: Database, registry: ModelRegistry, chat_server: ChatServer
) -> None:
    answers, _ = await pipeline(database, registry, chat_server)
    await remember(database)
    chat_server.tool_plan = [[("search_history", json.dumps({"query": "when does the release ship"}))]]
    surface = WatchedSurface()
    outcome = await answers.answer(Question(PLACE, Asker(1, "Bob"), "When does the release ship?", "mention"), surface)
    assert outcome is not None and outcome.status == "complete"
    found = tool_output(chat_server)
    assert found.startswith(f"{DATA_MARK}\n[") and found.endswith(f" UTC] Alice: {DECISION}")  # dated, who said it
    assert "Monday" not in found and "When does the release ship?" not in found  # other channels; the question
    assert surface.watched.shown[0][0] == "-# 🔧 Searching this channel…"  # shown while the search ran
    assert surface.watched.shown[0][-1] == f"Tool said: {found}"  # then replaced by the answer
    async with database.sessions() as session:
        stored = (await history.recent_turns(session, 70, 1))[0]
    assert stored.content == f"Tool said: {found}" and stored.tools_used == "search_history"


def tool_output(server: ChatServer) -> str:
    return next(m["content"] for m in server.requests[-1]["messages"] if m["role"] == "tool")


async def test_a_tool_a_server_turned_off_is_not_offered(
    database: Database, registry: ModelRegistry, chat_server: ChatServer
) -> None:
    answers, tools = await pipeline(database, registry, chat_server)
    await tools.switch(7, 1, "search_history", False)
    await answers.answer(Question(PLACE, Asker(1, "Bob"), "What time is it?", "mention"), WatchedSurface())
    assert [t["function"]["name"] for t in chat_server.requests[0]["tools"]] == ["current_time", "calculate"]
    await answers.answer(Question(Place(8, 80), Asker(1, "Bob"), "And here?", "mention"), WatchedSurface())
    assert len(chat_server.requests[1]["tools"]) == 3  # another server keeps it


async def test_a_model_that_takes_no_tools_is_offered_none(
    database: Database, registry: ModelRegistry, chat_server: ChatServer
) -> None:
    answers, _ = await pipeline(database, registry, chat_server)
    config = ApiConfig(base_url=chat_server.url, token="t", timeout_seconds=5.0, max_retries=0)
    registry.register(HFApiBackend("ok", config))
    registry.default_model = "ok"
    await answers.answer(Question(PLACE, Asker(1, "Bob"), "Hello?", "mention"), WatchedSurface())
    assert "tools" not in chat_server.requests[0] or chat_server.requests[0]["tools"] is None


class StoppableSurface(WatchedSurface):
    def controls(self, question: Any, actions: Any) -> Any:
        self.actions = actions
        return super().controls(question, actions)


async def test_stop_works_while_a_tool_runs(
    database: Database, registry: ModelRegistry, chat_server: ChatServer
) -> None:
    answers, _ = await pipeline(database, registry, chat_server)
    chat_server.tool_plan = [[("search_history", json.dumps({"query": "release"}))]]
    surface = StoppableSurface()
    question = Question(PLACE, Asker(1, "Bob"), "When does the release ship?", "mention")
    asking = asyncio.create_task(answers.answer(question, surface))
    await surface.watched.created.wait()  # the status line is up: the (slowed) search is running
    surface.actions.stop()
    outcome = await asyncio.wait_for(asking, 5)
    assert outcome is not None and outcome.status == "interrupted"
    assert surface.watched.shown[0][-1].endswith("-# ⏹️ Stopped.")
    assert len(chat_server.requests) == 1  # the model was not asked again


async def latest_answer(database: Database) -> Turn:
    async with database.sessions() as session:
        return (await history.recent_turns(session, PLACE.channel_id, 1))[0]


async def test_regenerate_runs_the_tool_again(
    database: Database, registry: ModelRegistry, chat_server: ChatServer
) -> None:
    answers, _ = await pipeline(database, registry, chat_server)
    await remember(database)
    chat_server.tool_plan = [[("search_history", json.dumps({"query": "when does the release ship"}))]]
    question = Question(PLACE, Asker(1, "Bob"), "When does the release ship?", "mention")
    await answers.answer(question, WatchedSurface())
    first = await latest_answer(database)
    assert len(chat_server.requests) == 2  # the call, then the answer
    surface = WatchedSurface()
    outcome = await answers.answer(question.again("regenerate", first.id), surface)
    assert outcome is not None and outcome.status == "complete"
    assert len(chat_server.requests) == 4 and chat_server.requests[2]["tools"]  # tools offered again, and called
    found = tool_output(chat_server)
    assert found.endswith(f" UTC] Alice: {DECISION}")  # the search ran again, not a stored copy of its output
    assert "the assistant" not in found  # nor found the answer it replaces
    assert surface.watched.shown[0][-1] == f"Tool said: {found}"
    again = await latest_answer(database)
    assert (again.content, again.tools_used) == (f"Tool said: {found}", "search_history")


async def test_continue_of_a_cut_answer_goes_on_with_tools_offered(
    database: Database, registry: ModelRegistry, chat_server: ChatServer
) -> None:
    answers, _ = await pipeline(database, registry, chat_server)
    chat_server.tool_plan = [[("calculate", json.dumps({"expression": "6 * 7"}))]]
    chat_server.tool_cuts = 1
    question = Question(PLACE, Asker(1, "Bob"), "What is six times seven?", "mention")
    outcome = await answers.answer(question, WatchedSurface())
    assert outcome is not None and outcome.status == "truncated"
    cut = await latest_answer(database)
    assert cut.content == f"Tool said: {DATA_MARK}\n6 * 7 = 42" and cut.tools_used == "calculate"
    surface = WatchedSurface()
    outcome = await answers.answer(question.again("continue", cut.id), surface)
    assert outcome is not None and outcome.status == "complete"
    asked, answered = chat_server.requests[2], chat_server.requests[3]
    assert asked["tools"] and [m["role"] for m in asked["messages"][-2:]] == ["assistant", "user"]
    assert asked["messages"][-2]["content"] == cut.content and asked["messages"][-1]["content"] == CONTINUE_REQUEST
    # After the tool round the model is still asked to go on from the cut answer, not to answer afresh.
    roles = [m["role"] for m in answered["messages"][-4:]]
    assert (
        roles == ["assistant", "user", "assistant", "tool"] and answered["messages"][-3]["content"] == CONTINUE_REQUEST
    )
    went_on = await latest_answer(database)
    assert went_on.id == cut.id and went_on.status == "complete"
    assert went_on.content == cut.content * 2 and went_on.tools_used == "calculate"  # the stand-in says it again
    assert surface.watched.shown[-1][-1] == went_on.content
