"""Feeding Discord's rate-limit headers to the per-channel pacers.

discord.py accepts an aiohttp `TraceConfig` (`http_trace`); every response to a channel-message request reports the
bucket's remaining requests and when it resets, so a pacer whose estimate was too optimistic (other traffic of the
bot in that channel) waits for the reset instead of letting discord.py sleep on an empty bucket.
"""

from __future__ import annotations

import re
from types import SimpleNamespace
from typing import Any

import aiohttp

from bot.streaming.pacing import PacerRegistry

_CHANNEL_MESSAGES = re.compile(r"/channels/(\d+)/messages")


def observe_response(pacers: PacerRegistry, url: str, headers: Any) -> None:
    match = _CHANNEL_MESSAGES.search(url)
    remaining, reset_after = headers.get("X-RateLimit-Remaining"), headers.get("X-RateLimit-Reset-After")
    if match is None or remaining is None or reset_after is None:
        return
    try:
        pacers.for_channel(int(match.group(1))).observe(int(remaining), float(reset_after))
    except ValueError:
        return


def rate_limit_trace(pacers: PacerRegistry) -> aiohttp.TraceConfig:
    trace = aiohttp.TraceConfig()

    async def on_request_end(_session: Any, _context: SimpleNamespace, params: Any) -> None:
        observe_response(pacers, str(params.url), params.response.headers)

    trace.on_request_end.append(on_request_end)
    return trace
