"""The tool stage with the real huggingface_hub client: streamed `tool_calls` from the chat stand-in are assembled,
the tools run, and their results reach the model as tool messages marked as data."""

from __future__ import annotations

import asyncio
import json
from contextlib import aclosing
from typing import Any

from prometheus_client import REGISTRY

from bot.domain import ChatMessage, GenerationParams, StreamEnd
from bot.generation.hf_api import ApiConfig, HFApiBackend
from bot.tools.builtins import Calculate, CurrentTime
from bot.tools.stage import DATA_MARK, GUIDE, ToolLimits, ToolRun
from bot.tools.types import ToolPlace, ToolSpec
from tests.standins.chat_server import ChatServer

QUESTION: list[ChatMessage] = [
    {"role": "system", "content": "You are helpful."},
    {"role": "user", "content": "What is 6 * 7?"},
]


class SlowTool:
    spec = ToolSpec("slow", "Never answers in time.", status="Waiting…")

    def __init__(self) -> None:
        self.cancelled = False

    async def run(self, arguments: dict[str, Any], place: ToolPlace) -> str:
        try:
            await asyncio.sleep(60)
        except asyncio.CancelledError:
            self.cancelled = True
            raise
        return "late"


def tool_backend(server: ChatServer) -> HFApiBackend:
    config = ApiConfig(base_url=server.url, token="hf_test_token", timeout_seconds=5.0, max_retries=0)
    return HFApiBackend("tools", config, takes_tools=True)


async def answer(run: ToolRun, server: ChatServer) -> tuple[str, list[Any]]:
    items: list[Any] = []
    async with aclosing(run.stream(tool_backend(server), QUESTION, GenerationParams(max_tokens=64))) as stream:
        async for item in stream:
            items.append(item)
    return "".join(i for i in items if isinstance(i, str)), items


def tool_messages(request: dict[str, Any]) -> list[dict[str, Any]]:
    return [m for m in request["messages"] if m["role"] == "tool"]


def calls_of(value: str, tool: str = "calculate", field: str = "expression") -> tuple[str, str]:
    return tool, json.dumps({field: value})


async def test_one_call_runs_and_its_result_reaches_the_model(chat_server: ChatServer) -> None:
    chat_server.tool_plan = [[calls_of("6 * 7")]]
    run = ToolRun([Calculate(), CurrentTime()], ToolPlace(1, 10))
    text, items = await answer(run, chat_server)
    assert text == f"Tool said: {DATA_MARK}\n6 * 7 = 42"
    assert isinstance(items[-1], StreamEnd) and run.used == ["calculate"] and run.note() == "calculate"
    first, second = chat_server.requests
    assert [t["function"]["name"] for t in first["tools"]] == ["calculate", "current_time"]
    assert first["tool_choice"] == "auto"
    assert first["messages"][0]["content"] == f"You are helpful.\n\n{GUIDE}"  # results are data, said up front
    asked = second["messages"][-2]
    assert asked["role"] == "assistant" and asked["tool_calls"][0]["function"] == {
        "name": "calculate",
        "arguments": '{"expression": "6 * 7"}',  # assembled from 5-character deltas
    }
    assert tool_messages(second) == [
        {"role": "tool", "tool_call_id": "call_0_0", "name": "calculate", "content": f"{DATA_MARK}\n6 * 7 = 42"}
    ]


async def test_two_calls_in_one_turn_both_run(chat_server: ChatServer) -> None:
    chat_server.tool_plan = [[calls_of("2 + 2"), calls_of("3 * 3")]]
    text, _ = await answer(ToolRun([Calculate()], ToolPlace(1, 10)), chat_server)
    assert text == f"Tool said: {DATA_MARK}\n2 + 2 = 4 | {DATA_MARK}\n3 * 3 = 9"
    assert [m["tool_call_id"] for m in tool_messages(chat_server.requests[1])] == ["call_0_0", "call_0_1"]


async def test_two_rounds_then_the_answer(chat_server: ChatServer) -> None:
    chat_server.tool_plan = [[calls_of("2 + 2")], [calls_of("4 * 10")]]
    run = ToolRun([Calculate()], ToolPlace(1, 10))
    text, _ = await answer(run, chat_server)
    assert text == f"Tool said: {DATA_MARK}\n4 * 10 = 40"
    assert len(chat_server.requests) == 3 and len(tool_messages(chat_server.requests[2])) == 2
    assert run.used == ["calculate", "calculate"] and run.note() == "calculate"


async def test_a_malformed_call_is_a_tool_error_the_model_reads(chat_server: ChatServer) -> None:
    chat_server.tool_plan = [[("calculate", '{"expression": "1 +')], [("no_such_tool", "{}")]]
    before = REGISTRY.get_sample_value("hfbot_tool_calls_total", {"tool": "calculate", "outcome": "malformed"}) or 0
    text, _ = await answer(ToolRun([Calculate()], ToolPlace(1, 10)), chat_server)
    assert text == f"Tool said: {DATA_MARK}\nError: there is no tool called 'no_such_tool'."
    assert tool_messages(chat_server.requests[1])[0]["content"] == (
        f"{DATA_MARK}\nError: the arguments were not a JSON object; call the tool again."
    )
    after = REGISTRY.get_sample_value("hfbot_tool_calls_total", {"tool": "calculate", "outcome": "malformed"})
    assert after == before + 1


async def test_a_tool_that_times_out_is_reported_and_the_answer_goes_on(chat_server: ChatServer) -> None:
    chat_server.tool_plan = [[("slow", "{}")]]
    slow = SlowTool()
    run = ToolRun([slow], ToolPlace(1, 10), ToolLimits(timeout_seconds=0.2))
    text, _ = await answer(run, chat_server)
    assert text == f"Tool said: {DATA_MARK}\nError: the tool took longer than 0.2 s."
    assert slow.cancelled
    assert REGISTRY.get_sample_value("hfbot_tool_calls_total", {"tool": "slow", "outcome": "timeout"}) >= 1


async def test_after_the_last_round_no_tools_are_offered(chat_server: ChatServer) -> None:
    chat_server.tool_plan = [[calls_of(f"{n} + 1")] for n in range(10)]  # a model that would call forever
    text, _ = await answer(ToolRun([Calculate()], ToolPlace(1, 10), ToolLimits(max_rounds=2)), chat_server)
    assert text == f"Tool said: {DATA_MARK}\n1 + 1 = 2"
    assert [bool(r.get("tools")) for r in chat_server.requests] == [True, True, False]


async def test_a_long_output_is_cut_to_its_cap(chat_server: ChatServer) -> None:
    chat_server.tool_plan = [[calls_of("10 ** 300")]]
    run = ToolRun([Calculate()], ToolPlace(1, 10), ToolLimits(output_chars=100))
    await answer(run, chat_server)
    content = tool_messages(chat_server.requests[1])[0]["content"]
    assert content.endswith("\n…[cut at 100 characters]") and len(content) == len(DATA_MARK) + 1 + 100 + 25


async def test_a_status_line_is_shown_only_while_the_tool_runs(chat_server: ChatServer) -> None:
    chat_server.tool_plan = [[("slow", "{}")]]
    run = ToolRun([SlowTool()], ToolPlace(1, 10), ToolLimits(timeout_seconds=0.5))
    seen: list[str | None] = []
    task = asyncio.create_task(answer(run, chat_server))
    while not task.done():
        seen.append(run.status)
        await asyncio.sleep(0.02)
    assert "-# 🔧 Waiting…" in seen and run.status is None
