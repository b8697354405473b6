"""An answer never starts with an echoed speaker name or role."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import aclosing

import pytest

from bot.generation.echo import EchoGuard
from bot.generation.stages import StreamState, answer_text


@pytest.mark.parametrize(
    "pieces, shown",
    [
        (["assistant", ":", " Paris."], "Paris."),
        (["Bob: hi", " there"], "hi there"),
        (["ASSISTANT:  It is 4."], "It is 4."),
        (["Paris", " is", " the capital."], "Paris is the capital."),
        (["Bobby", " tables"], "Bobby tables"),  # a name that only starts like one is left alone
        (["Note: this", " stays"], "Note: this stays"),
    ],
)
def test_echoed_prefixes_are_dropped_and_nothing_else(pieces: list[str], shown: str) -> None:
    guard = EchoGuard(["Bob", "assistant"])
    out = [text for piece in pieces for text in guard.feed(piece)] + guard.flush()
    assert "".join(out) == shown


@pytest.mark.parametrize(
    ("pieces", "first_shown"),
    [
        (["The", " sky", " is", " blue"], "The"),  # no name starts like it: shown at once
        (["Bo", "ats", " float"], "Boats"),  # like "Bob" until its second piece
        (["assistant", ":", " Paris", " is"], "Paris"),  # the echo is dropped as soon as it is whole
        # Starts like "Bob: …": held only until it has shown itself not to be one (40 characters at most).
        (
            ["Bob", " and", " Ann", " went", " to", " the", " market", " early", " on", " Monday"],
            "Bob and Ann went to the market early on Monday",
        ),
    ],
)
async def test_the_start_of_an_answer_is_shown_while_the_model_still_writes(
    pieces: list[str], first_shown: str
) -> None:
    more = asyncio.Event()  # the model pauses after these pieces, as a slow one does

    async def model() -> AsyncIterator[str]:
        for piece in pieces:
            yield piece
        await more.wait()
        yield " and more."

    shown = aclosing(answer_text(model(), StreamState(), names=["Bob"]))
    async with shown as text:
        async with asyncio.timeout(2):  # held until the end, this would wait for the pause forever
            first = await anext(text)
        assert first.strip() == first_shown
        more.set()
        rest = [piece async for piece in text]
    assert "".join([first, *rest]).endswith(" and more.")
