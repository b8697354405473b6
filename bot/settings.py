"""Typed settings, built once in the composition root from the environment and `.env`.

Nothing else in the project reads `os.environ`. Secrets are `SecretStr`, so they never show in a repr or a log.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict
from sqlalchemy.engine import make_url

CommaList = Annotated[list[str], NoDecode]
IdList = Annotated[list[int], NoDecode]


def _split(value: object) -> list[str]:
    if isinstance(value, str):
        return [part.strip() for part in value.split(",") if part.strip()]
    return list(value) if isinstance(value, list | tuple) else []


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="ignore")

    # Discord
    discord_token: SecretStr | None = None
    dev_guild_id: int | None = None
    admin_user_ids: IdList = Field(default_factory=list)

    # Models
    default_model: str = "smollm2"
    api_models: CommaList = Field(default_factory=list)
    vision_models: CommaList = Field(default_factory=list)  # API models that take images
    local_models: CommaList = Field(default_factory=list)
    hf_token: SecretStr | None = None
    hf_base_url: str | None = None
    hf_provider: str | None = None
    hf_timeout_seconds: float = 60.0
    hf_max_retries: int = 4
    hf_retry_max_wait_seconds: float = 30.0
    api_context_tokens: int = 8192
    max_new_tokens: int = 512
    local_device: str | None = None
    model_cache_dir: Path = Path("data/models")
    local_context_tokens: int | None = None
    local_max_batch: int = 8
    local_max_waiting: int = 32
    local_max_resident: int = 2
    local_dtype: str = "auto"
    generation_seed: int | None = None
    reasoning_display: Literal["hidden", "spoiler"] = "hidden"  # a reasoning model's thinking under its answer

    # Memory
    database_url: str = "sqlite+aiosqlite:///data/bot.db"
    database_pool_size: int = 10  # PostgreSQL connections kept open per process
    database_max_overflow: int = 10  # extra connections under load
    database_pool_timeout: float = 30.0  # seconds a query waits for a free connection
    history_max_turns: int = 500
    history_max_age_days: int = 90

    # Abuse limits
    max_prompt_chars: int = 4000
    user_cooldown_seconds: float = 5.0
    guild_max_concurrent: int = 4

    # Voice
    tts_engine: str = "espeak"
    voice_idle_seconds: float = 300.0
    google_application_credentials: Path | None = None

    log_level: str = "INFO"
    log_format: Literal["text", "json"] = "text"

    # Operations
    metrics_host: str = "127.0.0.1"
    metrics_port: int | None = None  # set to serve /metrics, /healthz and /readyz
    quota_member_daily_tokens: int = 0  # default daily tokens per member per server (0: no quota)
    quota_server_daily_tokens: int = 0  # default daily tokens per server (0: no quota)

    def database_backend(self) -> str:
        return make_url(self.database_url).get_backend_name()

    @field_validator("api_models", "local_models", "vision_models", mode="before")
    @classmethod
    def _names(cls, value: object) -> list[str]:
        return _split(value)

    @field_validator("admin_user_ids", mode="before")
    @classmethod
    def _ids(cls, value: object) -> list[int]:
        return [int(part) for part in _split(value)]

    @field_validator(
        "discord_token",
        "hf_token",
        "dev_guild_id",
        "hf_base_url",
        "hf_provider",
        "local_device",
        "local_context_tokens",
        "generation_seed",
        "google_application_credentials",
        "metrics_port",
        mode="before",
    )
    @classmethod
    def _blank_is_none(cls, value: object) -> object:
        return None if value == "" else value
