"""Streaming answers through discord.py's real HTTP layer against a rate-limited local Discord stand-in.

Scenarios: (a) one reply; (b) 10 replies at once in 10 channels; (c) 3 replies (mentions) at once in one channel;
(d) 3 slash-command answers at once in one channel, each through its interaction's webhook; (e) 8 slash-command
answers at once in one channel, past the stand-in's hidden per-channel sub-limit. A scripted model streams 800
tokens at 30 tokens/s. Printed per answer: the longest time its visible text stood still while tokens flowed
("freeze"), first token -> first visible text, last token -> full text visible ("tail"), whether the visible text
equals the generated text; per scenario, 429s by route and scope.

Targets: (a), (b) freeze <= 1.5 s, tail <= 1 s; (c), (d) freeze <= 3.5 s, first visible <= 1.2 s, tail <= 1 s for
the first to finish and <= 3.2 s for the last; 0 x 429 (a shared-scope 429 may show once in (e), then never again).

    python bench/discord_streaming.py [--tokens 800] [--rate 30] [--separate-bucket-ids]
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
from discord.webhook.async_ import async_context

sys.path.insert(0, str(Path(__file__).resolve().parent))
import itertools

from discord_standin import APPLICATION_ID, DiscordStandin

from bot.discord_ui.ratelimit_trace import rate_limit_trace
from bot.streaming.pacing import Kind, PacerRegistry
from bot.streaming.renderer import WRITING_MARKER, StreamRenderer

NO_PINGS = discord.AllowedMentions.none()


class WebhookSink:
    """An interaction's answer: the deferred response first, then follow-ups, through discord.py's webhook adapter."""

    def __init__(self, http: HTTPClient, token: str, ids: list[int]) -> None:
        self.session = http._HTTPClient__session  # type: ignore[attr-defined]  # the client's, with its trace
        self.token, self.ids = token, ids
        self.adapter = async_context.get()

    def create_kind(self) -> Kind:
        return Kind.CREATE if self.ids else Kind.EDIT

    async def create(self, content: str, view: object) -> int:
        payload = {"content": content, "allowed_mentions": {"parse": []}}
        if not self.ids:
            data = await self.adapter.edit_original_interaction_response(
                APPLICATION_ID, self.token, session=self.session, payload=payload
            )
        else:
            data = await self.adapter.execute_webhook(
                APPLICATION_ID, self.token, session=self.session, payload=payload, wait=True
            )
        self.ids.append(int(data["id"]))  # type: ignore[index]
        return int(data["id"])  # type: ignore[index]

    async def edit(self, handle: int, content: str, view: object) -> None:
        payload = {"content": content, "allowed_mentions": {"parse": []}}
        await self.adapter.edit_webhook_message(
            APPLICATION_ID, self.token, handle, session=self.session, payload=payload
        )


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
    token: str = ""
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
        "freeze": max(b - a for a, b in itertools.pairwise(points)),
        "tail": (full_at - last) if full_at else float("inf"),
        "first": seen[0].at - first,
        "exact": visible.split() == answer.text.split(),
    }


async def scenario(name: str, answers: list[Answer], standin: DiscordStandin, tokens: int, rate: float) -> None:
    pacers = PacerRegistry()
    http = HTTPClient(asyncio.get_running_loop(), http_trace=rate_limit_trace(pacers))  # as the bot wires it
    await http.static_login("bench-token")
    before = dict(standin.rejected_by)
    renders = []
    for a in answers:
        if a.token:
            standin.channel_of_token[a.token] = a.channel_id
            sink: object = WebhookSink(http, a.token, a.message_ids)
            lane = pacers.for_interaction(a.token, a.channel_id)
        else:
            sink, lane = HttpSink(http, a.channel_id, a.message_ids), pacers.for_channel(a.channel_id)
        renders.append(StreamRenderer(sink, lane).run(scripted_model(a, tokens, rate)))  # type: ignore[arg-type]
    await asyncio.gather(*renders)
    await http.close()
    figures = [measure(standin, a) for a in answers]
    rejected = {k: v - before.get(k, 0) for k, v in standin.rejected_by.items() if v - before.get(k, 0)}
    channels = len({a.channel_id for a in answers})
    print(f"({name}) {len(answers)} answer(s) in {channels} channel(s); 429s by route: {rejected or 'none'}")
    tails = sorted(f["tail"] for f in figures)
    print(
        f"    freeze max {max(f['freeze'] for f in figures):.2f} s | first visible max "
        f"{max(f['first'] for f in figures):.2f} s | tail first {tails[0]:.2f} s, last {tails[-1]:.2f} s | "
        f"visible == generated: {all(f['exact'] for f in figures)}"
    )
    if len(answers) <= 3:
        for i, f in enumerate(figures):
            print(f"      answer {i}: freeze {f['freeze']:.2f} s, first {f['first']:.2f} s, tail {f['tail']:.2f} s")


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--tokens", type=int, default=800)
    parser.add_argument("--rate", type=float, default=30.0)
    parser.add_argument("--separate-bucket-ids", action="store_true", help="creates and edits under their own ids")
    args = parser.parse_args()
    standin = await DiscordStandin(same_bucket_id=not args.separate_bucket_ids).start()
    Route.BASE = f"{standin.url}/api/v10"
    ids = " under their own bucket ids" if args.separate_bucket_ids else " under one bucket id (as Discord does)"
    print(f"Stand-in: 5 creates and 5 edits per 5 s per channel, counted apart{ids}; 5 per 2 s per interaction.")
    try:
        await scenario("a", [Answer(100)], standin, args.tokens, args.rate)
        await scenario("b", [Answer(c) for c in range(200, 210)], standin, args.tokens, args.rate)
        await scenario("c", [Answer(300) for _ in range(3)], standin, args.tokens, args.rate)
        await scenario("d", [Answer(400, f"tok-d{i}") for i in range(3)], standin, args.tokens, args.rate)
        await scenario("e", [Answer(500, f"tok-e{i}") for i in range(8)], standin, args.tokens, args.rate)
    finally:
        await standin.stop()
    print("acknowledgement and load: see bench/load.py")


if __name__ == "__main__":
    asyncio.run(main())
