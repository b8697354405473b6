"""Speaking an answer while it streams: each sentence is queued for speech as soon as it is complete."""

from __future__ import annotations

from collections.abc import AsyncGenerator, AsyncIterator

from bot.domain import VoiceSettings
from bot.voice.player import GuildPlayer
from bot.voice.text_prep import SentenceStream


async def speak_while_streaming(
    pieces: AsyncIterator[str],
    player: GuildPlayer,
    answer_id: int,
    voice: VoiceSettings | None = None,
    names: dict[int, str] | None = None,
) -> AsyncGenerator[str, None]:
    """Pass the pieces through unchanged, handing complete sentences to the player on the way."""
    sentences = SentenceStream(names)
    completed = False
    try:
        async for piece in pieces:
            for sentence in sentences.feed(piece):
                player.say(answer_id, sentence, voice)
            yield piece
        completed = True
    finally:
        if completed:
            for sentence in sentences.flush():
                player.say(answer_id, sentence, voice)
        else:
            player.stop_answer(answer_id)  # stopped or failed: its speech stops too
