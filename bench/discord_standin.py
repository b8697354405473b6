"""A local stand-in for Discord's message endpoints that enforces the per-channel rate limit with real headers.

5 message creates/edits per 5 s per channel (a fixed window from the first request, as Discord's buckets work),
`X-RateLimit-*` headers on every answer and a 429 with `retry_after` past the limit. Every accepted request is
recorded with its time, so a benchmark can replay what a user saw.
"""

from __future__ import annotations

import itertools
import json
import time
from dataclasses import dataclass, field

from aiohttp import web

LIMIT, WINDOW = 5, 5.0
APPLICATION_ID = 1


@dataclass
class Bucket:
    start: float = 0.0
    used: int = 0


@dataclass
class Seen:
    at: float
    channel_id: int
    message_id: int
    content: str


@dataclass
class DiscordStandin:
    buckets: dict[int, Bucket] = field(default_factory=dict)
    seen: list[Seen] = field(default_factory=list)
    rejected: int = 0
    callbacks: dict[str, float] = field(default_factory=dict)  # interaction id -> when its acknowledgement came
    url: str = ""
    _ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1000))
    _runner: web.AppRunner | None = None

    async def start(self) -> DiscordStandin:
        app = web.Application()
        app.router.add_get("/api/v10/users/@me", self._me)
        app.router.add_post("/api/v10/channels/{channel}/messages", self._message)
        app.router.add_patch("/api/v10/channels/{channel}/messages/{message}", self._message)
        app.router.add_get("/api/v10/oauth2/applications/@me", self._application)
        app.router.add_put("/api/v10/applications/{app}/commands", self._commands)
        app.router.add_post("/api/v10/interactions/{interaction}/{token}/callback", self._callback)
        app.router.add_patch("/api/v10/webhooks/{app}/{token}/messages/{message}", self._webhook_message)
        app.router.add_post("/api/v10/webhooks/{app}/{token}", self._webhook_message)
        self._runner = web.AppRunner(app, shutdown_timeout=0.5)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.url = f"http://127.0.0.1:{site._server.sockets[0].getsockname()[1]}"  # type: ignore[union-attr]
        return self

    async def stop(self) -> None:
        if self._runner:
            await self._runner.cleanup()

    async def _me(self, _request: web.Request) -> web.Response:
        return _json({"id": "1", "username": "bench", "discriminator": "0", "avatar": None})

    async def _application(self, _request: web.Request) -> web.Response:
        owner = {"id": "2", "username": "owner", "discriminator": "0", "avatar": None}
        return _json(
            {
                "id": str(APPLICATION_ID),
                "name": "bench",
                "icon": None,
                "description": "",
                "bot_public": True,
                "bot_require_code_grant": False,
                "verify_key": "0" * 64,
                "owner": owner,
                "flags": 0,
                "team": None,
                "summary": "",
            }
        )

    async def _commands(self, request: web.Request) -> web.Response:
        commands = await request.json()
        return _json(
            [
                {**c, "id": str(100 + i), "application_id": str(APPLICATION_ID), "version": "1"}
                for i, c in enumerate(commands)
            ]
        )

    async def _callback(self, request: web.Request) -> web.Response:
        interaction = request.match_info["interaction"]
        self.callbacks.setdefault(interaction, time.monotonic())
        body = await request.json()
        deferred = body.get("type") == 5
        return _json(
            {
                "interaction": {
                    "id": interaction,
                    "type": 2,
                    "response_message_id": str(next(self._ids)),
                    "response_message_loading": deferred,
                    "response_message_ephemeral": False,
                }
            }
        )

    async def _webhook_message(self, request: web.Request) -> web.Response:
        body = await request.json() if request.can_read_body else {}
        return _json(_message_payload(7000, next(self._ids), body.get("content", "")))

    async def _message(self, request: web.Request) -> web.Response:
        channel = int(request.match_info["channel"])
        now = time.monotonic()
        bucket = self.buckets.setdefault(channel, Bucket(start=now))
        if now - bucket.start >= WINDOW:
            bucket.start, bucket.used = now, 0
        reset_after = WINDOW - (now - bucket.start)
        headers = {
            "X-RateLimit-Limit": str(LIMIT),
            "X-RateLimit-Bucket": f"channel-{channel}",
            "X-RateLimit-Reset-After": f"{reset_after:.3f}",
            "X-RateLimit-Reset": f"{time.time() + reset_after:.3f}",
        }
        if bucket.used >= LIMIT:
            self.rejected += 1
            headers.update(
                {"X-RateLimit-Remaining": "0", "Retry-After": f"{reset_after:.3f}", "X-RateLimit-Scope": "user"}
            )
            return _json(
                {"message": "You are being rate limited.", "retry_after": reset_after, "global": False},
                status=429,
                headers=headers,
            )
        bucket.used += 1
        headers["X-RateLimit-Remaining"] = str(LIMIT - bucket.used)
        body = await request.json()
        message_id = int(request.match_info.get("message") or next(self._ids))
        self.seen.append(Seen(now, channel, message_id, body.get("content", "")))
        return _json(_message_payload(channel, message_id, body.get("content", "")), headers=headers)


def _json(payload: object, status: int = 200, headers: dict[str, str] | None = None) -> web.Response:
    # discord.py parses a body as JSON only when the content type is exactly application/json.
    return web.Response(
        body=json.dumps(payload).encode(),
        status=status,
        headers={**(headers or {}), "Content-Type": "application/json"},
    )


def _message_payload(channel: int, message_id: int, content: str) -> dict[str, object]:
    return {
        "id": str(message_id),
        "channel_id": str(channel),
        "content": content,
        "type": 0,
        "tts": False,
        "mention_everyone": False,
        "mentions": [],
        "mention_roles": [],
        "attachments": [],
        "embeds": [],
        "pinned": False,
        "timestamp": "2026-01-01T00:00:00+00:00",
        "edited_timestamp": None,
        "flags": 0,
        "author": {"id": "1", "username": "bench", "discriminator": "0", "avatar": None},
    }
