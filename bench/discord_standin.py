"""A local stand-in for Discord's message endpoints that enforces rate limits with real headers.

Per channel, 5 message creates per 5 s and 5 message edits per 5 s, counted apart but announced under one bucket id
(as Discord does; `same_bucket_id=False` gives them ids of their own); per interaction token, 5 webhook requests per
2 s; and a hidden per-channel sub-limit on interaction webhooks that shows up only as a `X-RateLimit-Scope: shared`
429. Windows are fixed from their first request, as Discord's buckets work. Every accepted request is recorded with
its time, so a benchmark can replay what a user saw.

It refuses what Discord refuses about a message's shape: content over 2,000 characters; with the Components V2
flag, any content or embeds, or more than 4,000 characters across its text displays; and an edit that drops the
flag from a message that has it.
"""

from __future__ import annotations

import itertools
import json
import time
from dataclasses import dataclass, field

from aiohttp import web

LIMIT, WINDOW = 5, 5.0
WEBHOOK_LIMIT, WEBHOOK_WINDOW = 5, 2.0
SHARED_LIMIT, SHARED_WINDOW = 12, 5.0  # hidden: interaction requests per channel
APPLICATION_ID = 1
COMPONENTS_V2 = 1 << 15
CONTENT_LIMIT, TEXT_DISPLAY_LIMIT = 2000, 4000


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
    token: str = ""
    flags: int = 0
    buttons: tuple[str, ...] = ()  # the labels of the message's buttons


def _walk(components: object) -> list[dict[str, object]]:
    found: list[dict[str, object]] = []
    for component in components if isinstance(components, list) else []:
        if isinstance(component, dict):
            found.append(component)
            found.extend(_walk(component.get("components")))
    return found


def shown_text(body: dict[str, object]) -> str:
    """What a reader sees as text: the content, or the text displays one after another."""
    texts = [str(c.get("content", "")) for c in _walk(body.get("components")) if c.get("type") == 10]
    return "\n\n".join(texts) if texts else str(body.get("content") or "")


def refusal(body: dict[str, object], previous_flags: int | None) -> str | None:
    """Why Discord would refuse this message body (None when it would not)."""
    flags = int(body.get("flags") or 0)
    if "flags" not in body and previous_flags is not None:
        flags = previous_flags  # an edit that does not mention flags keeps them
    content = str(body.get("content") or "")
    if previous_flags is not None and previous_flags & COMPONENTS_V2 and not flags & COMPONENTS_V2:
        return "the components_v2 flag cannot be removed"
    if flags & COMPONENTS_V2:
        if content or body.get("embeds"):
            return "components_v2 messages cannot contain content or embeds"
        total = sum(len(str(c.get("content", ""))) for c in _walk(body.get("components")) if c.get("type") == 10)
        if total > TEXT_DISPLAY_LIMIT:
            return f"text displays hold {total} characters, over {TEXT_DISPLAY_LIMIT}"
    elif len(content) > CONTENT_LIMIT:
        return f"content of {len(content)} characters, over {CONTENT_LIMIT}"
    return None


def buttons(body: dict[str, object]) -> tuple[str, ...]:
    return tuple(str(c.get("label", "")) for c in _walk(body.get("components")) if c.get("type") == 2)


