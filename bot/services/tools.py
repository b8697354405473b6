"""Which tools an answer is offered, and the per-server switches admins change (`/tools`).

An answer gets tools when its model takes them (`ToolCapable.tool_support`) and the place's server has not
turned them off; in a DM every tool is on. The search tool reads only the channel or thread being answered in.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from bot.db import audit, history, place_settings, tool_switches
from bot.db.database import Database
from bot.domain import Place, Turn
from bot.errors import InvalidInputError, NotFoundError
from bot.generation.types import Backend, ToolCapable
from bot.tools.builtins import Calculate, CurrentTime, SearchHistory
from bot.tools.catalogue import ToolCatalogue
from bot.tools.stage import ToolLimits, ToolRun
from bot.tools.types import ToolPlace, ToolSpec

# Other processes sharing the database see a switch within this long; this one at once.
SWITCHES_TTL_SECONDS = 10.0


@dataclass(frozen=True, slots=True)
class ToolState:
    spec: ToolSpec
    enabled: bool


class ToolService:
    def __init__(
        self,
        db: Database,
        catalogue: ToolCatalogue | None = None,
        limits: ToolLimits | None = None,
        time_zone: str | None = None,
    ) -> None:
        self.db, self.limits, self.time_zone = db, limits or ToolLimits(), time_zone
        self.catalogue = catalogue or ToolCatalogue(builtin_tools(self))
        self._guilds: dict[int, tuple[float, dict[str, bool], str | None]] = {}  # guild → (read at, switches, zone)

    async def search(self, channel_id: int, query: str, limit: int, skip: Sequence[int] = ()) -> list[Turn]:
        async with self.db.sessions() as session:
            return await history.search_turns(session, channel_id, query, limit, skip)

    async def for_answer(self, place: Place, backend: Backend, in_context: Sequence[int] = ()) -> ToolRun | None:
        """The tools offered to this answer, or None when its model takes none or none is on here. `in_context`:
        the turns the model already sees, which a search leaves out."""
        if not isinstance(backend, ToolCapable) or not await backend.tool_support():
            return None
        states = await self.states(place.guild_id)
        tools = [t for t in self.catalogue.tools() if states.get(t.spec.name, True)]
        if not tools:
            return None
        zone = await self.time_zone_for(place.guild_id)
        where = ToolPlace(place.guild_id, place.channel_id, zone, tuple(in_context))
        return ToolRun(tools, where, self.limits)

    async def states(self, guild_id: int | None) -> dict[str, bool]:
        """The server's switches, read at most every `SWITCHES_TTL_SECONDS` (every answer asks)."""
        return (await self._guild(guild_id))[0]

    async def time_zone_for(self, guild_id: int | None) -> str | None:
        """The zone `current_time` gives besides UTC: the server's own, else the bot-wide TIME_ZONE."""
        return (await self._guild(guild_id))[1] or self.time_zone

    async def _guild(self, guild_id: int | None) -> tuple[dict[str, bool], str | None]:
        if guild_id is None:
            return {}, None
        cached = self._guilds.get(guild_id)
        if cached is not None and time.monotonic() - cached[0] < SWITCHES_TTL_SECONDS:
            return cached[1], cached[2]
        async with self.db.sessions() as session:
            found = await tool_switches.switches(session, guild_id)
            zone = await place_settings.guild_time_zone(session, guild_id)
        self._guilds[guild_id] = (time.monotonic(), found, zone)
        return found, zone

    async def set_time_zone(self, guild_id: int, actor_id: int, name: str | None) -> str | None:
        """Set (or with None, clear) a server's time zone, audited. A name zoneinfo does not know stores nothing."""
        zone = canonical_zone(name) if name else None
        async with self.db.writes.begin() as session:
            await place_settings.set_values(session, "guild", guild_id, time_zone=zone)
            self._guilds.pop(guild_id, None)
            await audit.record(
                session,
                guild_id=guild_id,
                actor_id=actor_id,
                action="tool.time_zone",
                target=f"guild:{guild_id}",
                detail=zone or "cleared",
            )
        return zone

    async def listing(self, guild_id: int) -> list[ToolState]:
        states = await self.states(guild_id)
        return [ToolState(t.spec, states.get(t.spec.name, True)) for t in self.catalogue.tools()]

    async def switch(self, guild_id: int, actor_id: int, name: str, enabled: bool) -> ToolSpec:
        """Turn one tool on or off for a server, recorded in the audit trail."""
        spec = next((t.spec for t in self.catalogue.tools() if t.spec.name == name), None)
        if spec is None:
            known = ", ".join(self.catalogue.names()) or "none"
            raise NotFoundError(f"There is no tool called `{name}`. Tools: {known}.")
        async with self.db.writes.begin() as session:
            await tool_switches.set_switch(session, guild_id, name, enabled, actor_id)
            self._guilds.pop(guild_id, None)
            await audit.record(
                session,
                guild_id=guild_id,
                actor_id=actor_id,
                action="tool.enable" if enabled else "tool.disable",
                target=f"guild:{guild_id}",
                detail=name,
            )
        return spec


def builtin_tools(service: ToolService) -> list[SearchHistory | CurrentTime | Calculate]:
    async def search(place: ToolPlace, query: str, limit: int) -> list[Turn]:
        return await service.search(place.channel_id, query, limit, place.in_context)

    return [SearchHistory(search), CurrentTime(), Calculate()]


@cache
def zone_names() -> tuple[str, ...]:
    """The IANA zone names this machine knows (for autocomplete), sorted."""
    return tuple(sorted(available_timezones()))


def canonical_zone(name: str) -> str:
    """`name` as zoneinfo spells it (case-insensitive match on the known names); InvalidInputError if unknown."""
    wanted = name.strip()
    exact = next((z for z in zone_names() if z.lower() == wanted.lower()), None)
    if exact is not None:
        return exact
    try:
        ZoneInfo(wanted)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise InvalidInputError(f"`{wanted[:60]}` is not a time zone I know. Pick one like `Europe/Paris`.") from exc
    return wanted
