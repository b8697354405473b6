"""Start-up of an API-only bot: seconds from spawning the interpreter to ready, resident memory, heavy imports.

Targets (issue 23): ready in under 1 s, resident memory under 150 MB, and neither torch nor transformers imported.
"Ready" for the bot is everything `run_discord_bot` does before logging in to Discord (which a bench cannot reach):
the services open (database at head, models registered, voice), the model servers are checked, the bot is built
and loads every extension (see tests/standins/startup.py). The playground's figure includes answering one question
from the chat stand-in. The first run migrates a fresh SQLite file; the later runs find it at head.

Where the time went, and what was done about it (imports measured with `python -X importtime`): torch and
transformers (1.9 s, ~200 MB) are imported only when a local model is first used (bot/generation/local_kind.py);
Alembic and Mako (~0.25 s) only when the schema is not at head (bot/db/migrate.py); huggingface_hub's inference
client (~0.3 s) on the first API request; numpy on the first speech; aiohttp's web server (~0.09 s) only when
METRICS_PORT is set. What is left is SQLAlchemy (ORM and both
dialects), discord.py with aiohttp, and pydantic.

    python bench/startup.py [--runs 5]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.standins.chat_server import ChatServer
from tests.standins.startup import Startup, start_in_subprocess

TARGET_SECONDS = 1.0
TARGET_MB = 150


def settings(server: ChatServer, folder: Path) -> dict[str, str]:
    return {
        "DEFAULT_MODEL": "ok",
        "API_MODELS": "ok",
        "LOCAL_MODELS": "",
        "HF_BASE_URL": server.url,
        "DATABASE_URL": f"sqlite+aiosqlite:///{folder / 'bot.db'}",
        "SYNC_COMMANDS": "false",
    }


def line(label: str, runs: list[Startup]) -> str:
    wall = statistics.median(r.wall_seconds for r in runs)
    rss = max(r.report["memory_kib"]["VmHWM"] for r in runs) / 1024
    phases = runs[len(runs) // 2].report["seconds"]
    cpu = statistics.median(r.report["cpu_seconds"] for r in runs)  # less sensitive to the machine's load
    modules = ",".join(runs[-1].report["modules"])
    verdict = "ok" if wall < TARGET_SECONDS and rss < TARGET_MB else "MISSED"
    figures = f"{wall:6.2f} s (cpu {cpu:4.2f} s)  {rss:6.1f} MB  {verdict:<6}"
    return f"{label:<26} {figures}  phases {phases}  imported: {modules}"


async def bench(runs: int) -> None:
    server = await ChatServer().start()
    try:
        for mode in ("bot", "chat"):
            with tempfile.TemporaryDirectory() as folder:
                where = Path(folder)
                first = await start_in_subprocess(mode, settings(server, where), where)
                again = [await start_in_subprocess(mode, settings(server, where), where) for _ in range(runs)]
                for run in (first, *again):
                    assert run.ok, run.output
                print(line(f"{mode}, fresh database", [first]))
                print(line(f"{mode}, at head (median {runs})", again))
    finally:
        await server.stop()
    print(f"targets: < {TARGET_SECONDS} s, < {TARGET_MB} MB; load average {os.getloadavg()} (2 shared cores: noisy)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    print(f"load average before: {os.getloadavg()}")
    asyncio.run(bench(args.runs))


if __name__ == "__main__":
    main()
