"""Context trimming, counted with the real SmolLM2 tokenizer."""

from __future__ import annotations

from datetime import UTC, datetime

from bot.domain import Persona, Turn
from bot.generation.local import LocalBackend, LocalModelPool
from bot.services.context import CUT_MARK, assemble
from tests.conftest import MODEL_CACHE, prompt_tokens
from tests.standins.scripted import ScriptedBackend

PERSONA = Persona(name="t", system_prompt="You are terse.", max_tokens=100)


def turn(i: int, text: str, role: str = "user") -> Turn:
    return Turn(
        id=i,
        channel_id=1,
        role=role,
        content=text,
        author_name="ann" if role == "user" else None,
        status="complete",
        created_at=datetime.now(UTC),
    )


async def small_window_backend(window: int) -> tuple[LocalBackend, LocalModelPool]:
    pool = LocalModelPool(cache_dir=MODEL_CACHE, context_limit=window)
    return LocalBackend("smollm2", pool), pool


async def test_newest_turns_that_fit_are_kept_and_the_rest_reported() -> None:
    backend, pool = await small_window_backend(400)
    history = [turn(i, f"Message number {i} talks about topic {i} at some length, adding detail.") for i in range(60)]
    context = await assemble(backend, PERSONA, history, max_tokens=100)
    kept = context.messages[1:]
    assert context.messages[0] == {"role": "system", "content": "You are terse."}
    assert kept[-1]["content"].endswith("topic 59 at some length, adding detail.")
    assert 0 < context.left_out < 60 and len(kept) == 60 - context.left_out
    assert [m["content"] for m in kept] == [t.content for t in history[context.left_out :]]  # one speaker: no names
    # The real prompt fits the window with room for the answer.
    assert await prompt_tokens(pool, "smollm2", context.messages) <= 400 - 100
    pool.close()


async def test_one_huge_turn_is_cut_not_allowed_to_push_everything_out() -> None:
    backend, pool = await small_window_backend(600)
    history = [turn(1, "Earlier question?"), turn(2, "Earlier answer.", "assistant"), turn(3, "huge " * 3000)]
    context = await assemble(backend, PERSONA, history, max_tokens=100)
    assert context.cut == 1
    assert context.messages[-1]["content"].endswith(CUT_MARK)
    assert await prompt_tokens(pool, "smollm2", context.messages) <= 600 - 100
    pool.close()


async def test_old_huge_turn_does_not_evict_newer_ones() -> None:
    backend, pool = await small_window_backend(600)
    history = [turn(1, "old " * 3000), turn(2, "Recent answer.", "assistant"), turn(3, "Newest question?")]
    context = await assemble(backend, PERSONA, history, max_tokens=100)
    contents = [m["content"] for m in context.messages[1:]]
    assert contents[-2:] == ["Recent answer.", "Newest question?"]
    assert await prompt_tokens(pool, "smollm2", context.messages) <= 600 - 100
    pool.close()


def counted(i: int, words: int, role: str = "user") -> Turn:
    """A turn of exactly `words` tokens for a backend that counts a word a token."""
    return turn(i, " ".join(f"t{i}w{n}" for n in range(words)), role)


async def test_a_middle_turn_too_big_for_what_is_left_ends_the_history_there_no_gap() -> None:
    # A window of 400, 100 kept for the answer, a 3-word system prompt: 285 tokens of history (6 of framing each).
    backend = ScriptedBackend(window=400)
    history = [counted(1, 5), counted(2, 100, "assistant"), counted(3, 120), counted(4, 120, "assistant")]
    context = await assemble(backend, PERSONA, history, max_tokens=100)
    assert [m["content"] for m in context.messages[1:]] == [history[2].content, history[3].content]
    assert (context.left_out, context.cut) == (2, 0)  # never the small oldest turn without the one after it


async def test_one_huge_older_turn_is_capped_so_the_turns_before_it_still_fit() -> None:
    backend = ScriptedBackend(window=400)
    history = [counted(1, 2), counted(2, 1000, "assistant"), counted(3, 2)]
    context = await assemble(backend, PERSONA, history, max_tokens=100)
    contents = [m["content"] for m in context.messages[1:]]
    assert contents[0] == history[0].content and contents[2] == history[2].content
    assert contents[1].endswith(CUT_MARK) and context.cut == 1 and context.left_out == 0
    assert len(contents[1].split()) < 200  # about half the 285 tokens of room (characters are cut, words counted)
