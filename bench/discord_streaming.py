"""Streaming answers through discord.py's real HTTP layer against a rate-limited local Discord stand-in.

Scenarios: (a) one answer; (b) 10 answers at once in 10 channels; (c) 3 answers at once in one channel. A scripted
model streams 800 tokens at 30 tokens/s. Printed per scenario: 429 count (target 0), the longest time the visible
text stood still while tokens flowed (target <= 1.5 s in a and b, <= 3.5 s in c), last token -> full text visible
(target <= 1 s), first token -> first visible text (target <= 0.3 s), and whether the visible text equals the
generated text (messages joined; the whitespace at a cut is not shown by Discord either).

    python bench/discord_streaming.py [--tokens 800] [--rate 30]
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import discord
from discord.http import HTTPClient, Route, handle_message_parameters

sys.path.insert(0, str(Path(__file__).resolve().parent))
import itertools

from discord_standin import DiscordStandin

from bot.discord_ui.ratelimit_trace import rate_limit_trace
from bot.streaming.pacing import PacerRegistry
from bot.streaming.renderer import WRITING_MARKER, StreamRenderer

NO_PINGS = discord.AllowedMentions.none()


class HttpSink:
    """Channel messages through discord.py's HTTPClient (its own rate-limit handling included)."""

    def __init__(self, http: HTTPClient, channel_id: int, ids: list[int]) -> None:
        self.http, self.channel_id, self.ids = http, channel_id, ids

    async def create(self, content: str, view: object) -> int:
        with handle_message_parameters(content=content, allowed_mentions=NO_PINGS) as params:
            data = await self.http.send_message(self.channel_id, params=params)
        self.ids.append(int(data["id"]))
        return int(data["id"])

    async def edit(self, handle: int, content: str, view: object) -> None:
        with handle_message_parameters(content=content, allowed_mentions=NO_PINGS) as params:
            await self.http.edit_message(self.channel_id, handle, params=params)


@dataclass
class Answer:
    channel_id: int
    token_times: list[float] = field(default_factory=list)
    text: str = ""
    message_ids: list[int] = field(default_factory=list)


async def scripted_model(answer: Answer, tokens: int, rate: float):  # type: ignore[no-untyped-def]
    start = time.monotonic()
    for i in range(tokens):
        await asyncio.sleep(max(0.0, start + (i + 1) / rate - time.monotonic()))
        piece = f" tok{i}" + ("\n\n" if i % 60 == 59 else "")
        answer.text += piece
        answer.token_times.append(time.monotonic())
        yield piece


def measure(standin: DiscordStandin, answer: Answer) -> dict[str, float | bool]:
    seen = [s for s in standin.seen if s.message_id in answer.message_ids]
    first, last = answer.token_times[0], answer.token_times[-1]
    change_times = [s.at for s in seen if first <= s.at <= last]
    points = [first, *change_times, last]
    state: dict[int, str] = {}
    full_at = None
    for s in seen:
        state[s.message_id] = s.content
        joined = "\n".join(state[m] for m in answer.message_ids if m in state)
        if WRITING_MARKER not in joined and joined.split() == answer.text.split():
            full_at = s.at if full_at is None else full_at
    visible = "\n".join(state[m] for m in answer.message_ids)
    return {
        "still": max(b - a for a, b in itertools.pairwise(points)),
        "final_lag": (full_at - last) if full_at else float("inf"),
        "first_lag": seen[0].at - first,
        "exact": visible.split() == answer.text.split(),
    }


async def scenario(name: str, channels: list[int], standin: DiscordStandin, tokens: int, rate: float) -> None:
    pacers = PacerRegistry()
    http = HTTPClient(asyncio.get_running_loop(), http_trace=rate_limit_trace(pacers))  # as the bot wires it
    await http.static_login("bench-token")
    before = standin.rejected
    answers = [Answer(c) for c in channels]
    renders = [
        StreamRenderer(HttpSink(http, a.channel_id, a.message_ids), pacers.for_channel(a.channel_id)).run(
            scripted_model(a, tokens, rate)
        )
        for a in answers
    ]
    await asyncio.gather(*renders)
    await http.close()
    figures = [measure(standin, a) for a in answers]
    print(
        f"({name}) {len(answers)} answer(s) in {len(set(channels))} channel(s): "
        f"429s {standin.rejected - before}, "
        f"longest still {max(f['still'] for f in figures):.2f} s, "
        f"last token -> full text {max(f['final_lag'] for f in figures):.2f} s, "
        f"first token -> visible {max(f['first_lag'] for f in figures):.2f} s, "
        f"visible == generated: {all(f['exact'] for f in figures)}"
    )


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--tokens", type=int, default=800)
    parser.add_argument("--rate", type=float, default=30.0)
    args = parser.parse_args()
    standin = await DiscordStandin().start()
    Route.BASE = f"{standin.url}/api/v10"
    try:
        await scenario("a", [100], standin, args.tokens, args.rate)
        await scenario("b", list(range(200, 210)), standin, args.tokens, args.rate)
        await scenario("c", [300, 300, 300], standin, args.tokens, args.rate)
    finally:
        await standin.stop()
    print("(d) acknowledgement latency: see bench/ack_latency.py")


if __name__ == "__main__":
    asyncio.run(main())
