"""Two bot processes on one PostgreSQL, 500 questions each at once, answered by a local OpenAI-compatible server.

Each process is a full service stack (the bot's composition root) driving the one answer pipeline with a recording
surface, over 20 channels; both start in the same instant. Printed per process and in total: answered with the full
text, refused (with the message shown), lost (neither: must be 0), internal errors (must be 0), and the stored
turns (must be two per answered question), plus wall time.

    python bench/two_processes.py [--questions 500]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import text  # noqa: E402

from bot.db.database import Database  # noqa: E402
from tests.standins.chat_server import ChatServer  # noqa: E402
from tests.standins.postgres import PostgresServer, find_bin_dir  # noqa: E402

WORKER = """
import asyncio, json, sys, time
from bot.answers.question import Question
from bot.answers.surface import NO_CONTROLS
from bot.answers.service import GENERIC
from bot.errors import StoreBusyError
STORE_BUSY = StoreBusyError().user_message
from bot.app import Services
from bot.domain import Asker, Place
from bot.settings import Settings
from tests.standins.chat_server import REPLY

class Surface:
    def __init__(self):
        self.messages, self.refusal = [], None
    def lane(self, pacers, channel_id):
        return pacers.for_channel(channel_id)
    async def acknowledge(self, queued): pass
    async def waiting(self): pass
    async def refuse(self, message): self.refusal = message
    async def note(self, message): pass
    def sink(self): return self
    async def create(self, page):
        self.messages.append(page.text()); return len(self.messages) - 1
    async def edit(self, handle, page): self.messages[handle] = page.text()
    async def player(self): raise RuntimeError
    def controls(self, question, actions): return NO_CONTROLS
    async def finished(self, outcome): pass

async def main(url, chat_url, who, count, start_at):
    settings = Settings(_env_file=None, database_url=url, api_models=["ok"], default_model="ok",
                        hf_base_url=chat_url, hf_token="bench", user_cooldown_seconds=0,
                        guild_max_concurrent=count)
    services = await Services.open(settings)
    await asyncio.sleep(max(0.0, start_at - time.time()))
    surfaces = [Surface() for _ in range(count)]
    started = time.time()
    await asyncio.gather(*(
        services.answers.answer(
            Question(Place(1 + i % 2, 500 + i % 20), Asker(10_000 * who + i, f"u{i}"), f"question {who}-{i}", "ask"), s)
        for i, s in enumerate(surfaces)))
    answered = sum(1 for s in surfaces if s.messages and s.messages[0].startswith(REPLY))
    errors = sum(1 for s in surfaces if s.refusal in (GENERIC, STORE_BUSY))
    refused = sum(1 for s in surfaces if s.refusal is not None) - errors
    print(json.dumps({"answered": answered, "refused": refused, "errors": errors,
                      "lost": count - answered - refused - errors, "seconds": time.time() - started}), flush=True)
    await services.close()

asyncio.run(main(sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), float(sys.argv[5])))
"""


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--questions", type=int, default=500)
    args = parser.parse_args()
    bin_dir = find_bin_dir()
    if bin_dir is None:
        print("skipped: no PostgreSQL server binaries (initdb) on this machine")
        return
    server = PostgresServer(bin_dir)
    chat = await ChatServer(chunk_delay=0.01).start()
    try:
        url = server.start()
        db = await Database.open(url)  # migrated once here; the workers find it at head
        start_at = time.time() + 8
        workers = [
            await asyncio.create_subprocess_exec(
                sys.executable,
                "-c",
                WORKER,
                url,
                chat.url,
                str(who),
                str(args.questions),
                str(start_at),
                cwd=ROOT,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
            )
            for who in (1, 2)
        ]
        results = []
        for who, worker in enumerate(workers, 1):
            out, err = await worker.communicate()
            if worker.returncode != 0:
                print(f"process {who} failed:\n{err.decode()[-2000:]}")
                return
            results.append(json.loads(out.decode().strip().splitlines()[-1]))
        async with db.engine.connect() as conn:
            stored = await conn.scalar(text("SELECT count(*) FROM turns"))
            complete = await conn.scalar(
                text("SELECT count(*) FROM turns WHERE role = 'assistant' AND status = 'complete'")
            )
        await db.close()
        for who, r in enumerate(results, 1):
            print(
                f"process {who}: {args.questions} questions at once: answered in full {r['answered']} | refused "
                f"{r['refused']} | lost {r['lost']} | internal errors {r['errors']} | {r['seconds']:.1f} s"
            )
        total = {k: sum(r[k] for r in results) for k in ("answered", "refused", "lost", "errors")}
        print(
            f"total: answered {total['answered']} | refused {total['refused']} | lost {total['lost']} | internal "
            f"errors {total['errors']} | stored turns {stored} ({complete} complete answers; expected "
            f"{2 * total['answered']} turns)"
        )
    finally:
        await chat.stop()
        server.stop()


if __name__ == "__main__":
    asyncio.run(main())
