"""Settings: built from the environment and `.env`, secrets never shown."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from bot.settings import Settings

ROOT = Path(__file__).resolve().parent.parent


def test_env_example_loads_with_defaults(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    shutil.copy(ROOT / ".env.example", tmp_path / ".env")
    monkeypatch.chdir(tmp_path)
    settings = Settings()
    assert settings.discord_token is None and settings.dev_guild_id is None
    assert settings.default_model == "smollm2" and settings.api_models == []
    assert settings.database_url == "sqlite+aiosqlite:///data/bot.db"


def test_every_setting_is_documented_in_env_example() -> None:
    documented = {
        line.split("=", 1)[0].lower()
        for line in (ROOT / ".env.example").read_text().splitlines()
        if "=" in line and not line.startswith("#")
    }
    assert documented == set(Settings.model_fields)


def test_lists_and_secrets(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("API_MODELS", "meta-llama/Llama-3.1-8B-Instruct, Qwen/Qwen2.5-7B-Instruct")
    monkeypatch.setenv("ADMIN_USER_IDS", "1, 22")
    monkeypatch.setenv("DISCORD_TOKEN", "discord-secret-value")
    monkeypatch.setenv("HF_TOKEN", "hf_secret_value")
    settings = Settings(_env_file=None)  # type: ignore[call-arg]
    assert settings.api_models == ["meta-llama/Llama-3.1-8B-Instruct", "Qwen/Qwen2.5-7B-Instruct"]
    assert settings.admin_user_ids == [1, 22]
    shown = repr(settings) + str(settings) + str(settings.model_dump())
    assert "discord-secret-value" not in shown and "hf_secret_value" not in shown
    assert settings.hf_token is not None and settings.hf_token.get_secret_value() == "hf_secret_value"


def test_shard_ids_from_the_environment_or_from_code(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SHARD_IDS", "0-2,5")
    assert Settings(_env_file=None).shard_ids == [0, 1, 2, 5]  # type: ignore[call-arg]
    built = Settings(_env_file=None, shard_count=2, shard_ids=[1])  # type: ignore[call-arg]
    assert built.shard_ids == [1] and built.owner_key() == "shards:1"
