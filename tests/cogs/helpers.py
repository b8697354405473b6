"""Scenario builders shared by the cog tests."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import discord


@dataclass
class Server:
    guild: Any
    channel: Any
    admin: Any  # Manage Server
    member: Any  # no special permissions


def server(env: Any) -> Server:
    guild = env.create_guild()
    channel = guild.create_text_channel("general")
    admins = guild.create_role("Admins", permissions=discord.Permissions(manage_guild=True, manage_channels=True))
    admin = guild.add_member(env.create_user("ada"), roles=[admins])
    member = guild.add_member(env.create_user("bob"))
    return Server(guild, channel, admin, member)


def message_requests(env: Any) -> list[Any]:
    """Every create/edit of a message the bot made (channel and interaction webhooks alike)."""
    return [
        r
        for r in env.http_requests
        if r.method in ("POST", "PATCH")
        and isinstance(r.json, dict)
        and "content" in r.json
        and not r.path.endswith("/callback")
    ]


def told_privately(result: Any) -> str:
    """What only the asker read when a slash question was refused after its acknowledgement: the public
    "thinking…" is gone, and one ephemeral follow-up says why."""
    assert result.response is None, "the public deferred response must be gone"
    assert [f.ephemeral for f in result.followups] == [True]
    return str(result.followups[0].content)
