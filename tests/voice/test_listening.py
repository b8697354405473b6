"""Listening in a voice channel, end to end: a local peer speaks into the bot's real voice connection as Discord
would (SPEAKING, opus in RTP sealed with the session key), the real VAD and faster-whisper hear it, the pipeline
answers on the chat stand-in, and the answer is written in the channel's chat and spoken back."""

from __future__ import annotations

import asyncio
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from bot.voice.stt import WhisperEngine
from bot.voice.vad import SileroModel
from tests.standins.chat_server import REPLY, ChatServer
from tests.standins.voice_server import espeak_opus
from tests.voice.call import until, voice_call

BOB, EVE = 42, 43


@pytest.fixture(scope="module")
def vad() -> SileroModel:
    return SileroModel()


@pytest.fixture(scope="module")
def stt() -> Iterator[WhisperEngine]:
    engine = WhisperEngine()
    yield engine
    engine.close()


@pytest.fixture(scope="module")
def question() -> list[bytes]:
    return espeak_opus("Computer, what is the capital of France?")


def asked(chat_server: ChatServer) -> list[str]:
    return [r["messages"][-1]["content"] for r in chat_server.requests]


async def test_a_spoken_question_is_answered_in_the_chat_and_aloud(
    tmp_path: Path, chat_server: ChatServer, vad: SileroModel, stt: WhisperEngine, question: list[bytes]
) -> None:
    async with voice_call(tmp_path, chat_server, vad, stt, mode="name") as call:
        await call.ask(BOB, question)
        await call.settled()
        assert len(asked(chat_server)) == 1
        assert "capital of France" in asked(chat_server)[0]
        said, answer = call.chat.texts()
        assert said.startswith("🎙️ **Bob** said: Computer") and said.endswith("capital of France?")
        assert answer == REPLY
        assert call.player.played == [REPLY]
        assert call.server.frames_received > 50  # about 3 s of speech went out
        assert 1 in call.server.bot_speaking  # SPEAKING sent before the audio


async def test_in_name_mode_what_is_not_said_to_the_bot_is_not_a_question(
    tmp_path: Path, chat_server: ChatServer, vad: SileroModel, stt: WhisperEngine
) -> None:
    async with voice_call(tmp_path, chat_server, vad, stt, mode="name") as call:
        await call.ask(BOB, espeak_opus("What is the capital of France?"))
        await call.settled()
        assert call.listening.transcripts == ["What is the capital of France?"]
        assert chat_server.requests == [] and call.chat.texts() == []


async def test_a_member_talking_over_the_bot_stops_its_speech_and_the_written_answer_goes_on(
    tmp_path: Path, chat_server: ChatServer, vad: SileroModel, stt: WhisperEngine, question: list[bytes]
) -> None:
    async with voice_call(tmp_path, chat_server, vad, stt, mode="name") as call:
        await call.ask(BOB, question)
        await until(lambda: call.server.first_frame_at is not None, 20)
        await asyncio.sleep(0.3)  # the bot is mid-sentence
        interrupting = asyncio.create_task(call.ask(EVE, espeak_opus("Wait a moment please.")))
        await until(lambda: bool(call.listening.barge_ins), 5)
        await asyncio.sleep(0.3)
        frames_then = call.server.frames_received
        await interrupting
        await call.settled()
        assert call.server.frames_received == frames_then  # silent since (a barge-in that fails goes on ~3 s)
        assert call.player.played == []  # the answer's speech was cut, not finished
        assert call.chat.texts()[-1] == REPLY  # its text was written in full
        assert len(chat_server.requests) == 1  # Eve did not say "computer": no question


async def test_a_member_who_opted_out_is_not_heard(
    tmp_path: Path, chat_server: ChatServer, vad: SileroModel, stt: WhisperEngine, question: list[bytes]
) -> None:
    async with voice_call(tmp_path, chat_server, vad, stt, mode="always") as call:
        call.listening.ignored.add(BOB)
        await call.ask(BOB, question)
        await call.settled()
        assert call.listening.transcripts == [] and chat_server.requests == [] and call.chat.texts() == []


def garbage(call: Any, frames: list[bytes]) -> list[bytes]:
    """What a bad network and bad clients send: noise, wrong keys, unknown SSRCs, corrupt opus, duplicates,
    reordered packets."""
    server = call.server
    out = [os.urandom(n) for n in (1, 11, 40, 200)]
    out.append(b"\x80\xc8" + os.urandom(30))  # RTCP
    out += [server.packet(BOB * 10, frames[5], key=os.urandom(32)) for _ in range(20)]  # sealed with another key
    out += [server.packet(999, frame) for frame in frames[:20]]  # an SSRC no SPEAKING named
    out += [server.packet(BOB * 10, os.urandom(60)) for _ in range(20)]  # corrupt opus frames
    repeated = server.packet(BOB * 10, frames[10])
    out += [repeated] * 5  # duplicates
    late = [server.packet(BOB * 10, frame) for frame in frames[:8]]
    out += late[::-1]  # out of order
    return out


async def test_a_burst_of_garbage_leaves_the_bot_listening_and_is_logged_once_per_cause(
    tmp_path: Path,
    chat_server: ChatServer,
    vad: SileroModel,
    stt: WhisperEngine,
    question: list[bytes],
    caplog: Any,
) -> None:
    async with voice_call(tmp_path, chat_server, vad, stt, mode="always") as call:
        for packet in garbage(call, question):
            call.server.send_raw(packet)
        await call.settled()  # the scraps of real speech in it end their own utterance first
        await call.ask(BOB, question)
        await call.settled()
        assert "capital of France" in asked(chat_server)[-1]
        assert call.chat.texts()[-1] == REPLY
    counts = call.client.receiver.problems.counts
    assert {"transport decrypt failed", "packet from an SSRC no SPEAKING named", "corrupt opus frame dropped"} <= set(
        counts
    )
    assert counts["transport decrypt failed"] >= 20  # sealed with the wrong key
    logged = [r.getMessage() for r in caplog.records if r.getMessage().startswith("Voice receive:")]
    assert len(logged) == len(counts)  # once per cause, not per packet


def test_sequence_numbers_wrap_and_late_packets_take_their_place() -> None:
    import logging

    from bot.voice.receive.streams import MemberStream, OncePerCause
    from tests.standins.voice_server import espeak_opus

    problems = OncePerCause(logging.getLogger("test"))
    stream = MemberStream(problems)
    frames = espeak_opus("one")[:6]
    order = [65534, 65535, 1, 0, 2, 3]  # 0 arrives late, across the wrap
    released = [len(stream.push(seq, frames[i])) for i, seq in enumerate(order)]
    assert sum(released) == 6 and not problems.counts
    assert stream.push(65535, frames[0]) == [] and problems.counts["late or duplicate packet dropped"] == 1
