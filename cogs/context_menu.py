"""Message menus (right-click → Apps): "Ask about this" and "Summarize" a message someone wrote.

Each opens a form for the question (Summarize's is filled in), then answers with the message, and the messages it
replies to, quoted before the question. They work in user installs too: Discord sends the chosen message with the
interaction, so nothing needs reading from a channel the bot may not be in.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import discord
from discord import app_commands
from discord.ext import commands

from bot.answers.question import Question
from bot.discord_bot import HFBot
from bot.discord_ui.attachments import quote_of, read_attachments, reply_chain
from bot.discord_ui.places import bot_is_there, interaction_place
from bot.domain import Asker, Extras, Quote

SUMMARIZE = "Summarize this conversation in a few sentences: who said what, and what was decided or asked."
QUESTION_CHARS = 4000  # Discord's limit for a text field in a form
Answer = Callable[[discord.Interaction, str], Awaitable[None]]

INSTALLS = app_commands.AppInstallationType(guild=True, user=True)
CONTEXTS = app_commands.AppCommandContext(guild=True, dm_channel=True, private_channel=True)


class QuestionForm(discord.ui.Modal):
    """The question about a message; submitting it starts the answer."""

    def __init__(self, title: str, default: str, answer: Answer) -> None:
        super().__init__(title=title)
        self._answer = answer
        self.question: discord.ui.TextInput[QuestionForm] = discord.ui.TextInput(
            label="Your question",
            custom_id="question",
            style=discord.TextStyle.paragraph,
            default=default or None,
            max_length=QUESTION_CHARS,
        )
        self.add_item(self.question)

    async def on_submit(self, interaction: discord.Interaction) -> None:
        await self._answer(interaction, self.question.value)


def _message_quote(message: discord.Message, me: discord.abc.Snowflake) -> Quote:
    """The chosen message, with its embeds' text when it has no text of its own (a bot's or a link's card)."""
    quote = quote_of(message, me)
    if quote.text:
        return quote
    embedded = "\n".join(filter(None, (f"{e.title or ''}\n{e.description or ''}".strip() for e in message.embeds)))
    return Quote(quote.author, embedded or "(a message without text)")


class MessageMenus(commands.Cog):
    def __init__(self, bot: HFBot) -> None:
        self.bot = bot
        self.menus = [
            app_commands.ContextMenu(
                name="Ask about this", callback=self.ask_about, allowed_installs=INSTALLS, allowed_contexts=CONTEXTS
            ),
            app_commands.ContextMenu(
                name="Summarize", callback=self.summarize, allowed_installs=INSTALLS, allowed_contexts=CONTEXTS
            ),
        ]
        for menu in self.menus:
            bot.tree.add_command(menu)

    async def cog_unload(self) -> None:
        for menu in self.menus:
            self.bot.tree.remove_command(menu.name, type=menu.type)

    async def ask_about(self, interaction: discord.Interaction, message: discord.Message) -> None:
        """Ask the bot about this message."""
        answer = self._answerer(message, whole_chain=False)
        await interaction.response.send_modal(QuestionForm("Ask about this message", "", answer))

    async def summarize(self, interaction: discord.Interaction, message: discord.Message) -> None:
        """Summarize this message and the messages it replies to."""
        answer = self._answerer(message, whole_chain=True)
        await interaction.response.send_modal(QuestionForm("Summarize", SUMMARIZE, answer))

    def _answerer(self, message: discord.Message, whole_chain: bool) -> Answer:
        me = self.bot.user
        assert me is not None

        async def answer(interaction: discord.Interaction, typed: str) -> None:
            # Discord sends the message with what it directly replies to; the rest of a chain is read from the
            # channel, which only works where the bot is a member.
            fetch = whole_chain and bot_is_there(interaction)

            async def gather() -> Extras:
                extras = Extras(quotes=[*await reply_chain(message, me, fetch=fetch), _message_quote(message, me)])
                await read_attachments(list(message.attachments), extras, self.bot.services.transcriber)
                return extras

            question = Question(
                place=interaction_place(interaction),
                asker=Asker(interaction.user.id, interaction.user.display_name),
                text=typed,
                path="ask",
                gather=gather,
            )
            await self.bot.services.answers.answer(question, self.bot.surfaces.interaction(interaction))

        return answer


async def setup(bot: HFBot) -> None:
    await bot.add_cog(MessageMenus(bot))
