"""SIGKILL in the middle of a streamed answer: after restart the database is clean and nothing is half-written."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy import text

from bot.db.database import Database
from tests.conftest import MODEL_CACHE

# A bot process killed mid-answer and started again: longer than the per-test limit allows.
pytestmark = pytest.mark.timeout(900)

PROMPT = "Write a long story about a dragon who learns to bake bread."


def _env(db_file: Path) -> dict[str, str]:
    return {
        **os.environ,
        "DATABASE_URL": f"sqlite+aiosqlite:///{db_file}",
        "MODEL_CACHE_DIR": str(MODEL_CACHE),
        "LOG_LEVEL": "WARNING",
        "DISCORD_TOKEN": "",
    }


def _start_playground(db_file: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "bot", "chat", "--prompt", PROMPT],
        env=_env(db_file),
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
    # The user's turn, and a record that an answer was in flight — never half an answer passed off as complete.
    assert [tuple(r) for r in rows] == [("user", PROMPT, "complete"), ("assistant", "", "streaming")]

    # The next run tidies what the crash left (nothing of the answer was kept) and answers from a clean history.
    again = await asyncio.to_thread(
        subprocess.run,
        [sys.executable, "-m", "bot", "chat", "--prompt", "What is 2 + 2?", "--continue"],
        env=_env(db_file),
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert again.returncode == 0, again.stderr
    db = await Database.open(f"sqlite+aiosqlite:///{db_file}")
    async with db.engine.connect() as conn:
        rows = (await conn.execute(text("SELECT role, status FROM turns ORDER BY id"))).all()
    await db.close()
    assert [tuple(r) for r in rows] == [("user", "complete"), ("user", "complete"), ("assistant", "complete")]
