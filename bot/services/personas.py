"""Persona management: validation, uniqueness, the channel's persona, and the audit trail."""

from __future__ import annotations

import re
from dataclasses import replace
from typing import Any

from sqlalchemy.exc import IntegrityError

from bot.db import audit
from bot.db import personas as repo
from bot.db.database import Database
from bot.db.place_settings import change_place
from bot.domain import Persona, Place, Scope, VoiceSettings
from bot.errors import InvalidInputError, NotFoundError
from bot.services.settings import check_scope

NAME_PATTERN = re.compile(r"^[\w-]{2,32}$")  # letters (any script), digits, _ and -
MAX_PROMPT_CHARS = 4000
MAX_DESCRIPTION_CHARS = 200
LANGUAGE_PATTERN = re.compile(r"^[a-z]{2,3}(-[A-Za-z0-9]{2,8})*$")
VOICE_NAME_PATTERN = re.compile(r"^[A-Za-z0-9-]{1,64}$")
EDITABLE = ("description", "system_prompt", "temperature", "top_p", "top_k", "max_tokens", "voice")


def validate_persona(persona: Persona) -> Persona:
    if not NAME_PATTERN.fullmatch(persona.name):
        raise InvalidInputError("A persona name has 2–32 letters, digits, `-` or `_`, and no spaces.")
    if not persona.system_prompt.strip() or "\x00" in persona.system_prompt:
        raise InvalidInputError("A persona needs a system prompt (plain text) saying how it should behave.")
    if len(persona.system_prompt) > MAX_PROMPT_CHARS:
        raise InvalidInputError(f"The system prompt is limited to {MAX_PROMPT_CHARS} characters.")
    if len(persona.description) > MAX_DESCRIPTION_CHARS or "\x00" in persona.description:
        raise InvalidInputError(f"The description is limited to {MAX_DESCRIPTION_CHARS} characters of text.")
    if persona.temperature is not None and not 0.0 <= persona.temperature <= 2.0:
        raise InvalidInputError("Temperature goes from 0 (focused) to 2 (wild).")
    if persona.top_p is not None and not 0.0 < persona.top_p <= 1.0:
        raise InvalidInputError("top_p must be above 0 and at most 1.")
    if persona.top_k is not None and not 1 <= persona.top_k <= 1000:
        raise InvalidInputError("top_k must be between 1 and 1000.")
    if not 1 <= persona.max_tokens <= 8192:
        raise InvalidInputError("max_tokens must be between 1 and 8192.")
    if persona.voice is not None:
        validate_voice(persona.voice)
    return persona


def validate_voice(voice: VoiceSettings) -> None:
    if not LANGUAGE_PATTERN.fullmatch(voice.language):
        raise InvalidInputError("A voice language looks like `en-US` or `fr`.")
    if voice.voice_name is not None and not VOICE_NAME_PATTERN.fullmatch(voice.voice_name):
        raise InvalidInputError("A voice name has letters, digits and dashes, like `en-US-Neural2-C`.")
    if not 0.25 <= voice.speaking_rate <= 4.0 or not -20.0 <= voice.pitch <= 20.0:
        raise InvalidInputError("Speaking rate goes from 0.25 to 4 and pitch from -20 to 20.")


class PersonaService:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def list(self) -> list[Persona]:
        async with self.db.sessions() as session:
            return await repo.list_personas(session)

    async def get(self, name: str) -> Persona:
        async with self.db.sessions() as session:
            found = await repo.get_persona(session, name)
        if found is None:
            raise NotFoundError(f"There is no persona called `{name}`. `/persona list` shows them all.")
        return found

    async def create(self, persona: Persona, actor_id: int | None, guild_id: int | None) -> Persona:
        validate_persona(persona)
        try:
            async with self.db.writes.begin() as session:
                created = await repo.create_persona(session, persona, actor_id)
                await audit.record(
                    session, guild_id=guild_id, actor_id=actor_id, action="persona.create", target=created.name
                )
        except IntegrityError as exc:
            raise InvalidInputError(f"A persona called `{persona.name}` already exists (names ignore case).") from exc
        return created

    async def edit(self, name: str, changes: dict[str, Any], actor_id: int | None, guild_id: int | None) -> Persona:
        unknown = set(changes) - set(EDITABLE)
        if unknown:
            raise InvalidInputError(f"These persona fields cannot be edited: {', '.join(sorted(unknown))}.")
        current = await self.get(name)
        updated = validate_persona(replace(current, **changes))
        async with self.db.writes.begin() as session:
            saved = await repo.replace_persona(session, name, updated)
            if saved is None:
                raise NotFoundError(f"There is no persona called `{name}`.")
            await audit.record(
                session,
                guild_id=guild_id,
                actor_id=actor_id,
                action="persona.edit",
                target=saved.name,
                detail=", ".join(sorted(changes)),
            )
        return saved

    async def delete(self, name: str, actor_id: int | None, guild_id: int | None) -> None:
        """Places using it fall back to their parent's persona (the foreign key clears itself)."""
        async with self.db.writes.begin() as session:
            if not await repo.delete_persona(session, name):
                raise NotFoundError(f"There is no persona called `{name}`.")
            await audit.record(session, guild_id=guild_id, actor_id=actor_id, action="persona.delete", target=name)

    async def use(self, place: Place, scope: Scope, name: str | None, actor_id: int | None) -> Persona | None:
        """Set the persona in force for a channel or server; `None` resets it to the inherited one."""
        check_scope(place, scope)
        async with self.db.writes.begin() as session:
            row = await repo.persona_row(session, name) if name is not None else None
            if name is not None and row is None:
                raise NotFoundError(f"There is no persona called `{name}`. `/persona list` shows them all.")
            detail = name or "(inherit)"
            await change_place(
                session, place, scope, actor_id, "persona.use", detail, persona_id=row.id if row else None
            )
            return repo.to_persona(row) if row else None
