"""MCP servers through the official SDK: a real stdio server started by the tests (tests/standins/mcp_server.py)."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path

import pytest
from pydantic import SecretStr

from bot.answers.question import Question
from bot.app import Services
from bot.domain import Asker, Place
from bot.generation.builder import build_registry
from bot.generation.hf_api import ApiConfig, HFApiBackend
from bot.settings import McpServerConfig, Settings
from bot.tools.mcp import McpManager
from bot.tools.stage import DATA_MARK
from bot.tools.types import ToolError, ToolPlace
from tests.conftest import MODEL_CACHE
from tests.standins.chat_server import ChatServer
from tests.tools.test_answers import WatchedSurface

SERVER = str(Path(__file__).resolve().parents[1] / "standins" / "mcp_server.py")
PLACE = ToolPlace(7, 70)


def standin(name: str = "standin", allowlist: tuple[str, ...] = ("weather", "env_seen", "crash")) -> McpServerConfig:
    return McpServerConfig(name=name, command=sys.executable, args=[SERVER], allowlist=list(allowlist))


async def test_allowlisted_tools_are_listed_with_their_schemas_and_run() -> None:
    manager = McpManager([standin()])
    await manager.start()
    try:
        tools = {t.spec.name: t for t in manager.tools()}
        assert list(tools) == ["weather", "env_seen", "crash"]  # `shout` is not allowlisted: never offered
        weather = tools["weather"].spec
        assert weather.description == "Today's weather in a city." and weather.source == "standin"
        assert weather.parameters["properties"]["city"]["type"] == "string"
        assert await tools["weather"].run({"city": "Oslo"}, PLACE) == "Sunny in Oslo, 21 °C"
        assert await manager.check() is None
    finally:
        await manager.close()


async def test_a_stdio_server_never_sees_the_bots_secrets(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DISCORD_TOKEN", "discord-secret")
    monkeypatch.setenv("HF_TOKEN", "hf_secret")
    config = standin()
    config.env = {
        "STANDIN_OWN": SecretStr("1")
    }  # what the operator gives this server is all it gets besides PATH, HOME…
    manager = McpManager([config])
    await manager.start()
    try:
        env_seen = next(t for t in manager.tools() if t.spec.name == "env_seen")
        seen = await env_seen.run({"names": ["DISCORD_TOKEN", "HF_TOKEN", "STANDIN_OWN", "PATH"]}, PLACE)
        assert seen == "STANDIN_OWN,PATH"
        assert "'1'" not in repr(config)  # an operator's token for the server stays masked in settings
    finally:
        await manager.close()


async def test_a_server_that_dies_is_started_again() -> None:
    manager = McpManager([standin()])
    await manager.start()
    try:
        tools = {t.spec.name: t for t in manager.tools()}
        with pytest.raises(ToolError, match="stopped while answering"):
            await tools["crash"].run({}, PLACE)  # the process exits mid-call
        assert await tools["weather"].run({"city": "Rome"}, PLACE) == "Sunny in Rome, 21 °C"  # a new process
        assert await manager.check() is None
    finally:
        await manager.close()


async def test_a_server_that_cannot_start_is_left_out_and_named() -> None:
    broken = McpServerConfig(name="broken", command="/nonexistent/mcp-server", allowlist=["x"])
    manager = McpManager([broken, standin()])
    await manager.start()
    try:
        assert [t.spec.source for t in manager.tools()] == ["standin"] * 3
        problem = await manager.check()
        assert problem is not None and problem.startswith("MCP server broken: ")
    finally:
        await manager.close()


async def test_an_operator_plugs_in_a_server_and_an_answer_uses_its_tool(
    tmp_path: Path, chat_server: ChatServer
) -> None:
    servers = [
        {"name": "standin", "command": sys.executable, "args": [SERVER], "allowlist": ["weather"]},
        {"name": "broken", "command": "/nonexistent/mcp-server", "allowlist": ["x"]},
    ]
    settings = Settings(  # type: ignore[call-arg]
        _env_file=None,
        database_url=f"sqlite+aiosqlite:///{tmp_path / 'bot.db'}",
        model_cache_dir=MODEL_CACHE,
        user_cooldown_seconds=0,
        mcp_servers=json.dumps(servers),
    )
    registry = build_registry(settings)
    config = ApiConfig(base_url=chat_server.url, token="t", timeout_seconds=5.0, max_retries=0)
    registry.register(HFApiBackend("tools", config, takes_tools=True))
    registry.default_model = "tools"
    chat_server.tool_plan = [[("weather", json.dumps({"city": "Lyon"}))]]
    async with await Services.open(settings, registry) as services:
        question = Question(Place(7, 70), Asker(1, "Bob"), "Weather in Lyon?", "mention")
        outcome = await services.answers.answer(question, WatchedSurface())
        ready = await services.readiness["mcp_servers"]()
    assert outcome is not None and outcome.text == f"Tool said: {DATA_MARK}\nSunny in Lyon, 21 °C"
    offered = [t["function"]["name"] for t in chat_server.requests[0]["tools"]]
    assert offered == ["search_history", "current_time", "calculate", "weather"]
    assert ready is not None and ready.startswith("MCP server broken: ")


async def test_a_streamable_http_server_is_used_by_url(unused_tcp_port: int) -> None:
    process = await asyncio.create_subprocess_exec(
        sys.executable, SERVER, "--http", str(unused_tcp_port), stderr=asyncio.subprocess.DEVNULL
    )
    try:
        await _listening(unused_tcp_port)
        url = f"http://127.0.0.1:{unused_tcp_port}/mcp"
        manager = McpManager([McpServerConfig(name="web", url=url, allowlist=["shout"])])
        await manager.start()
        try:
            [shout] = manager.tools()
            assert shout.spec.source == "web" and await shout.run({"text": "hi"}, PLACE) == "HI"
        finally:
            await manager.close()
    finally:
        process.terminate()
        await process.wait()


async def _listening(port: int) -> None:
    for _ in range(200):
        try:
            _, writer = await asyncio.open_connection("127.0.0.1", port)
        except OSError:
            await asyncio.sleep(0.05)
            continue
        writer.close()
        return
    raise AssertionError("the MCP server did not start")


async def test_a_dead_server_is_down_before_the_next_call_and_comes_back_with_its_new_tools(tmp_path: Path) -> None:
    marker = tmp_path / "extra"
    config = standin(allowlist=("weather", "pid", "extra"))
    config.env = {"STANDIN_EXTRA": SecretStr(str(marker))}
    manager = McpManager([config], ping_seconds=0.2)
    await manager.start()
    try:
        tools = {t.spec.name: t for t in manager.tools()}
        assert list(tools) == ["weather", "pid"]  # no `extra` yet: its file is missing
        marker.touch()  # the restarted server will list one tool more
        os.kill(int(await tools["pid"].run({}, PLACE)), signal.SIGKILL)  # dies between calls: only a ping can tell
        problem = await _until(manager.check)
        assert problem.startswith("MCP server standin: not answering pings: ")
        assert manager.tools() == []  # not offered while it is down
        await _until(lambda: _none(manager.check))
        tools = {t.spec.name: t for t in manager.tools()}
        assert list(tools) == ["weather", "pid", "extra"]  # the list is read again from the new process
        assert await tools["extra"].run({}, PLACE) == "extra!"
    finally:
        await manager.close()


async def _none(check: Callable[[], Awaitable[str | None]]) -> str | None:
    return "up" if await check() is None else None


async def _until(probe: Callable[[], Awaitable[str | None]], tries: int = 500) -> str:
    """What `probe` says once it says something (polled every 20 ms, for 10 s at most)."""
    for _ in range(tries):
        found = await probe()
        if found is not None:
            return found
        await asyncio.sleep(0.02)
    raise AssertionError("it never happened")
