"""Turning a Discord answer into something worth hearing, and cutting it into sentences as it streams."""

from __future__ import annotations

import re

CODE_NOTE = "There is a code block here; see the text."
_FENCED = re.compile(r"```.*?(```|$)", re.S)
_INLINE_CODE = re.compile(r"`([^`]*)`")
_URL = re.compile(r"<?https?://[^\s>]+>?")
_MASKED_LINK = re.compile(r"\[([^\]]+)\]\(<?https?://[^)]+>?\)")
_USER = re.compile(r"<@!?(\d+)>")
_ROLE = re.compile(r"<@&\d+>")
_CHANNEL = re.compile(r"<#\d+>")
_CUSTOM_EMOJI = re.compile(r"<a?:(\w+):\d+>")
_TIMESTAMP = re.compile(r"<t:\d+(:\w)?>")
_SUBTEXT = re.compile(r"^-# .*$", re.M)
_HEADINGS_QUOTES = re.compile(r"^\s*(#{1,3}|>>>|>)\s*", re.M)
_LIST_BULLET = re.compile(r"^\s*[-*+]\s+", re.M)
_EMPHASIS = re.compile(r"(\*\*|__|\*|_|~~|\|\|)")
_SPACES = re.compile(r"[ \t]+")


def speakable(text: str, names: dict[int, str] | None = None) -> str:
    """Markdown removed, code replaced by a short note, links and markup dropped, mentions spoken as names."""
    names = names or {}
    text = _FENCED.sub(f" {CODE_NOTE} ", text)
    text = _SUBTEXT.sub("", text)
    text = _MASKED_LINK.sub(r"\1", text)
    text = _URL.sub("a link", text)
    text = _USER.sub(lambda m: names.get(int(m.group(1)), "someone"), text)
    text = _ROLE.sub("a role", text)
    text = _CHANNEL.sub("a channel", text)
    text = _CUSTOM_EMOJI.sub(lambda m: m.group(1).replace("_", " "), text)
    text = _TIMESTAMP.sub("", text)
    text = _INLINE_CODE.sub(r"\1", text)
    text = _HEADINGS_QUOTES.sub("", text)
    text = _LIST_BULLET.sub("", text)
    text = _EMPHASIS.sub("", text)
    text = text.replace("@everyone", "everyone").replace("@here", "everyone here")
    lines = [_SPACES.sub(" ", line).strip() for line in text.splitlines()]
    return "\n".join(line for line in lines if line)


def sentences(text: str) -> list[str]:
    """Complete sentences of an already-speakable text; a final fragment without punctuation counts too."""
    return [s.strip() for s in re.split(r"(?<=[.!?…])\s+|\n+", text) if s.strip()]


class SentenceStream:
    """Fed the pieces of a streaming answer; hands out each sentence as soon as it is complete.

    Code blocks are held back until they close, then spoken as one short note.
    """

    def __init__(self, names: dict[int, str] | None = None) -> None:
        self._buffer = ""
        self._names = names

    def feed(self, piece: str) -> list[str]:
        self._buffer += piece
        searchable = self._buffer
        if searchable.count("```") % 2 == 1:  # inside a code block: only what comes before it is ready
            searchable = searchable[: searchable.rfind("```")]
        cut = self._last_boundary(searchable)
        if cut == 0:
            return []
        ready, self._buffer = self._buffer[:cut], self._buffer[cut:]
        return sentences(speakable(ready, self._names))

    def flush(self) -> list[str]:
        rest, self._buffer = self._buffer, ""
        return sentences(speakable(rest, self._names))

    @staticmethod
    def _last_boundary(text: str) -> int:
        """End of the last complete sentence: punctuation followed by white space, or a blank line."""
        last = 0
        for match in re.finditer(r"[.!?…]+[\"')\]]*\s+|\n\s*\n", text):
            last = match.end()
        return last
