"""Rendering a streaming answer by editing Discord messages in place.

Text pieces in; paced creates and edits out. Pieces that arrive between two edits are coalesced, the final text is
always delivered in full, and an answer that was stopped or failed keeps what was written plus a clear mark.
Nothing here knows about models; the sink hides whether messages belong to an interaction or a channel.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

from bot.domain import AnswerStatus
from bot.errors import BotError
from bot.streaming.pacing import Kind, Lane
from bot.streaming.splitting import DISCORD_LIMIT, FENCE, MessageSplitter, closed, split_message

log = logging.getLogger(__name__)

# Tunables.
WRITING_MARKER = " ▌"
STOPPED_MARK = "-# ⏹️ Stopped."
GENERIC_FAILURE = "Something went wrong while answering. Please try again."
MAX_SEND_ATTEMPTS = 4
IDLE_POLL_SECONDS = 0.05  # how often a renderer looks for a changed waiting text ("Thinking…") before any text
NEWS_TIMEOUT_SECONDS = 30.0  # a renderer waiting for new text looks again after this long even if not woken


IdleWait = Callable[["asyncio.Task[None]"], Awaitable[object]]
Finishing = Callable[["Outcome"], tuple[str, Any | None]]  # a finished answer's notice and buttons
Created = Callable[[list[Any]], Awaitable[None]]  # told the message handles each time one is added


class MessageSink(Protocol):
    """Where an answer's messages go (an interaction's response and follow-ups, or a channel)."""

    async def create(self, content: str, view: Any | None) -> Any: ...

    async def edit(self, handle: Any, content: str, view: Any | None) -> None: ...


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
    content: str
    view: Any | None


class StreamRenderer:
    def __init__(
        self,
        sink: MessageSink,
        pacer: Lane,
        streaming_view: Any | None = None,
        final_view: Any | None = None,
        notice: str = "",
        idle_wait: IdleWait | None = None,
        finishing: Finishing | None = None,
        on_created: Created | None = None,
        waiting_text: Callable[[], str | None] | None = None,
    ) -> None:
        self._sink, self._pacer = sink, pacer
        self._views = (streaming_view, final_view)
        self._notice = notice  # shown under a finished answer, e.g. that older turns were left out
        self._finishing = finishing  # when set, decides the finished answer's notice and buttons
        self._on_created = on_created
        self._waiting_text = waiting_text  # shown before the first text, e.g. while a reasoning model thinks
        self._final: tuple[str, Any | None] | None = None
        self._splitter = MessageSplitter()
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

    def _desired(self) -> list[tuple[str, Any | None]]:
        finished = self._producer is not None and self._producer.done()
        bodies = self._splitter.update(self.outcome.text)
        contents = [*bodies[:-1], closed(bodies[-1]) if bodies else ""]
        if not finished:
            if not self.outcome.text:
                waiting = self._waiting_text() if self._waiting_text is not None else None
                return [(waiting, self._views[0])] if waiting else []
            contents[-1] += WRITING_MARKER
        view = self._views[0]
        if finished:
            mark, view = self._final_mark_and_view()
            if mark:
                contents[-1:] = _with_mark(bodies[-1] if bodies else "", mark)
        return [(content, view if index == 0 else None) for index, content in enumerate(contents)]

    def _final_mark_and_view(self) -> tuple[str, Any | None]:
        if self._final is None:  # decided once: a view is compared by identity with the one already sent
            self._final = self._decide_final()
        return self._final

    def _decide_final(self) -> tuple[str, Any | None]:
        notice, view = self._finishing(self.outcome) if self._finishing is not None else (self._notice, self._views[1])
        if self.outcome.status == AnswerStatus.INTERRUPTED:
            return STOPPED_MARK, view
        if self.outcome.status == AnswerStatus.FAILED:
            error = self.outcome.error
            return f"-# ⚠️ {error.user_message if isinstance(error, BotError) else GENERIC_FAILURE}", view
        return notice, view

    def _next_step(self) -> tuple[int, str, Any | None] | None:
        """The next request needed to make Discord show the current state: (message index, content, view).

        Text before buttons: when a long answer finishes, its last message's final text goes out before the
        first message's Stop button is swapped, so the reader sees the whole answer one request sooner.
        """
        buttons_only = None
        for index, (content, view) in enumerate(self._desired()):
            if index >= len(self._sent):
                return index, content or "…", view
            sent = self._sent[index]
            if sent.content != content:
                return index, content, view
            if sent.view is not view and buttons_only is None:
                buttons_only = index, content, view
        return buttons_only

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
        index, content, _view = step
        return index >= len(self._sent) or self._sent[index].content != content

    async def _send(self, step: tuple[int, str, Any | None]) -> None:
        index, content, view = step
        for attempt in range(1, MAX_SEND_ATTEMPTS + 1):
            try:
                if index >= len(self._sent):
                    handle = await self._sink.create(content, view)
                    self._sent.append(_Sent(handle, content, view))
                    if self._on_created is not None:
                        await self._on_created([s.handle for s in self._sent])
                else:
                    await self._sink.edit(self._sent[index].handle, content, view)
                    self._sent[index].content, self._sent[index].view = content, view
                return
            except RateLimitedError as limited:
                log.info("429 on an answer's message; pausing the channel %.2f s", limited.retry_after)
                self._pacer.penalize(limited.retry_after)
                if attempt == MAX_SEND_ATTEMPTS:
                    raise
                await self._pacer.acquire(self._kind, lambda: True)


def _with_mark(body: str, mark: str) -> list[str]:
    """The last message's body with the finished answer's mark under it. The splitter keeps room for the writing
    marker and a closing fence, not for a notice of any length: when body and mark together pass Discord's limit,
    the end of the body moves into one more message."""
    room = DISCORD_LIMIT - len(mark) - len("\n\n") - len(FENCE) - 1
    parts = split_message(body, max(room, DISCORD_LIMIT // 2)) if len(closed(body)) > room else [body]
    return [*parts[:-1], f"{closed(parts[-1])}\n\n{mark}".strip()]
