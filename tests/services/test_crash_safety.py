"""SIGKILL in the middle of a streamed answer: after restart the database is clean and nothing is half-written."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from sqlalchemy import text

from bot.db.database import Database
from tests.conftest import MODEL_CACHE

PROMPT = "Write a long story about a dragon who learns to bake bread."


def _start_playground(db_file: Path) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite+aiosqlite:///{db_file}",
        "MODEL_CACHE_DIR": str(MODEL_CACHE),
        "LOG_LEVEL": "WARNING",
        "DISCORD_TOKEN": "",
    }
    return subprocess.Popen(
        [sys.executable, "-m", "bot", "chat", "--prompt", PROMPT],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
    )


def _wait_for_streamed_text(proc: subprocess.Popen[bytes], chars: int, timeout: float = 120) -> bytes:
    assert proc.stdout is not None
    os.set_blocking(proc.stdout.fileno(), False)
    seen = b""
    deadline = time.monotonic() + timeout
    while len(seen) < chars:
        assert time.monotonic() < deadline, "the playground never started streaming"
        assert proc.poll() is None, "the playground finished before it could be killed"
        seen += proc.stdout.read() or b""
        time.sleep(0.02)
    return seen


async def test_sigkill_mid_answer_leaves_a_clean_database(tmp_path: Path) -> None:
    db_file = tmp_path / "bot.db"
    proc = _start_playground(db_file)
    try:
        streamed = _wait_for_streamed_text(proc, chars=40)
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    assert len(streamed) >= 40

    db = await Database.open(f"sqlite+aiosqlite:///{db_file}")  # reopening also runs migrations: a no-op
    async with db.engine.connect() as conn:
        assert (await conn.scalar(text("PRAGMA integrity_check"))) == "ok"
        rows = (await conn.execute(text("SELECT role, content, status FROM turns ORDER BY id"))).all()
    await db.close()
    assert [tuple(r) for r in rows] == [("user", PROMPT, "complete")]  # the user turn, and no half an answer
