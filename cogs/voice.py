"""/voice join | leave | speak | listen … — the bot in voice channels."""

from __future__ import annotations

import discord
from discord import app_commands
from discord.ext import commands

from bot.discord_bot import HFBot
from bot.discord_ui.flags import ON_OFF, switch_channel_flag
from bot.discord_ui.listening import resume_listening, start_listening
from bot.discord_ui.permissions import can_manage_channel, require_server_admin
from bot.discord_ui.places import place_of
from bot.discord_ui.speaking import player_for
from bot.errors import BotError, PermissionDeniedError

MODES = [
    app_commands.Choice(name="name: only questions that start with my name or a wake word", value="name"),
    app_commands.Choice(name="always: every utterance (one-to-one use)", value="always"),
]
VOICE_CHANNELS = (discord.VoiceChannel, discord.StageChannel)


def voice_channel_of(interaction: discord.Interaction) -> discord.VoiceChannel | discord.StageChannel:
    """The voice channel a listen command is about: the one the caller is in, else the voice channel whose chat
    the command was used in."""
    user = interaction.user
    if isinstance(user, discord.Member) and user.voice is not None and isinstance(user.voice.channel, VOICE_CHANNELS):
        return user.voice.channel
    if isinstance(interaction.channel, VOICE_CHANNELS):
        return interaction.channel
    raise BotError("Use this in a voice channel's chat, or while you are in a voice channel.")


