"""The cooldown shared by a sharded bot's processes, on PostgreSQL (where production keeps it)."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator

import pytest

from bot.db.database import Database
from bot.errors import BusyError
from bot.services.cooldowns import SharedCooldowns
from tests.standins.postgres import PostgresServer


@pytest.fixture
async def postgres(postgres_server: PostgresServer) -> AsyncIterator[Database]:
    opened = await Database.open(postgres_server.create_database("cooldowns"))
    yield opened
    await opened.close()


@pytest.mark.timeout(300)  # the first PostgreSQL test of a run starts the server
async def test_the_shared_cooldown_says_the_time_left(postgres: Database) -> None:
    first, other_process = SharedCooldowns(postgres, 60), SharedCooldowns(postgres, 60)
    await first.check(1)
    with pytest.raises(BusyError) as refused:
        await other_process.check(1)
    said = refused.value.user_message
    match = re.fullmatch(r"Slow down a little: you can ask again in (\d+) s\.", said)
    assert match is not None and 58 <= int(match.group(1)) <= 60  # the time left, not the time since
    await other_process.check(2)  # another user is not held
