"""Twelve simple questions with one right answer each: a check that the embedded model's settings keep it sensible."""

from __future__ import annotations

import re

QUIZ: list[tuple[str, tuple[str, ...]]] = [
    ("What is the capital of France?", ("paris",)),
    ("What is the capital of Japan?", ("tokyo",)),
    ("What is the capital of Italy?", ("rome",)),
    ("What is 2 + 2?", ("4", "four")),
    ("How many days are in a week?", ("7", "seven")),
    ("What color is the sky on a clear day?", ("blue",)),
    ("How many hours are in a day?", ("24", "twenty-four")),
    ("What is the chemical symbol for water?", ("h2o", "h₂o")),
    ("How many legs does a spider have?", ("8", "eight")),
    ("What is the opposite of hot?", ("cold",)),
    ("What is the capital of Germany?", ("berlin",)),
    ("What do bees make?", ("honey",)),
]


def right(answer: str, accepted: tuple[str, ...]) -> bool:
    """The first sentence names an accepted answer as a whole word or number ("-18.0" is not "0")."""
    first = re.split(r"(?<=[.!?])\s", answer.strip().lower(), maxsplit=1)[0]
    return any(re.search(rf"(?<![\w.-]){re.escape(word)}(?![\w]|\.\d)", first) for word in accepted)
