"""Pacing close to Discord's limits, on a fake clock, with the rate-limit headers going through the bot's trace.

Figures a reader notices, per answer: the longest time its text stood still while tokens flowed ("freeze"), how soon
its first text showed after its first token, and how long after its last token its full text was visible ("tail").
"""

from __future__ import annotations

import asyncio
import itertools
from dataclasses import dataclass

import pytest

from bot.streaming.pacing import Kind, Lane, PacerRegistry
from bot.streaming.renderer import StreamRenderer
from tests.streaming.fakes import FakeChannel, FakeClock, FakeSink
from tests.streaming.test_renderer import idle, model, words


@dataclass
class Figures:
    freeze: float
    first: float
    tail: float
    exact: bool


def figures(sink: FakeSink, pieces: list[str], tokens: list[float]) -> Figures:
    mine = [r for r in sink.channel.requests if r.index in sink.mine]
    changes = [r.at for r in mine if tokens[0] <= r.at <= tokens[-1]]
    points = [tokens[0], *changes, tokens[-1]]
    return Figures(
        freeze=max(b - a for a, b in itertools.pairwise(points)),
        first=mine[0].at - tokens[0],
        tail=mine[-1].at - tokens[-1] if mine[-1].at >= tokens[-1] else 0.0,
        exact="\n".join(sink.visible()).split() == "".join(pieces).split(),
    )


def assert_three_answers_targets(results: list[Figures]) -> None:
    """Three answers in one channel: none freezes long, each shows soon, and the last words follow the model."""
    assert max(r.freeze for r in results) <= 3.5
    assert max(r.first for r in results) <= 1.2
    assert min(r.tail for r in results) <= 1.0
    assert max(r.tail for r in results) <= 3.2


async def answer_together(clock: FakeClock, pacers: PacerRegistry, sinks: list[FakeSink], count: int) -> list[Figures]:
    channel = sinks[0].channel
    texts = [words(count, f"a{i}-") for i in range(len(sinks))]
    logs: list[list[float]] = [[] for _ in sinks]
    runs = []
    for i, sink in enumerate(sinks):
        lane = (
            pacers.for_interaction(sink.token, channel.channel_id)
            if sink.token
            else pacers.for_channel(channel.channel_id)
        )
        runs.append(StreamRenderer(sink, lane, idle_wait=idle(clock)).run(model(clock, texts[i], logs[i])))
    outcomes = await clock.run(asyncio.gather(*runs))
    assert [o.status for o in outcomes] == ["complete"] * len(sinks)
    return [figures(sink, texts[i], logs[i]) for i, sink in enumerate(sinks)]


@pytest.mark.parametrize("count", [50, 90, 140, 200, 260, 300, 400])
async def test_a_lone_answer_shows_its_final_text_within_a_second_at_every_length(count: int) -> None:
    clock = FakeClock()
    pacers = PacerRegistry(clock, clock.sleep)
    channel = FakeChannel(clock, pacers=pacers)
    [result] = await answer_together(clock, pacers, [channel.sink()], count)
    assert result.exact and channel.violations() == 0
    assert result.freeze <= 1.5
    assert result.first <= 0.3
    assert result.tail <= 1.0


@pytest.mark.parametrize("count", [120, 200, 300])
async def test_three_replies_in_one_channel_use_both_announced_buckets(count: int) -> None:
    clock = FakeClock()
    pacers = PacerRegistry(clock, clock.sleep)
    channel = FakeChannel(clock, pacers=pacers)
    results = await answer_together(clock, pacers, [channel.sink() for _ in range(3)], count)
    assert all(r.exact for r in results) and channel.violations() == 0
    assert_three_answers_targets(results)


async def test_without_headers_creates_and_edits_keep_to_one_budget() -> None:
    clock = FakeClock()
    pacers = PacerRegistry(clock, clock.sleep)
    channel = FakeChannel(clock)  # no headers: the conservative rule, 5 per 5 s for everything
    results = await answer_together(clock, pacers, [channel.sink() for _ in range(3)], 200)
    assert all(r.exact for r in results)
    assert channel.violations() == 0
    assert max(r.freeze for r in results) <= 3.5


