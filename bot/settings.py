"""Typed settings, built once in the composition root from the environment and `.env`.

Nothing else in the project reads `os.environ`. Secrets are `SecretStr`, so they never show in a repr or a log.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Annotated, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from dotenv import dotenv_values
from pydantic import BaseModel, Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict
from sqlalchemy.engine import make_url

from bot.errors import BotError

CommaList = Annotated[list[str], NoDecode]
IdList = Annotated[list[int], NoDecode]
IdRange = Annotated[list[int] | None, NoDecode]


def _split(value: object) -> list[str]:
    if isinstance(value, str):
        return [part.strip() for part in value.split(",") if part.strip()]
    return [str(part).strip() for part in value] if isinstance(value, list | tuple) else []  # [0, 1] from code


class McpServerConfig(BaseModel):
    """One MCP server: a stdio command (with args and env) or a streamable-HTTP URL, and the tools it may offer."""

    name: str = Field(pattern=r"^[A-Za-z0-9_-]{1,32}$")
    command: str | None = None
    args: list[str] = Field(default_factory=list)
    env: dict[str, SecretStr] = Field(default_factory=dict)  # the server's own environment (never the bot's); masked
    url: str | None = None
    allowlist: list[str] = Field(default_factory=list)  # tool names offered to models; none listed: none offered

    @model_validator(mode="after")
    def _one_transport(self) -> McpServerConfig:
        if (self.command is None) == (self.url is None):
            raise ValueError(f"MCP server {self.name!r} needs exactly one of `command` or `url`")
        return self


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="ignore")

    # Discord
    discord_token: SecretStr | None = None
    dev_guild_id: int | None = None
    shard_count: int | None = None  # total shards of the bot (all processes); unset: one process, Discord's advice
    shard_ids: IdRange = None  # the shards this process runs, e.g. "0-3" or "4,5"; unset: all of them
    sync_commands: bool = True  # exactly one process of a sharded bot should sync the slash commands
    discord_proxy: str | None = None  # send Discord REST through this HTTP proxy (a shared rate-limit proxy)
    admin_user_ids: IdList = Field(default_factory=list)
    message_layout: Literal["components", "classic"] = "components"  # Components V2 (4,000 characters) or content

    # Models
    default_model: str = "smollm2"
    api_models: CommaList = Field(default_factory=list)
    vision_models: CommaList = Field(default_factory=list)  # API models that take images
    tool_models: CommaList = Field(default_factory=list)  # API models whose server returns OpenAI `tool_calls`
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
    process_lease_seconds: float = 30.0  # a process silent this long is gone; another takes over its answers
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

    # Listening (speech to text in voice channels and voice messages)
    listening: bool = True  # the operator's switch: off, no server can turn listening on
    stt_engine: Literal["whisper", "hf", "openai"] = "whisper"
    stt_model: str | None = None  # hf/openai: the transcription model (whisper: tiny.en from its wheel)
    stt_url: str | None = None  # openai: the server's base URL; hf: a dedicated endpoint instead of providers
    stt_api_key: SecretStr | None = None  # openai: its key (hf uses HF_TOKEN)
    stt_threads: int = Field(default=2, ge=1, le=16)  # whisper: CPU threads
    wake_words: CommaList = Field(default_factory=list)  # besides the persona's name, e.g. "computer,bot"

    # Tools
    tool_max_rounds: int = Field(default=4, ge=0, le=16)  # tool rounds per answer before it must answer
    tool_timeout_seconds: float = Field(default=15.0, gt=0)  # each tool call's deadline
    tool_output_chars: int = Field(default=4000, ge=100)  # a tool's output is cut to this before the model reads it
    mcp_servers: Annotated[list[McpServerConfig], NoDecode] = Field(default_factory=list)  # JSON list, see README
    mcp_ping_seconds: float = Field(default=30.0, ge=0)  # health check of each MCP server; 0: only calls notice
    time_zone: str | None = None  # IANA name (Europe/Paris): `current_time` gives it besides UTC

    log_level: str = "INFO"
    log_format: Literal["text", "json"] = "text"

    # Operations
    metrics_host: str = "127.0.0.1"
    metrics_port: int | None = None  # set to serve /metrics, /healthz and /readyz
    quota_member_daily_tokens: int = 0  # default daily tokens per member per server (0: no quota)
    quota_server_daily_tokens: int = 0  # default daily tokens per server (0: no quota)

    def api_token(self, variable: str | None) -> str | None:
        """The token an API_MODELS entry names by its environment variable (`#VARIABLE`); HF_TOKEN without one."""
        if variable is None:
            return self.hf_token.get_secret_value() if self.hf_token else None
        value = os.environ.get(variable) or self._dotenv_value(variable)
        if not value:
            raise BotError(f"API_MODELS names the token variable {variable}, which is not set.")
        return value

    def _dotenv_value(self, variable: str) -> str | None:
        env_file = self.model_config.get("env_file")
        if not isinstance(env_file, str) or not Path(env_file).exists():
            return None
        return dotenv_values(env_file).get(variable)

    def owner_key(self) -> str:
        """What this process is, as far as its answers in flight go: the same shards started again are the same
        owner, and so know the answers their previous instance left."""
        return "shards:" + ",".join(map(str, self.shard_ids)) if self.shard_ids else "bot"

    def database_backend(self) -> str:
        return make_url(self.database_url).get_backend_name()

    @field_validator("mcp_servers", mode="before")
    @classmethod
    def _mcp(cls, value: object) -> object:
        if isinstance(value, str):
            try:
                return json.loads(value) if value.strip() else []
            except json.JSONDecodeError as exc:
                raise ValueError(f"MCP_SERVERS is not valid JSON: {exc}") from exc
        return value

    @field_validator("time_zone", mode="before")
    @classmethod
    def _zone(cls, value: object) -> object:
        if value in (None, ""):
            return None
        try:
            ZoneInfo(str(value))
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"TIME_ZONE {value!r} is not a known time zone (e.g. Europe/Paris)") from exc
        return value

    @field_validator("api_models", "local_models", "vision_models", "tool_models", "wake_words", mode="before")
    @classmethod
    def _names(cls, value: object) -> list[str]:
        return _split(value)

    @field_validator("shard_ids", mode="before")
    @classmethod
    def _range(cls, value: object) -> list[int] | None:
        """ "0-3" or "0,1,2,3" (or a mix) to [0, 1, 2, 3]."""
        ids: list[int] = []
        for part in _split(value):
            low, _, high = part.partition("-")
            ids.extend(range(int(low), int(high or low) + 1))
        return ids or None

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
        "shard_count",
        "discord_proxy",
        "stt_model",
        "stt_url",
        "stt_api_key",
        mode="before",
    )
    @classmethod
    def _blank_is_none(cls, value: object) -> object:
        return None if value == "" else value
