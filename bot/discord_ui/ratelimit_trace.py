"""Feeding Discord's rate-limit headers to the pacing lanes.

discord.py accepts an aiohttp `TraceConfig` (`http_trace`), so every request it sends and every response it
receives passes through here: a channel's message creates and edits, and an interaction's webhook messages. Each
request is counted by its lane as it goes out, whoever sent it (discord.py retries a 429 by itself, past the pacer).
Each response teaches its lane the bucket it belongs to (limit, remaining, reset), and a 429 holds the lane (or, for
the hidden per-channel sub-limit that shows up only as `X-RateLimit-Scope: shared`, the channel) for its
`Retry-After`.
"""

from __future__ import annotations

import logging
import re
from types import SimpleNamespace
from typing import Any

import aiohttp

from bot.ops import metrics
from bot.streaming.pacing import Kind, Lane, PacerRegistry

log = logging.getLogger(__name__)

_CHANNEL_MESSAGES = re.compile(r"/channels/(\d+)/messages(/\d+)?$")
_WEBHOOK_MESSAGES = re.compile(r"/webhooks/\d+/([^/]+)(/messages/[^/]+)?$")


def _lane_and_kind(pacers: PacerRegistry, method: str, path: str) -> tuple[Lane, Kind] | None:
    if match := _CHANNEL_MESSAGES.search(path):
        lane: Lane | None = pacers.for_channel(int(match.group(1)))
    elif match := _WEBHOOK_MESSAGES.search(path):
        lane = pacers.interaction(match.group(1))
    else:
        return None
    if lane is None:
        return None
    if method == "POST" and match.group(2) is None:
        return lane, Kind.CREATE
    if method == "PATCH" and match.group(2) is not None:
        return lane, Kind.EDIT
    return None


def observe_request(pacers: PacerRegistry, method: str, url: str) -> None:
    found = _lane_and_kind(pacers, method.upper(), url.split("?", 1)[0])
    if found is not None:
        lane, kind = found
        lane.sent(kind)


def observe_response(pacers: PacerRegistry, method: str, url: str, status: int, headers: Any) -> None:
    found = _lane_and_kind(pacers, method.upper(), url.split("?", 1)[0])
    if found is None:
        return
    lane, kind = found
    route = f"{'interaction' if lane.channel is not None else 'channel'} message {kind}"
    metrics.discord_requests.labels(route, str(status)).inc()
    try:
        if status == 429:
            retry_after = float(headers.get("Retry-After") or headers.get("X-RateLimit-Reset-After") or 1.0)
            scope = headers.get("X-RateLimit-Scope", "user")
            metrics.discord_rate_limits.labels(route, scope).inc()
            if scope == "shared":
                lane.penalize_shared(kind, retry_after)
            elif scope != "global":  # discord.py holds every request on a global limit itself
                lane.penalize(retry_after)
            log.info("Discord 429 (%s scope) on a %s; holding it %.2f s", scope, kind, retry_after)
            return
        limit, remaining = headers.get("X-RateLimit-Limit"), headers.get("X-RateLimit-Remaining")
        reset_after = headers.get("X-RateLimit-Reset-After")
        if limit is None or remaining is None or reset_after is None:
            return
        lane.learn(kind, int(limit), int(remaining), float(reset_after))
    except ValueError:
        return


def rate_limit_trace(pacers: PacerRegistry) -> aiohttp.TraceConfig:
    trace = aiohttp.TraceConfig()

    async def on_request_start(_session: Any, _context: SimpleNamespace, params: Any) -> None:
        observe_request(pacers, params.method, str(params.url))

    async def on_request_end(_session: Any, _context: SimpleNamespace, params: Any) -> None:
        response = params.response
        observe_response(pacers, params.method, str(params.url), response.status, response.headers)

    trace.on_request_start.append(on_request_start)
    trace.on_request_end.append(on_request_end)
    return trace
