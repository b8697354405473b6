"""The streaming renderer and per-channel pacer, on a fake clock against a fake rate-limited channel."""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import AsyncIterator

import pytest

from bot.errors import GenerationInterrupted
from bot.streaming.pacing import Lane
from bot.streaming.renderer import STOPPED_MARK, WRITING_MARKER, StreamRenderer
from bot.streaming.splitting import DISCORD_LIMIT, open_fence
from tests.streaming.fakes import FakeChannel, FakeClock, FakeSink

TOKENS_PER_SECOND = 30


def idle(clock: FakeClock):  # type: ignore[no-untyped-def]
    return lambda _producer: clock.sleep(0.05)


def words(count: int, prefix: str = "w") -> list[str]:
    return [f"{prefix}{i} " for i in range(count)]


async def model(clock: FakeClock, pieces: list[str], log: list[float] | None = None) -> AsyncIterator[str]:
    for piece in pieces:
        await clock.sleep(1 / TOKENS_PER_SECOND)
        if log is not None:
            log.append(clock.now)
        yield piece


def longest_freeze(sink: FakeSink, start: float, end: float) -> float:
    """Longest time the visible answer did not change while tokens were still flowing."""
    changes = [r.at for r in sink.channel.requests if r.index in sink.mine and start <= r.at <= end]
    points = [start, *changes, end]
    return max(b - a for a, b in itertools.pairwise(points))


async def test_single_answer_is_paced_smooth_and_complete() -> None:
    clock = FakeClock()
    channel = FakeChannel(clock)
    sink = channel.sink()
    pieces, token_times = words(300), []
    renderer = StreamRenderer(sink, Lane(clock, clock.sleep), idle_wait=idle(clock))
    outcome = await clock.run(renderer.run(model(clock, pieces, token_times)))
    assert outcome.status == "complete"
    assert "".join(sink.visible()).split() == "".join(pieces).split()
    assert WRITING_MARKER not in sink.visible()[-1]
    assert channel.violations() == 0
    assert longest_freeze(sink, token_times[0], token_times[-1]) <= 1.5
    assert channel.requests[0].at - token_times[0] <= 0.3  # first text shows at once
    assert channel.requests[-1].at - token_times[-1] <= 1.1  # final text shortly after the last token


async def test_three_answers_in_one_channel_share_the_budget_fairly() -> None:
    clock = FakeClock()
    channel = FakeChannel(clock)
    pacer = Lane(clock, clock.sleep)
    sinks = [channel.sink() for _ in range(3)]
    logs: list[list[float]] = [[], [], []]
    runs = [
        StreamRenderer(s, pacer, idle_wait=idle(clock)).run(model(clock, words(200, f"a{i}-"), logs[i]))
        for i, s in enumerate(sinks)
    ]
    outcomes = await clock.run(asyncio.gather(*runs))
    assert [o.status for o in outcomes] == ["complete"] * 3
    assert channel.violations() == 0
    for i, sink in enumerate(sinks):
        assert "".join(sink.visible()).split() == "".join(words(200, f"a{i}-")).split()
        assert longest_freeze(sink, logs[i][0], logs[i][-1]) <= 3.5


async def test_429_pauses_the_channel_and_nothing_is_lost() -> None:
    clock = FakeClock()
    channel = FakeChannel(clock, fail_with_429={3: 2.0})
    sink = channel.sink()
    outcome = await clock.run(
        StreamRenderer(sink, Lane(clock, clock.sleep), idle_wait=idle(clock)).run(model(clock, words(150)))
    )
    assert outcome.status == "complete"
    assert "".join(sink.visible()).split() == "".join(words(150)).split()
    refused_at = channel.requests[1].at  # the third attempt was refused right after the second request
    after = [r.at for r in channel.requests[2:]]
    assert after[0] - refused_at >= 2.0


async def test_stop_keeps_partial_text_and_marks_it() -> None:
    clock = FakeClock()
    channel = FakeChannel(clock)
    sink = channel.sink()
    renderer = StreamRenderer(sink, Lane(clock, clock.sleep), idle_wait=idle(clock))

    async def stop_later() -> None:
        await clock.sleep(2.0)
        renderer.stop()

    outcome, _ = await clock.run(asyncio.gather(renderer.run(model(clock, words(500))), stop_later()))
    assert outcome.status == "interrupted"
    final = sink.visible()[-1]
    assert final.endswith(STOPPED_MARK) and final.startswith("w0 w1")
    assert 30 <= len(outcome.text.split()) <= 70


async def test_failure_keeps_partial_text_and_says_why() -> None:
    clock = FakeClock()
    channel = FakeChannel(clock)
    sink = channel.sink()

    async def breaking() -> AsyncIterator[str]:
        yield "Half an "
        await clock.sleep(0.5)
        yield "answer"
        raise GenerationInterrupted("The model's answer was cut off.", "Half an answer")

    outcome = await clock.run(StreamRenderer(sink, Lane(clock, clock.sleep), idle_wait=idle(clock)).run(breaking()))
    assert outcome.status == "failed"
    assert sink.visible()[-1] == "Half an answer\n\n-# ⚠️ The model's answer was cut off."


