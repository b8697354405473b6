"""An API-only bot starts without torch or transformers: run for real, in a process of its own.

Each test starts the bot's start-up (`tests/standins/startup.py`: the services, the model servers' check, the
bot with every extension loaded) or the playground answering one question, against the chat stand-in, and reads
which modules the process imported. Timings are bench/startup.py's business, not these tests'.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.standins.chat_server import REPLY, ChatServer
from tests.standins.startup import start_in_subprocess

LOCAL = {"torch", "transformers"}


def api_only(chat_server: ChatServer, tmp_path: Path) -> dict[str, str]:
    return {
        "DEFAULT_MODEL": "ok",
        "API_MODELS": "ok",
        "LOCAL_MODELS": "",
        "HF_BASE_URL": chat_server.url,
        "DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'bot.db'}",
        "SYNC_COMMANDS": "false",
        "METRICS_PORT": "",
    }


@pytest.mark.parametrize("mode", ["bot", "chat"])
async def test_api_only_start_imports_no_torch(mode: str, chat_server: ChatServer, tmp_path: Path) -> None:
    started = await start_in_subprocess(mode, api_only(chat_server, tmp_path), tmp_path)
    assert started.ok, started.output
    assert LOCAL.isdisjoint(started.report["modules"]), started.report
    assert "mcp" not in started.report["modules"]  # no MCP servers configured: the SDK is not imported either
    if mode == "chat":
        assert REPLY in started.output  # the playground really answered through the API


async def test_without_the_local_extra_the_api_bot_answers(chat_server: ChatServer, tmp_path: Path) -> None:
    started = await start_in_subprocess("chat", api_only(chat_server, tmp_path), tmp_path, block_local=True)
    assert started.ok, started.output
    assert REPLY in started.output


async def test_a_local_model_without_the_local_extra_is_a_clear_config_error(
    chat_server: ChatServer, tmp_path: Path
) -> None:
    settings = {**api_only(chat_server, tmp_path), "DEFAULT_MODEL": "smollm2"}
    started = await start_in_subprocess("bot", settings, tmp_path, block_local=True)
    assert not started.ok
    assert started.report["type"] == "ConfigError"
    assert started.report["message"].startswith(
        "Local model(s) smollm2 are configured, but the `local` extra (torch, transformers) is not installed."
    )


async def test_a_second_start_finds_the_schema_at_head_without_alembic(chat_server: ChatServer, tmp_path: Path) -> None:
    first = await start_in_subprocess("bot", api_only(chat_server, tmp_path), tmp_path)
    again = await start_in_subprocess("bot", api_only(chat_server, tmp_path), tmp_path)
    assert first.ok and again.ok, first.output + again.output
    assert "alembic" in first.report["modules"]  # a fresh database is migrated
    assert "alembic" not in again.report["modules"]
