"""`python -m bot chat`: a terminal conversation through the same pipeline the bot uses."""

from __future__ import annotations

import asyncio
import sys
from contextlib import aclosing
from typing import TextIO

from bot.db.place_settings import Place
from bot.errors import BotError
from bot.services.conversation import ConversationService

TERMINAL = Place(guild_id=None, channel_id=0)
QUIT = {"/quit", "/exit", "quit", "exit"}


async def answer_once(
    service: ConversationService, prompt: str, out: TextIO, persona: str | None = None, model: str | None = None
) -> str:
    pieces: list[str] = []
    async with aclosing(service.reply(TERMINAL, "you", 0, prompt, persona=persona, model=model)) as stream:
        async for piece in stream:
            pieces.append(piece)
            out.write(piece)
            out.flush()
    out.write("\n")
    return "".join(pieces)


async def warm_up(service: ConversationService, model: str | None) -> None:
    """Load the model before the first question, so the first answer streams at once."""
    name = model or service.default_model_name()
    backend = service.registry.backend(name)
    if backend.kind == "local":
        print(f"Loading {name}… (the very first start converts the embedded model: about a minute)", flush=True)
        await backend.context_window()


async def chat_loop(service: ConversationService, persona: str | None, model: str | None) -> None:
    await warm_up(service, model)
    print(
        f"Talking to {model or service.default_model_name()} as "
        f"{persona or 'the default persona'}. /quit to leave, /clear to forget.",
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
            await service.clear_history(TERMINAL)
            print("(history cleared)")
            continue
        if not line:
            continue
        try:
            await answer_once(service, line, sys.stdout, persona, model)
        except BotError as exc:
            print(f"[{exc.user_message}]", flush=True)
