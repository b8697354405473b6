"""One player per guild: utterances play in order, never overlap and are never dropped.

Synthesis runs ahead of playback (each utterance starts synthesising as soon as it is queued), playback happens in
discord.py's audio thread, and its `after` callback comes back to the event loop with `call_soon_threadsafe`.
The player leaves the voice channel after an idle period and cleans up when the connection goes away.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from dataclasses import dataclass, field
from typing import Any, Protocol

from bot.domain import VoiceSettings
from bot.errors import BotError
from bot.ops import metrics
from bot.voice.audio import PcmAudio, PcmSource
from bot.voice.engines import SpeechEngine

log = logging.getLogger(__name__)


class VoiceConnection(Protocol):
    """The part of discord.VoiceClient the player uses (a fake stands in for it in tests)."""

    def is_connected(self) -> bool: ...

    def is_playing(self) -> bool: ...

    def play(self, source: Any, *, after: Any = None) -> None: ...

    def stop(self) -> None: ...

    async def disconnect(self, *, force: bool = False) -> None: ...


@dataclass
class Utterance:
    answer_id: int
    text: str
    audio: asyncio.Task[PcmAudio]
    queued_at: float = field(default_factory=time.monotonic)


class GuildPlayer:
    def __init__(self, connection: VoiceConnection, engine: SpeechEngine, idle_seconds: float = 300.0) -> None:
        self.connection, self.engine, self.idle_seconds = connection, engine, idle_seconds
        self._queue: asyncio.Queue[Utterance] = asyncio.Queue()
        self._current: Utterance | None = None  # playing now
        self._taken: Utterance | None = None  # out of the queue: being synthesised or played
        self._stopped_answers: set[int] = set()
        self._runner = asyncio.create_task(self._run())
        self.played: list[str] = []  # what was spoken, in order (for logs and tests)
        self.failures: dict[int, str] = {}  # answer id -> why its speech failed (for the user)
        self.closed = asyncio.Event()
        self._changed = asyncio.Event()  # set whenever an utterance leaves the queue or finishes
        self._heard: set[int] = set()  # answers whose first audio has played (for time to first audio)
        self.listening = False  # while the bot listens here, being idle is no reason to leave

    def say(self, answer_id: int, text: str, voice: VoiceSettings | None = None) -> None:
        """Queue one utterance; its synthesis starts now, in parallel with what is playing."""
        if not text.strip() or self.closed.is_set() or answer_id in self._stopped_answers:
            return
        audio = asyncio.create_task(self.engine.synthesize(text, voice))
        self._queue.put_nowait(Utterance(answer_id, text, audio))

    def stop_answer(self, answer_id: int) -> None:
        """Stop an answer's speech: drop what is queued for it and cut it off if it is playing."""
        self._stopped_answers.add(answer_id)
        if self._current is not None and self._current.answer_id == answer_id:
            self.connection.stop()

    def speaking(self) -> bool:
        """Something is being spoken or waits to be."""
        return self._taken is not None or not self._queue.empty()

    def hush(self) -> None:
        """Barge-in: stop every answer being spoken or queued now (their text goes on; later answers speak)."""
        for utterance in [self._taken, *self._queue._queue]:  # type: ignore[attr-defined]
            if utterance is not None:
                self.stop_answer(utterance.answer_id)

    async def wait_spoken(self, answer_id: int) -> None:
        """Return once nothing of this answer is queued or playing any more (bound it with asyncio.timeout)."""
        while not self.closed.is_set() and self._speaking(answer_id):
            self._changed.clear()
            await self._changed.wait()

    def _speaking(self, answer_id: int) -> bool:
        if self._taken is not None and self._taken.answer_id == answer_id:
            return True
        return any(u.answer_id == answer_id for u in self._queue._queue)  # type: ignore[attr-defined]

    async def _run(self) -> None:
        try:
            while True:
                try:
                    utterance = await asyncio.wait_for(self._queue.get(), timeout=self.idle_seconds)
                except TimeoutError:
                    if self.listening:
                        continue
                    log.info("Leaving voice after %.0f s idle", self.idle_seconds)
                    return
                self._taken = utterance
                try:
                    if not await self._take(utterance):
                        return
                finally:
                    self._taken = None
                    self._changed.set()
        finally:
            await self._close()

    async def _take(self, utterance: Utterance) -> bool:
        """Synthesise (already under way) and play one utterance; False when the connection is gone."""
        if utterance.answer_id in self._stopped_answers:
            utterance.audio.cancel()
            return True
        try:
            audio = await utterance.audio
        except Exception as exc:
            log.warning("Could not synthesise %r: %r", utterance.text[:40], exc)
            reason = exc.user_message if isinstance(exc, BotError) else "Speech synthesis failed."
            self.failures.setdefault(utterance.answer_id, reason)
            return True
        if not self.connection.is_connected():
            return False
        await self._play(utterance, audio)
        return True

    async def _play(self, utterance: Utterance, audio: PcmAudio) -> None:
        loop = asyncio.get_running_loop()
        finished: asyncio.Future[Exception | None] = loop.create_future()

        def settle(error: Exception | None) -> None:
            if not finished.done():
                finished.set_result(error)

        def after(error: Exception | None) -> None:  # runs in discord.py's audio thread
            loop.call_soon_threadsafe(settle, error)

        self._current = utterance
        self.connection.play(PcmSource(audio), after=after)
        metrics.voice_utterances.inc()
        if utterance.answer_id not in self._heard:
            self._heard.add(utterance.answer_id)
            metrics.voice_first_audio.observe(time.monotonic() - utterance.queued_at)
        try:
            error = await finished
            if error is not None:
                log.warning("Playback failed: %r", error)
            elif utterance.answer_id not in self._stopped_answers:
                self.played.append(utterance.text)
        finally:
            self._current = None

    async def _close(self) -> None:
        self.closed.set()
        self._changed.set()
        while not self._queue.empty():
            self._queue.get_nowait().audio.cancel()
        if self.connection.is_connected():
            with contextlib.suppress(Exception):
                await self.connection.disconnect(force=True)

    async def close(self) -> None:
        self._runner.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._runner
