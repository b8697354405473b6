"""Place settings the bot's commands change: the model, persona conversation, speaking replies, auto-threads."""

from __future__ import annotations

from bot.db import audit, listening
from bot.db.database import Database
from bot.db.place_settings import Resolved, change_place, resolve
from bot.domain import Place, Scope
from bot.errors import BotError, InvalidInputError
from bot.generation.registry import ModelEntry, ModelRegistry


def check_scope(place: Place, scope: Scope) -> None:
    if scope == "guild" and place.guild_id is None:
        raise InvalidInputError("Server-wide settings only make sense inside a server.")


class PlaceSettingsService:
    def __init__(self, db: Database, registry: ModelRegistry) -> None:
        self.db, self.registry = db, registry

    async def resolved(self, place: Place) -> Resolved:
        async with self.db.sessions() as session:
            return await resolve(session, place)

    async def model_in_force(self, place: Place) -> tuple[str, str]:
        """(model name, where it comes from) with the configured default as the last resort."""
        resolved = await self.resolved(place)
        if resolved.model and self.registry.is_known(resolved.model):
            return resolved.model, resolved.model_from
        return self.registry.default_model, "default"

    async def set_model(self, place: Place, scope: Scope, name: str, actor_id: int | None) -> ModelEntry:
        """Switch the model; a local model is loaded first, so a failing one leaves the current in place."""
        entry = self.registry.entry(name)
        if self.registry.needs_loading(entry.name):
            await self.registry.backend(entry.name).context_window()  # loads it; a failure raises here
        check_scope(place, scope)
        async with self.db.writes.begin() as session:
            await change_place(session, place, scope, actor_id, "model.set", entry.name, model=entry.name)
        return entry

    async def recent_changes(self, guild_id: int | None, limit: int = 15) -> list[audit.AuditEntry]:
        async with self.db.sessions() as session:
            return await audit.recent(session, guild_id, limit)

    async def set_flag(self, place: Place, scope: Scope, flag: str, value: bool | None, actor_id: int | None) -> None:
        if flag not in ("persona_chat", "speak", "auto_thread"):
            raise BotError(f"Unknown setting `{flag}`.")
        check_scope(place, scope)
        async with self.db.writes.begin() as session:
            await change_place(session, place, scope, actor_id, f"{flag}.set", str(value), **{flag: value})

    async def set_listen_mode(self, place: Place, mode: str, actor_id: int | None) -> None:
        """Listening in a voice channel: "name", "always" or "off" (audited)."""
        if mode not in ("name", "always", "off"):
            raise BotError(f"Unknown listening mode `{mode}`.")
        async with self.db.writes.begin() as session:
            await change_place(session, place, "channel", actor_id, "listen.set", mode, listen_mode=mode)

    async def set_listen_forbidden(self, place: Place, forbidden: bool, actor_id: int | None) -> None:
        """A server's admins forbid (or allow again) listening in all its voice channels (audited)."""
        async with self.db.writes.begin() as session:
            await change_place(
                session, place, "guild", actor_id, "listen.forbid", str(forbidden), listen_forbidden=forbidden
            )

    async def set_listen_opt_out(self, guild_id: int, user_id: int, out: bool) -> None:
        async with self.db.writes.begin() as session:
            await listening.set_opt_out(session, guild_id, user_id, out)

    async def listen_opt_outs(self, guild_id: int) -> set[int]:
        async with self.db.sessions() as session:
            return await listening.opted_out(session, guild_id)
