"""The one answer pipeline: every way of asking (slash command, mention, DM, channel chat, Regenerate, Continue, the
terminal, a voice channel) goes through `AnswerService.answer`.

Admission (checks that need no waiting, a place in the server's line) → acknowledgement, before anything is awaited
→ cooldown and quota (refused privately) → the question's files → the server slot, held until the answer has
finished rendering and speaking → conversation start (turns recorded before streaming) → optional voice → paced
rendering with the surface's controls → the outcome, decided once (`settle`) and stored after rendering → errors told
to the asker. Running answers are tracked so shutdown can let them finish or stop them.

The pipeline knows no transport: it imports nothing from Discord or the database. Surfaces bring their own buttons
and permission checks; the store reports its own trouble as `BusyError`.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import time
from collections import deque
from collections.abc import AsyncGenerator, AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from typing import Any, Literal

from bot.answers.acknowledgements import AcknowledgementsFirst
from bot.answers.limits import Cooldown, GuildGate, Ticket
from bot.answers.question import Question, RedoPath
from bot.answers.surface import Surface
from bot.domain import AnswerStatus, Extras
from bot.errors import BotError, BusyError
from bot.logs import answer_context, answering
from bot.ops import metrics
from bot.services.conversation import ConversationService, check_text
from bot.services.reply import Reply, settle
from bot.services.usage import UsageService
from bot.streaming.pacing import PacerRegistry
from bot.streaming.renderer import Outcome, StreamRenderer
from bot.voice.player import GuildPlayer
from bot.voice.speech import speak_while_streaming

log = logging.getLogger(__name__)

SHUTDOWN_GRACE_SECONDS = 20.0
STOP_GRACE_SECONDS = 5.0
SPEECH_WAIT_SECONDS = 120.0  # the slot waits this long at most for an answer's speech to end
STORED_WAIT_SECONDS = 5.0  # Regenerate/Continue pressed the instant an answer ends waits this long for its row
GENERIC = "Something went wrong on my side. The bot's operators can find the details in its log."
ReasoningDisplay = Literal["hidden", "spoiler"]
THINKING = "-# 💭 Thinking…"
REASONING_SHOWN_CHARS = 1800  # one Discord message's worth; the rest of a long reasoning is cut
TRUNCATED_NOTICE = "-# ✂️ This answer reached its length limit. **Continue** picks it up."


def left_out_notice(reply: Reply) -> str:
    lines = [f"-# ⚠️ {note}" for note in reply.notes]
    if count := reply.left_out:
        lines.append(f"-# {count} older message{'s' if count != 1 else ''} did not fit in my memory for this answer.")
    return "\n".join(lines)


class _Actions:
    """What one answer's controls can do (the surface's buttons call these)."""

    def __init__(self, service: AnswerService, question: Question, reply: Reply) -> None:
        self._service, self._question, self._reply = service, question, reply
        self.renderer: StreamRenderer | None = None
        self.stored = asyncio.Event()

    def stop(self) -> None:
        if self.renderer is not None:
            self.renderer.stop()

    def shown(self) -> list[Any]:
        return list(self.renderer.outcome.messages) if self.renderer is not None else []

    async def redo(self, path: RedoPath, surface: Surface) -> None:
        with contextlib.suppress(TimeoutError):  # Continue needs the cut answer stored as truncated first
            async with asyncio.timeout(STORED_WAIT_SECONDS):
                await self.stored.wait()
        await self._service.answer(self._question.again(path, self._reply.answer_turn_id), surface)


class AnswerService:
    def __init__(
        self,
        conversations: ConversationService,
        pacers: PacerRegistry,
        cooldowns: Cooldown,
        gate: GuildGate,
        usage: UsageService | None = None,
        max_prompt_chars: int | None = None,
        reasoning_display: ReasoningDisplay = "hidden",
    ) -> None:
        self.conversations, self.pacers, self.cooldowns, self.gate = conversations, pacers, cooldowns, gate
        self.usage, self.max_prompt_chars, self.reasoning_display = usage, max_prompt_chars, reasoning_display
        self.accepting = True
        self._running: dict[StreamRenderer, asyncio.Task[Any]] = {}
        self.running_turns: set[int] = set()  # stored answers streaming in this process right now
        self._answer_ids = itertools.count(1)
        self._generated: deque[tuple[float, int]] = deque(maxlen=10_000)  # (when, tokens) of finished answers
        self._acks = AcknowledgementsFirst()

    async def answer(self, question: Question, surface: Surface) -> Outcome | None:
        """Answer one question on its surface. Never raises: every failure is told to the asker and logged."""
        answer_id = next(self._answer_ids)
        place = question.place
        with answering(answer_id=answer_id, guild_id=place.guild_id, channel_id=place.channel_id, path=question.path):
            return await self._answer(question, surface, answer_id)

    async def _answer(self, question: Question, surface: Surface, answer_id: int) -> Outcome | None:
        try:
            ticket = self._admit(question)  # no await before the place in line is taken: a burst is counted as it comes
        except BotError as exc:
            _refused(exc)
            await surface.refuse(exc.user_message)
            return None
        try:
            # Acknowledge before anything that waits for the store, the network or a lock: Discord forgets an
            # interaction not acknowledged within 3 s, and under a burst those waits add up.
            async with self._acks.acknowledging():
                await surface.acknowledge(queued=ticket.waits)
            await self._acks.settled()
            await self.cooldowns.check(question.asker.id)
            if self.usage is not None and question.path != "continue":  # before anything is generated
                await self.usage.check(question.place.guild_id, question.asker.id)
            if ticket.waits:
                await surface.waiting()
            extras = await question.gather() if question.gather is not None else None
            async with self._slot(ticket, question.received_at):
                reply = await self._start(question, extras)
                (answer_context.get() or {})["model"] = reply.model
                return await self._deliver(question, reply, surface, answer_id)
        except BotError as exc:
            _refused(exc)
            await surface.refuse(exc.user_message)
        except Exception:
            where = question.place.channel_id
            log.exception("Answer failed before it was shown (%s in channel %s)", question.path, where)
            await surface.refuse(GENERIC)
        finally:
            self.gate.release(ticket)
        return None

    @asynccontextmanager
    async def _slot(self, ticket: Ticket, received_at: float) -> AsyncIterator[None]:
        """Wait for the server slot (counted as queued until reached), then hold it (counted as running)."""
        metrics.answers_queued.inc()
        reached = False
        try:
            async with self.gate.slot(ticket):
                reached = True
                metrics.answers_queued.dec()
                metrics.queue_wait.observe(time.monotonic() - received_at)
                with metrics.answers_running.track_inprogress():
                    yield
        finally:
            if not reached:  # left the line without reaching the slot
                metrics.answers_queued.dec()

    def _admit(self, question: Question) -> Ticket:
        """Checks that need no waiting, then a place in the server's line. Raises BotError saying what to do."""
        if question.redo is None:
            check_text(question.text, self.max_prompt_chars)
        if not self.accepting:
            raise BusyError("I'm restarting; please ask again in a moment.")
        return self.gate.admit(question.place.guild_id)

    async def _start(self, question: Question, extras: Extras | None) -> Reply:
        conversations, place = self.conversations, question.place
        if question.redo is None:
            return await conversations.start(place, question.asker, question.text, question.overrides, extras)
        if question.path == "continue":
            reply = await conversations.resume(place, question.redo.answer_turn_id)
        else:
            reply = await conversations.regenerate(place, question.redo.answer_turn_id)
        reply.asker_id = question.asker.id
        return reply

    async def _deliver(self, question: Question, reply: Reply, surface: Surface, answer_id: int) -> Outcome:
        player, voice_notice = None, None
        if question.speak or reply.speak:
            try:
                player = await surface.player()
            except BotError as exc:
                voice_notice = f"{exc.user_message} (Answered in text only.)"
        outcome = await self._render(question, reply, surface, player, answer_id)
        if player is not None:
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(SPEECH_WAIT_SECONDS):
                    await player.wait_spoken(answer_id)
            if answer_id in player.failures:
                voice_notice = f"I couldn't speak this answer: {player.failures.pop(answer_id)}"
        await surface.finished(outcome)
        if voice_notice:  # only now: a follow-up sent before the answer would take the answer's place
            await surface.note(voice_notice)
        return outcome

    async def _render(
        self, question: Question, reply: Reply, surface: Surface, player: GuildPlayer | None, answer_id: int
    ) -> Outcome:
        """Stream the reply into the surface with its controls; then decide the outcome once and store it."""
        actions = _Actions(self, question, reply)
        controls = surface.controls(question, actions)

        def finishing(outcome: Outcome) -> tuple[str, Any]:
            truncated = settle(reply, outcome.status) == AnswerStatus.TRUNCATED
            notice = "\n".join(n for n in (TRUNCATED_NOTICE if truncated else "", left_out_notice(reply)) if n)
            return notice, controls.finished(truncated)

        async def created(handles: list[Any]) -> None:
            if len(handles) == 1:
                metrics.first_visible.labels(question.path).observe(time.monotonic() - question.received_at)
            ids = [(h.channel.id, h.id) for h in handles if hasattr(h, "channel") and hasattr(h, "id")]
            if not ids:
                return
            try:
                await self.conversations.record_messages(reply, ids)
            except BusyError:  # only crash recovery needs them: the answer goes on
                log.warning("Answer %d goes on without its message ids stored (the store is busy)", answer_id)

        renderer = StreamRenderer(
            surface.sink(),
            surface.lane(self.pacers, reply.place.channel_id),
            controls.streaming,
            finishing=finishing,
            on_created=created,
            waiting_text=lambda: reply.tool_status or (THINKING if reply.thinking else None),
        )
        actions.renderer = renderer
        outcome = renderer.outcome
        with self._tracked(renderer, reply):
            try:
                outcome = await renderer.run(_prefixed(reply.prefix, self._pieces(question, reply, player, answer_id)))
            finally:
                controls.retire()
                outcome.status = settle(reply, outcome.status)
                await asyncio.shield(self._store(question, reply, outcome))
                actions.stored.set()
        return outcome

    def _pieces(
        self, question: Question, reply: Reply, player: GuildPlayer | None, answer_id: int
    ) -> AsyncIterator[str]:
        pieces: AsyncIterator[str] = reply.stream()
        if player is not None:
            pieces = speak_while_streaming(pieces, player, answer_id, reply.persona.voice, dict(question.names))
        if self.reasoning_display == "spoiler":
            pieces = _with_reasoning(pieces, reply)  # after speech: the reasoning is shown, never spoken
        return pieces

    @contextmanager
    def _tracked(self, renderer: StreamRenderer, reply: Reply) -> Iterator[None]:
        task = asyncio.current_task()
        assert task is not None
        self._running[renderer] = task
        self.running_turns.add(reply.answer_turn_id)
        try:
            yield
        finally:
            self._running.pop(renderer, None)
            self.running_turns.discard(reply.answer_turn_id)

    async def _store(self, question: Question, reply: Reply, outcome: Outcome) -> None:
        """The outcome as decided: stored, counted and logged alike, whatever the path that ended the answer."""
        status = outcome.status
        try:
            await self.conversations.finish(reply, status)
        except Exception:
            log.exception("Could not store the %s answer %d", status, reply.answer_turn_id)
        metrics.answers.labels(question.path, status, reply.model).inc()
        self._generated.append((time.monotonic(), reply.completion_tokens))
        if reply.state.first_item_at is not None:
            metrics.first_token.labels(reply.model).observe(reply.state.first_item_at - question.received_at)
        if status == AnswerStatus.FAILED and not isinstance(outcome.error, BotError):
            log.error("Answer failed in channel %s: %r", reply.place.channel_id, outcome.error)
        else:
            log.info("Answer %s in channel %s (%d characters)", status, reply.place.channel_id, len(reply.text))

    def running(self) -> int:
        return len(self._running)

    def tokens_per_second(self, window: float = 60.0) -> float:
        """Tokens of the answers finished in the last `window` seconds, per second."""
        since = time.monotonic() - window
        return sum(tokens for at, tokens in self._generated if at >= since) / window

    async def shutdown(self, grace: float = SHUTDOWN_GRACE_SECONDS) -> None:
        """Take no new work; let running answers finish for `grace` seconds, then stop them (stored as interrupted).
        Calling it again (the bot, then the composition root) finds nothing left to do."""
        self.accepting = False
        if not self._running:
            return
        log.info("Waiting up to %.0f s for %d running answers", grace, len(self._running))
        await asyncio.wait(set(self._running.values()), timeout=grace)
        for renderer in list(self._running):
            renderer.stop()
        if self._running:
            await asyncio.wait(set(self._running.values()), timeout=STOP_GRACE_SECONDS)


async def _prefixed(prefix: str, pieces: AsyncIterator[str]) -> AsyncGenerator[str, None]:
    if prefix:
        yield prefix
    async for piece in pieces:
        yield piece


async def _with_reasoning(pieces: AsyncIterator[str], reply: Reply) -> AsyncGenerator[str, None]:
    """After the answer, the model's reasoning in a spoiler: hidden until the reader clicks it."""
    async for piece in pieces:
        yield piece
    reasoning = reply.reasoning.strip().replace("||", "|\u200b|")
    if reasoning:  # reached only when the answer ended well (complete or cut by its length limit)
        if len(reasoning) > REASONING_SHOWN_CHARS:
            reasoning = reasoning[:REASONING_SHOWN_CHARS].rstrip() + " …"
        yield f"\n\n-# 💭 Reasoning (click to show)\n||{reasoning}||"


def _refused(error: BotError) -> None:
    metrics.refusals.labels(type(error).__name__.removesuffix("Error").lower() or "other").inc()
