"""Discord's and the model server's stand-ins in a process of their own, for benches whose figures must not count
their CPU against the bot's (on Discord they run elsewhere).

    python bench/standin_process.py [--chunk-delay 0.02]

Prints one JSON line with both URLs, serves until its standard input closes. `GET /_records` on the Discord
stand-in returns what it saw (acknowledgement times are `time.monotonic()`, the same clock in every process here).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from discord_standin import DiscordStandin

from tests.standins.chat_server import ChatServer


async def serve(chunk_delay: float) -> None:
    discord_standin = await DiscordStandin().start()
    chat = await ChatServer(chunk_delay=chunk_delay).start()
    print(json.dumps({"discord": discord_standin.url, "chat": chat.url}), flush=True)
    await asyncio.to_thread(sys.stdin.read)  # until the bench closes our input
    await chat.stop()
    await discord_standin.stop()


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--chunk-delay", type=float, default=0.02)
    asyncio.run(serve(parser.parse_args().chunk_delay))
