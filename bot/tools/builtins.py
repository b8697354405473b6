"""The built-in tools: the channel's own memory, the time, arithmetic. Each one is on unless a server turns it off."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from bot.domain import Turn
from bot.tools.calculator import CalculationError, calculate
from bot.tools.types import ToolError, ToolPlace, ToolSpec

SEARCH_LIMIT = 5  # snippets one search returns unless the model asks for fewer
SEARCH_MAX_LIMIT = 10
SNIPPET_CHARS = 280
CALCULATE_SECONDS = 1.0

HistorySearch = Callable[[ToolPlace, str, int], Awaitable[list[Turn]]]  # (where, query, limit) → matching turns


class SearchHistory:
    spec = ToolSpec(
        name="search_history",
        description=(
            "Full-text search of this channel's earlier conversation, including messages too old to be in your "
            "context. Returns dated snippets with who said them. Use it when asked about something said before."
        ),
        parameters={
            "type": "object",
            "properties": {
                "query": {"type": "string", "description": "Words to look for"},
                "limit": {"type": "integer", "description": f"Snippets to return (1-{SEARCH_MAX_LIMIT})"},
            },
            "required": ["query"],
        },
        status="Searching this channel…",
    )

    def __init__(self, search: HistorySearch) -> None:
        self._search = search

    async def run(self, arguments: dict[str, Any], place: ToolPlace) -> str:
        query = str(arguments.get("query") or "").strip()
        if not query:
            raise ToolError("`query` is required: the words to look for")
        limit = max(1, min(int(arguments.get("limit") or SEARCH_LIMIT), SEARCH_MAX_LIMIT))
        found = await self._search(place, query, limit)  # this channel or thread only
        if not found:
            return f"No earlier messages in this channel match {query!r}."
        return "\n".join(_snippet(turn, query) for turn in found)


def _snippet(turn: Turn, query: str) -> str:
    who = turn.author_name or ("the assistant" if turn.role == "assistant" else "someone")
    at = turn.created_at if turn.created_at.tzinfo else turn.created_at.replace(tzinfo=UTC)  # SQLite keeps UTC naive
    when = at.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")
    text = " ".join(turn.content.split())
    if len(text) > SNIPPET_CHARS:
        words = [w.lower() for w in query.split()]
        found = min((i for i in (text.lower().find(w) for w in words) if i >= 0), default=0)
        start = max(0, found - SNIPPET_CHARS // 3)
        text = ("…" if start else "") + text[start : start + SNIPPET_CHARS] + "…"
    return f"[{when}] {who}: {text}"


class CurrentTime:
    spec = ToolSpec(
        name="current_time",
        description="The current date and time in UTC (and in this server's time zone, if one is set).",
        status="Checking the time…",
    )

    def __init__(self, clock: Callable[[], datetime] = lambda: datetime.now(UTC)) -> None:
        self._clock = clock

    async def run(self, arguments: dict[str, Any], place: ToolPlace) -> str:
        now = self._clock().astimezone(UTC)
        lines = [f"UTC: {now:%A %Y-%m-%d %H:%M:%S}"]
        if place.time_zone:
            try:
                local = now.astimezone(ZoneInfo(place.time_zone))
                lines.append(f"{place.time_zone}: {local:%A %Y-%m-%d %H:%M:%S (UTC%z)}")
            except ZoneInfoNotFoundError:
                pass  # an unknown zone was refused at start-up; UTC is still true
        return "\n".join(lines)


class Calculate:
    spec = ToolSpec(
        name="calculate",
        description="Work out an arithmetic expression exactly: + - * / // % ** and sqrt, log, sin, cos, round, pi, e.",
        parameters={
            "type": "object",
            "properties": {"expression": {"type": "string", "description": "e.g. (17.5 * 3) / 4"}},
            "required": ["expression"],
        },
        status="Calculating…",
    )

    async def run(self, arguments: dict[str, Any], place: ToolPlace) -> str:
        expression = str(arguments.get("expression") or "")
        try:  # in a thread, with a deadline: a pathological expression never holds the event loop
            async with asyncio.timeout(CALCULATE_SECONDS):
                value = await asyncio.to_thread(calculate, expression)
        except CalculationError as exc:
            raise ToolError(f"cannot calculate {expression!r}: {exc}") from exc
        except TimeoutError as exc:
            raise ToolError(f"{expression!r} takes too long to work out") from exc
        return f"{expression} = {value}"
