"""MCP servers' tools, through the official SDK: a stdio command or a streamable-HTTP URL per configured server.

Each server is kept by a task of its own (the SDK's transports are context managers that must be left in the task
that entered them): it connects, lists the tools with their JSON schemas and keeps only the allowlisted ones, then
pings it every `ping_seconds` (MCP_PING_SECONDS). A failed ping, or a call that finds the connection broken (the
stdio process died), marks it down: its tools are no longer offered and `/readyz` names it until the task has
connected again (a new process, its tools listed afresh), with a growing pause between attempts; calls meanwhile
wait briefly for it. A server that cannot start is logged and left out, and `/readyz` names it. A stdio server gets
the SDK's minimal environment (PATH, HOME…) plus its own configured `env`, never the bot's tokens.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING, Any

from bot.settings import McpServerConfig
from bot.tools.types import Tool, ToolError, ToolPlace, ToolSpec

if TYPE_CHECKING:  # the SDK costs over a second to import: only a bot with MCP servers configured loads it
    from mcp import ClientSession

log = logging.getLogger(__name__)

START_SECONDS = 20.0  # the bot's start waits this long at most for its MCP servers
RECONNECT_WAIT_SECONDS = 5.0  # a call waits this long for a restarting server
RETRY_FIRST_SECONDS, RETRY_MAX_SECONDS = 0.5, 30.0
PING_SECONDS = 30.0  # the default health check interval (MCP_PING_SECONDS)
PING_TIMEOUT_SECONDS = 5.0  # a ping not answered in this long marks the server down


class McpTool:
    def __init__(self, spec: ToolSpec, server: McpConnection) -> None:
        self.spec, self._server = spec, server

    async def run(self, arguments: dict[str, Any], place: ToolPlace) -> str:
        return await self._server.call(self.spec.name, arguments)


class McpConnection:
    """One configured server, kept connected."""

    def __init__(self, config: McpServerConfig, ping_seconds: float = PING_SECONDS) -> None:
        self.config, self.ping_seconds = config, ping_seconds
        self.problem: str | None = "not started"  # why it is not serving, for /readyz
        self.tools: list[Tool] = []
        self._session: ClientSession | None = None
        self._connected, self._broken, self._tried = asyncio.Event(), asyncio.Event(), asyncio.Event()
        self._closing = False
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        """Connect (in the background, for good); return once the first attempt succeeded or failed."""
        self._task = asyncio.create_task(self._keep(), name=f"mcp:{self.config.name}")
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(START_SECONDS):
                await self._tried.wait()
        if self.problem:
            log.warning("MCP server %s is left out for now: %s", self.config.name, self.problem)

    async def close(self) -> None:
        self._closing = True
        self._broken.set()
        if self._task is not None:
            try:
                async with asyncio.timeout(5.0):
                    await asyncio.shield(self._task)
            except TimeoutError:
                self._task.cancel()
                await asyncio.gather(self._task, return_exceptions=True)

    async def call(self, name: str, arguments: dict[str, Any]) -> str:
        if not self._connected.is_set():
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(RECONNECT_WAIT_SECONDS):
                    await self._connected.wait()
        session = self._session
        if session is None:
            raise ToolError(f"the tool server {self.config.name} is not available right now")
        try:
            result = await session.call_tool(name, arguments)
        except Exception as exc:  # the transport failed: the server is restarted, the call is not repeated
            log.warning("MCP server %s failed a call (%r); reconnecting", self.config.name, exc)
            self._mark_broken(f"stopped while answering: {_reason(exc)}")
            raise ToolError(f"the tool server {self.config.name} stopped while answering; try again") from exc
        text = "\n".join(getattr(part, "text", "") for part in result.content if getattr(part, "text", None))
        if result.is_error:
            raise ToolError(text or "the tool failed")
        return text or "(no output)"

    def _mark_broken(self, reason: str) -> None:
        self.problem = reason  # its tools are left out and /readyz names it until it is connected again
        self._connected.clear()
        self._broken.set()

    async def _watch(self, session: ClientSession) -> None:
        """Until the connection is marked broken (or the bot closes), ping the server; one that does not answer is
        marked down, so the restart comes before the next call rather than after a failed one."""
        while not self._broken.is_set():
            if self.ping_seconds <= 0:
                await self._broken.wait()
                return
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(self.ping_seconds):
                    await self._broken.wait()
            if self._broken.is_set():
                return
            try:
                async with asyncio.timeout(PING_TIMEOUT_SECONDS):
                    await session.send_ping()
            except Exception as exc:
                log.warning("MCP server %s does not answer a ping (%s); restarting it", self.config.name, _reason(exc))
                self._mark_broken(f"not answering pings: {_reason(exc)}")

    async def _keep(self) -> None:
        pause = RETRY_FIRST_SECONDS
        while not self._closing:
            try:
                await self._serve()
                pause = RETRY_FIRST_SECONDS
            except Exception as exc:
                self.problem = _reason(exc)
                log.warning("MCP server %s: %s", self.config.name, self.problem)
            finally:
                self._session = None
                self._connected.clear()
                self._tried.set()
            if self._closing:
                return
            self.problem = self.problem or "restarting"
            await asyncio.sleep(pause)
            pause = min(pause * 2, RETRY_MAX_SECONDS)

    async def _serve(self) -> None:
        from mcp import ClientSession

        async with self._transport() as streams, ClientSession(streams[0], streams[1]) as session:
            await session.initialize()
            listed = await session.list_tools()
            allowed = set(self.config.allowlist)
            self.tools = [McpTool(_spec(t, self.config.name), self) for t in listed.tools if t.name in allowed]
            missing = allowed - {t.name for t in listed.tools}
            if missing:
                log.warning("MCP server %s has no tools named %s", self.config.name, ", ".join(sorted(missing)))
            self._session, self.problem = session, None
            self._broken.clear()
            self._connected.set()
            self._tried.set()
            log.info("MCP server %s: %d tools offered", self.config.name, len(self.tools))
            await self._watch(session)

    @asynccontextmanager
    async def _transport(self) -> AsyncIterator[Sequence[Any]]:
        from mcp.client.stdio import StdioServerParameters, stdio_client
        from mcp.client.streamable_http import streamable_http_client

        config = self.config
        if config.command is not None:
            env = {name: value.get_secret_value() for name, value in config.env.items()}
            params = StdioServerParameters(command=config.command, args=config.args, env=env or None)
            async with stdio_client(params) as streams:
                yield streams
        else:
            assert config.url is not None
            async with streamable_http_client(config.url) as streams:
                yield streams


class McpManager:
    """Every configured MCP server; a source of tools for the catalogue."""

    def __init__(self, configs: Sequence[McpServerConfig], ping_seconds: float = PING_SECONDS) -> None:
        self.connections = [McpConnection(config, ping_seconds) for config in configs]

    async def start(self) -> None:
        await asyncio.gather(*(c.start() for c in self.connections))

    async def close(self) -> None:
        await asyncio.gather(*(c.close() for c in self.connections))

    def tools(self) -> list[Tool]:
        return [tool for c in self.connections if c.problem is None for tool in c.tools]

    async def check(self) -> str | None:
        """`/readyz`: the servers not serving, and why."""
        down = [f"MCP server {c.config.name}: {c.problem}" for c in self.connections if c.problem]
        return "; ".join(down) or None


def _spec(tool: Any, server: str) -> ToolSpec:
    schema = getattr(tool, "input_schema", None) or {"type": "object", "properties": {}}
    return ToolSpec(tool.name, tool.description or tool.name, schema, status=f"Asking {server}…", source=server)


def _reason(exc: BaseException) -> str:
    while isinstance(exc, BaseExceptionGroup) and exc.exceptions:  # anyio task groups wrap the cause
        exc = exc.exceptions[0]
    return f"{type(exc).__name__}: {exc}"[:200]
