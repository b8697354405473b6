"""Every extension loads and application command names are unique."""

from __future__ import annotations

from collections import Counter

from bot.discord_bot import HFBot, extension_names


async def test_every_extension_loads_and_commands_are_unique(simcord_env, simcord_bot: HFBot) -> None:
    assert set(simcord_bot.extensions) == set(extension_names())
    assert {"cogs.ask", "cogs.model", "cogs.persona", "cogs.conversation", "cogs.memory", "cogs.errors"} <= set(
        extension_names()
    )
    top = [c.name for c in simcord_bot.tree.get_commands()]
    assert Counter(top).most_common(1)[0][1] == 1
    assert {"ask", "model", "persona", "forget"} <= set(top)
    for group in simcord_bot.tree.get_commands():
        children = [c.name for c in getattr(group, "commands", [])]
        assert len(children) == len(set(children))


async def test_client_never_pings(simcord_bot: HFBot) -> None:
    mentions = simcord_bot.allowed_mentions
    assert mentions is not None
    assert (mentions.everyone, mentions.users, mentions.roles, mentions.replied_user) == (False, False, False, False)
