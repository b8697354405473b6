"""Composition root and command line.

python -m bot                 the Discord bot when DISCORD_TOKEN is set, else the terminal playground
python -m bot chat [...]      the terminal playground (no Discord, no network)
python -m bot db upgrade      migrate the database to the newest schema
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys

from bot.app import Services
from bot.db.migrate import upgrade
from bot.domain import Overrides
from bot.errors import BotError, ConfigError
from bot.logs import configure_logging
from bot.settings import Settings

log = logging.getLogger("bot")

TERMINAL_OWNER = "terminal"  # the playground's answers in flight: a later playground run mends what a crash left


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bot", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    commands = parser.add_subparsers(dest="command")
    commands.add_parser("run", help="run the Discord bot (the default when DISCORD_TOKEN is set)")
    chat = commands.add_parser("chat", help="talk to the bot in this terminal")
    chat.add_argument("--prompt", help="answer this once and exit (a fresh conversation each run)")
    chat.add_argument("-c", "--continue", dest="continue_", action="store_true", help="--prompt continues the last one")
    chat.add_argument("--persona", help="persona name (default: the configured default)")
    chat.add_argument("--model", help="model name (default: DEFAULT_MODEL)")
    chat.add_argument("--system", help="use this system prompt instead of the persona's")
    db = commands.add_parser("db", help="database maintenance")
    db.add_argument("action", choices=["upgrade"])
    return parser.parse_args(argv)


async def run_chat(settings: Settings, args: argparse.Namespace) -> int:
    from bot.playground import ONE_SHOT, answer_once, chat_loop

    overrides = Overrides(persona=args.persona, model=args.model, system=args.system)
    # One person at a terminal: no cooldown between their questions.
    terminal = settings.model_copy(update={"user_cooldown_seconds": 0})
    async with await Services.open(terminal, owner_key=TERMINAL_OWNER) as services:
        conversations = services.conversations
        for left in await services.lease.leftovers(take_over_others=False):  # a crash of an earlier terminal run
            await conversations.mark_interrupted(left, None)
        if args.prompt is not None:
            if not args.continue_:
                await conversations.clear_history(ONE_SHOT)
            await answer_once(services.answers, args.prompt, sys.stdout, overrides, ONE_SHOT)
        else:
            await chat_loop(services.answers, conversations, overrides)
    return 0


async def run_bot(settings: Settings) -> int:
    from bot.discord_bot import run_discord_bot

    return await run_discord_bot(settings)


async def main(argv: list[str]) -> int:
    args = parse_args(argv)
    settings = Settings()
    secrets = [s.get_secret_value() for s in (settings.discord_token, settings.hf_token) if s is not None]
    configure_logging(settings.log_level, settings.log_format, secrets)
    command = args.command or ("run" if settings.discord_token else "chat")
    if command == "db":
        await upgrade(settings.database_url)
        print("Database is at the newest schema.")
        return 0
    if command == "run":
        if settings.discord_token is None:
            print("DISCORD_TOKEN is not set: see README (Configuration).", file=sys.stderr)
            return 2
        return await run_bot(settings)
    if args.command is None:
        log.info("No DISCORD_TOKEN set: starting the terminal playground instead of the bot.")
        args = parse_args(["chat"])
    return await run_chat(settings, args)


def cli() -> None:
    try:
        sys.exit(asyncio.run(main(sys.argv[1:])))
    except BotError as exc:
        print(exc.user_message, file=sys.stderr)
        sys.exit(1)
    except ConfigError as exc:
        print(f"Configuration error: {exc}", file=sys.stderr)
        sys.exit(2)
    except KeyboardInterrupt:
        sys.exit(130)


if __name__ == "__main__":
    cli()
