"""A question heard in a voice channel, handed to the one answer pipeline like any other."""

from __future__ import annotations

from typing import Any

from bot.answers.question import Question
from bot.answers.service import AnswerService
from bot.discord_ui.layouts import Layout
from bot.discord_ui.voice_surface import VoiceSurface
from bot.domain import Asker, Extras, Place
from bot.voice.listening import Heard
from bot.voice.manager import VoiceManager
from bot.voice.player import GuildPlayer


def heard_question(channel: Any, heard: Heard, name: str) -> Question:
    async def spoken() -> Extras:
        return Extras(spoken=heard.question)

    return Question(
        place=Place(channel.guild.id, channel.id),
        asker=Asker(heard.member_id, name),
        text=heard.question,
        path="voice",
        speak=True,
        gather=spoken,
        received_at=heard.ended_at,  # the answer's latency counts from the end of the question
    )


class VoiceAsking:
    """Turns what Listening heard into questions answered in that voice channel."""

    def __init__(
        self,
        answers: AnswerService,
        channel: Any,
        player: GuildPlayer,
        voice: VoiceManager | None,
        admin_ids: list[int],
        layout: Layout,
    ) -> None:
        self._answers, self._channel, self._player = answers, channel, player
        self._voice, self._admin_ids, self._layout = voice, admin_ids, layout

    async def __call__(self, heard: Heard) -> None:
        member = self._channel.guild.get_member(heard.member_id)
        name = member.display_name if member is not None else f"member {heard.member_id}"
        surface = VoiceSurface(
            self._channel, name, heard.transcript, self._player, self._voice, self._admin_ids, self._layout
        )
        await self._answers.answer(heard_question(self._channel, heard, name), surface)
