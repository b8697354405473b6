"""Running Alembic from the bot: the schema always comes from the migrations, never `create_all`.

Alembic (with Mako) costs a quarter of a second to import, and almost every start finds the schema already at
head. So the head is read from the migration files themselves and compared with the database's `alembic_version`
first; Alembic is imported and run only when there is something to upgrade (or the check cannot tell).
"""

from __future__ import annotations

import asyncio
import logging
import re
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine

if TYPE_CHECKING:
    from alembic.config import Config

log = logging.getLogger(__name__)

# Beside `bot/` in a checkout; installed, the `migrations` directory sits beside the `bot` package too.
MIGRATIONS = Path(__file__).resolve().parents[2] / "migrations"
_REVISION = re.compile(r"^revision\b[^=]*=\s*['\"]([^'\"]+)['\"]", re.M)
_DOWN_REVISION = re.compile(r"^down_revision\b[^=]*=(.*)$", re.M)
_QUOTED = re.compile(r"['\"]([^'\"]+)['\"]")


def alembic_config(database_url: str) -> Config:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["database_url"] = database_url
    return config


def upgrade_blocking(database_url: str, revision: str = "head") -> None:
    from alembic import command

    command.upgrade(alembic_config(database_url), revision)


async def upgrade(database_url: str, revision: str = "head") -> None:
    """Alembic's env runs its own event loop, so it gets a thread of its own."""
    await asyncio.to_thread(upgrade_blocking, database_url, revision)


def head_revision(versions: Path = MIGRATIONS / "versions") -> str | None:
    """The one revision no other migration builds on (None when there are several heads, or none)."""
    revisions: set[str] = set()
    parents: set[str] = set()
    for script in versions.glob("*.py"):
        source = script.read_text(encoding="utf-8")
        revision, down = _REVISION.search(source), _DOWN_REVISION.search(source)
        if revision is None:
            continue
        revisions.add(revision.group(1))
        if down is not None:
            parents.update(_QUOTED.findall(down.group(1)))
    heads = revisions - parents
    return heads.pop() if len(heads) == 1 else None


async def at_head(engine: AsyncEngine) -> bool:
    """Whether the database already stands at the migrations' head (a fresh one, without the table, does not)."""
    head = await asyncio.to_thread(head_revision)
    if head is None:
        return False
    try:
        async with engine.connect() as connection:
            stamped = (await connection.execute(text("SELECT version_num FROM alembic_version"))).scalars().all()
    except DBAPIError:
        return False
    return list(stamped) == [head]


async def upgrade_unless_at_head(engine: AsyncEngine, database_url: str) -> None:
    if await at_head(engine):
        log.debug("Database schema already at head; Alembic not needed")
        return
    await upgrade(database_url)
