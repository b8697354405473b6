"""Splitting answers into Discord messages: under the limit, natural cuts, valid code fences."""

from __future__ import annotations

from collections import Counter

from bot.streaming.renderer import WRITING_MARKER
from bot.streaming.splitting import DISCORD_LIMIT, MessageSplitter, closed, open_fence, split_message


def balanced(message: str) -> bool:
    return open_fence(message) is None


def long_answer_with_code() -> str:
    prose = "This paragraph explains the idea in plain words. It has a few sentences. " * 8
    code = "\n".join(f"    total += compute_value(item_{i}, factor={i})  # step {i}" for i in range(60))
    return f"{prose}\n\n```python\ndef run():\n    total = 0\n{code}\n    return total\n```\n\n{prose}\n\n{prose}"


def test_short_text_is_one_message() -> None:
    assert split_message("Hello!") == ["Hello!"]


def test_long_answer_with_code_block_splits_validly() -> None:
    text = long_answer_with_code()
    assert len(text) > 5000
    messages = split_message(text)
    assert len(messages) >= 3
    assert all(len(m) <= DISCORD_LIMIT for m in messages)
    assert all(balanced(m) for m in messages)
    reopened = [m for m in messages[1:] if m.startswith("```python\n")]
    assert reopened, "the code block continues in the next message with its language"
    # Nothing is lost or reordered; the only additions are one closing and one reopening fence per cut in code.
    sent = " ".join(messages).split()
    assert [w for w in sent if not w.startswith("```")] == [w for w in text.split() if not w.startswith("```")]
    added = Counter(sent) - Counter(text.split())
    assert added == Counter({"```": len(reopened), "```python": len(reopened)})


def test_cuts_prefer_paragraphs_then_sentences() -> None:
    paragraph = "Word " * 300
    text = paragraph.strip() + "\n\n" + paragraph.strip()
    first, second = split_message(text)
    assert first == paragraph.strip() and second == paragraph.strip()
    sentences = "This is a sentence that goes on. " * 80
    first, *_ = split_message(sentences)
    assert first.endswith("goes on.")


def test_streaming_never_rewrites_frozen_messages() -> None:
    text = long_answer_with_code()
    splitter = MessageSplitter()
    seen: list[list[str]] = []
    for end in range(1, len(text) + 1, 37):
        seen.append(splitter.update(text[:end]))
    final = splitter.update(text)
    for snapshot in seen:
        for index, body in enumerate(snapshot[:-1]):
            assert final[index] == body
    assert final == split_message(text)


def test_open_fence_is_closed_for_display() -> None:
    assert closed("```js\nlet a = 1;") == "```js\nlet a = 1;\n```"
    assert closed("plain") == "plain"


def test_a_growing_answer_always_has_room_for_the_writing_marker_and_a_closing_fence() -> None:
    text = long_answer_with_code() + "\n\n" + "word " * 900
    splitter = MessageSplitter()
    for end in range(1, len(text) + 1, 3):
        bodies = splitter.update(text[:end])
        assert len(closed(bodies[-1])) + len(WRITING_MARKER) <= DISCORD_LIMIT
        assert all(len(body) <= DISCORD_LIMIT for body in bodies[:-1])
