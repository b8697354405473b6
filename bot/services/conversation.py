"""A conversation turn end to end: persona + channel history + model → streamed answer → stored turns.

Crash safety: the user's turn is committed before generation starts; the answer is written once, when it
completes, is stopped, or fails (with what was written so far), so no half-written row can exist.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncGenerator
from contextlib import aclosing
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from bot.db import history
from bot.db.database import Database
from bot.db.personas import get_persona
from bot.db.place_settings import Place, resolve
from bot.errors import BotError, GenerationInterrupted, InvalidInputError, NotFoundError
from bot.generation.registry import ModelRegistry
from bot.generation.types import Backend, GenerationParams
from bot.personas import DEFAULT_PERSONA, Persona
from bot.services.context import Context, assemble

log = logging.getLogger(__name__)

HISTORY_FETCH = 200  # newest turns considered for the context; the token budget usually keeps fewer


@dataclass(frozen=True, slots=True)
class Retention:
    max_turns: int = 500
    max_age: timedelta = timedelta(days=90)


def check_text(text: str, max_chars: int | None = None) -> str:
    if not text or not text.strip():
        raise InvalidInputError("Your message is empty. Write something for me to answer.")
    if "\x00" in text:
        raise InvalidInputError("Your message contains a NUL character, which I cannot store. Remove it and retry.")
    if max_chars is not None and len(text) > max_chars:
        raise InvalidInputError(f"Your message is {len(text)} characters long; the limit here is {max_chars}.")
    return text


class Reply:
    """One answer being generated. Iterate `stream()`; afterwards `status` and `text` say how it ended."""

    def __init__(
        self,
        service: ConversationService,
        place: Place,
        persona: Persona,
        model: str,
        backend: Backend,
        context: Context,
        params: GenerationParams,
    ) -> None:
        self._service, self.place, self.persona, self.model = service, place, persona, model
        self.backend, self.context, self.params = backend, context, params
        self.status = "pending"
        self.text = ""
        self.replaces_turn_id: int | None = None  # set when this answer regenerates an earlier one
        self.answer_turn_id: int | None = None  # the stored answer, once written
        self.speak = False  # the place asks for answers to be spoken

    @property
    def left_out(self) -> int:
        return self.context.left_out

    async def stream(self) -> AsyncGenerator[str, None]:
        parts: list[str] = []
        self.status = "streaming"
        try:
            async with aclosing(self.backend.stream(self.context.messages, self.params)) as pieces:
                async for piece in pieces:
                    parts.append(piece)
                    yield piece
            self.status = "complete"
        except GenerationInterrupted as exc:
            parts = [exc.partial_text]
            self.status = "failed"
            raise
        except BotError:
            self.status = "failed"
            raise
        except (asyncio.CancelledError, GeneratorExit):
            self.status = "interrupted"
            raise
        except Exception:
            self.status = "failed"
            raise
        finally:
            self.text = "".join(parts)
            await asyncio.shield(self._service.store_answer(self))


class ConversationService:
    def __init__(
        self,
        db: Database,
        registry: ModelRegistry,
        retention: Retention | None = None,
        default_persona: str = DEFAULT_PERSONA.name,
        max_prompt_chars: int | None = None,
    ) -> None:
        self.db, self.registry = db, registry
        self.retention = retention or Retention()
        self.default_persona = default_persona
        self.max_prompt_chars = max_prompt_chars
        self._background: set[asyncio.Task[int]] = set()

    def default_model_name(self) -> str:
        return self.registry.default_model

    async def start(
        self,
        place: Place,
        text: str,
        author_name: str | None,
        author_id: int | None,
        persona: str | None = None,
        model: str | None = None,
    ) -> Reply:
        """Store the user's turn (committed now), then build the context for the answer."""
        check_text(text, self.max_prompt_chars)
        async with self.db.sessions.begin() as session:
            chosen, model_name, speak = await self._in_force(session, place, persona, model)
            await history.add_turn(
                session,
                channel_id=place.channel_id,
                guild_id=place.guild_id,
                role="user",
                content=text,
                author_id=author_id,
                author_name=author_name,
            )
            turns = await history.recent_turns(session, place.channel_id, HISTORY_FETCH)
        return await self._reply(place, chosen, model_name, turns, speak)

    async def regenerate(
        self, place: Place, answer_turn_id: int, persona: str | None = None, model: str | None = None
    ) -> Reply:
        """A new answer to the conversation as it stood before `answer_turn_id`; it replaces that answer."""
        async with self.db.sessions.begin() as session:
            chosen, model_name, speak = await self._in_force(session, place, persona, model)
            turns = await history.recent_turns(session, place.channel_id, HISTORY_FETCH, before_id=answer_turn_id)
        if not turns or turns[-1].role != "user":
            raise InvalidInputError("There is no question left to answer again here.")
        reply = await self._reply(place, chosen, model_name, turns, speak)
        reply.replaces_turn_id = answer_turn_id
        return reply

    async def _in_force(
        self, session: AsyncSession, place: Place, persona: str | None, model: str | None
    ) -> tuple[Persona, str, bool]:
        """Persona, model and whether answers are spoken here: explicit choices first, then the place's settings."""
        resolved = await resolve(session, place)
        return (
            await self._persona(session, persona, resolved.persona),
            self._model(model, resolved.model),
            resolved.speak,
        )

    async def _reply(self, place: Place, persona: Persona, model: str, turns: list[history.Turn], speak: bool) -> Reply:
        backend = self.registry.backend(model)
        params = persona.params()
        context = await assemble(backend, persona, turns, params.max_tokens)
        reply = Reply(self, place, persona, model, backend, context, params)
        reply.speak = speak
        return reply

    async def reply(
        self,
        place: Place,
        author_name: str | None,
        author_id: int | None,
        text: str,
        persona: str | None = None,
        model: str | None = None,
    ) -> AsyncGenerator[str, None]:
        answer = await self.start(place, text, author_name, author_id, persona, model)
        async with aclosing(answer.stream()) as pieces:
            async for piece in pieces:
                yield piece

    async def _persona(self, session: AsyncSession, name: str | None, in_force: Persona | None) -> Persona:
        if name is not None:
            found = await get_persona(session, name)
            if found is None:
                raise NotFoundError(f"There is no persona called `{name}`. `/persona list` shows them all.")
            return found
        if in_force is not None:
            return in_force
        return await get_persona(session, self.default_persona) or DEFAULT_PERSONA

    def _model(self, explicit: str | None, in_force: str | None) -> str:
        if explicit is not None:
            self.registry.entry(explicit)  # unknown names raise with the list of choices
            return explicit
        if in_force is not None and self.registry.is_known(in_force):
            return in_force
        if in_force is not None:
            log.warning("Model %r set for this place is no longer configured; using the default", in_force)
        return self.registry.default_model

    async def store_answer(self, reply: Reply) -> None:
        if not reply.text:
            return  # nothing was written: the user's turn alone records what happened
        tokens = None
        try:
            tokens = (await reply.backend.count_text([reply.text]))[0]
        except Exception:  # a count is nice to have; never lose the answer over it
            log.debug("Token count failed", exc_info=True)
        async with self.db.sessions.begin() as session:
            if reply.replaces_turn_id is not None:
                await history.delete_turn(session, reply.replaces_turn_id)
            stored = await history.add_turn(
                session,
                channel_id=reply.place.channel_id,
                guild_id=reply.place.guild_id,
                role="assistant",
                content=reply.text,
                model=reply.model,
                persona=reply.persona.name,
                token_count=tokens,
                status=reply.status,
            )
        reply.answer_turn_id = stored.id
        task = asyncio.create_task(self.prune(reply.place.channel_id))
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    async def prune(self, channel_id: int) -> int:
        async with self.db.sessions.begin() as session:
            removed = await history.prune_channel(session, channel_id, self.retention.max_turns, self.retention.max_age)
        if removed:
            log.info("Retention removed %d old turns from channel %d", removed, channel_id)
        return removed

    async def clear_history(self, place: Place) -> int:
        async with self.db.sessions.begin() as session:
            return await history.clear_channel(session, place.channel_id)

    async def drain(self) -> None:
        """Wait for background retention work (shutdown)."""
        if self._background:
            await asyncio.gather(*self._background, return_exceptions=True)