@pytest.mark.parametrize("count", [120, 200, 300])
async def test_three_slash_answers_in_one_channel_stay_under_its_hidden_limit(count: int) -> None:
    # Each answer has its own webhook budget (5 per 2 s); together they are paced within the channel's message budget
    # before Discord's hidden per-channel sub-limit (here 12 per 5 s) ever has to say so.
    clock = FakeClock()
    pacers = PacerRegistry(clock, clock.sleep)
    channel = FakeChannel(clock, pacers=pacers, shared_limit=(12, 5.0))
    sinks = [channel.interaction_sink(f"token-{i}") for i in range(3)]
    results = await answer_together(clock, pacers, sinks, count)
    assert all(r.exact for r in results)
    assert channel.shared_429s == 0
    assert channel.violations({f"webhook-token-{i}:{op}": (5, 2.0) for i in range(3) for op in ("create", "edit")}) == 0
    assert_three_answers_targets(results)


async def test_one_slash_answer_uses_its_webhook_budget_alone() -> None:
    clock = FakeClock()
    pacers = PacerRegistry(clock, clock.sleep)
    channel = FakeChannel(clock, pacers=pacers, shared_limit=(12, 5.0))
    [result] = await answer_together(clock, pacers, [channel.interaction_sink("alone")], 300)
    assert result.exact and channel.shared_429s == 0
    assert result.freeze <= 1.5 and result.first <= 0.3 and result.tail <= 1.0


async def test_a_shared_scope_429_slows_that_channel_and_no_other() -> None:
    clock = FakeClock()
    pacers = PacerRegistry(clock, clock.sleep)
    crowded = FakeChannel(clock, pacers=pacers, channel_id=42, shared_limit=(4, 5.0))  # tighter than expected
    calm = FakeChannel(clock, pacers=pacers, channel_id=43, shared_limit=(12, 5.0))
    crowded_sinks = [crowded.interaction_sink(f"c{i}") for i in range(3)]

    crowded_run = answer_together(clock, pacers, crowded_sinks, 200)
    calm_run = answer_together(clock, pacers, [calm.interaction_sink("q")], 200)
    crowded_results, calm_results = await asyncio.gather(crowded_run, calm_run)
    assert all(r.exact for r in crowded_results + calm_results)
    first_refusals = crowded.shared_429s
    assert 1 <= first_refusals <= 2  # the sub-limit shows itself, then the channel is paced under it
    assert calm.shared_429s == 0
    assert calm_results[0].freeze <= 1.5  # the other channel never waited for the crowded one
    assert pacers.for_channel(42).crowded() and not pacers.for_channel(43).crowded()
    # Slower there, as Discord asks, but still moving (a limit under the conservative floor costs a 429 per minute).
    assert max(r.freeze for r in crowded_results) <= 6.5


@pytest.mark.parametrize("layout", ["classic", "components"])
async def test_controls_ride_on_the_last_message_and_no_write_is_spent_on_them_alone(layout: str) -> None:
    clock = FakeClock()
    pacers = PacerRegistry(clock, clock.sleep)
    channel = FakeChannel(clock, pacers=pacers)
    sink = channel.sink(layout)
    stop, regenerate = object(), object()
    renderer = StreamRenderer(
        sink, pacers.for_channel(42), streaming_controls=stop, final_controls=regenerate, idle_wait=idle(clock)
    )
    await clock.run(renderer.run(model(clock, words(1300 if layout == "components" else 500))))
    assert len(sink.visible()) >= 2
    shown: dict[int, str] = {}
    for request in channel.requests:
        newest = max(r.index for r in channel.requests[: channel.requests.index(request) + 1])
        assert request.view is None or request.index == newest, "controls only on the message being written"
        assert shown.get(request.index) != request.content, "a request that changes no text (controls alone)"
        shown[request.index] = request.content
    # The edit that finished each earlier message took its Stop away; nothing touched it after.
    for earlier in sink.mine[:-1]:
        last = [r for r in channel.requests if r.index == earlier][-1]
        assert last.view is None and last.content == sink.visible()[sink.mine.index(earlier)]
    assert [sink.pages[i].controls for i in sink.mine] == [None] * (len(sink.mine) - 1) + [regenerate]


