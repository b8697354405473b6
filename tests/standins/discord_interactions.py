"""A Discord stand-in for an app reached only through its interactions (a user install in a server that did not
invite the bot, or in someone else's DM).

It serves what such an app may use: the interaction callback, the original response and follow-ups (at most five
per interaction, as Discord allows there), plus the start-up calls. Any other request, like reading or writing a
channel or opening a thread, is refused with 403 Missing Access and recorded, so a test can assert there were none.
Interactions are handed to the bot through discord.py's own gateway parser. Message bodies are held to Discord's
shape rules (content over 2,000 characters; with the Components V2 flag, content or embeds, more than 4,000
characters of text displays, or an edit that drops the flag: all refused with a 400, and counted).
"""

from __future__ import annotations

import itertools
import json
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

APPLICATION_ID = 1
BOT_ID = 1
MAX_FOLLOWUPS = 5
USE_EXTERNAL_APPS = 1 << 50
SEND_MESSAGES = 1 << 11
COMPONENTS_V2 = 1 << 15


def _text_displays(components: Any) -> list[str]:
    found: list[str] = []
    for component in components if isinstance(components, list) else []:
        if component.get("type") == 10:
            found.append(str(component.get("content", "")))
        found.extend(_text_displays(component.get("components")))
    return found


def shape_refusal(body: dict[str, Any], previous_flags: int | None) -> str | None:
    """Why Discord would refuse this message body, or None."""
    flags = int(body.get("flags") or 0) if "flags" in body or previous_flags is None else previous_flags
    if previous_flags is not None and previous_flags & COMPONENTS_V2 and not flags & COMPONENTS_V2:
        return "the components_v2 flag cannot be removed"
    if flags & COMPONENTS_V2:
        if body.get("content") or body.get("embeds"):
            return "components_v2 messages cannot contain content or embeds"
        if sum(len(t) for t in _text_displays(body.get("components"))) > 4000:
            return "text displays over 4000 characters"
    elif len(str(body.get("content") or "")) > 2000:
        return "content over 2000 characters"
    return None


def shown_text(body: dict[str, Any]) -> str:
    """What a reader sees: the content, or the text displays one after another."""
    texts = _text_displays(body.get("components"))
    return "\n\n".join(texts) if texts else str(body.get("content") or "")


@dataclass
class Written:
    token: str
    message_id: int
    content: str  # the text a reader sees (plain content, or the text displays)
    flags: int
    followup: bool
    components: list[Any] = field(default_factory=list)


@dataclass
class InteractionOnlyDiscord:
    callbacks: dict[str, dict[str, Any]] = field(default_factory=dict)  # token -> the callback body
    messages: dict[int, Written] = field(default_factory=dict)  # message id -> its latest state
    followups: dict[str, int] = field(default_factory=dict)  # token -> follow-ups accepted
    refused_followups: int = 0
    refused_shapes: list[str] = field(default_factory=list)
    outside: list[str] = field(default_factory=list)  # requests an interaction-only app may not make
    url: str = ""
    _ids: itertools.count[int] = field(default_factory=lambda: itertools.count(5000))
    _runner: web.AppRunner | None = None

    async def start(self) -> InteractionOnlyDiscord:
        app = web.Application()
        app.router.add_get("/api/v10/users/@me", self._me)
        app.router.add_get("/api/v10/oauth2/applications/@me", self._application)
        app.router.add_put("/api/v10/applications/{app}/commands", self._commands)
        app.router.add_post("/api/v10/interactions/{interaction}/{token}/callback", self._callback)
        app.router.add_route("*", "/api/v10/webhooks/{app}/{token}/messages/{message}", self._original_or_followup)
        app.router.add_post("/api/v10/webhooks/{app}/{token}", self._followup)
        app.router.add_route("*", "/{tail:.*}", self._outside)
        self._runner = web.AppRunner(app, shutdown_timeout=0.5)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.url = f"http://127.0.0.1:{site._server.sockets[0].getsockname()[1]}"  # type: ignore[union-attr]
        return self

    async def stop(self) -> None:
        if self._runner:
            await self._runner.cleanup()

    def shown(self, token: str) -> list[Written]:
        """The messages of one interaction, oldest first."""
        return sorted((m for m in self.messages.values() if m.token == token), key=lambda m: m.message_id)

    async def _outside(self, request: web.Request) -> web.Response:
        self.outside.append(f"{request.method} {request.path}")
        return _json({"message": "Missing Access", "code": 50001}, status=403)

    async def _me(self, _request: web.Request) -> web.Response:
        return _json({"id": str(BOT_ID), "username": "bot", "discriminator": "0", "avatar": None, "bot": True})

    async def _application(self, _request: web.Request) -> web.Response:
        owner = {"id": "2", "username": "owner", "discriminator": "0", "avatar": None}
        return _json(
            {
                "id": str(APPLICATION_ID),
                "name": "bot",
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
                {"description": "", "type": 1, **c, "id": str(100 + i), "application_id": str(APPLICATION_ID)}
                for i, c in enumerate(commands)
            ]
        )

    async def _callback(self, request: web.Request) -> web.Response:
        token = request.match_info["token"]
        body = await _body(request)
        self.callbacks[token] = body
        data = body.get("data") or {}
        message_id = next(self._ids)
        if (too_long := _too_long(data)) is not None:
            return too_long
        if body.get("type") in (4, 5):  # a message (or "thinking…") becomes the original response
            content = str(data.get("content") or "")
            self.messages[message_id] = Written(token, message_id, content, int(data.get("flags") or 0), False)
        return _json(
            {
                "interaction": {
                    "id": request.match_info["interaction"],
                    "type": 2,
                    "response_message_id": str(message_id),
                    "response_message_loading": body.get("type") == 5,
                    "response_message_ephemeral": bool(int(data.get("flags") or 0) & 64),
                }
            }
        )

    def _original_id(self, token: str) -> int:
        return min(m.message_id for m in self.messages.values() if m.token == token and not m.followup)

    async def _original_or_followup(self, request: web.Request) -> web.Response:
        token, which = request.match_info["token"], request.match_info["message"]
        message_id = self._original_id(token) if which == "@original" else int(which)
        written = self.messages[message_id]
        if request.method == "PATCH":
            body = await _body(request)
            refused = self._refuse_shape(body, written.flags)
            if refused is not None:
                return refused
            if "flags" in body:
                written.flags = int(body["flags"]) | (written.flags & 64)
            if "content" in body or "components" in body:
                written.content, written.components = shown_text(body), list(body.get("components") or [])
        elif request.method == "DELETE":
            del self.messages[message_id]
            return web.Response(status=204)
        return _json(_message(written, loading=False))

    def _refuse_shape(self, body: dict[str, Any], previous_flags: int | None) -> web.Response | None:
        why = shape_refusal(body, previous_flags)
        if why is None:
            return None
        self.refused_shapes.append(why)
        return _json({"message": f"Invalid Form Body: {why}", "code": 50035}, status=400)

    async def _followup(self, request: web.Request) -> web.Response:
        token = request.match_info["token"]
        if self.followups.get(token, 0) >= MAX_FOLLOWUPS:
            self.refused_followups += 1
            return _json({"message": "Maximum number of follow-up messages reached", "code": 40094}, status=400)
        body = await _body(request)
        refused = self._refuse_shape(body, None)
        if refused is not None:
            return refused
        self.followups[token] = self.followups.get(token, 0) + 1
        flags, components = int(body.get("flags") or 0), list(body.get("components") or [])
        written = Written(token, next(self._ids), shown_text(body), flags, True, components)
        self.messages[written.message_id] = written
        return _json(_message(written, loading=False))


