"""What gets spoken: markdown, code, links, mentions and emoji handled sensibly; sentences as they complete."""

from __future__ import annotations

from bot.voice.text_prep import CODE_NOTE, SentenceStream, sentences, speakable


def test_markdown_and_markup_are_removed() -> None:
    text = "# Title\n**Bold** and *italic* and __under__ and ~~gone~~ and ||secret||.\n> quoted\n- item one\n-# small"
    assert speakable(text) == "Title\nBold and italic and under and gone and secret.\nquoted\nitem one"


def test_code_becomes_a_short_note() -> None:
    text = "Use this:\n```python\nprint('hi')\nx = 1\n```\nThen run `make test`."
    spoken = speakable(text)
    assert CODE_NOTE in spoken and "print" not in spoken and "make test" in spoken


def test_links_mentions_and_emoji() -> None:
    text = (
        "See https://example.com/x?y=1 or [the docs](https://docs.example.com). Ask <@42> or <@!7> in <#9>, "
        "not <@&5>. Nice <:party_parrot:123> @everyone"
    )
    spoken = speakable(text, names={42: "Alice"})
    assert "http" not in spoken and "a link" in spoken and "the docs" in spoken
    assert "Ask Alice or someone in a channel, not a role." in spoken
    assert "party parrot" in spoken and "@" not in spoken


def test_all_code_answer_is_just_the_note() -> None:
    assert speakable("```\nonly code\n```") == CODE_NOTE


def test_sentences() -> None:
    assert sentences("One. Two! Three?\nFour") == ["One.", "Two!", "Three?", "Four"]


def test_sentence_stream_hands_out_sentences_as_they_complete() -> None:
    stream = SentenceStream()
    out: list[str] = []
    for piece in ["Hello ", "there", ". How ", "are you", "? I am ", "fine"]:
        out += stream.feed(piece)
    assert out == ["Hello there.", "How are you?"]
    assert stream.flush() == ["I am fine"]


def test_sentence_stream_waits_for_code_blocks_to_close() -> None:
    stream = SentenceStream()
    assert stream.feed("Look. ```py\nx = 1. y = 2.\n") == ["Look."]
    assert stream.feed("```\nDone. ") == [CODE_NOTE, "Done."]
