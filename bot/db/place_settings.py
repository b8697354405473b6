"""Per-place settings with fallback: channel → guild → global → the bot's configured default."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from bot.db import audit
from bot.db.models import PersonaRow, PlaceSettingRow
from bot.db.personas import to_persona
from bot.domain import Persona, Place, Scope

FIELDS = ("model", "persona_id", "persona_chat", "speak", "auto_thread", "listen_mode", "listen_forbidden", "time_zone")


@dataclass(frozen=True, slots=True)
class Resolved:
    """The settings in force at a place, each with the scope it came from ('default' when none set it)."""

    model: str | None
    model_from: str
    persona: Persona | None
    persona_from: str
    persona_chat: bool
    persona_chat_from: str
    speak: bool
    speak_from: str
    auto_thread: bool
    auto_thread_from: str
    listen_mode: str  # "off" unless set: "name" or "always"
    listen_forbidden: bool
    time_zone: str | None = None  # IANA name for `current_time`; set per server (`/tools timezone`)
    time_zone_from: str = "default"


def scope_id_for(place: Place, scope: Scope) -> int:
    if scope == "channel":
        return place.channel_id
    if scope == "guild":
        if place.guild_id is None:
            raise ValueError("a guild-scope setting needs a place in a guild")
        return place.guild_id
    return 0


def _chain(place: Place) -> list[tuple[Scope, int]]:
    chain: list[tuple[Scope, int]] = [("channel", place.channel_id)]
    if place.parent_id is not None:
        chain.append(("channel", place.parent_id))
    if place.guild_id is not None:
        chain.append(("guild", place.guild_id))
    chain.append(("global", 0))
    return chain


async def set_values(session: AsyncSession, scope: Scope, scope_id: int, **values: Any) -> None:
    """Set (or with None, clear back to 'inherit') fields of one place's settings row."""
    unknown = set(values) - set(FIELDS)
    if unknown:
        raise ValueError(f"unknown settings: {sorted(unknown)}")
    query = select(PlaceSettingRow).where(PlaceSettingRow.scope == scope, PlaceSettingRow.scope_id == scope_id)
    row = await session.scalar(query)
    if row is None:
        try:
            async with session.begin_nested():  # two writers creating the same row: the loser updates instead
                row = PlaceSettingRow(scope=scope, scope_id=scope_id)
                session.add(row)
                await session.flush()
        except IntegrityError:
            row = await session.scalar(query)
            assert row is not None
    for field, value in values.items():
        setattr(row, field, value)
    await session.flush()


async def resolve(session: AsyncSession, place: Place) -> Resolved:
    chain = _chain(place)
    rows = {
        (r.scope, r.scope_id): r
        for r in await session.scalars(
            select(PlaceSettingRow).where(
                PlaceSettingRow.scope.in_([s for s, _ in chain]),
                PlaceSettingRow.scope_id.in_([i for _, i in chain]),
            )
        )
    }
    found: dict[str, tuple[Any, str]] = {}
    for field in FIELDS:
        found[field] = (None, "default")
        for scope, scope_id in chain:
            row = rows.get((scope, scope_id))
            if row is not None and getattr(row, field) is not None:
                found[field] = (getattr(row, field), scope)
                break
    persona_id, persona_from = found["persona_id"]
    persona_row = await session.get(PersonaRow, persona_id) if persona_id is not None else None
    return Resolved(
        model=found["model"][0],
        model_from=found["model"][1],
        persona=to_persona(persona_row) if persona_row else None,
        persona_from=persona_from,
        persona_chat=bool(found["persona_chat"][0]),
        persona_chat_from=found["persona_chat"][1],
        speak=bool(found["speak"][0]),
        speak_from=found["speak"][1],
        auto_thread=bool(found["auto_thread"][0]),
        auto_thread_from=found["auto_thread"][1],
        listen_mode=str(found["listen_mode"][0] or "off"),
        listen_forbidden=bool(found["listen_forbidden"][0]),
        time_zone=found["time_zone"][0],
        time_zone_from=found["time_zone"][1],
    )


async def guild_time_zone(session: AsyncSession, guild_id: int) -> str | None:
    """The time zone a server's admins chose, or None (the bot-wide TIME_ZONE then applies)."""
    query = select(PlaceSettingRow.time_zone).where(
        PlaceSettingRow.scope == "guild", PlaceSettingRow.scope_id == guild_id
    )
    return await session.scalar(query)


async def change_place(
    session: AsyncSession, place: Place, scope: Scope, actor_id: int | None, action: str, detail: str, **values: Any
) -> None:
    """Set fields of a place's settings and record the admin change in the audit trail."""
    scope_id = scope_id_for(place, scope)
    await set_values(session, scope, scope_id, **values)
    await audit.record(
        session, guild_id=place.guild_id, actor_id=actor_id, action=action, target=f"{scope}:{scope_id}", detail=detail
    )