@dataclass
class DiscordStandin:
    same_bucket_id: bool = True
    buckets: dict[str, Bucket] = field(default_factory=dict)
    seen: list[Seen] = field(default_factory=list)
    rejected: int = 0
    rejected_by: dict[str, int] = field(default_factory=dict)  # "route (scope)" -> 429s
    channel_of_token: dict[str, int] = field(default_factory=dict)  # interaction token -> its channel
    shared_times: dict[int, list[float]] = field(default_factory=dict)
    callbacks: dict[str, float] = field(default_factory=dict)  # interaction id -> when its acknowledgement came
    original: dict[str, dict[str, object]] = field(default_factory=dict)  # token -> its callback body
    original_ids: dict[str, int] = field(default_factory=dict)  # token -> the id of its response message
    flags_of: dict[int, int] = field(default_factory=dict)  # message id -> its flags
    refused_shapes: list[str] = field(default_factory=list)  # bodies refused for their shape, and why
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
        app.router.add_get("/api/v10/webhooks/{app}/{token}/messages/{message}", self._webhook_get)
        app.router.add_delete("/api/v10/webhooks/{app}/{token}/messages/{message}", self._webhook_delete)
        app.router.add_post("/api/v10/webhooks/{app}/{token}", self._webhook_message)
        app.router.add_put("/api/v10/channels/{channel}/messages/{message}/reactions/{emoji}/@me", self._empty)
        app.router.add_delete("/api/v10/channels/{channel}/messages/{message}/reactions/{emoji}/@me", self._empty)
        app.router.add_post("/api/v10/channels/{channel}/typing", self._empty)
        app.router.add_get("/_records", self._records)  # for a bench that runs this in a process of its own
        app.router.add_post("/_tokens", self._tokens)
        self._runner = web.AppRunner(app, shutdown_timeout=0.5)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.url = f"http://127.0.0.1:{site._server.sockets[0].getsockname()[1]}"  # type: ignore[union-attr]
        return self

    async def stop(self) -> None:
        if self._runner:
            await self._runner.cleanup()

    async def _records(self, _request: web.Request) -> web.Response:
        seen = [vars(s) for s in self.seen]
        return _json(
            {
                "callbacks": self.callbacks,
                "original": self.original,
                "original_ids": self.original_ids,
                "seen": seen,
                "rejected_by": self.rejected_by,
            }
        )

    async def _tokens(self, request: web.Request) -> web.Response:
        self.channel_of_token.update({str(k): int(v) for k, v in (await request.json()).items()})
        return _json({})

    async def _empty(self, _request: web.Request) -> web.Response:
        return web.Response(status=204)

    async def _webhook_get(self, request: web.Request) -> web.Response:
        token = request.match_info["token"]
        message_id = self.original_ids.setdefault(token, next(self._ids))
        payload = _message_payload(self.channel_of_token.get(token, 0), message_id, "")
        data = self.original.get(token, {}).get("data") or {}
        payload["flags"] = 128 | (int(data.get("flags") or 0) & 64)  # type: ignore[union-attr]
        return _json(payload)

    async def _webhook_delete(self, request: web.Request) -> web.Response:
        return web.Response(status=204)

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
                {"description": "", **c, "id": str(100 + i), "application_id": str(APPLICATION_ID), "version": "1"}
                for i, c in enumerate(commands)
            ]
        )

    async def _callback(self, request: web.Request) -> web.Response:
        interaction = request.match_info["interaction"]
        self.callbacks.setdefault(interaction, time.monotonic())
        body = await request.json()
        self.original[request.match_info["token"]] = body
        deferred = body.get("type") == 5
        message_id = self.original_ids.setdefault(request.match_info["token"], next(self._ids))
        ephemeral = bool(int((body.get("data") or {}).get("flags") or 0) & 64)
        return _json(
            {
                "interaction": {
                    "id": interaction,
                    "type": 2,
                    "response_message_id": str(message_id),
                    "response_message_loading": deferred,
                    "response_message_ephemeral": ephemeral,
                }
            }
        )

    def _limit(self, key: str, bucket_id: str, limit: int, window: float, route: str) -> web.Response | dict[str, str]:
        """Count one request in its bucket: its headers, or the 429 that refuses it."""
        now = time.monotonic()
        bucket = self.buckets.setdefault(key, Bucket(start=now))
        if now - bucket.start >= window:
            bucket.start, bucket.used = now, 0
        reset_after = window - (now - bucket.start)
        headers = {
            "X-RateLimit-Limit": str(limit),
            "X-RateLimit-Bucket": bucket_id,
            "X-RateLimit-Reset-After": f"{reset_after:.3f}",
            "X-RateLimit-Reset": f"{time.time() + reset_after:.3f}",
        }
        if bucket.used >= limit:
            headers.update({"X-RateLimit-Remaining": "0", "X-RateLimit-Scope": "user"})
            return self._refuse(route, "user", reset_after, headers)
        bucket.used += 1
        headers["X-RateLimit-Remaining"] = str(limit - bucket.used)
        return headers

    def _refuse(self, route: str, scope: str, retry_after: float, headers: dict[str, str]) -> web.Response:
        self.rejected += 1
        self.rejected_by[f"{route} ({scope})"] = self.rejected_by.get(f"{route} ({scope})", 0) + 1
        # discord.py treats a 429 without Cloudflare's Via header as a ban and gives up.
        headers = {**headers, "Retry-After": f"{retry_after:.3f}", "X-RateLimit-Scope": scope, "Via": "1.1 google"}
        body = {"message": "You are being rate limited.", "retry_after": retry_after, "global": False}
        return _json(body, status=429, headers=headers)

    async def _webhook_message(self, request: web.Request) -> web.Response:
        token = request.match_info["token"]
        editing = request.method == "PATCH"
        route = "PATCH webhook message" if editing else "POST webhook"
        channel = self.channel_of_token.get(token, 0)
        now = time.monotonic()
        recent = [t for t in self.shared_times.get(channel, []) if now - t < SHARED_WINDOW]
        if channel and len(recent) >= SHARED_LIMIT:
            return self._refuse(route, "shared", recent[0] + SHARED_WINDOW - now, {})
        limited = self._limit(f"webhook-{token}", f"webhook-{token}", WEBHOOK_LIMIT, WEBHOOK_WINDOW, route)
        if isinstance(limited, web.Response):
            return limited
        self.shared_times[channel] = [*recent, now]
        body = await _body(request)
        message = request.match_info.get("message")
        message_id = next(self._ids) if message in (None, "@original") else int(message)
        if message == "@original":
            message_id = self.original_ids.setdefault(token, message_id)
        refused = self._shape(body, message_id, editing)
        if refused is not None:
            return refused
        flags = self.flags_of[message_id]
        self.seen.append(Seen(now, channel, message_id, shown_text(body), token, flags, buttons(body)))
        return _json(_message_payload(channel, message_id, str(body.get("content", ""))), headers=limited)

    def _shape(self, body: dict[str, object], message_id: int, editing: bool) -> web.Response | None:
        """A 400 for a body Discord would refuse; otherwise the message's flags are remembered."""
        previous = self.flags_of.get(message_id) if editing else None
        why = refusal(body, previous)
        if why is not None:
            self.refused_shapes.append(why)
            return _json({"message": f"Invalid Form Body: {why}", "code": 50035}, status=400)
        flags = int(body.get("flags") or 0)
        self.flags_of[message_id] = flags if "flags" in body or previous is None else previous
        return None

    async def _message(self, request: web.Request) -> web.Response:
        channel = int(request.match_info["channel"])
        editing = request.method == "PATCH"
        kind = "edit" if editing else "create"
        bucket_id = f"channel-{channel}" if self.same_bucket_id else f"channel-{channel}-{kind}"
        route = "PATCH channel message" if editing else "POST channel message"
        limited = self._limit(f"channel-{channel}:{kind}", bucket_id, LIMIT, WINDOW, route)
        if isinstance(limited, web.Response):
            return limited
        body = await _body(request)
        message_id = int(request.match_info.get("message") or next(self._ids))
        refused = self._shape(body, message_id, editing)
        if refused is not None:
            return refused
        flags = self.flags_of[message_id]
        self.seen.append(Seen(time.monotonic(), channel, message_id, shown_text(body), "", flags, buttons(body)))
        return _json(_message_payload(channel, message_id, str(body.get("content", ""))), headers=limited)


async def _body(request: web.Request) -> dict[str, object]:
    """A JSON body, or the `payload_json` part of a multipart one (discord.py sends files and views that way)."""
    if not request.can_read_body:
        return {}
    if request.content_type.startswith("multipart/"):
        form = await request.post()
        return dict(json.loads(str(form.get("payload_json", "{}"))))
    return dict(await request.json())


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
