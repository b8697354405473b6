"""Streaming answers through discord.py's real HTTP layer against a rate-limited local Discord stand-in, in both
message layouts (classic content, Components V2), side by side.

Scenarios: (a) one reply; (b) 10 replies at once in 10 channels; (c) 3 long replies (mentions) finishing together
in one channel; (d) 3 long slash-command answers finishing together in one channel, each through its interaction's
webhook; (e) 8 slash-command answers at once in one channel, past the stand-in's hidden per-channel sub-limit;
(f) one answer of about 8,000 characters of prose (7,800). A scripted model streams 800 tokens (about 5,600
characters) at 30 tokens/s. The renderer writes with the bot's own layouts and buttons (Stop while it streams,
Regenerate at the end, on the last message only). Printed per answer: the longest time its visible text stood
still while tokens flowed ("freeze"), first token -> first visible text, last token -> final state visible ("tail":
the whole text, no marker, Regenerate on the last message and no buttons on any other), whether the visible text
equals the generated text, and how many messages it took; per scenario, 429s by route and scope, and bodies the
stand-in refused for their shape (content beside the V2 flag, the flag dropped, over 2,000 / 4,000 characters).

Targets: (a), (b) freeze <= 1.5 s, tail <= 1 s; (c), (d) freeze <= 3.5 s, first visible <= 1.2 s, tail <= 3.2 s
for every answer; 0 x 429 (a shared-scope 429 may show once in (e), then never again); (f) 2 messages with
components; components no worse than classic in (c), (d), (e).

    python bench/discord_streaming.py [--tokens 800] [--rate 30] [--separate-bucket-ids] [--only c,d]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import discord
from discord.http import HTTPClient, Route, handle_message_parameters
from discord.webhook.async_ import async_context

sys.path.insert(0, str(Path(__file__).resolve().parent))
import itertools

from discord.webhook.async_ import handle_message_parameters as webhook_parameters
from discord_standin import APPLICATION_ID, DiscordStandin

from bot.discord_ui.controls import AnswerButtons, finished_buttons, stop_buttons
from bot.discord_ui.layouts import Layout, LayoutName, layout_named
from bot.discord_ui.ratelimit_trace import rate_limit_trace
from bot.streaming.pacing import Kind, PacerRegistry
from bot.streaming.page import Page
from bot.streaming.renderer import WRITING_MARKER, StreamRenderer

NO_PINGS = discord.AllowedMentions.none()


class WebhookSink:
    """An interaction's answer: the deferred response first, then follow-ups, through discord.py's webhook adapter."""

    def __init__(self, http: HTTPClient, token: str, ids: list[int], layout: Layout) -> None:
        self.session = http._HTTPClient__session  # type: ignore[attr-defined]  # the client's, with its trace
        self.token, self.ids, self.layout = token, ids, layout
        self.message_limit = layout.message_limit
        self.adapter = async_context.get()

    def create_kind(self) -> Kind:
        return Kind.CREATE if self.ids else Kind.EDIT

    def _payload(self, page: Page) -> dict[str, object]:
        with webhook_parameters(**self.layout.parts(page), allowed_mentions=NO_PINGS) as params:
            return dict(params.payload or {})

    async def create(self, page: Page) -> int:
        payload = self._payload(page)
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

    async def edit(self, handle: int, page: Page) -> None:
        payload = self._payload(page)
        await self.adapter.edit_webhook_message(
            APPLICATION_ID, self.token, handle, session=self.session, payload=payload
        )


class HttpSink:
    """Channel messages through discord.py's HTTPClient (its own rate-limit handling included)."""

    def __init__(self, http: HTTPClient, channel_id: int, ids: list[int], layout: Layout) -> None:
        self.http, self.channel_id, self.ids, self.layout = http, channel_id, ids, layout
        self.message_limit = layout.message_limit

    async def create(self, page: Page) -> int:
        with handle_message_parameters(**self.layout.parts(page), allowed_mentions=NO_PINGS) as params:
            data = await self.http.send_message(self.channel_id, params=params)
        self.ids.append(int(data["id"]))
        return int(data["id"])

    async def edit(self, handle: int, page: Page) -> None:
        with handle_message_parameters(**self.layout.parts(page), allowed_mentions=NO_PINGS) as params:
            await self.http.edit_message(self.channel_id, handle, params=params)


@dataclass
class Answer:
    channel_id: int
    token: str = ""
    token_times: list[float] = field(default_factory=list)
    text: str = ""
    message_ids: list[int] = field(default_factory=list)
    prose: bool = False  # sentences in paragraphs, about 7,800 characters, instead of numbered tokens


def prose_pieces(chars: int = 7800) -> list[str]:
    pieces, total, i = [], 0, 0
    while total < chars:
        sentence = f"Sentence {i} adds a little more to the answer." + ("\n\n" if i % 9 == 8 else " ")
        for word in sentence.split(" "):
            piece = (word + " ")[: chars - total] if word else ""
            if piece:
                pieces.append(piece)
                total += len(piece)
        i += 1
    return pieces


async def scripted_model(answer: Answer, tokens: int, rate: float):  # type: ignore[no-untyped-def]
    start = time.monotonic()
    script = prose_pieces() if answer.prose else [f" tok{i}" + ("\n\n" if i % 60 == 59 else "") for i in range(tokens)]
    for i, piece in enumerate(script):
        await asyncio.sleep(max(0.0, start + (i + 1) / rate - time.monotonic()))
        answer.text += piece
        answer.token_times.append(time.monotonic())
        yield piece


