"""The one answer pipeline: every way of asking (slash command, mention, DM, channel chat, Regenerate, Continue, the
terminal) goes through `AnswerService.answer`.

Admission (checks, cooldown, bounded per-server queue) → acknowledgement → the server slot, held until the answer
has finished rendering and speaking → conversation start (turns recorded before streaming) → optional voice →
paced rendering with Stop / Regenerate / Continue → the stored outcome → errors told to the asker. Running answers
are tracked so shutdown can let them finish or stop them.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import time
from collections import deque
from collections.abc import AsyncGenerator, AsyncIterator
from typing import Any, Literal

import discord
from sqlalchemy.exc import OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout

from bot.answers.limits import Cooldowns, GuildGate, SharedCooldowns, Ticket
from bot.answers.request import AnswerRequest, Path, Redo, Surface
from bot.discord_ui.controls import FinishedControls, StopControls
from bot.discord_ui.permissions import is_server_admin
from bot.discord_ui.surfaces import ButtonSurface
from bot.domain import AnswerStatus
from bot.errors import BotError, BusyError
from bot.logs import answer_context, answering
from bot.ops import metrics
from bot.services.conversation import ConversationService, check_text
from bot.services.reply import Reply
from bot.services.usage import UsageService
from bot.streaming.pacing import PacerRegistry
from bot.streaming.renderer import Outcome, StreamRenderer
from bot.voice.manager import VoiceManager
from bot.voice.player import GuildPlayer
from bot.voice.speech import speak_while_streaming

log = logging.getLogger(__name__)

SHUTDOWN_GRACE_SECONDS = 20.0
STOP_GRACE_SECONDS = 5.0
SPEECH_WAIT_SECONDS = 120.0  # the slot waits this long at most for an answer's speech to end
GENERIC = "Something went wrong on my side. The bot's operators can find the details in its log."
ReasoningDisplay = Literal["hidden", "spoiler"]
THINKING = "-# 💭 Thinking…"
REASONING_SHOWN_CHARS = 1800  # one Discord message's worth; the rest of a long reasoning is cut
STORE_BUSY = "I'm too busy to take your question right now. Please ask again in a minute."
TRUNCATED_NOTICE = "-# ✂️ This answer reached its length limit. **Continue** picks it up."


def left_out_notice(reply: Reply) -> str:
    lines = [f"-# ⚠️ {note}" for note in reply.notes]
    if count := reply.left_out:
        lines.append(f"-# {count} older message{'s' if count != 1 else ''} did not fit in my memory for this answer.")
    return "\n".join(lines)


async def _prefixed(prefix: str, pieces: AsyncIterator[str]) -> AsyncGenerator[str, None]:
    if prefix:
        yield prefix
    async for piece in pieces:
        yield piece


class AnswerService:
    def __init__(
        self,
        conversations: ConversationService,
        pacers: PacerRegistry,
        cooldowns: Cooldowns | SharedCooldowns,
        gate: GuildGate,
        admin_ids: list[int],
        max_prompt_chars: int | None = None,
        voice: VoiceManager | None = None,
        reasoning_display: ReasoningDisplay = "hidden",
        usage: UsageService | None = None,
    ) -> None:
        self.conversations, self.pacers, self.cooldowns, self.gate = conversations, pacers, cooldowns, gate
        self.voice = voice
        self.reasoning_display = reasoning_display
        self.usage = usage
        self.admin_ids, self.max_prompt_chars = admin_ids, max_prompt_chars
        self.accepting = True
        self._running: dict[StreamRenderer, asyncio.Task[Any]] = {}
        self.running_turns: set[int] = set()  # stored answers streaming in this process right now
        self._answer_ids = itertools.count(1)
        self._generated: deque[tuple[float, int]] = deque(maxlen=10_000)  # (when, tokens) of finished answers

    async def answer(self, request: AnswerRequest, surface: Surface) -> Outcome | None:
        """Answer one request on its surface. Never raises: every failure is told to the asker and logged."""
        answer_id = next(self._answer_ids)
        place = request.place
        with answering(answer_id=answer_id, guild_id=place.guild_id, channel_id=place.channel_id, path=request.path):
            return await self._answer(request, surface, answer_id)

    async def _answer(self, request: AnswerRequest, surface: Surface, answer_id: int) -> Outcome | None:
        try:
            ticket = self._admit(request)  # no await before the place in line is taken: a burst is counted as it comes
        except BotError as exc:
            _refused(exc)
            await surface.refuse(exc.user_message)
            return None
        try:
            await self.cooldowns.check(request.asker_id)
            if self.usage is not None and request.path != "continue":  # before anything is shown or generated
                await self.usage.check(request.place.guild_id, request.asker_id)
            await surface.acknowledge(queued=ticket.waits)
            if request.gather is not None and request.extras is None:
                request.extras = await request.gather()
            metrics.answers_queued.inc()
            reached = False
            try:
                async with self.gate.slot(ticket):
                    reached = True
                    metrics.answers_queued.dec()
                    metrics.queue_wait.observe(time.monotonic() - request.received_at)
                    with metrics.answers_running.track_inprogress():
                        reply = await self._start(request)
                        (answer_context.get() or {})["model"] = reply.model
                        if request.redo is not None:
                            reply.asker_id = request.asker_id
                        return await self._deliver(request, reply, surface, answer_id)
            finally:
                if not reached:  # left the line without reaching the slot (the slot gives the ticket back itself)
                    metrics.answers_queued.dec()
        except BotError as exc:
            _refused(exc)
            await surface.refuse(exc.user_message)
        except (OperationalError, PoolTimeout):  # the store could not take the question; its transaction rolled back
            log.exception("The database refused a question (%s in channel %s)", request.path, request.place.channel_id)
            await surface.refuse(STORE_BUSY)
        except Exception:
            log.exception(
                "Answer failed before it was shown (%s in channel %s)", request.path, request.place.channel_id
            )
            await surface.refuse(GENERIC)
        finally:
            self.gate.release(ticket)
        return None

    def _admit(self, request: AnswerRequest) -> Ticket:
        """Checks that need no waiting, then a place in the server's line. Raises BotError saying what to do."""
        if request.redo is None:
            check_text(request.text, self.max_prompt_chars)
        if not self.accepting:
            raise BusyError("I'm restarting; please ask again in a moment.")
        return self.gate.admit(request.place.guild_id)

    async def _start(self, request: AnswerRequest) -> Reply:
        conversations, place = self.conversations, request.place
        if request.redo is None:
            return await conversations.start(
                place,
                request.text,
                request.asker_name,
                request.asker_id,
                request.persona,
                request.model,
                request.system,
                request.extras,
            )
        if request.path == "continue":
            return await conversations.resume(place, request.redo.answer_turn_id)
        return await conversations.regenerate(place, request.redo.answer_turn_id)

    async def _deliver(self, request: AnswerRequest, reply: Reply, surface: Surface, answer_id: int) -> Outcome:
        player, voice_notice = None, None
        if request.speak or reply.speak:
            try:
                player = await surface.player()
            except BotError as exc:
                voice_notice = f"{exc.user_message} (Answered in text only.)"
        outcome = await self._render(request, reply, surface, player, answer_id)
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
        self, request: AnswerRequest, reply: Reply, surface: Surface, player: GuildPlayer | None, answer_id: int
    ) -> Outcome:
        """Stream the reply into the surface, with Stop while it streams and Regenerate (and Continue) after."""
        pacer = surface.lane(self.pacers, reply.place.channel_id)
        sink = surface.sink()
        allowed = self.allowed(request.asker_id)
        holder: dict[str, Any] = {}

        def finishing(outcome: Outcome) -> tuple[str, Any]:
            holder["outcome"] = outcome
            truncated = reply.status == AnswerStatus.TRUNCATED
            controls = FinishedControls(
                allowed,
                lambda i: self._redo(i, "regenerate", request, reply, holder),
                (lambda i: self._redo(i, "continue", request, reply, holder)) if truncated else None,
            )
            notice = "\n".join(n for n in (TRUNCATED_NOTICE if truncated else "", left_out_notice(reply)) if n)
            return notice, controls

        async def created(handles: list[Any]) -> None:
            if len(handles) == 1:
                metrics.first_visible.labels(request.path).observe(time.monotonic() - request.received_at)
            ids = [(h.channel.id, h.id) for h in handles if hasattr(h, "channel") and hasattr(h, "id")]
            if ids:
                await self.conversations.record_messages(reply, ids)

        stop = StopControls(allowed, lambda: holder["renderer"].stop())
        renderer = StreamRenderer(
            sink,
            pacer,
            stop,
            finishing=finishing,
            on_created=created,
            waiting_text=lambda: THINKING if reply.thinking else None,
        )
        holder["renderer"], holder["sink"] = renderer, sink
        pieces: AsyncIterator[str] = reply.stream()
        if player is not None:
            pieces = speak_while_streaming(pieces, player, answer_id, reply.persona.voice, request.names)
        if self.reasoning_display == "spoiler":
            pieces = _with_reasoning(pieces, reply)  # after speech: the reasoning is shown, never spoken
        task = asyncio.current_task()
        assert task is not None
        self._running[renderer] = task
        self.running_turns.add(reply.answer_turn_id)
        try:
            outcome = await renderer.run(_prefixed(reply.prefix, pieces))
        finally:
            self._running.pop(renderer, None)
            self.running_turns.discard(reply.answer_turn_id)
            stop.stop()
        holder["outcome"] = outcome
        metrics.answers.labels(request.path, reply.status, reply.model).inc()
        self._generated.append((time.monotonic(), reply.completion_tokens))
        if reply.first_token_at is not None:
            metrics.first_token.labels(reply.model).observe(reply.first_token_at - request.received_at)
        if outcome.status == AnswerStatus.FAILED and not isinstance(outcome.error, BotError):
            log.error("Answer failed in channel %s: %r", reply.place.channel_id, outcome.error)
        return outcome

    async def _redo(
        self, interaction: discord.Interaction, path: Path, request: AnswerRequest, reply: Reply, holder: dict[str, Any]
    ) -> None:
        outcome: Outcome = holder["outcome"]
        redo = Redo(reply.answer_turn_id, outcome.messages, holder["sink"])
        again = AnswerRequest(
            place=reply.place,
            asker_id=request.asker_id,
            asker_name=request.asker_name,
            path=path,
            speak=request.speak,
            redo=redo,
            names=request.names,
        )
        await self.answer(again, ButtonSurface(interaction, redo, self.voice))

    def running(self) -> int:
        return len(self._running)

    def tokens_per_second(self, window: float = 60.0) -> float:
        """Tokens of the answers finished in the last `window` seconds, per second."""
        since = time.monotonic() - window
        return sum(tokens for at, tokens in self._generated if at >= since) / window

    def allowed(self, asker_id: int) -> Any:
        return lambda user: user.id == asker_id or is_server_admin(user, self.admin_ids)

    async def shutdown(self, grace: float = SHUTDOWN_GRACE_SECONDS) -> None:
        """Take no new work; let running answers finish for `grace` seconds, then stop them (stored as interrupted)."""
        self.accepting = False
        if not self._running:
            return
        log.info("Waiting up to %.0f s for %d running answers", grace, len(self._running))
        await asyncio.wait(set(self._running.values()), timeout=grace)
        for renderer in list(self._running):
            renderer.stop()
        if self._running:
            await asyncio.wait(set(self._running.values()), timeout=STOP_GRACE_SECONDS)


async def _with_reasoning(pieces: AsyncIterator[str], reply: Reply) -> AsyncGenerator[str, None]:
    """After the answer, the model's reasoning in a spoiler: hidden until the reader clicks it."""
    async for piece in pieces:
        yield piece
    reasoning = reply.reasoning.strip().replace("||", "|\u200b|")
    if reasoning and reply.status in (AnswerStatus.COMPLETE, AnswerStatus.TRUNCATED):
        if len(reasoning) > REASONING_SHOWN_CHARS:
            reasoning = reasoning[:REASONING_SHOWN_CHARS].rstrip() + " …"
        yield f"\n\n-# 💭 Reasoning (click to show)\n||{reasoning}||"


def _refused(error: BotError) -> None:
    metrics.refusals.labels(type(error).__name__.removesuffix("Error").lower() or "other").inc()
