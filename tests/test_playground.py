"""The terminal's sink: what the renderer's pages print, marker never shown, the notice after the text."""

from __future__ import annotations

import io
from collections.abc import AsyncIterator

from bot.playground import TerminalSink, Unpaced
from bot.streaming.renderer import StreamRenderer


async def pieces(words: list[str]) -> AsyncIterator[str]:
    for word in words:
        yield word


async def test_the_terminal_prints_the_answer_then_its_notice() -> None:
    out = io.StringIO()
    text = ["Tides ", "come ", "twice ", "a ", "day."]
    renderer = StreamRenderer(TerminalSink(out), Unpaced(), notice="-# ✂️ cut")  # type: ignore[arg-type]
    await renderer.run(pieces(text))
    assert out.getvalue() == "Tides come twice a day.\n\n-# ✂️ cut"
    assert "▌" not in out.getvalue()


async def test_a_long_answer_prints_whole_in_parts() -> None:
    out = io.StringIO()
    words = [f"word{i} " for i in range(1200)]  # about 9,000 characters: three parts of at most 4,000
    await StreamRenderer(TerminalSink(out), Unpaced()).run(pieces(words))  # type: ignore[arg-type]
    assert out.getvalue().split() == "".join(words).split()
    assert out.getvalue().count("\n") == 2
