"""`python -m bot chat`: a terminal conversation through the same answer pipeline the bot uses."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, TextIO

from bot.answers.question import Question
from bot.answers.service import AnswerService
from bot.answers.surface import NO_CONTROLS, AnswerActions, Controls
from bot.domain import NO_OVERRIDES, Asker, Overrides, Place
from bot.errors import BotError
from bot.generation.registry import ModelRegistry
from bot.services.conversation import ConversationService
from bot.streaming.page import Page
from bot.streaming.renderer import WRITING_MARKER, Outcome
from bot.streaming.splitting import COMPONENTS_LIMIT
from bot.voice.player import GuildPlayer

TERMINAL = Place(guild_id=None, channel_id=0)  # the interactive chat's conversation, kept between runs
ONE_SHOT = Place(guild_id=None, channel_id=-1)  # `--prompt`: fresh each run unless --continue
QUIT = {"/quit", "/exit", "quit", "exit"}


class Unpaced:
    """The terminal has no rate limits: every update is written at once."""

    async def acquire(self, kind: Any = None, urgent: Any = None) -> None:
        return None

    def has_own_budget(self, kind: Any) -> bool:
        return True

    @contextmanager
    def streaming(self) -> Iterator[None]:
        yield

    def penalize(self, retry_after: float) -> None:
        return None


class TerminalSink:
    """Writes each message's new text as it grows (the streaming marker is never printed), its notice after it."""

    message_limit = COMPONENTS_LIMIT  # a terminal has no limit; long answers still come in readable parts

    def __init__(self, out: TextIO) -> None:
        self._out = out
        self._printed: list[str] = []

    async def create(self, page: Page) -> int:
        if self._printed:
            self._out.write("\n")
        self._printed.append("")
        await self.edit(len(self._printed) - 1, page)
        return len(self._printed) - 1

    async def edit(self, handle: Any, page: Page) -> None:
        text = Page(page.body.removesuffix(WRITING_MARKER), page.notice).text()
        done = self._printed[handle]
        if text.startswith(done) and len(text) > len(done):
            self._out.write(text[len(done) :])
            self._out.flush()
            self._printed[handle] = text


class TerminalSurface:
    def __init__(self, out: TextIO) -> None:
        self._out = out
        self.refusal: str | None = None

    def lane(self, pacers: Any, channel_id: int) -> Any:
        return Unpaced()

    async def acknowledge(self, queued: bool) -> None:
        return None

    async def waiting(self) -> None:
        print("[waiting for a turn]", file=sys.stderr)

    async def refuse(self, message: str) -> None:
        self.refusal = message

    async def note(self, message: str) -> None:
        print(f"[{message}]", file=sys.stderr)

    def sink(self) -> TerminalSink:
        return TerminalSink(self._out)

    def controls(self, question: Question, actions: AnswerActions) -> Controls:
        return NO_CONTROLS  # Ctrl-C stops an answer; there is nothing to press

    async def player(self) -> GuildPlayer:
        raise BotError("The terminal cannot speak.")

    async def finished(self, outcome: Outcome) -> None:
        self._out.write("\n")
        self._out.flush()


YOU = Asker(0, "you")


async def answer_once(
    answers: AnswerService, prompt: str, out: TextIO, overrides: Overrides = NO_OVERRIDES, place: Place = TERMINAL
) -> str:
    """Answer one line; raises BotError with the reason when there is no answer."""
    surface = TerminalSurface(out)
    outcome = await answers.answer(Question(place, YOU, prompt, "terminal", overrides=overrides), surface)
    if outcome is None:
        raise BotError(surface.refusal or "No answer.")
    return outcome.text


async def warm_up(registry: ModelRegistry, model: str | None) -> None:
    """Load the model before the first question, so the first answer streams at once."""
    name = model or registry.default_model
    if registry.needs_loading(name):
        print(f"Loading {name}… (the very first start converts the embedded model: about a minute)", flush=True)
        await registry.backend(name).context_window()


async def chat_loop(answers: AnswerService, conversations: ConversationService, overrides: Overrides) -> None:
    registry = conversations.registry
    await warm_up(registry, overrides.model)
    print(
        f"Talking to {overrides.model or registry.default_model} as "
        f"{overrides.persona or 'the default persona'}. /quit to leave, /clear to forget.",
        flush=True,
    )
    while True:
        try:
            line = await asyncio.to_thread(input, "> ")
        except EOFError:
            return
        line = line.strip()
        if line in QUIT:
            return
        if line == "/clear":
            await conversations.clear_history(TERMINAL)
            print("(history cleared)")
            continue
        if not line:
            continue
        try:
            await answer_once(answers, line, sys.stdout, overrides)
        except BotError as exc:
            print(f"[{exc.user_message}]", flush=True)
