"""The schema, as typed SQLAlchemy 2.0 models. Alembic migrations in `migrations/` own the real tables."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

# Named constraints keep migrations reproducible across SQLite (batch mode) and PostgreSQL.
NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

# SQLite only auto-increments INTEGER PRIMARY KEY; PostgreSQL gets a real BIGINT.
BigId = BigInteger().with_variant(Integer(), "sqlite")

TURN_ROLES = ("user", "assistant")


def utcnow() -> datetime:
    return datetime.now(UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


class PersonaRow(Base):
    __tablename__ = "personas"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(32))
    name_key: Mapped[str] = mapped_column(String(32), unique=True)  # lower-cased: names are case-insensitive
    description: Mapped[str] = mapped_column(String(200), default="")
    system_prompt: Mapped[str] = mapped_column(Text)
    temperature: Mapped[float | None] = mapped_column(Float)
    top_p: Mapped[float | None] = mapped_column(Float)
    top_k: Mapped[int | None] = mapped_column(Integer)
    max_tokens: Mapped[int] = mapped_column(Integer, default=512)
    voice_language: Mapped[str | None] = mapped_column(String(16))
    voice_name: Mapped[str | None] = mapped_column(String(64))
    speaking_rate: Mapped[float | None] = mapped_column(Float)
    voice_pitch: Mapped[float | None] = mapped_column(Float)
    builtin: Mapped[bool] = mapped_column(Boolean, default=False)
    created_by: Mapped[int | None] = mapped_column(BigInteger)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class TurnRow(Base):
    __tablename__ = "turns"
    __table_args__ = (
        Index("ix_turns_channel_id_id", "channel_id", "id"),
        CheckConstraint("role IN ('user', 'assistant')", name="role"),
        Index("ix_turns_status", "status"),
        CheckConstraint("status IN ('streaming', 'complete', 'truncated', 'interrupted', 'failed')", name="status"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    guild_id: Mapped[int | None] = mapped_column(BigInteger)
    channel_id: Mapped[int] = mapped_column(BigInteger)
    author_id: Mapped[int | None] = mapped_column(BigInteger)
    author_name: Mapped[str | None] = mapped_column(String(100))
    role: Mapped[str] = mapped_column(String(16))
    content: Mapped[str] = mapped_column(Text)
    model: Mapped[str | None] = mapped_column(String(200))
    persona: Mapped[str | None] = mapped_column(String(32))
    token_count: Mapped[int | None] = mapped_column(Integer)  # the answer's tokens
    prompt_tokens: Mapped[int | None] = mapped_column(Integer)  # the context it was given
    message_ids: Mapped[str | None] = mapped_column(Text)  # "channel:message,…" while and after it streams
    status: Mapped[str] = mapped_column(String(16), default="complete")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    owner: Mapped[str | None] = mapped_column(String(36))  # the process instance streaming it (see ProcessRow)
    tools_used: Mapped[str | None] = mapped_column(String(200))  # "search_history, calculate": names, never output


class PlaceSettingRow(Base):
    """Settings of one place (the global default, a guild, or a channel); NULL means 'inherit'."""

    __tablename__ = "place_settings"
    __table_args__ = (
        UniqueConstraint("scope", "scope_id", name="uq_place_settings_scope_scope_id"),
        CheckConstraint("scope IN ('global', 'guild', 'channel')", name="scope"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    scope: Mapped[str] = mapped_column(String(8))
    scope_id: Mapped[int] = mapped_column(BigInteger)  # 0 for the global row
    model: Mapped[str | None] = mapped_column(String(200))
    # Deleting a persona clears it here, so the place falls back to its parent's persona.
    persona_id: Mapped[int | None] = mapped_column(ForeignKey("personas.id", ondelete="SET NULL"))
    persona_chat: Mapped[bool | None] = mapped_column(Boolean)
    speak: Mapped[bool | None] = mapped_column(Boolean)
    auto_thread: Mapped[bool | None] = mapped_column(Boolean)  # a mention here opens a thread on the question
    listen_mode: Mapped[str | None] = mapped_column(String(8))  # a voice channel: "name", "always" or "off"
    listen_forbidden: Mapped[bool | None] = mapped_column(Boolean)  # a guild: its admins forbid listening
    time_zone: Mapped[str | None] = mapped_column(String(64))  # IANA name `current_time` gives (guild scope)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, onupdate=utcnow)


class ListenOptOutRow(Base):
    """A member who asked not to be listened to in this guild's voice channels."""

    __tablename__ = "listen_opt_outs"

    guild_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    user_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class AuditRow(Base):
    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    guild_id: Mapped[int | None] = mapped_column(BigInteger)
    actor_id: Mapped[int | None] = mapped_column(BigInteger)
    action: Mapped[str] = mapped_column(String(32))
    target: Mapped[str] = mapped_column(String(200))
    detail: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class UsageRow(Base):
    """One answer's tokens, kept apart from history so that /forget and retention never reset what was spent."""

    __tablename__ = "usage"
    __table_args__ = (
        Index("ix_usage_user_id_created_at", "user_id", "created_at"),
        Index("ix_usage_guild_id_created_at", "guild_id", "created_at"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    guild_id: Mapped[int | None] = mapped_column(BigInteger)
    channel_id: Mapped[int] = mapped_column(BigInteger)
    user_id: Mapped[int | None] = mapped_column(BigInteger)
    model: Mapped[str] = mapped_column(String(200))
    prompt_tokens: Mapped[int] = mapped_column(Integer, default=0)
    completion_tokens: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class QuotaRow(Base):
    """A server's daily token quota: for the whole server (`subject` "server") or for each member ("member")."""

    __tablename__ = "quotas"
    __table_args__ = (
        UniqueConstraint("guild_id", "subject", name="uq_quotas_guild_id_subject"),
        CheckConstraint("subject IN ('server', 'member')", name="subject"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    guild_id: Mapped[int] = mapped_column(BigInteger)
    subject: Mapped[str] = mapped_column(String(8))
    daily_tokens: Mapped[int] = mapped_column(Integer)  # 0: no quota
    updated_by: Mapped[int | None] = mapped_column(BigInteger)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, onupdate=utcnow)


class CooldownRow(Base):
    """When each user last asked, shared by every process on one PostgreSQL (per-user cooldowns)."""

    __tablename__ = "cooldowns"

    user_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    last_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class ProcessRow(Base):
    """A running bot process and its lease: it renews `heartbeat_at`; a process whose lease lapsed is gone, and its
    answers still marked streaming are left to whoever takes them over. `owner_key` names what a process is (its
    shards), so the same shards started again know the answers their previous instance left."""

    __tablename__ = "bot_processes"
    __table_args__ = (Index("ix_bot_processes_owner_key", "owner_key"),)

    instance: Mapped[str] = mapped_column(String(36), primary_key=True)
    owner_key: Mapped[str] = mapped_column(String(64))
    started_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    heartbeat_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class ToolSwitchRow(Base):
    """A server's choice for one tool; a tool with no row is on (built-ins and allowlisted MCP tools alike)."""

    __tablename__ = "tool_switches"
    __table_args__ = (UniqueConstraint("guild_id", "tool", name="uq_tool_switches_guild_id_tool"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    guild_id: Mapped[int] = mapped_column(BigInteger)
    tool: Mapped[str] = mapped_column(String(100))
    enabled: Mapped[bool] = mapped_column(Boolean)
    updated_by: Mapped[int | None] = mapped_column(BigInteger)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, onupdate=utcnow)