@pytest.mark.parametrize("count", [150, 300])
async def test_every_request_counts_so_a_channel_meets_at_most_one_shared_429(count: int) -> None:
    # Discord's hidden per-channel limit here: 5 creates and 5 edits per 5 s, counted apart. After its first shared
    # 429, discord.py retries the refused request by itself, past the pacer; the trace still counts it, so the
    # channel's estimate holds and no second 429 comes.
    clock = FakeClock()
    pacers = PacerRegistry(clock, clock.sleep)
    channel = FakeChannel(clock, pacers=pacers, shared_limit=(5, 5.0), shared_by_kind=True)
    sinks = [channel.interaction_sink(f"token-{i}") for i in range(3)]
    results = await answer_together(clock, pacers, sinks, count)
    assert all(r.exact for r in results)
    assert channel.shared_429s <= 1


async def grant_times(clock: FakeClock, lane: Lane, asks: list[bool], kind: Kind = Kind.EDIT) -> list[float]:
    """When each request is let through, asked one after another (True: urgent)."""
    times = []
    for urgent in asks:
        await clock.run(lane.acquire(lambda: kind, lambda urgent=urgent: urgent))  # type: ignore[misc]
        times.append(clock.now)
    return times


async def test_an_urgent_write_jumps_the_line_of_progress_edits() -> None:
    clock = FakeClock()
    lane = Lane(clock, clock.sleep)
    await clock.run(lane.acquire())  # a request just went out: the next progress edit waits its spacing
    order: list[str] = []

    async def ask(name: str, urgent: bool) -> None:
        await lane.acquire(urgent=lambda: urgent)
        order.append(name)

    async def both() -> None:
        progress = asyncio.create_task(ask("progress", False))
        await asyncio.sleep(0)  # the progress edit is in line first
        await ask("final", True)
        await progress

    await clock.run(both())
    assert order == ["final", "progress"]
    assert clock.now > 1.0  # the progress edit still kept its spacing


async def test_an_urgent_write_goes_out_at_once_where_a_progress_edit_waits_its_spacing() -> None:
    clock = FakeClock()
    lane = Lane(clock, clock.sleep)
    assert await grant_times(clock, lane, [False, True]) == [0.0, 0.0]
    assert (await grant_times(clock, lane, [False]))[0] >= 1.0


async def test_with_few_answers_a_request_per_window_is_kept_for_urgent_ones() -> None:
    clock = FakeClock()
    lane = Lane(clock, clock.sleep)
    with lane.streaming():  # one answer writing: progress edits leave the window's last request free
        progress = await grant_times(clock, lane, [False] * 9)
        in_a_window = max(sum(1 for t in progress if u <= t < u + 5.0) for u in progress)
        assert in_a_window == 4
        urgent_at = (await grant_times(clock, lane, [True]))[0]
        assert urgent_at == progress[-1]  # the kept request: the final text shows at once


async def test_a_shared_429_estimates_the_hidden_limit_as_what_got_through_less_one() -> None:
    clock = FakeClock()
    pacers = PacerRegistry(clock, clock.sleep)
    for i in range(9):  # nine edits of the channel's slash answers got through in this window, the tenth was refused
        pacers.for_interaction(f"t{i}", 42).learn(Kind.EDIT, 5, 4, 2.0)
    pacers.for_interaction("t0", 42).penalize_shared(Kind.EDIT, 1.0)
    channel = pacers.for_channel(42)
    assert channel.crowded()
    times = await grant_times(clock, channel, [True] * 9, Kind.SHARED_EDIT)
    assert times[:8] == [1.0] * 8  # after the pause, eight of them fit the estimated window
    assert times[8] >= 6.0  # the ninth waits for the window to pass