def interaction(
    kind: int,
    token: str,
    user_id: int,
    data: dict[str, Any],
    guild_id: int | None = 777,
    channel_id: int = 888,
    may_use_external_apps: bool = True,
) -> dict[str, Any]:
    """An INTERACTION_CREATE payload from a server (or DM) the bot is not in, authorized by the user's install."""
    user = {"id": str(user_id), "username": f"user{user_id}", "discriminator": "0", "avatar": None, "global_name": None}
    permissions = SEND_MESSAGES | (USE_EXTERNAL_APPS if may_use_external_apps else 0)
    payload: dict[str, Any] = {
        "id": str(next(_interaction_ids)),
        "application_id": str(APPLICATION_ID),
        "type": kind,
        "token": token,
        "version": 1,
        "channel_id": str(channel_id),
        "locale": "en-US",
        "entitlements": [],
        "attachment_size_limit": 10_485_760,
        "authorizing_integration_owners": {"1": str(user_id)},  # the user's install, not the server's
        "app_permissions": str(permissions),
        "data": data,
    }
    if guild_id is None:
        payload["channel"] = {"id": str(channel_id), "type": 3, "recipients": [user], "name": None}
        payload["context"] = 2  # someone else's group DM
        payload["user"] = user
        return payload
    payload["guild_id"] = str(guild_id)
    payload["guild_locale"] = "en-US"
    payload["context"] = 0
    payload["channel"] = {
        "id": str(channel_id),
        "type": 0,
        "guild_id": str(guild_id),
        "name": "elsewhere",
        "position": 0,
    }
    payload["member"] = {
        "user": user,
        "roles": [],
        "joined_at": "2026-01-01T00:00:00+00:00",
        "permissions": str(permissions),
        "flags": 0,
        "deaf": False,
        "mute": False,
    }
    return payload


_interaction_ids = itertools.count(900_000)


def message_payload(message_id: int, content: str, author: dict[str, Any], **more: Any) -> dict[str, Any]:
    """A message as Discord sends it in channel 888; `more` adds or replaces fields."""
    return {
        "id": str(message_id),
        "channel_id": "888",
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
        "author": author,
        **more,
    }


def _message(written: Written, loading: bool) -> dict[str, Any]:
    bot = {"id": str(BOT_ID), "username": "bot", "discriminator": "0", "avatar": None}
    flags = written.flags | (128 if loading else 0)
    content = "" if flags & COMPONENTS_V2 else written.content
    return message_payload(
        written.message_id, content, bot, flags=flags, webhook_id=str(APPLICATION_ID), components=written.components
    )


async def _body(request: web.Request) -> dict[str, Any]:
    """A JSON body, or the `payload_json` part of a multipart one (discord.py sends views that way)."""
    if not request.can_read_body:
        return {}
    if request.content_type.startswith("multipart/"):
        form = await request.post()
        return dict(json.loads(str(form.get("payload_json", "{}"))))
    return dict(await request.json())


def _too_long(body: dict[str, Any]) -> web.Response | None:
    """Discord's answer to content over its limit (2,000 characters; Components V2 carry none)."""
    content = body.get("content")
    if content is None or len(str(content)) <= 2000:
        return None
    error = {"content": {"_errors": [{"code": "BASE_TYPE_MAX_LENGTH", "message": "Must be 2000 or fewer in length."}]}}
    return _json({"message": "Invalid Form Body", "code": 50035, "errors": error}, status=400)


def _json(payload: object, status: int = 200) -> web.Response:
    return web.Response(body=json.dumps(payload).encode(), status=status, content_type="application/json")
