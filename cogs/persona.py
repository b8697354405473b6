"""/persona — the personalities the bot can take on, and which one speaks in a channel."""

from __future__ import annotations

import discord
from discord import app_commands
from discord.ext import commands

from bot.discord_bot import HFBot
from bot.discord_ui.flags import ON_OFF, switch_channel_flag
from bot.discord_ui.permissions import require_channel_manager, require_server_admin
from bot.discord_ui.places import place_of
from bot.domain import Persona, Place, Scope, VoiceSettings
from bot.errors import InvalidInputError, PermissionDeniedError
from bot.services.personas import PersonaService

SCOPES = [
    app_commands.Choice(name="this channel", value="channel"),
    app_commands.Choice(name="whole server", value="guild"),
]


def describe(persona: Persona) -> str:
    extras = [f"temperature {persona.temperature}", f"max {persona.max_tokens} tokens"]
    if persona.top_p is not None:
        extras.append(f"top_p {persona.top_p}")
    if persona.top_k is not None:
        extras.append(f"top_k {persona.top_k}")
    prompt = persona.system_prompt if len(persona.system_prompt) < 1500 else persona.system_prompt[:1500] + "…"
    return f"**{persona.name}** — {persona.description or 'no description'}\n-# {', '.join(extras)}\n>>> {prompt}"