def measure(standin: DiscordStandin, answer: Answer) -> dict[str, float | bool]:
    seen = [s for s in standin.seen if s.message_id in answer.message_ids]
    first, last = answer.token_times[0], answer.token_times[-1]
    change_times = [s.at for s in seen if first <= s.at <= last]
    points = [first, *change_times, last]
    state: dict[int, str] = {}
    shown_buttons: dict[int, tuple[str, ...]] = {}
    full_at = None
    for s in seen:
        state[s.message_id], shown_buttons[s.message_id] = s.content, s.buttons
        joined = "\n".join(state[m] for m in answer.message_ids if m in state)
        final_controls = [shown_buttons.get(m, ()) for m in answer.message_ids] == [()] * (
            len(answer.message_ids) - 1
        ) + [("Regenerate",)]
        if WRITING_MARKER not in joined and joined.split() == answer.text.split() and final_controls:
            full_at = s.at if full_at is None else full_at
    visible = "\n".join(state[m] for m in answer.message_ids)
    return {
        "freeze": max(b - a for a, b in itertools.pairwise(points)),
        "tail": (full_at - last) if full_at else float("inf"),
        "first": seen[0].at - first,
        "exact": visible.split() == answer.text.split(),
        "messages": len(answer.message_ids),
    }


def controls() -> tuple[AnswerButtons, AnswerButtons]:
    async def nothing(_interaction: discord.Interaction) -> None:
        return None

    return stop_buttons(lambda _user: True, lambda: None), finished_buttons(lambda _user: True, nothing)


async def scenario(
    name: str, answers: list[Answer], standin: DiscordStandin, tokens: int, rate: float, layout: LayoutName
) -> list[str]:
    pacers = PacerRegistry()
    http = HTTPClient(asyncio.get_running_loop(), http_trace=rate_limit_trace(pacers))  # as the bot wires it
    await http.static_login("bench-token")
    before, refused_before = dict(standin.rejected_by), len(standin.refused_shapes)
    renders = []
    for a in answers:
        if a.token:
            standin.channel_of_token[a.token] = a.channel_id
            sink: object = WebhookSink(http, a.token, a.message_ids, layout_named(layout))
            lane = pacers.for_interaction(a.token, a.channel_id)
        else:
            sink = HttpSink(http, a.channel_id, a.message_ids, layout_named(layout))
            lane = pacers.for_channel(a.channel_id)
        stop, regenerate = controls()
        renderer = StreamRenderer(sink, lane, stop, regenerate)  # type: ignore[arg-type]
        renders.append(renderer.run(scripted_model(a, tokens, rate)))
    await asyncio.gather(*renders)
    await http.close()
    figures = [measure(standin, a) for a in answers]
    rejected = {k: v - before.get(k, 0) for k, v in standin.rejected_by.items() if v - before.get(k, 0)}
    refused = standin.refused_shapes[refused_before:]
    tails = sorted(f["tail"] for f in figures)
    lines = [
        f"429s: {rejected or 'none'}; refused bodies: {len(refused)}{' ' + refused[0] if refused else ''}",
        f"freeze max {max(f['freeze'] for f in figures):.2f} s | first max {max(f['first'] for f in figures):.2f} s"
        f" | tail first {tails[0]:.2f} s, last {tails[-1]:.2f} s | exact: {all(f['exact'] for f in figures)}"
        f" | messages {'/'.join(str(f['messages']) for f in figures[:3])}{'…' if len(figures) > 3 else ''}",
    ]
    if len(answers) <= 3:
        lines += [f"  answer {i}: freeze {f['freeze']:.2f} s, tail {f['tail']:.2f} s" for i, f in enumerate(figures)]
    return lines


SCENARIOS = {
    "a": ("one reply", lambda base: [Answer(base)]),
    "b": ("10 replies in 10 channels", lambda base: [Answer(base + c) for c in range(10)]),
    "c": ("3 long replies finishing together in one channel", lambda base: [Answer(base) for _ in range(3)]),
    "d": (
        "3 long slash answers finishing together in one channel",
        lambda base: [Answer(base, f"tok-{base}-{i}") for i in range(3)],
    ),
    "e": (
        "8 slash answers in one channel (hidden sub-limit)",
        lambda base: [Answer(base, f"tok-{base}-{i}") for i in range(8)],
    ),
    "f": ("one answer of 7,800 characters", lambda base: [Answer(base, prose=True)]),
}


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--tokens", type=int, default=800)
    parser.add_argument("--rate", type=float, default=30.0)
    parser.add_argument("--separate-bucket-ids", action="store_true", help="creates and edits under their own ids")
    parser.add_argument("--only", default="", help="scenarios to run, e.g. c,d,f (default: all)")
    args = parser.parse_args()
    standin = await DiscordStandin(same_bucket_id=not args.separate_bucket_ids).start()
    Route.BASE = f"{standin.url}/api/v10"
    ids = " under their own bucket ids" if args.separate_bucket_ids else " under one bucket id (as Discord does)"
    print(f"Stand-in: 5 creates and 5 edits per 5 s per channel, counted apart{ids}; 5 per 2 s per interaction.")
    only = args.only.split(",") if args.only else list(SCENARIOS)
    try:
        for index, key in enumerate(only):
            title, build = SCENARIOS[key]
            results = {}
            for offset, layout in enumerate(("classic", "components")):
                answers = build(1000 * (index + 1) + 100 * offset)
                rate = args.rate * 3 if key == "f" else args.rate
                results[layout] = await scenario(key, answers, standin, args.tokens, rate, layout)  # type: ignore[arg-type]
            print(f"({key}) {title}; load {os.getloadavg()[0]:.2f}")
            for layout, lines in results.items():
                for i, line in enumerate(lines):
                    print(f"    {layout if i == 0 else '':<11}{line}")
    finally:
        await standin.stop()
    print("acknowledgement and load: see bench/load.py")


if __name__ == "__main__":
    asyncio.run(main())
