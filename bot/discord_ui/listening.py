"""Starting and stopping listening in a guild's voice channel, from the commands and when the bot joins."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import discord

from bot.discord_ui.places import place_of
from bot.discord_ui.voice_asking import VoiceAsking
from bot.errors import BotError
from bot.voice.wake import Mode

if TYPE_CHECKING:
    from bot.discord_bot import HFBot

NONE = discord.AllowedMentions.none()


def listening_notice(mode: str, names: Sequence[str]) -> str:
    how = (
        "everything said here"
        if mode == "always"
        else "questions that start with " + " or ".join(f"“{name}”" for name in names)
    )
    return (
        f"🎙️ I'm listening in this voice channel now ({how}). Audio is never stored; only the questions I answer "
        "are kept, like typed messages. Use `/voice listen me off` to opt out."
    )


async def start_listening(bot: HFBot, channel: Any, mode: Mode) -> None:
    """Listen in `channel` (where the bot is in voice), say so in its text chat. Raises BotError saying why not."""
    services = bot.services
    voice = services.voice
    guild = channel.guild
    if voice is None:
        raise BotError("Voice is not available on this bot.")
    if (player := voice.player(guild.id)) is None:
        raise BotError("I'm not in a voice channel here.")
    place = place_of(channel, guild)
    resolved = await services.places.resolved(place)
    if resolved.listen_forbidden:
        raise BotError("This server's admins have turned listening off.")
    persona = resolved.persona.name if resolved.persona else services.conversations.default_persona
    names = [persona, *(n for n in services.settings.wake_words if n.lower() != persona.lower())]

    async def wake_names() -> Sequence[str]:
        return names

    asking = VoiceAsking(
        services.answers, channel, player, voice, services.settings.admin_user_ids, bot.surfaces.layout
    )
    listening = await voice.listen(guild.id, asking, wake_names, mode)
    listening.ignored.update(await services.places.listen_opt_outs(guild.id))

    def is_bot(member_id: int) -> bool:
        member = guild.get_member(member_id)  # members in voice are cached from their voice states
        return member is not None and member.bot

    listening.is_bot = is_bot
    await channel.send(listening_notice(mode, names), allowed_mentions=NONE)


async def resume_listening(bot: HFBot, channel: Any) -> bool:
    """After joining `channel`: listen again when its stored mode says so (and the server allows it)."""
    voice = bot.services.voice
    if voice is None or voice.hearing is None or voice.hearing_problem:
        return False
    resolved = await bot.services.places.resolved(place_of(channel, channel.guild))
    if resolved.listen_mode not in ("name", "always") or resolved.listen_forbidden:
        return False
    await start_listening(bot, channel, resolved.listen_mode)  # type: ignore[arg-type]
    return True
