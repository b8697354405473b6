"""Putting a question's reply chain, files and images into the context of its answer.

They go into the question's own message, for this answer only: the reply chain marked as what the user replied to
(even when it is older than the channel's history window), each file under its name, cut to a share of the model's
context window with a note saying how much was left out. Their tokens are counted before the history is chosen, so
older turns make way for them and the answer keeps its room.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from bot.domain import ChatMessage, Extras
from bot.generation.types import Backend

FILES_SHARE = 3  # files may take up to a third of the model's context window
CUT_MARK = "\n[… cut here: the rest of the file did not fit]"
NO_IMAGES = "This model can't see images, so I answered from the text only."


@dataclass(slots=True)
class Addition:
    """What the extras add to the question: text before it, its tokens, images, and notes for the asker."""

    parts: list[str] = field(default_factory=list)
    tokens: int = 0
    images: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def apply(self, question: ChatMessage) -> None:
        if self.images:
            question["images"] = list(self.images)
        if self.parts:
            question["content"] = "\n\n".join([*self.parts, question["content"]])


async def prepare(backend: Backend, extras: Extras) -> Addition:
    added = Addition(notes=list(extras.problems))
    if extras.quotes:
        chain = "\n".join(f"{q.author}: {q.text}" for q in extras.quotes)
        added.parts.append(f"[The user is replying to this conversation:]\n{chain}\n[End of the replied-to messages.]")
    if extras.files:
        budget = (await backend.context_window()) // FILES_SHARE // len(extras.files)
        counts = await backend.count_text([f.text for f in extras.files])
        for file, tokens in zip(extras.files, counts, strict=True):
            text = file.text
            if tokens > budget:
                keep = max(1, int(len(text) * budget / tokens))
                text = text[:keep] + CUT_MARK
                left_out = round(100 * (1 - keep / len(file.text)))
                added.notes.append(f"**{file.name}** was too long for this model: about {left_out} % was left out.")
            added.parts.append(f"[File {file.name}:]\n{text}\n[End of {file.name}.]")
    if extras.images:
        if getattr(backend, "takes_images", False):
            added.images = list(extras.images)
        else:
            added.parts.append(f"[The user attached {len(extras.images)} image(s) you cannot see.]")
            added.notes.append(NO_IMAGES)
    if added.parts:
        added.tokens = sum(await backend.count_text(["\n\n".join(added.parts)]))
    return added
