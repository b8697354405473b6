"""Listening, end to end through the test harness (tests/voice/call.py): the bot's real voice client joined to the
local voice server, which sends an espeak-ng question as opus in sealed RTP; the real Silero VAD and faster-whisper
tiny.en; the answer pipeline over the chat stand-in and a migrated SQLite file; espeak-ng speaking back.

Figures, from the last packet of the spoken question (monotonic clock):
  transcript        the transcript is ready (includes the 0.5 s end-of-turn silence the VAD waits for)
  model request     the question reaches the model server (the stand-in streams its first token at once)
  first text        the written answer's first message in the voice channel's chat
  first audio       the first frame of the spoken answer reaches the voice server (target 1.5 s)
and barge-in: from a member's first packet while the bot speaks to the bot's speech being stopped (hush) and to
the last audio frame the voice server got (target 300 ms); and the CPU of 5 members talking at once.

    PYTHONPATH=. python bench/voice_latency.py [--rounds 3]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bot.voice.stt import WhisperEngine
from bot.voice.vad import SileroModel
from tests.standins.chat_server import ChatServer
from tests.standins.voice_server import espeak_opus
from tests.voice.call import MEMBERS, until, voice_call

BOB, EVE = 42, 43


class Timed:
    """The real engine, noting when each transcript is ready."""

    def __init__(self, engine: WhisperEngine) -> None:
        self.engine, self.name, self.done = engine, engine.name, list[float]()

    def check(self) -> str | None:
        return self.engine.check()

    async def transcribe(self, audio: np.ndarray) -> str:
        text = await self.engine.transcribe(audio)
        self.done.append(time.monotonic())
        return text


async def first_time(condition, seconds: float = 30.0) -> float:  # type: ignore[no-untyped-def]
    async with asyncio.timeout(seconds):
        while not condition():  # noqa: ASYNC110
            await asyncio.sleep(0.005)
    return time.monotonic()


def show(name: str, values: list[float], target: float | None = None) -> None:
    median = statistics.median(values)
    goal = f"  (target {target:.2f} s: {'met' if median <= target else 'missed'})" if target else ""
    print(f"  {name:<28} median {median:.3f} s  min {min(values):.3f}  max {max(values):.3f}{goal}")


async def main(rounds: int) -> None:
    print(f"load average before: {os.getloadavg()}")
    engine = WhisperEngine()
    started = time.monotonic()
    await engine.load()
    print(f"whisper tiny.en load: {time.monotonic() - started:.2f} s")
    vad, stt = SileroModel(), Timed(engine)
    question = espeak_opus("What is the capital of France?")
    long_question = espeak_opus("Computer, tell me a long story about the history of Paris and its bridges.")
    chat = await ChatServer().start()
    figures: dict[str, list[float]] = {k: [] for k in ("transcript", "model request", "first text", "first audio")}
    hush, silent = [], []
    try:
        with tempfile.TemporaryDirectory() as tmp:
            async with voice_call(Path(tmp), chat, vad, stt, mode="always") as call:
                for _ in range(rounds):
                    asked, posted, heard = len(chat.requests), len(call.chat.posted), len(stt.done)
                    ended = await call.ask(BOB, question)
                    call.server.first_frame_at = None  # frames from here on are the answer's
                    await first_time(lambda h=heard: len(stt.done) > h)
                    figures["transcript"].append(stt.done[-1] - ended)
                    figures["model request"].append(await first_time(lambda a=asked: len(chat.requests) > a) - ended)
                    text = await first_time(lambda p=posted: len(call.chat.posted) >= p + 2)
                    figures["first text"].append(text - ended)
                    await first_time(lambda: call.server.first_frame_at is not None)
                    assert call.server.first_frame_at is not None
                    figures["first audio"].append(call.server.first_frame_at - ended)
                    await call.settled()
                for _ in range(rounds):  # barge-in: Eve talks over the bot's (long) spoken answer
                    call.server.first_frame_at = None
                    chat.chunk_delay = 0.05  # a longer answer, so there is speech to cut
                    await call.ask(BOB, long_question)
                    await until(lambda: call.player.speaking() and call.server.first_frame_at is not None, 30.0)
                    await asyncio.sleep(0.3)
                    barge_ins = len(call.listening.barge_ins)
                    talking = time.monotonic()
                    speaking = asyncio.create_task(call.ask(EVE, question))
                    stopped = await first_time(lambda b=barge_ins: len(call.listening.barge_ins) > b)
                    hush.append(stopped - talking)
                    await first_time(lambda: time.monotonic() - (call.server.last_frame_at or 0.0) > 0.1)
                    silent.append((call.server.last_frame_at or talking) - talking)
                    await speaking
                    chat.chunk_delay = 0.0
                    await call.settled()
                # CPU: five members talking at once (name mode, not addressed: heard and transcribed, no answers)
                call.listening.mode = "name"
                cpu, wall = time.process_time(), time.monotonic()
                await asyncio.gather(*(call.ask(member, question) for member in MEMBERS))
                await until(lambda: not call.listening.busy(), 60.0)
                cpu, wall = time.process_time() - cpu, time.monotonic() - wall
    finally:
        await chat.stop()
        engine.close()
    print(f"\nend of spoken question → … ({rounds} rounds, offline whisper, offline espeak-ng)")
    for name, values in figures.items():
        show(name, values, 1.5 if name == "first audio" else None)
    print("barge-in (from the interrupter's first packet)")
    show("speech stopped (hush)", hush, 0.3)
    show("last bot audio frame", silent, 0.3)
    print(f"5 members talking at once: {cpu:.2f} s CPU over {wall:.2f} s wall ({cpu / wall:.2f} cores), all heard,")
    print("  VAD and transcribed (tiny.en transcribes one utterance at a time)")
    print(f"load average after: {os.getloadavg()}  (2 shared cores: figures are noisy)")


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=3)
    asyncio.run(main(parser.parse_args().rounds))