class VoiceCog(commands.GroupCog, group_name="voice", group_description="Spoken answers in voice channels"):
    def __init__(self, bot: HFBot) -> None:
        self.bot = bot
        super().__init__()

    @app_commands.command(name="join")
    @app_commands.guild_only()
    async def join(self, interaction: discord.Interaction) -> None:
        """Join your voice channel to speak answers there."""
        await interaction.response.defer(ephemeral=True, thinking=True)
        player = await player_for(self.bot.services.voice, interaction.user, interaction.guild)
        text = "I'm in your voice channel. Use `/ask speak:true` or `/voice speak on`."
        if isinstance(player.connection, discord.VoiceClient) and await resume_listening(
            self.bot, player.connection.channel
        ):
            text = "I'm in your voice channel, and listening (see its chat)."
        await interaction.followup.send(text)

    @app_commands.command(name="leave")
    @app_commands.guild_only()
    async def leave(self, interaction: discord.Interaction) -> None:
        """Leave the voice channel."""
        assert interaction.guild is not None
        if self.bot.services.voice is None or not await self.bot.services.voice.leave(interaction.guild.id):
            raise BotError("I'm not in a voice channel here.")
        await interaction.response.send_message("Left the voice channel.", ephemeral=True)

    @app_commands.command(name="speak")
    @app_commands.guild_only()
    @app_commands.describe(mode="on: speak every answer in this channel aloud; off: text only")
    @app_commands.choices(mode=ON_OFF)
    async def speak(self, interaction: discord.Interaction, mode: app_commands.Choice[str]) -> None:
        """Speak this channel's answers in voice (Manage Channels)."""
        on = await switch_channel_flag(self.bot.services.places, interaction, "speak", mode)
        text = "Answers here will also be spoken in voice." if on else "Answers here are text only."
        await interaction.response.send_message(text)

    listen = app_commands.Group(name="listen", description="Listening to members in voice channels", guild_only=True)

    @listen.command(name="on")
    @app_commands.describe(mode="name (default): questions that start with my name; always: every utterance")
    @app_commands.choices(mode=MODES)
    async def listen_on(self, interaction: discord.Interaction, mode: app_commands.Choice[str] | None = None) -> None:
        """Listen to members in your voice channel and answer aloud (Manage Channels)."""
        channel = self._managed_voice_channel(interaction)
        assert interaction.guild is not None
        voice = self.bot.services.voice
        if not self.bot.services.settings.listening or voice is None:
            raise BotError("Listening is switched off on this bot.")
        resolved = await self.bot.services.places.resolved(place_of(channel, interaction.guild))
        if resolved.listen_forbidden:
            raise PermissionDeniedError("This server's admins have turned listening off.")
        if voice.hearing_problem:
            raise BotError(f"Listening is not available on this bot: {voice.hearing_problem}.")
        chosen = mode.value if mode else "name"
        await self.bot.services.places.set_listen_mode(
            place_of(channel, interaction.guild), chosen, interaction.user.id
        )
        member = interaction.user
        in_channel = isinstance(member, discord.Member) and member.voice is not None and member.voice.channel == channel
        if not in_channel:
            text = f"Listening is on for {channel.mention} ({chosen}): I'll listen once I'm there (`/voice join`)."
            await interaction.response.send_message(text)
            return
        await interaction.response.defer(thinking=True)
        await player_for(voice, member, interaction.guild)
        await start_listening(self.bot, channel, "always" if chosen == "always" else "name")
        await interaction.followup.send(f"I'm listening in {channel.mention} ({chosen}).")

    @listen.command(name="off")
    async def listen_off(self, interaction: discord.Interaction) -> None:
        """Stop listening in this voice channel (Manage Channels)."""
        channel = self._managed_voice_channel(interaction)
        assert interaction.guild is not None
        await self.bot.services.places.set_listen_mode(place_of(channel, interaction.guild), "off", interaction.user.id)
        voice = self.bot.services.voice
        listening = voice.listening(interaction.guild.id) if voice else None
        if voice is not None and listening is not None and listening.client.channel == channel:
            await voice.stop_listening(interaction.guild.id)
        await interaction.response.send_message(f"I've stopped listening in {channel.mention}.")

    @listen.command(name="me")
    @app_commands.describe(state="off: I never listen to you in this server; on: I may again")
    @app_commands.choices(state=ON_OFF)
    async def listen_me(self, interaction: discord.Interaction, state: app_commands.Choice[str]) -> None:
        """Opt yourself out of (or back into) being listened to in this server."""
        assert interaction.guild is not None
        out = state.value == "off"
        await self.bot.services.places.set_listen_opt_out(interaction.guild.id, interaction.user.id, out)
        voice = self.bot.services.voice
        listening = voice.listening(interaction.guild.id) if voice else None
        if listening is not None:
            (listening.ignored.add if out else listening.ignored.discard)(interaction.user.id)
        text = "I won't listen to you in this server." if out else "I may listen to you again where listening is on."
        await interaction.response.send_message(text, ephemeral=True)

    @listen.command(name="forbid")
    @app_commands.describe(state="on: no one can turn listening on in this server; off: channel managers may")
    @app_commands.choices(state=ON_OFF)
    async def listen_forbid(self, interaction: discord.Interaction, state: app_commands.Choice[str]) -> None:
        """Forbid listening in this server's voice channels (Manage Server)."""
        require_server_admin(interaction, self.bot.services.settings.admin_user_ids)
        assert interaction.guild is not None and interaction.channel is not None
        forbidden = state.value == "on"
        place = place_of(interaction.channel, interaction.guild)
        await self.bot.services.places.set_listen_forbidden(place, forbidden, interaction.user.id)
        if forbidden and self.bot.services.voice is not None:
            await self.bot.services.voice.stop_listening(interaction.guild.id)
        text = "Listening is forbidden in this server." if forbidden else "Listening is allowed in this server again."
        await interaction.response.send_message(text)

    @staticmethod
    def _managed_voice_channel(interaction: discord.Interaction) -> discord.VoiceChannel | discord.StageChannel:
        channel = voice_channel_of(interaction)
        if not can_manage_channel(interaction.user, channel):
            raise PermissionDeniedError(f"You need the Manage Channels permission in {channel.mention} to do that.")
        return channel


async def setup(bot: HFBot) -> None:
    await bot.add_cog(VoiceCog(bot))
