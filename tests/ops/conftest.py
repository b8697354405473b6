from __future__ import annotations

from collections.abc import AsyncIterator

import aiohttp
import pytest

from bot.discord_bot import HFBot
from bot.ops.server import OpsServer
from tests.cogs.conftest import message_layout, services, simcord_bot  # noqa: F401  (the cog tests' bot and services)


@pytest.fixture
async def ops(request: pytest.FixtureRequest) -> AsyncIterator[OpsServer]:
    bot: HFBot = request.getfixturevalue("simcord_bot")
    server = OpsServer("127.0.0.1", 0, bot.readiness_checks())
    await server.start()
    yield server
    await server.stop()


async def get(server: OpsServer, path: str) -> tuple[int, str]:
    async with aiohttp.ClientSession() as session, session.get(f"http://127.0.0.1:{server.port}{path}") as response:
        return response.status, await response.text()
