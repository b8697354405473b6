"""Persona management through the service: validation, uniqueness, audit."""

from __future__ import annotations

import pytest

from bot.db import audit
from bot.db.database import Database
from bot.domain import Persona, Place
from bot.errors import InvalidInputError, NotFoundError
from bot.services.personas import PersonaService


@pytest.mark.parametrize("name", ["a", "x" * 33, "has space", "semi;colon", "", "quote'"])
async def test_bad_names_are_refused(database: Database, name: str) -> None:
    with pytest.raises(InvalidInputError, match="name"):
        await PersonaService(database).create(Persona(name=name, system_prompt="p"), 1, 1)


@pytest.mark.parametrize(
    "changes",
    [
        {"temperature": 3.0},
        {"top_p": 0.0},
        {"top_k": 0},
        {"max_tokens": 0},
        {"system_prompt": "  "},
        {"system_prompt": "x" * 4001},
    ],
)
async def test_bad_parameters_are_refused(database: Database, changes: dict[str, object]) -> None:
    with pytest.raises(InvalidInputError):
        await PersonaService(database).edit("tutor", changes, 1, 1)


async def test_create_edit_delete_with_audit(database: Database) -> None:
    service = PersonaService(database)
    await service.create(Persona(name="Пират", system_prompt="Говори как пират."), actor_id=7, guild_id=3)
    with pytest.raises(InvalidInputError, match="already exists"):
        await service.create(Persona(name="пират", system_prompt="dup"), actor_id=7, guild_id=3)
    edited = await service.edit("ПИРАТ", {"temperature": 1.2}, actor_id=8, guild_id=3)
    assert (edited.name, edited.temperature) == ("Пират", 1.2)
    await service.delete("пират", actor_id=9, guild_id=3)
    with pytest.raises(NotFoundError):
        await service.get("Пират")
    with pytest.raises(NotFoundError):
        await service.use(Place(3, 4), "channel", "Пират", actor_id=9)
    async with database.sessions() as s:
        actions = [(e.actor_id, e.action) for e in await audit.recent(s, guild_id=3)]
    assert actions == [(9, "persona.delete"), (8, "persona.edit"), (7, "persona.create")]


async def test_server_scope_needs_a_server(database: Database) -> None:
    with pytest.raises(InvalidInputError, match="server"):
        await PersonaService(database).use(Place(None, 5), "guild", "tutor", actor_id=1)


async def test_server_scope_outside_a_server_is_refused_with_a_sentence(database) -> None:  # type: ignore[no-untyped-def]
    from bot.errors import InvalidInputError

    with pytest.raises(InvalidInputError, match="only make sense inside a server"):
        await PersonaService(database).use(Place(guild_id=None, channel_id=5), "guild", "tutor", actor_id=1)
