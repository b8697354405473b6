"""Personas: the only place that queries the `personas` table."""

from __future__ import annotations

from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.db.models import PersonaRow
from bot.domain import Persona, VoiceSettings


def to_persona(row: PersonaRow) -> Persona:
    voice = None
    if row.voice_language or row.voice_name or row.speaking_rate is not None or row.voice_pitch is not None:
        voice = VoiceSettings(
            language=row.voice_language or "en-US",
            voice_name=row.voice_name,
            speaking_rate=row.speaking_rate or 1.0,
            pitch=row.voice_pitch or 0.0,
        )
    return Persona(
        name=row.name,
        description=row.description,
        system_prompt=row.system_prompt,
        temperature=row.temperature,
        top_p=row.top_p,
        top_k=row.top_k,
        max_tokens=row.max_tokens,
        voice=voice,
    )


def _columns(persona: Persona) -> dict[str, Any]:
    voice = persona.voice
    return {
        "name": persona.name,
        "name_key": persona.name.lower(),
        "description": persona.description,
        "system_prompt": persona.system_prompt,
        "temperature": persona.temperature,
        "top_p": persona.top_p,
        "top_k": persona.top_k,
        "max_tokens": persona.max_tokens,
        "voice_language": voice.language if voice else None,
        "voice_name": voice.voice_name if voice else None,
        "speaking_rate": voice.speaking_rate if voice else None,
        "voice_pitch": voice.pitch if voice else None,
    }


async def persona_row(session: AsyncSession, name: str) -> PersonaRow | None:
    return await session.scalar(select(PersonaRow).where(PersonaRow.name_key == name.lower()))


async def list_personas(session: AsyncSession) -> list[Persona]:
    rows = await session.scalars(select(PersonaRow).order_by(PersonaRow.name_key))
    return [to_persona(row) for row in rows]


async def get_persona(session: AsyncSession, name: str) -> Persona | None:
    row = await persona_row(session, name)
    return to_persona(row) if row else None


async def create_persona(session: AsyncSession, persona: Persona, created_by: int | None) -> Persona:
    """Raises IntegrityError when the name (case-insensitive) is taken."""
    row = PersonaRow(**_columns(persona), builtin=False, created_by=created_by)
    session.add(row)
    await session.flush()
    return to_persona(row)


async def replace_persona(session: AsyncSession, name: str, persona: Persona) -> Persona | None:
    row = await persona_row(session, name)
    if row is None:
        return None
    for column, value in _columns(persona).items():
        setattr(row, column, value)
    await session.flush()
    return to_persona(row)


async def delete_persona(session: AsyncSession, name: str) -> bool:
    result = await session.execute(delete(PersonaRow).where(PersonaRow.name_key == name.lower()))
    return bool(result.rowcount)  # type: ignore[attr-defined]
