"""Putting a question's reply chain, files and images into the context of its answer.

They go into the question's own message, for this answer only: the reply chain marked as what the user replied to
(even when it is older than the channel's history window), each file under its name, cut to a share of the model's
context window with a note saying how much was left out.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from bot.domain import Extras

if TYPE_CHECKING:
    from bot.services.reply import Reply

FILES_SHARE = 3  # files may take up to a third of the model's context window
CUT_MARK = "\n[… cut here: the rest of the file did not fit]"
NO_IMAGES = "This model can't see images, so I answered from the text only."


async def with_extras(reply: Reply, extras: Extras) -> None:
    reply.notes.extend(extras.problems)
    question = reply.context.messages[-1]
    parts: list[str] = []
    if extras.quotes:
        chain = "\n".join(f"{q.author}: {q.text}" for q in extras.quotes)
        parts.append(f"[The user is replying to this conversation:]\n{chain}\n[End of the replied-to messages.]")
    if extras.files:
        budget = (await reply.backend.context_window()) // FILES_SHARE // len(extras.files)
        counts = await reply.backend.count_text([f.text for f in extras.files])
        for file, tokens in zip(extras.files, counts, strict=True):
            text = file.text
            if tokens > budget:
                keep = max(1, int(len(text) * budget / tokens))
                text = text[:keep] + CUT_MARK
                left_out = round(100 * (1 - keep / len(file.text)))
                reply.notes.append(f"**{file.name}** was too long for this model: about {left_out} % was left out.")
            parts.append(f"[File {file.name}:]\n{text}\n[End of {file.name}.]")
    if extras.images:
        if getattr(reply.backend, "takes_images", False):
            question["images"] = list(extras.images)
        else:
            parts.append(f"[The user attached {len(extras.images)} image(s) you cannot see.]")
            reply.notes.append(NO_IMAGES)
    if parts:
        question["content"] = "\n\n".join([*parts, question["content"]])
