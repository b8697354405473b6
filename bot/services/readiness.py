"""What `/readyz` asks of the parts below Discord: the database answers, the default model is loaded, model servers
are reachable. Each check returns None when ready, else why not; the bot adds its gateway check."""

from __future__ import annotations

from sqlalchemy import text

from bot.db.database import Database
from bot.errors import StoreBusyError
from bot.generation.builder import api_endpoints
from bot.generation.endpoints import unreachable
from bot.generation.registry import ModelRegistry
from bot.ops.checks import Check


def store_checks(db: Database, registry: ModelRegistry) -> dict[str, Check]:
    async def database() -> str | None:
        try:
            async with db.sessions() as session:
                await session.execute(text("SELECT 1"))
        except StoreBusyError as exc:  # the operator wants the store's own reason, not the sentence for users
            return f"{type(exc.__cause__).__name__}: {exc.__cause__}"[:200]
        return None

    async def model() -> str | None:
        name = registry.default_model
        return f"default model {name} is still loading" if registry.needs_loading(name) else None

    async def endpoints() -> str | None:
        down = await unreachable(api_endpoints(registry))
        return "; ".join(f"{url} unreachable ({why})" for url, why in down.items()) or None

    return {"database": database, "default_model": model, "model_endpoints": endpoints}
