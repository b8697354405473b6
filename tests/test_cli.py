"""The command line: database upgrade, and a clear message (no traceback) for a bad model name."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from pathlib import Path


def run(args: list[str], db: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "DATABASE_URL": f"sqlite+aiosqlite:///{db}", "LOG_LEVEL": "WARNING", "DISCORD_TOKEN": ""}
    return subprocess.run([sys.executable, "-m", "bot", *args], env=env, capture_output=True, text=True, timeout=120)


def test_db_upgrade_creates_the_schema(tmp_path: Path) -> None:
    db = tmp_path / "nested" / "bot.db"
    result = run(["db", "upgrade"], db)
    assert result.returncode == 0, result.stderr
    assert "newest schema" in result.stdout
    tables = {r[0] for r in sqlite3.connect(db).execute("SELECT name FROM sqlite_master WHERE type='table'")}
    assert {"turns", "personas", "place_settings", "audit_log"} <= tables


def test_unknown_model_is_a_sentence_not_a_traceback(tmp_path: Path) -> None:
    result = run(["chat", "--model", "gpt-17", "--prompt", "hello"], tmp_path / "bot.db")
    assert result.returncode == 1
    assert "There is no model called `gpt-17`. Available: smollm2." in result.stderr
    assert "Traceback" not in result.stderr