async def test_long_answer_with_code_spans_valid_messages() -> None:
    clock = FakeClock()
    channel = FakeChannel(clock)
    sink = channel.sink()
    code = [f"    value_{i} = compute({i})  # a line of code\n" for i in range(120)]
    pieces = ["Here is the code:\n\n", "```python\n", "def main():\n", *code, "```\n\n", *words(200)]
    outcome = await clock.run(
        StreamRenderer(sink, Lane(clock, clock.sleep), idle_wait=idle(clock)).run(model(clock, pieces))
    )
    assert outcome.status == "complete"
    visible = sink.visible()
    assert len("".join(pieces)) > 5000 and len(visible) >= 3
    assert all(len(m) <= DISCORD_LIMIT and open_fence(m) is None for m in visible)
    assert channel.violations() == 0


async def test_rate_limit_headers_hold_the_channel_until_the_reset() -> None:
    from bot.discord_ui.ratelimit_trace import observe_response
    from bot.streaming.pacing import PacerRegistry

    clock = FakeClock()
    pacers = PacerRegistry(clock, clock.sleep)
    # Another of the bot's messages in this channel used up the edit bucket: Discord says 0 left, reset in 3 s.
    headers = {"X-RateLimit-Limit": "5", "X-RateLimit-Remaining": "0", "X-RateLimit-Reset-After": "3.0"}
    observe_response(pacers, "PATCH", "https://discord.com/api/v10/channels/42/messages/7", 200, headers)
    observe_response(pacers, "PATCH", "https://discord.com/api/v10/webhooks/1/abc/messages/9", 200, headers)
    await clock.run(pacers.for_channel(43).acquire())  # other channels are not held
    assert clock.now == 0.0
    await clock.run(pacers.for_channel(42).acquire())
    assert clock.now == 3.0
    await clock.run(pacers.for_channel(43).acquire())  # other channels are not held
    assert clock.now == 3.0


def prose(chars: int) -> list[str]:
    """Sentences in paragraphs of about 400 characters, as a model writes, `chars` characters in all."""
    pieces, total, i = [], 0, 0
    while total < chars:
        piece = f"Sentence {i} says a little more about it." + ("\n\n" if i % 9 == 8 else " ")
        pieces.append(piece[: chars - total])
        total, i = total + len(pieces[-1]), i + 1
    return pieces


async def test_components_pages_hold_4000_characters_and_read_back_exactly() -> None:
    clock = FakeClock()
    channel = FakeChannel(clock)
    sink = channel.sink("components")
    pieces = prose(7800)
    renderer = StreamRenderer(sink, Lane(clock, clock.sleep), notice="-# ✂️ a notice", idle_wait=idle(clock))
    await clock.run(renderer.run(model(clock, pieces)))
    bodies = [sink.pages[i].body for i in sink.mine]
    assert len(bodies) == 2 and all(len(b) <= 4000 for b in bodies)
    assert len(bodies[0]) > 3600  # packed close to the limit, not cut back at an early paragraph
    assert "\n".join(bodies).split() == "".join(pieces).split()
    assert sink.pages[sink.mine[-1]].notice == "-# ✂️ a notice"


async def test_a_long_notice_moves_the_tail_to_a_new_message_instead_of_overflowing() -> None:
    clock = FakeClock()
    channel = FakeChannel(clock)
    sink = channel.sink("classic")
    pieces = prose(1990)  # fits one message while streaming; not with the notice
    notice = "-# ⚠️ " + "a long remark " * 10
    renderer = StreamRenderer(sink, Lane(clock, clock.sleep), notice=notice, idle_wait=idle(clock))
    await clock.run(renderer.run(model(clock, pieces)))  # the fake refuses any content past 2,000
    assert len(sink.mine) == 2 and sink.pages[sink.mine[-1]].notice == notice
    assert " ".join(p.body for p in sink.pages.values()).split() == "".join(pieces).split()


LONG_NOTICE = (
    "-# ✂️ This answer reached its length limit. **Continue** picks it up.\n"
    "-# 3 older messages did not fit in my memory for this answer."
)


@pytest.mark.parametrize("chars", [1880, 1915, 1990, 3850])
async def test_a_notice_never_pushes_a_message_past_discords_limit(chars: int) -> None:
    clock = FakeClock()
    channel = FakeChannel(clock)
    sink = channel.sink()
    pieces = words(chars // 5)  # "w12 " and the like: about five characters a word
    renderer = StreamRenderer(sink, Lane(clock, clock.sleep), notice=LONG_NOTICE, idle_wait=idle(clock))
    outcome = await clock.run(renderer.run(model(clock, pieces)))
    assert outcome.status == "complete"  # the fake channel refuses content over 2,000 characters, as Discord does
    visible = sink.visible()
    assert all(len(m) <= DISCORD_LIMIT for m in visible)
    assert visible[-1].endswith("\n\n" + LONG_NOTICE)
    assert "\n".join(visible).removesuffix(LONG_NOTICE).split() == "".join(pieces).split()
