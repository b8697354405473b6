"""The Discord bot (filled in by the Discord issue)."""

from bot.settings import Settings


async def run_discord_bot(settings: Settings) -> int:
    raise NotImplementedError("the Discord layer is not built yet")
