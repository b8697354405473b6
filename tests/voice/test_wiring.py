"""The bot's own wiring of listening, where simcord has no voice: `VoiceManager.listen` over the real voice client
joined to the local voice server, the Hearing the composition root builds, bots never heard, leaving stops it."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from pathlib import Path

import pytest

from bot.discord_ui.layouts import ClassicLayout
from bot.discord_ui.voice_asking import VoiceAsking
from bot.voice.engines import EspeakEngine
from bot.voice.hearing import Hearing
from bot.voice.manager import VoiceManager
from bot.voice.stt import WhisperEngine
from bot.voice.vad import SileroModel
from tests.standins.chat_server import REPLY, ChatServer
from tests.standins.voice_server import GUILD_ID, espeak_opus
from tests.voice.call import until, voice_call

BOB, EVE = 42, 43


@pytest.fixture(scope="module")
def stt() -> Iterator[WhisperEngine]:
    engine = WhisperEngine()
    yield engine
    engine.close()


async def test_the_manager_listens_undeafened_never_to_bots_and_stops_on_leave(
    tmp_path: Path, chat_server: ChatServer, stt: WhisperEngine
) -> None:
    question = espeak_opus("What is the capital of France?")
    vad = SileroModel()
    async with voice_call(tmp_path, chat_server, vad, stt, mode="always") as call:
        await call.listening.close()  # the harness's own listening; the manager's takes over
        voice = VoiceManager(EspeakEngine(), idle_seconds=300)
        hearing = Hearing(stt, ["computer"])
        voice.use_hearing(hearing)
        assert voice.hearing_problem is None
        voice.players[GUILD_ID] = call.player

        async def names() -> Sequence[str]:
            return ["computer"]

        asking = VoiceAsking(call.answers, call.chat, call.player, voice, [], ClassicLayout())
        listening = await voice.listen(GUILD_ID, asking, names, "always")
        assert voice.listening(GUILD_ID) is listening and call.player.listening
        assert call.client.channel.guild.deaf[-1] is False  # undeafened while listening
        listening.is_bot = lambda member_id: member_id == EVE

        await call.ask(EVE, question)  # a bot talking: never heard
        await call.ask(BOB, question)
        await until(lambda: len(call.chat.texts()) == 2 and call.player.played == [REPLY], 30.0)
        assert len(chat_server.requests) == 1
        assert "capital of France" in chat_server.requests[0]["messages"][-1]["content"]
        assert call.chat.texts()[0].startswith("🎙️ **Bob** said:")
        assert len(listening.transcripts) == 1

        assert await voice.leave(GUILD_ID)
        assert voice.listening(GUILD_ID) is None and voice.listenings == {}
        assert not call.player.listening
