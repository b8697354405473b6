"""One guild's ears: each member's audio → utterances (VAD) → transcripts, in arrival order → questions.

Audio arrives in discord.py's socket-reader thread and goes through the VAD there; what the VAD finds comes back to
the event loop with `call_soon_threadsafe`. A member starting to talk while the bot speaks stops its speech at once
(barge-in); the written answer goes on. Utterances are transcribed and answered one after another, in the order
they ended. Audio lives only in memory and is dropped once transcribed.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass

import numpy as np

from bot.errors import BotError
from bot.voice.player import GuildPlayer
from bot.voice.receive.client import ListeningVoiceClient
from bot.voice.stt import Transcriber
from bot.voice.vad import SileroModel, TurnSplitter, Utterance
from bot.voice.wake import Mode, addressed

log = logging.getLogger(__name__)

IDLE_CHECK_SECONDS = 0.05  # how often members who stopped sending are checked for the end of their turn
UTTERANCE_QUEUE = 16  # utterances waiting per guild; more are dropped (and logged)


@dataclass(frozen=True, slots=True)
class Heard:
    """A question someone asked aloud."""

    member_id: int
    question: str  # what was asked (the wake word taken off)
    transcript: str  # everything that was said
    ended_at: float  # when the speech ended (monotonic)


Answer = Callable[[Heard], Awaitable[None]]
Names = Callable[[], Awaitable[Sequence[str]]]


class Listening:
    def __init__(
        self,
        client: ListeningVoiceClient,
        player: GuildPlayer,
        vad: SileroModel,
        stt: Transcriber,
        answer: Answer,
        names: Names,
        mode: Mode = "name",
    ) -> None:
        self.client, self.player, self._vad, self._stt = client, player, vad, stt
        self._answer, self._names, self.mode = answer, names, mode
        self.ignored: set[int] = set()  # opted-out members and bots: their audio is never decoded
        self.is_bot: Callable[[int], bool] = lambda member_id: False  # bots are never listened to either
        self._splitters: dict[int, TurnSplitter] = {}
        self._utterances: asyncio.Queue[Utterance] = asyncio.Queue(UTTERANCE_QUEUE)
        self._loop = asyncio.get_running_loop()
        self._tasks: list[asyncio.Task[None]] = []
        self.barge_ins: list[float] = []  # when each barge-in stopped the bot's speech (for tests and the bench)
        self.transcripts: list[str] = []
        self._taking = False

    def busy(self) -> bool:
        """Someone is mid-utterance, or an utterance waits or is being transcribed and answered."""
        return self._taking or not self._utterances.empty() or any(s.hearing() for s in self._splitters.values())

    def start(self) -> None:
        self.client.listen(self._heard_audio, self.hears)
        self._tasks = [asyncio.create_task(self._watch_idle()), asyncio.create_task(self._work())]

    def hears(self, member_id: int) -> bool:
        return member_id not in self.ignored and not self.is_bot(member_id)

    async def close(self) -> None:
        with contextlib.suppress(Exception):
            self.client.stop_listening()
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task

    def _heard_audio(self, member_id: int, samples: np.ndarray) -> None:  # the socket-reader thread
        splitter = self._splitters.get(member_id)
        if splitter is None:
            splitter = self._splitters.setdefault(member_id, TurnSplitter(self._vad, member_id))
        for event in splitter.feed(samples, time.monotonic()):
            self._loop.call_soon_threadsafe(self._event, event)

    def _event(self, event: Utterance | str) -> None:
        if isinstance(event, str):
            self._barge_in()
        else:
            self._queue(event)

    def _barge_in(self) -> None:
        if self.player.speaking():
            self.player.hush()
            self.barge_ins.append(time.monotonic())
            log.info("Barge-in: a member started talking, the bot stopped speaking")

    def _queue(self, utterance: Utterance) -> None:
        try:
            self._utterances.put_nowait(utterance)
        except asyncio.QueueFull:
            log.warning("Dropped an utterance: %d are already waiting to be transcribed", UTTERANCE_QUEUE)

    async def _watch_idle(self) -> None:
        while True:
            await asyncio.sleep(IDLE_CHECK_SECONDS)
            now = time.monotonic()
            for splitter in list(self._splitters.values()):
                if (utterance := splitter.idle(now)) is not None:
                    self._queue(utterance)

    async def _work(self) -> None:
        while True:
            utterance = await self._utterances.get()
            self._taking = True
            try:
                await self._take(utterance)
            except Exception:
                log.exception("Could not take an utterance of member %s", utterance.member_id)
            finally:
                self._taking = False

    async def _take(self, utterance: Utterance) -> None:
        if not self.hears(utterance.member_id):
            return
        try:
            transcript = await self._stt.transcribe(utterance.audio)
        except BotError as exc:
            log.info("No transcript for member %s: %s", utterance.member_id, exc.user_message)
            return
        self.transcripts.append(transcript)
        question = addressed(transcript, self.mode, await self._names())
        if question is None:
            return
        await self._answer(Heard(utterance.member_id, question, transcript, utterance.ended_at))
