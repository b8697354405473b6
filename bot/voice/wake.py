"""Who the bot answers: in `name` mode only utterances that start with its name (or a wake word) are questions."""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Literal

Mode = Literal["name", "always"]
MODES: tuple[Mode, ...] = ("name", "always")
_GREETING = r"(?:(?:hey|hi|ok|okay|hello)\W+)?"


def addressed(transcript: str, mode: Mode, names: Iterable[str]) -> str | None:
    """The question in an utterance (its wake word taken off), or None when it was not said to the bot."""
    text = transcript.strip()
    if mode == "always":
        return text or None
    for name in names:
        if not name.strip():
            continue
        spoken_name = r"\W+".join(re.escape(part) for part in name.split())
        match = re.match(rf"^\W*{_GREETING}{spoken_name}\b[\W_]*(.*)$", text, re.IGNORECASE | re.DOTALL)
        if match and match.group(1).strip():
            return match.group(1).strip()
    return None
