"""Speaking while the answer streams: sentences are queued as soon as they are complete."""

from __future__ import annotations

import asyncio
from contextlib import aclosing

from bot.db.database import Database
from bot.domain import Asker, Overrides, Place
from bot.generation.registry import ModelRegistry
from bot.services.conversation import ConversationService
from bot.voice.player import GuildPlayer
from bot.voice.speech import speak_while_streaming
from tests.standins.scripted import ScriptedBackend
from tests.voice.fakes import FakeVoiceConnection
from tests.voice.test_player import ToneEngine, wait_until

HERE = Place(guild_id=1, channel_id=5)
ANN = Asker(1, "ann")
TEXT = "First sentence here. Second sentence follows, a bit longer. Third one ends it"


async def test_first_sentence_is_queued_before_the_stream_ends(database: Database, registry: ModelRegistry) -> None:
    registry.register(ScriptedBackend(name="talker", text=TEXT, delay=0.02))
    service = ConversationService(database, registry)
    engine, connection = ToneEngine(), FakeVoiceConnection()
    player = GuildPlayer(connection, engine, idle_seconds=5)
    pieces: list[str] = []
    first_queued_after = None
    stream = speak_while_streaming(service.reply(HERE, ANN, "talk to me", Overrides(model="talker")), player, 1)
    async with aclosing(stream) as spoken:
        async for piece in spoken:
            pieces.append(piece)
            if engine.requests and first_queued_after is None:
                first_queued_after = len(pieces)
    assert "".join(pieces) == TEXT
    assert first_queued_after is not None and first_queued_after <= 5 < len(pieces) - 5
    await wait_until(lambda: len(player.played) == 3)
    assert player.played == ["First sentence here.", "Second sentence follows, a bit longer.", "Third one ends it"]
    await player.close()


async def test_stopping_the_answer_stops_its_speech(database: Database, registry: ModelRegistry) -> None:
    registry.register(ScriptedBackend(name="talker", text="One. Two. Three. Four. Five. Six.", delay=0.05))
    service = ConversationService(database, registry)
    engine, connection = ToneEngine(), FakeVoiceConnection(realtime=0.02)
    player = GuildPlayer(connection, engine, idle_seconds=5)

    async def consume() -> None:
        stream = speak_while_streaming(service.reply(HERE, ANN, "count", Overrides(model="talker")), player, 7)
        async with aclosing(stream) as spoken:
            async for _ in spoken:
                pass

    task = asyncio.create_task(consume())
    await wait_until(lambda: len(engine.requests) >= 2)
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)
    await asyncio.sleep(0.3)
    assert len(player.played) < 2 and "Six." not in engine.requests
    await player.close()


async def test_seed_api_speaks_through_the_hook() -> None:
    from bot.generation import facade
    from bot.settings import Settings
    from bot.voice.manager import VoiceManager
    from tests.conftest import MODEL_CACHE

    generator = facade.HuggingFaceGenerator(Settings(_env_file=None, model_cache_dir=MODEL_CACHE))  # type: ignore[call-arg]
    generator.registry.register(ScriptedBackend(name="talker", text="Ahoy there. Welcome aboard!"))
    facade.use_generator(generator)
    player = GuildPlayer(FakeVoiceConnection(), ToneEngine(), idle_seconds=5)
    voice = VoiceManager(ToneEngine(), idle_seconds=5)
    voice.players[42] = player  # the bot is in voice in one server: the seed API's speech goes there
    facade.set_speech_hook(voice.speak_anywhere)
    try:
        text = await facade.async_generate_response(
            {"name": "pirate", "system_prompt": "Be a pirate."},
            [{"role": "user", "content": "hi"}],
            0.5,
            speak=True,
            model="talker",
        )
        await wait_until(lambda: len(player.played) == 2)
        assert text == "Ahoy there. Welcome aboard!" and player.played == ["Ahoy there.", "Welcome aboard!"]
    finally:
        facade.set_speech_hook(None)
        facade.use_generator(None)
        generator.close()
        await player.close()
