"""Rendering a streaming answer by editing Discord messages in place.

Text pieces in; paced creates and edits out. Pieces that arrive between two edits are coalesced, the final text is
always delivered in full, and an answer that was stopped or failed keeps what was written plus a clear mark.
Nothing here knows about models; the sink hides whether messages belong to an interaction or a channel, and how a
page (text, notice, controls) looks there. Controls ride on the last message: the one being written shows Stop;
the edit that finishes a message because the answer moved on also takes its controls away; the final edit brings
Regenerate/Continue. No request is ever spent on controls alone.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from bot.domain import AnswerStatus
from bot.errors import BotError
from bot.streaming.pacing import Kind, Lane
from bot.streaming.page import MessageSink, Page, notice_room
from bot.streaming.splitting import MARKER_ROOM, MessageSplitter, closed

__all__ = ["MessageSink", "Outcome", "Page", "RateLimitedError", "StreamRenderer"]

log = logging.getLogger(__name__)

# Tunables.
WRITING_MARKER = " ▌"
STOPPED_MARK = "-# ⏹️ Stopped."
GENERIC_FAILURE = "Something went wrong while answering. Please try again."
MAX_SEND_ATTEMPTS = 4
IDLE_POLL_SECONDS = 0.05  # how often a renderer looks for a changed waiting text ("Thinking…") before any text
NEWS_TIMEOUT_SECONDS = 30.0  # a renderer waiting for new text looks again after this long even if not woken


IdleWait = Callable[["asyncio.Task[None]"], Awaitable[object]]
Finishing = Callable[["Outcome"], tuple[str, Any | None]]  # a finished answer's notice and controls
Created = Callable[[list[Any]], Awaitable[None]]  # told the message handles each time one is added


def create_kind(sink: MessageSink) -> Kind:
    """Which of Discord's buckets the sink's next `create` uses (an interaction's first one edits its response)."""
    ask = getattr(sink, "create_kind", None)
    return ask() if ask is not None else Kind.CREATE


class RateLimitedError(Exception):
    """A sink raises this for an HTTP 429 so the pacer can back off for `retry_after` seconds."""

    def __init__(self, retry_after: float) -> None:
        super().__init__(f"rate limited for {retry_after:.2f} s")
        self.retry_after = retry_after


@dataclass
class Outcome:
    status: AnswerStatus = AnswerStatus.STREAMING  # then COMPLETE, INTERRUPTED (stopped) or FAILED
    text: str = ""
    error: BaseException | None = None
    messages: list[Any] = field(default_factory=list)
    speech_error: str | None = None  # set by the voice layer when the answer could not be spoken


@dataclass
class _Sent:
    handle: Any
    page: Page


class StreamRenderer:
    def __init__(
        self,
        sink: MessageSink,
        pacer: Lane,
        streaming_controls: Any | None = None,
        final_controls: Any | None = None,
        notice: str = "",
        idle_wait: IdleWait | None = None,
        finishing: Finishing | None = None,
        on_created: Created | None = None,
        waiting_text: Callable[[], str | None] | None = None,
    ) -> None:
        self._sink, self._pacer = sink, pacer
        self._controls = (streaming_controls, final_controls)
        self._notice = notice  # shown under a finished answer, e.g. that older turns were left out
        self._finishing = finishing  # when set, decides the finished answer's notice and controls
        self._on_created = on_created
        self._waiting_text = waiting_text  # shown before the first text, e.g. while a reasoning model thinks
        self._final: tuple[str, Any | None] | None = None
        self._splitter = MessageSplitter(getattr(sink, "message_limit", 2000) - MARKER_ROOM)
        self._sent: list[_Sent] = []
        self._idle_wait = idle_wait or self._wait_for_news
        self._producer: asyncio.Task[None] | None = None
        self._waker: asyncio.Future[None] | None = None
        self.outcome = Outcome()

    def stop(self) -> None:
        """Stop generation; what was written stays, marked as stopped."""
        if self._producer is not None and not self._producer.done():
            self._producer.cancel()

    async def run(self, pieces: AsyncIterator[str]) -> Outcome:
        self._producer = asyncio.create_task(self._produce(pieces))
        try:
            with self._pacer.streaming():
                return await self._render()
        except asyncio.CancelledError:
            self._producer.cancel()
            raise
        finally:
            self.outcome.messages = [s.handle for s in self._sent]

    async def _render(self) -> Outcome:
        assert self._producer is not None
        try:
            while True:
                if self._next_step() is None:
                    if self._producer.done():
                        return self.outcome
                    await self._idle_wait(self._producer)
                    continue
                await self._pacer.acquire(self._kind, self._urgent)
                step = self._next_step()
                if step is not None:
                    await self._send(step)
        except Exception as exc:  # Discord refused an edit for good (message deleted, missing access)
            log.warning("Giving up on rendering an answer: %r", exc)
            self._producer.cancel()
            with contextlib.suppress(BaseException):
                await self._producer
            self.outcome.status, self.outcome.error = AnswerStatus.FAILED, exc
            return self.outcome

    async def _wait_for_news(self, producer: asyncio.Task[None]) -> None:
        """Wait until the producer adds text or ends. Only tasks are waited on, never an Event: test harnesses that
        simulate Discord's clock (simcord) see a task waiting on a paused model and a far timer as settled, where a
        renderer polling every 50 ms kept them busy until their deadline and now and then failed them there."""
        if self._waiting_text is not None and not self.outcome.text:
            # Before the first text the waiting text ("Thinking…") can change with no text arriving: look often.
            await asyncio.wait({producer}, timeout=IDLE_POLL_SECONDS)
            return
        waker = asyncio.ensure_future(asyncio.sleep(NEWS_TIMEOUT_SECONDS))
        self._waker = waker
        try:
            await asyncio.wait({producer, waker}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            self._waker = None
            waker.cancel()

    async def _produce(self, pieces: AsyncIterator[str]) -> None:
        try:
            async for piece in pieces:
                self.outcome.text += piece
                if self._waker is not None:
                    self._waker.cancel()  # the renderer was waiting for this
            self.outcome.status = AnswerStatus.COMPLETE
        except asyncio.CancelledError:
            self.outcome.status = AnswerStatus.INTERRUPTED
        except BotError as exc:
            self.outcome.status, self.outcome.error = AnswerStatus.FAILED, exc
            partial = getattr(exc, "partial_text", None)
            if partial is not None and len(partial) > len(self.outcome.text):
                self.outcome.text = partial
        except Exception as exc:
            log.exception("Generation failed")
            self.outcome.status, self.outcome.error = AnswerStatus.FAILED, exc

    def _desired(self) -> list[Page]:
        """The pages that show the current state; controls only on the last one."""
        finished = self._producer is not None and self._producer.done()
        if not finished and not self.outcome.text:
            waiting = self._waiting_text() if self._waiting_text is not None else None
            return [Page(waiting, "", self._controls[0])] if waiting else []
        notice, controls = self._final_notice_and_controls() if finished else ("", self._controls[0])
        bodies = self._splitter.update(self.outcome.text, notice_room(notice))
        last = closed(bodies[-1]) if bodies else ""
        pages = [Page(body) for body in bodies[:-1]]
        return [*pages, Page(last if finished else last + WRITING_MARKER, notice, controls)]

    def _final_notice_and_controls(self) -> tuple[str, Any | None]:
        if self._final is None:  # decided once: controls are compared by identity with the ones already sent
            self._final = self._decide_final()
        return self._final

    def _decide_final(self) -> tuple[str, Any | None]:
        if self._finishing is not None:
            notice, controls = self._finishing(self.outcome)
        else:
            notice, controls = self._notice, self._controls[1]
        if self.outcome.status == AnswerStatus.INTERRUPTED:
            return STOPPED_MARK, controls
        if self.outcome.status == AnswerStatus.FAILED:
            error = self.outcome.error
            return f"-# ⚠️ {error.user_message if isinstance(error, BotError) else GENERIC_FAILURE}", controls
        return notice, controls

    def _next_step(self) -> tuple[int, Page] | None:
        """The next request needed to make Discord show the current state: (message index, page).

        A page differs from what was sent in its text whenever its controls differ (the marker goes when a message
        is finished), so every request carries text; the earliest message that differs goes first.
        """
        for index, page in enumerate(self._desired()):
            if index >= len(self._sent):
                return index, page if page.body else Page("…", page.notice, page.controls)
            if self._sent[index].page != page:
                return index, page
        return None

    def _kind(self) -> Kind:
        step = self._next_step()
        return create_kind(self._sink) if step is None or step[0] >= len(self._sent) else Kind.EDIT

    def _urgent(self) -> bool:
        """An answer's first text, and a finished answer's final text, jump the line; progress edits wait.

        The first text jumps only a budget of its own: in a budget shared with edits, a burst of first messages
        would leave the answers already showing without an edit for a whole window.
        """
        if not self._sent:
            return self._pacer.has_own_budget(self._kind())
        step = self._next_step()
        if step is None or not (self._producer is not None and self._producer.done()):
            return False
        index, page = step
        return index >= len(self._sent) or self._sent[index].page.text() != page.text()

    async def _send(self, step: tuple[int, Page]) -> None:
        index, page = step
        for attempt in range(1, MAX_SEND_ATTEMPTS + 1):
            try:
                if index >= len(self._sent):
                    handle = await self._sink.create(page)
                    self._sent.append(_Sent(handle, page))
                    if self._on_created is not None:
                        await self._on_created([s.handle for s in self._sent])
                else:
                    await self._sink.edit(self._sent[index].handle, page)
                    self._sent[index].page = page
                return
            except RateLimitedError as limited:
                log.info("429 on an answer's message; pausing the channel %.2f s", limited.retry_after)
                self._pacer.penalize(limited.retry_after)
                if attempt == MAX_SEND_ATTEMPTS:
                    raise
                await self._pacer.acquire(self._kind, lambda: True)
