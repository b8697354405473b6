"""The per-guild player with a fake voice connection at the Discord edge and a real (espeak-free) fast engine."""

from __future__ import annotations

import asyncio
import random

from bot.domain import VoiceSettings
from bot.voice.audio import PcmAudio, to_discord_pcm
from bot.voice.player import GuildPlayer
from tests.voice.fakes import FakeVoiceConnection


class ToneEngine:
    """Synthesises a short tone per text, taking a random time, so synthesis order differs from queue order."""

    name = "tone"

    def __init__(self) -> None:
        self.requests: list[str] = []

    def check(self) -> str | None:
        return None

    async def synthesize(self, text: str, voice: VoiceSettings | None = None) -> PcmAudio:
        self.requests.append(text)
        await asyncio.sleep(random.uniform(0.0, 0.05))
        return to_discord_pcm(b"\x10\x00" * 4800 * (1 + len(text) % 3), 48_000, 1)


async def wait_until(condition, limit: float = 5.0) -> None:  # type: ignore[no-untyped-def]
    """Poll: the conditions change in the fake connection's playback thread, which has no event to await."""
    async with asyncio.timeout(limit):
        while not condition():  # noqa: ASYNC110
            await asyncio.sleep(0.01)


async def test_utterances_play_in_order_without_overlap_or_drop() -> None:
    connection = FakeVoiceConnection(realtime=0.001)
    player = GuildPlayer(connection, ToneEngine(), idle_seconds=5)
    texts = [f"Sentence number {i}." for i in range(12)]
    for i, text in enumerate(texts):
        player.say(answer_id=i % 2, text=text)
    await wait_until(lambda: len(player.played) == len(texts))
    assert player.played == texts
    assert connection.overlaps == 0
    assert all(frames > 0 for frames in connection.frames_played)
    await player.close()


async def test_stop_drops_the_answers_queue_and_cuts_it_off() -> None:
    connection = FakeVoiceConnection(realtime=0.005)
    player = GuildPlayer(connection, ToneEngine(), idle_seconds=5)
    for i in range(5):
        player.say(answer_id=1, text=f"Long answer part {i}.")
    player.say(answer_id=2, text="Another answer goes on.")
    await wait_until(lambda: connection.is_playing())
    player.stop_answer(1)
    await wait_until(lambda: player.played == ["Another answer goes on."])
    player.say(answer_id=1, text="Too late for this one.")
    await asyncio.sleep(0.1)
    assert player.played == ["Another answer goes on."]
    await player.close()


async def test_idle_player_leaves_the_channel() -> None:
    connection = FakeVoiceConnection()
    player = GuildPlayer(connection, ToneEngine(), idle_seconds=0.2)
    player.say(1, "Just one thing.")
    await wait_until(lambda: player.closed.is_set(), limit=3)
    assert player.played == ["Just one thing."] and not connection.is_connected()


async def test_disconnected_connection_cleans_up() -> None:
    connection = FakeVoiceConnection()
    player = GuildPlayer(connection, ToneEngine(), idle_seconds=5)
    connection.connected = False  # kicked or moved away
    player.say(1, "Nobody hears this.")
    await wait_until(lambda: player.closed.is_set())
    assert player.played == []
