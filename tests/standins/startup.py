"""Starts the bot (or the playground) in a process of its own up to ready, then prints one JSON line about it.

`start_in_subprocess` runs it and reads that line (tests/test_startup.py, bench/startup.py). In the child,
`python -m tests.standins.startup bot|chat` runs with the settings in the environment (an API default pointing at
a chat stand-in). Discord cannot be reached from a test, so "ready" for the bot is what `run_discord_bot` does before
it logs in: the services open (database migrated, models registered, voice), the model servers checked, the bot
built and every extension loaded by its own `setup_hook` (command sync off). The playground answers one `--prompt`.
The line says how long each phase took, the resident memory, and which heavy modules were imported.

`--block-local` makes torch and transformers unimportable first, as on an install without the `local` extra.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

WATCHED = ("torch", "transformers", "mcp", "numpy", "alembic", "huggingface_hub", "discord", "sqlalchemy")
LOCAL_PACKAGES = ("torch", "transformers")
ROOT = Path(__file__).resolve().parents[2]


@dataclass(frozen=True)
class Startup:
    ok: bool
    wall_seconds: float  # from spawning the interpreter to the report line
    report: dict[str, Any]  # seconds (per phase, from the first line of this module), memory_kib, modules
    output: str  # everything the process printed (its logs, the playground's answer)


async def start_in_subprocess(mode: str, settings: dict[str, str], cwd: Path, block_local: bool = False) -> Startup:
    """Start `mode` ("bot" or "chat") with these settings as its environment, in `cwd` (so no `.env` is read)."""
    env = {**os.environ, "PYTHONPATH": str(ROOT), **settings}
    args = [sys.executable, "-m", "tests.standins.startup", mode, *(["--block-local"] if block_local else [])]
    began = time.perf_counter()
    child = await asyncio.create_subprocess_exec(
        *args, cwd=cwd, env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT
    )
    assert child.stdout is not None
    lines: list[str] = []
    report: dict[str, Any] = {}
    wall = 0.0
    async for raw in child.stdout:
        line = raw.decode()
        lines.append(line)
        tag, _, payload = line.partition(" ")
        if tag in ("STARTUP", "STARTUP-FAILED"):
            wall = time.perf_counter() - began
            report = json.loads(payload)
    await child.wait()
    return Startup(child.returncode == 0 and "seconds" in report, wall, report, "".join(lines))


def block_local() -> None:
    """Torch and transformers become unfindable and unimportable, as where they were never installed."""
    for name in LOCAL_PACKAGES:
        sys.modules[name] = None  # type: ignore[assignment]


def memory_kib() -> dict[str, int]:
    fields = {}
    with open("/proc/self/status") as status:
        for line in status:
            key, _, value = line.partition(":")
            if key in ("VmRSS", "VmHWM"):
                fields[key] = int(value.split()[0])
    return fields


async def start_bot(phases: dict[str, float]) -> None:
    from bot.app import Services
    from bot.discord_bot import HFBot, make_intents
    from bot.generation.builder import api_endpoints
    from bot.generation.endpoints import unreachable
    from bot.settings import Settings
    from bot.voice.manager import VoiceManager, make_engine

    phases["import"] = time.perf_counter()
    settings = Settings()
    voice = VoiceManager(make_engine(settings.tts_engine), settings.voice_idle_seconds)
    async with await Services.open(settings, voice=voice) as services:
        phases["services"] = time.perf_counter()
        await unreachable(api_endpoints(services.registry))
        bot = HFBot(services, make_intents())
        async with bot:
            await bot.setup_hook()
            phases["ready"] = time.perf_counter()
            report(phases)


async def start_chat(phases: dict[str, float]) -> None:
    from bot.__main__ import main

    phases["import"] = time.perf_counter()
    await main(["chat", "--prompt", "Hello"])
    phases["ready"] = time.perf_counter()
    report(phases)


def report(phases: dict[str, float]) -> None:
    start = phases.pop("start")
    seconds = {name: round(at - start, 3) for name, at in phases.items()}
    loaded = [name for name in WATCHED if sys.modules.get(name) is not None]
    cpu = os.times()
    line = {
        "seconds": seconds,
        "cpu_seconds": round(cpu.user + cpu.system, 3),
        "memory_kib": memory_kib(),
        "modules": loaded,
    }
    print("STARTUP " + json.dumps(line), flush=True)


def main() -> None:
    phases = {"start": time.perf_counter()}
    if "--block-local" in sys.argv:
        block_local()
    mode = sys.argv[1]
    try:
        asyncio.run(start_bot(phases) if mode == "bot" else start_chat(phases))
    except Exception as exc:  # the start-up's own error, for the caller to read
        print("STARTUP-FAILED " + json.dumps({"type": type(exc).__name__, "message": str(exc)}), flush=True)
        sys.exit(1)


if __name__ == "__main__":
    main()
