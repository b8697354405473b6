"""An answer never starts with an echoed speaker name or role."""

from __future__ import annotations

import pytest

from bot.generation.echo import EchoGuard


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
