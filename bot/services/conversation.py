"""A conversation turn end to end: persona + channel history + model → streamed answer → stored turns.

Crash safety: the user's turn and a placeholder for the answer (status `streaming`) are committed before generation
starts, so a crash leaves a record of the answer in flight (with its Discord message ids once known) that the next
start marks interrupted. The answer's text and final status are written once, when it completes, is cut by the
length limit, is stopped, or fails.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncGenerator
from contextlib import aclosing
from dataclasses import replace

from sqlalchemy.ext.asyncio import AsyncSession

from bot.db import history, usage
from bot.db.database import Database
from bot.db.personas import get_persona
from bot.db.place_settings import resolve
from bot.domain import (
    DEFAULT_PERSONA,
    NO_OVERRIDES,
    AnswerStatus,
    Asker,
    Extras,
    Overrides,
    Persona,
    Place,
    StreamEnd,
    Turn,
    params_for,
)
from bot.errors import InvalidInputError, NotFoundError
from bot.generation.registry import ModelRegistry
from bot.ops import metrics
from bot.services.context import assemble
from bot.services.extras import Addition, prepare
from bot.services.reply import Reply, settle
from bot.services.retention import Retention, RetentionPasses
from bot.services.tools import ToolService

log = logging.getLogger(__name__)

HISTORY_FETCH = 200  # newest turns considered for the context; the token budget usually keeps fewer
MESSAGE_ID_SEPARATOR = ","


SPOKEN_MARK = "🎙️"  # history marks what was said aloud (a voice channel, a voice message)
ONLY_ATTACHED = "Please look at what I attached."  # the question of a message that is only a file (or a recording)


def spoken_text(text: str, transcript: str) -> str:
    """A question with its transcript: the transcript alone when it is the whole question."""
    if text.strip() in ("", ONLY_ATTACHED, transcript.strip()):
        return f"{SPOKEN_MARK} {transcript.strip()}"
    return f"{text}\n{SPOKEN_MARK} {transcript.strip()}"


def check_text(text: str, max_chars: int | None = None) -> str:
    if not text or not text.strip():
        raise InvalidInputError("Your message is empty. Write something for me to answer.")
    if "\x00" in text:
        raise InvalidInputError("Your message contains a NUL character, which I cannot store. Remove it and retry.")
    if max_chars is not None and len(text) > max_chars:
        raise InvalidInputError(f"Your message is {len(text)} characters long; the limit here is {max_chars}.")
    return text


class ConversationService:
    def __init__(
        self,
        db: Database,
        registry: ModelRegistry,
        retention: Retention | None = None,
        default_persona: str = DEFAULT_PERSONA.name,
        max_prompt_chars: int | None = None,
        max_new_tokens: int = 512,
        seed: int | None = None,
        owner: str | None = None,
        tools: ToolService | None = None,
    ) -> None:
        self.db, self.registry = db, registry
        self.tools = tools  # None: answers are never offered tools
        self.owner = owner  # this process's instance, written on every answer it streams
        self._retention = RetentionPasses(db, retention or Retention())
        self.default_persona = default_persona
        self.max_prompt_chars, self.max_new_tokens, self.seed = max_prompt_chars, max_new_tokens, seed

    def default_model_name(self) -> str:
        return self.registry.default_model

    async def start(
        self, place: Place, asker: Asker, text: str, overrides: Overrides = NO_OVERRIDES, extras: Extras | None = None
    ) -> Reply:
        """Store the user's turn and the answer's placeholder (committed now), then build the context.

        The text was checked where the question was built. History keeps the question's text and one line per
        attachment (name, type, size), never a file's content; the reply chain and the files' text reach the model
        for this answer only.
        """
        stored = text
        if extras is not None and extras.spoken is not None:
            stored = text = spoken_text(text, extras.spoken)
        if extras is not None and extras.described:
            stored = "\n".join([text, *(f"[attached: {d}]" for d in extras.described)]).strip()
        async with self.db.writes.begin() as session:
            chosen, model_name, speak = await self._in_force(session, place, overrides.persona, overrides.model)
            if overrides.system is not None:
                chosen = replace(chosen, system_prompt=overrides.system)
            await history.add_turn(
                session,
                channel_id=place.channel_id,
                guild_id=place.guild_id,
                role="user",
                content=stored,
                author_id=asker.id,
                author_name=asker.name,
            )
            turns = await history.recent_turns(session, place.channel_id, HISTORY_FETCH)
            # The answer's placeholder in the same transaction (one write fewer per answer: under a burst the store
            # is the bottleneck); it is taken back if the answer cannot start.
            placeholder = await self._add_placeholder(session, place, chosen, model_name)
        try:
            reply = await self._reply(place, chosen, model_name, turns, speak, placeholder, extras=extras)
        except BaseException:
            async with self.db.writes.begin() as session:
                await history.delete_turn(session, placeholder)
            raise
        reply.asker_id = asker.id
        return reply

    async def reply(
        self, place: Place, asker: Asker, text: str, overrides: Overrides = NO_OVERRIDES
    ) -> AsyncGenerator[str, None]:
        """Start, stream and store an answer in one call, with no surface watching it (scripts, other processes,
        tests): its outcome is decided and stored the way the pipeline does it, however the stream ends."""
        reply = await self.start(place, asker, check_text(text, self.max_prompt_chars), overrides)
        shown = AnswerStatus.FAILED
        try:
            async with aclosing(reply.stream()) as pieces:
                async for piece in pieces:
                    yield piece
            shown = AnswerStatus.COMPLETE
        except (asyncio.CancelledError, GeneratorExit):
            shown = AnswerStatus.INTERRUPTED
            raise
        finally:
            await asyncio.shield(self.finish(reply, settle(reply, shown)))

    async def answer_text(self, place: Place, asker: Asker, text: str, overrides: Overrides = NO_OVERRIDES) -> str:
        """The whole answer of `reply`, stored."""
        async with aclosing(self.reply(place, asker, text, overrides)) as pieces:
            return "".join([piece async for piece in pieces])

    async def regenerate(self, place: Place, answer_turn_id: int) -> Reply:
        """A new answer to the conversation as it stood before `answer_turn_id`; it replaces that answer."""
        async with self.db.writes.begin() as session:
            chosen, model_name, speak = await self._in_force(session, place, None, None)
            turns = await history.recent_turns(session, place.channel_id, HISTORY_FETCH, before_id=answer_turn_id)
        if not turns or turns[-1].role != "user":
            raise InvalidInputError("There is no question left to answer again here.")
        reply = await self._reply(place, chosen, model_name, turns, speak, replacing=answer_turn_id)
        reply.replaces_turn_id = answer_turn_id
        return reply

    async def resume(self, place: Place, answer_turn_id: int) -> Reply:
        """Continue an answer the length limit cut, in place: same stored turn, same messages."""
        async with self.db.writes.begin() as session:
            cut = await history.get_turn(session, answer_turn_id)
            if cut is None or cut.status != AnswerStatus.TRUNCATED:
                raise InvalidInputError("That answer can no longer be continued.")
            chosen, model_name, speak = await self._in_force(session, place, None, None)
            turns = await history.recent_turns(session, place.channel_id, HISTORY_FETCH, before_id=answer_turn_id)
            await history.update_turn(session, answer_turn_id, status=AnswerStatus.STREAMING, owner=self.owner)
        reply = await self._reply(place, chosen, model_name, [*turns, cut], speak, answer_turn_id=answer_turn_id)
        reply.prefix = cut.content
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

    async def _reply(
        self,
        place: Place,
        persona: Persona,
        model: str,
        turns: list[Turn],
        speak: bool,
        answer_turn_id: int | None = None,
        extras: Extras | None = None,
        replacing: int | None = None,
    ) -> Reply:
        backend = self.registry.backend(model)
        defaults = await backend.sampling_defaults()
        params = replace(params_for(persona, defaults, self.max_new_tokens), seed=self.seed or defaults.seed)
        added = await prepare(backend, extras) if extras is not None else Addition()
        context = await assemble(backend, persona, turns, params.max_tokens, reserved=added.tokens)
        added.apply(context.messages[-1])  # the question is the newest turn
        if answer_turn_id is None:
            answer_turn_id = await self._record_in_flight(place, persona, model)
        reply = Reply(place, persona, model, backend, context, params, answer_turn_id)
        if self.tools is not None:
            # A search leaves out what the model already sees, and the answer a Regenerate replaces.
            seen = [t.id for t in turns[context.left_out :]] + ([replacing] if replacing is not None else [])
            reply.tools = await self.tools.for_answer(place, backend, seen)
        reply.notes.extend(added.notes)
        reply.speak = speak
        return reply

    async def _record_in_flight(self, place: Place, persona: Persona, model: str) -> int:
        async with self.db.writes.begin() as session:
            return await self._add_placeholder(session, place, persona, model)

    async def _add_placeholder(self, session: AsyncSession, place: Place, persona: Persona, model: str) -> int:
        """The answer's row while it streams, owned by this process (so a restart can tell its own leftovers)."""
        placeholder = await history.add_turn(
            session,
            channel_id=place.channel_id,
            guild_id=place.guild_id,
            role="assistant",
            content="",
            model=model,
            persona=persona.name,
            status=AnswerStatus.STREAMING,
            owner=self.owner,
        )
        return placeholder.id

    async def record_messages(self, reply: Reply, ids: list[tuple[int, int]]) -> None:
        """Remember where the answer is shown (channel, message), so a restart can mark it interrupted there."""
        encoded = MESSAGE_ID_SEPARATOR.join(f"{channel}:{message}" for channel, message in ids)
        async with self.db.writes.begin() as session:
            await history.update_turn(session, reply.answer_turn_id, message_ids=encoded)

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

    async def finish(self, reply: Reply, status: AnswerStatus) -> None:
        """Write the answer's outcome, as the pipeline decided it; an answer that produced nothing leaves only the
        user's turn."""
        end = reply.state.end or StreamEnd()
        tokens, prompt = end.completion_tokens, end.prompt_tokens
        if reply.text and tokens is None:
            tokens = await self._count(reply, [reply.text])
        if reply.text and prompt is None:  # no usage from the server: the backend's own count of the context
            prompt = await self._count(reply, [m["content"] for m in reply.context.messages])
        async with self.db.writes.begin() as session:
            if not reply.text:
                await history.delete_turn(session, reply.answer_turn_id)
                return
            if reply.replaces_turn_id is not None:
                await history.delete_turn(session, reply.replaces_turn_id)
            await history.update_turn(
                session,
                reply.answer_turn_id,
                content=reply.text,
                status=status,
                token_count=tokens,
                prompt_tokens=prompt,
                tools_used=reply.tools.note() if reply.tools is not None else None,
            )
            await usage.record(
                session,
                guild_id=reply.place.guild_id,
                channel_id=reply.place.channel_id,
                user_id=reply.asker_id,
                model=reply.model,
                prompt_tokens=prompt or 0,
                completion_tokens=tokens or 0,
            )
        reply.completion_tokens = tokens or 0
        _measure(reply, prompt or 0, tokens or 0)
        self._retention.after_answer(reply.place.channel_id)

    @staticmethod
    async def _count(reply: Reply, texts: list[str]) -> int | None:
        try:
            return sum(await reply.backend.count_text(texts))
        except Exception:  # a count is nice to have; never lose the answer over it
            log.debug("Token count failed", exc_info=True)
            return None

    async def clear_history(self, place: Place) -> int:
        async with self.db.writes.begin() as session:
            return await history.clear_channel(session, place.channel_id)

    async def in_flight(self) -> list[Turn]:
        async with self.db.sessions() as session:
            return await history.in_flight(session)

    async def mark_interrupted(self, turn_id: int, shown_text: str | None) -> None:
        """An answer a crash left streaming: keep what Discord showed of it, or drop it when nothing was shown."""
        async with self.db.writes.begin() as session:
            if shown_text:
                await history.update_turn(session, turn_id, content=shown_text, status=AnswerStatus.INTERRUPTED)
            else:
                stored = await history.get_turn(session, turn_id)
                if stored is not None and stored.content:
                    await history.update_turn(session, turn_id, status=AnswerStatus.INTERRUPTED)
                else:
                    await history.delete_turn(session, turn_id)

    async def drain(self) -> None:
        """Wait for background retention work (shutdown)."""
        await self._retention.drain()


def _measure(reply: Reply, prompt_tokens: int, completion_tokens: int) -> None:
    metrics.prompt_tokens.labels(reply.model).inc(prompt_tokens)
    metrics.generated_tokens.labels(reply.model).inc(completion_tokens)
    first = reply.state.first_item_at
    if first is not None and completion_tokens > 1:
        seconds = time.monotonic() - first
        if seconds > 0:
            metrics.generation_speed.labels(reply.model).observe(completion_tokens / seconds)