class PersonaCog(commands.GroupCog, group_name="persona", group_description="The bot's personalities"):
    def __init__(self, bot: HFBot) -> None:
        self.bot = bot
        super().__init__()

    @property
    def personas(self) -> PersonaService:
        return self.bot.services.personas

    @app_commands.command(name="list")
    async def list_personas(self, interaction: discord.Interaction) -> None:
        """List the personas."""
        lines = [f"- **{p.name}** — {p.description}" for p in await self.personas.list()]
        await interaction.response.send_message("Personas:\n" + "\n".join(lines), ephemeral=True)

    @app_commands.command(name="show")
    @app_commands.describe(name="Persona name (default: the one in force here)")
    async def show(self, interaction: discord.Interaction, name: str | None = None) -> None:
        """Show a persona's prompt and settings."""
        if name is None:
            assert interaction.channel is not None
            resolved = await self.bot.services.places.resolved(place_of(interaction.channel, interaction.guild))
            name = resolved.persona.name if resolved.persona else self.bot.services.conversations.default_persona
        await interaction.response.send_message(describe(await self.personas.get(name)), ephemeral=True)

    @app_commands.command(name="set")
    @app_commands.describe(name="Persona to use", scope="Where it applies (default: channel)")
    @app_commands.choices(scope=SCOPES)
    async def set_persona(
        self, interaction: discord.Interaction, name: str, scope: app_commands.Choice[str] | None = None
    ) -> None:
        """Choose the persona for this channel (Manage Channels) or the server (admins)."""
        where = self._authorize_scope(interaction, scope)
        assert interaction.channel is not None
        persona = await self.personas.use(
            place_of(interaction.channel, interaction.guild), where, name, interaction.user.id
        )
        assert persona is not None
        await interaction.response.send_message(f"From the next message on, I'm **{persona.name}** here.")

    @app_commands.command(name="reset")
    @app_commands.describe(scope="Where to reset (default: channel)")
    @app_commands.choices(scope=SCOPES)
    async def reset(self, interaction: discord.Interaction, scope: app_commands.Choice[str] | None = None) -> None:
        """Go back to the inherited (default) persona."""
        where = self._authorize_scope(interaction, scope)
        assert interaction.channel is not None
        await self.personas.use(place_of(interaction.channel, interaction.guild), where, None, interaction.user.id)
        await interaction.response.send_message("Back to the default persona.")

    @app_commands.command(name="create")
    @app_commands.describe(
        name="2–32 letters, digits, - or _",
        system_prompt="How the persona behaves",
        description="One line",
        temperature="0 (focused) to 2 (wild)",
        max_tokens="Longest answer in tokens",
    )
    async def create(
        self,
        interaction: discord.Interaction,
        name: str,
        system_prompt: str,
        description: str = "",
        temperature: app_commands.Range[float, 0.0, 2.0] = 0.7,
        top_p: app_commands.Range[float, 0.01, 1.0] | None = None,
        top_k: app_commands.Range[int, 1, 1000] | None = None,
        max_tokens: app_commands.Range[int, 1, 8192] = 512,
    ) -> None:
        """Create a persona (admins)."""
        require_server_admin(interaction, self.bot.settings.admin_user_ids)
        persona = Persona(
            name=name,
            system_prompt=system_prompt,
            description=description,
            temperature=temperature,
            top_p=top_p,
            top_k=top_k,
            max_tokens=max_tokens,
        )
        created = await self.personas.create(persona, interaction.user.id, interaction.guild_id)
        await interaction.response.send_message(f"Created persona **{created.name}**.", ephemeral=True)

    @app_commands.command(name="edit")
    async def edit(
        self,
        interaction: discord.Interaction,
        name: str,
        system_prompt: str | None = None,
        description: str | None = None,
        temperature: app_commands.Range[float, 0.0, 2.0] | None = None,
        top_p: app_commands.Range[float, 0.01, 1.0] | None = None,
        top_k: app_commands.Range[int, 1, 1000] | None = None,
        max_tokens: app_commands.Range[int, 1, 8192] | None = None,
    ) -> None:
        """Change a persona's prompt or settings (admins)."""
        require_server_admin(interaction, self.bot.settings.admin_user_ids)
        given = {
            "system_prompt": system_prompt,
            "description": description,
            "temperature": temperature,
            "top_p": top_p,
            "top_k": top_k,
            "max_tokens": max_tokens,
        }
        changes = {k: v for k, v in given.items() if v is not None}
        if not changes:
            await interaction.response.send_message("Nothing to change: give at least one field.", ephemeral=True)
            return
        edited = await self.personas.edit(name, changes, interaction.user.id, interaction.guild_id)
        await interaction.response.send_message(f"Updated **{edited.name}** ({', '.join(changes)}).", ephemeral=True)

    @app_commands.command(name="voice")
    @app_commands.describe(
        language="BCP-47 language code, e.g. en-US",
        voice_name="Engine voice name (Google), e.g. en-US-Neural2-C",
        speaking_rate="0.25 to 4 (1 is normal)",
        pitch="-20 to 20 semitones (0 is normal)",
    )
    async def voice(
        self,
        interaction: discord.Interaction,
        name: str,
        language: str | None = None,
        voice_name: str | None = None,
        speaking_rate: app_commands.Range[float, 0.25, 4.0] | None = None,
        pitch: app_commands.Range[float, -20.0, 20.0] | None = None,
    ) -> None:
        """Set how a persona sounds when its answers are spoken (admins)."""
        require_server_admin(interaction, self.bot.settings.admin_user_ids)
        current = (await self.personas.get(name)).voice or VoiceSettings()
        voice = VoiceSettings(
            language=language or current.language,
            voice_name=voice_name if voice_name is not None else current.voice_name,
            speaking_rate=speaking_rate if speaking_rate is not None else current.speaking_rate,
            pitch=pitch if pitch is not None else current.pitch,
        )
        edited = await self.personas.edit(name, {"voice": voice}, interaction.user.id, interaction.guild_id)
        named = f" as {voice.voice_name}" if voice.voice_name else ""
        await interaction.response.send_message(
            f"**{edited.name}** now speaks {voice.language}{named}, rate {voice.speaking_rate}, pitch {voice.pitch}.",
            ephemeral=True,
        )

    @app_commands.command(name="delete")
    async def delete(self, interaction: discord.Interaction, name: str) -> None:
        """Delete a persona (admins). Channels using it go back to the default."""
        require_server_admin(interaction, self.bot.settings.admin_user_ids)
        await self.personas.delete(name, interaction.user.id, interaction.guild_id)
        await interaction.response.send_message(f"Deleted persona **{name}**.", ephemeral=True)

    @app_commands.command(name="chat")
    @app_commands.describe(
        mode="on: answer every message in this channel; off: only mentions and /ask",
        forum="A forum instead of this channel: every new post (and message in its posts) is answered",
    )
    @app_commands.choices(mode=ON_OFF)
    async def chat(
        self,
        interaction: discord.Interaction,
        mode: app_commands.Choice[str],
        forum: app_commands.AppCommandChannel | None = None,
    ) -> None:
        """Turn persona conversation in this channel (or a forum) on or off (Manage Channels)."""
        if forum is not None:
            await self._switch_forum(interaction, forum, mode.value == "on")
            return
        on = await switch_channel_flag(self.bot.services.places, interaction, "persona_chat", mode)
        text = "I'll answer every message in this channel." if on else "I'll only answer mentions and /ask here."
        await interaction.response.send_message(text)

    async def _switch_forum(
        self, interaction: discord.Interaction, forum: app_commands.AppCommandChannel, on: bool
    ) -> None:
        if forum.type not in (discord.ChannelType.forum, discord.ChannelType.media):
            raise InvalidInputError("Pick a forum channel (or leave `forum` out for this channel).")
        if not forum.permissions.manage_channels:  # the asker's permissions there, as Discord resolved them
            raise PermissionDeniedError(f"You need the Manage Channels permission in {forum.mention} to do that.")
        place = Place(interaction.guild_id, forum.id)
        await self.bot.services.places.set_flag(place, "channel", "persona_chat", on, interaction.user.id)
        text = f"I'll answer every post in {forum.mention}." if on else f"I'll only answer mentions in {forum.mention}."
        await interaction.response.send_message(text)

    @app_commands.command(name="threads")
    @app_commands.describe(
        mode="on: a question to the bot here opens a thread, where the conversation goes on without mentions",
        scope="This channel (Manage Channels) or the whole server (admins); default this channel",
    )
    @app_commands.choices(mode=ON_OFF, scope=SCOPES)
    async def threads(
        self,
        interaction: discord.Interaction,
        mode: app_commands.Choice[str],
        scope: app_commands.Choice[str] | None = None,
    ) -> None:
        """Open a thread on every question asked to the bot here (auto_thread)."""
        chosen = self._authorize_scope(interaction, scope)
        assert interaction.channel is not None
        if chosen == "channel" and isinstance(interaction.channel, discord.Thread):
            raise InvalidInputError("A thread can't open threads of its own: use this in its channel.")
        on = mode.value == "on"
        place = place_of(interaction.channel, interaction.guild)
        await self.bot.services.places.set_flag(place, chosen, "auto_thread", on, interaction.user.id)
        where = "in this server" if chosen == "guild" else "in this channel"
        text = (
            f"A mention {where} now opens a thread on the question; the conversation goes on there."
            if on
            else f"I'll answer mentions {where} in place, without opening threads."
        )
        await interaction.response.send_message(text)

    @set_persona.autocomplete("name")
    @show.autocomplete("name")
    @edit.autocomplete("name")
    @voice.autocomplete("name")
    @delete.autocomplete("name")
    async def persona_names(self, interaction: discord.Interaction, current: str) -> list[app_commands.Choice[str]]:
        names = [p.name for p in await self.personas.list() if current.lower() in p.name.lower()]
        return [app_commands.Choice(name=n, value=n) for n in names[:25]]

    def _authorize_scope(self, interaction: discord.Interaction, scope: app_commands.Choice[str] | None) -> Scope:
        if scope is not None and scope.value == "guild":
            require_server_admin(interaction, self.bot.settings.admin_user_ids)
            return "guild"
        require_channel_manager(interaction)
        return "channel"


async def setup(bot: HFBot) -> None:
    await bot.add_cog(PersonaCog(bot))
