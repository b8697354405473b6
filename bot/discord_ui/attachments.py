"""Reading what a question brings: its reply chain and its attachments, checked before they are read.

Sizes and content types are checked from the attachment's metadata before a byte is downloaded; downloads use
discord.py's own `Attachment.read` with a timeout; nothing is written to disk. A file that cannot be used is named
in `Extras.problems` (shown under the answer) and the rest of the question is still answered.
"""

from __future__ import annotations

import asyncio
import base64
import io
import logging
import mimetypes
import re
from typing import Any

import discord

from bot.domain import Extras, FileText, Quote
from bot.errors import BotError
from bot.voice.stt import Transcriber

log = logging.getLogger(__name__)

# Tunables.
MAX_TEXT_BYTES = 1_000_000
MAX_IMAGE_BYTES = 8_000_000
MAX_ATTACHMENTS = 5
READ_TIMEOUT_SECONDS = 15.0
REPLY_CHAIN_LIMIT = 5  # messages followed up a reply chain
QUOTE_CHARS = 1500  # of each quoted message

TEXT_TYPES = ("text/", "application/json", "application/xml", "application/x-yaml", "application/toml")
TEXT_SUFFIXES = (
    ".txt",
    ".md",
    ".py",
    ".js",
    ".ts",
    ".json",
    ".csv",
    ".yaml",
    ".yml",
    ".toml",
    ".xml",
    ".html",
    ".css",
    ".c",
    ".h",
    ".cpp",
    ".java",
    ".rs",
    ".go",
    ".rb",
    ".sh",
    ".sql",
    ".log",
    ".ini",
    ".cfg",
)
IMAGE_TYPES = ("image/png", "image/jpeg", "image/gif", "image/webp")
PDF = "application/pdf"
# Voice messages and audio files: transcribed (decoded with PyAV in memory) and answered like text.
AUDIO_TYPES = (
    "audio/ogg",
    "audio/opus",
    "audio/mpeg",
    "audio/mp3",
    "audio/wav",
    "audio/x-wav",
    "audio/wave",
    "audio/vnd.wave",
    "audio/mp4",
    "audio/m4a",
    "audio/x-m4a",
)
AUDIO_SUFFIXES = (".ogg", ".oga", ".opus", ".mp3", ".wav", ".m4a")
MAX_AUDIO_BYTES = 25_000_000
MAX_AUDIO_SECONDS = 120.0
AUDIO_RATE = 16_000


class TooLong(Exception):
    pass


def decode_audio(data: bytes, max_seconds: float = MAX_AUDIO_SECONDS) -> Any:
    """16 kHz mono float32 samples of an audio file, decoded in memory (never written to disk); raises TooLong past
    `max_seconds`."""
    import av
    import numpy as np

    limit = int(max_seconds * AUDIO_RATE)
    chunks: list[Any] = []
    total = 0
    resampler = av.AudioResampler(format="flt", layout="mono", rate=AUDIO_RATE)
    with av.open(io.BytesIO(data), mode="r") as container:
        stream = container.streams.audio[0]
        for frame in container.decode(stream):
            for out in resampler.resample(frame):
                chunk = out.to_ndarray().reshape(-1)
                chunks.append(chunk)
                total += len(chunk)
                if total > limit:
                    raise TooLong
        for out in resampler.resample(None):
            chunks.append(out.to_ndarray().reshape(-1))
    return np.concatenate(chunks).astype(np.float32) if chunks else np.zeros(0, dtype=np.float32)


def _kind(attachment: discord.Attachment) -> tuple[str, str]:
    """('text' | 'pdf' | 'image' | 'audio' | 'other', content type)."""
    name = attachment.filename.lower()
    content_type = (attachment.content_type or mimetypes.guess_type(name)[0] or "").split(";")[0].strip()
    if attachment.is_voice_message() or content_type in AUDIO_TYPES or name.endswith(AUDIO_SUFFIXES):
        return "audio", content_type or "audio/ogg"
    if content_type in IMAGE_TYPES:
        return "image", content_type
    if content_type == PDF or name.endswith(".pdf"):
        return "pdf", PDF
    if content_type.startswith(TEXT_TYPES) or name.endswith(TEXT_SUFFIXES):
        return "text", content_type or "text/plain"
    return "other", content_type or "application/octet-stream"


def _amount(size: int) -> str:
    return f"{size / 1_000_000:.1f} MB" if size >= 1_000_000 else f"{max(1, round(size / 1000))} KB"


def describe(name: str, content_type: str, size: int) -> str:
    return f"{name} ({content_type}, {_amount(size)})"


def _decode_text(data: bytes) -> str | None:
    """The text, or None when the bytes are not text (NUL bytes, or not UTF-8 / Latin-1 text)."""
    if b"\x00" in data[:8192]:
        return None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        text = data.decode("latin-1")
        printable = sum(ch.isprintable() or ch in "\n\r\t" for ch in text[:8192])
        return text if printable >= 0.95 * min(len(text), 8192) else None


def _pdf_text(data: bytes) -> str:
    from pypdf import PdfReader

    reader = PdfReader(io.BytesIO(data))
    return "\n\n".join(page.extract_text() or "" for page in reader.pages).strip()


async def read_attachments(
    attachments: list[discord.Attachment], extras: Extras, transcriber: Transcriber | None = None
) -> None:
    """Add each attachment to `extras`: its text, its image, its transcript (`transcriber`), or why it was left out."""
    for attachment in attachments[:MAX_ATTACHMENTS]:
        kind, content_type = _kind(attachment)
        extras.described.append(describe(attachment.filename, content_type, attachment.size))
        if kind == "audio":
            await _listen_to(attachment, extras, transcriber)
            continue
        limit = MAX_IMAGE_BYTES if kind == "image" else MAX_TEXT_BYTES
        if kind == "other":
            extras.problems.append(f"I can't read **{attachment.filename}**: it isn't a text, PDF or image file.")
            continue
        if attachment.size > limit:
            extras.problems.append(
                f"**{attachment.filename}** is too large to read ({_amount(attachment.size)}; "
                f"the limit is {_amount(limit)})."
            )
            continue
        try:
            data = await asyncio.wait_for(attachment.read(), READ_TIMEOUT_SECONDS)
            if kind == "image":
                extras.images.append(f"data:{content_type};base64,{base64.b64encode(data).decode()}")
                continue
            text = await asyncio.to_thread(_pdf_text, data) if kind == "pdf" else _decode_text(data)
        except Exception as exc:  # a broken download or a damaged PDF loses the file, never the question
            log.warning("Could not read attachment %s (%s): %r", attachment.filename, content_type, exc)
            extras.problems.append(f"I couldn't read **{attachment.filename}**.")
            continue
        if text is None:
            extras.problems.append(f"I can't read **{attachment.filename}**: it looks like a binary file, not text.")
        elif not text.strip():
            extras.problems.append(f"**{attachment.filename}** has no text I could read.")
        else:
            extras.files.append(FileText(attachment.filename, text))
    if len(attachments) > MAX_ATTACHMENTS:
        extras.problems.append(f"I read only the first {MAX_ATTACHMENTS} attachments.")


async def _listen_to(attachment: discord.Attachment, extras: Extras, transcriber: Transcriber | None) -> None:
    """A voice message or audio file: checked from its metadata, then read, decoded and transcribed in memory."""
    name = attachment.filename
    if transcriber is None:
        extras.problems.append(f"I can't listen to **{name}**: speech recognition is off on this bot.")
        return
    if attachment.size > MAX_AUDIO_BYTES:
        extras.problems.append(
            f"**{name}** is too large to listen to ({_amount(attachment.size)}; the limit is "
            f"{_amount(MAX_AUDIO_BYTES)})."
        )
        return
    too_long = f"**{name}** is too long to listen to (the limit is {MAX_AUDIO_SECONDS / 60:.0f} minutes)."
    if attachment.duration is not None and attachment.duration > MAX_AUDIO_SECONDS:
        extras.problems.append(too_long)
        return
    try:
        data = await asyncio.wait_for(attachment.read(), READ_TIMEOUT_SECONDS)
        audio = await asyncio.to_thread(decode_audio, data)
        del data
        transcript = await transcriber.transcribe(audio) if len(audio) else ""
    except TooLong:
        extras.problems.append(too_long)
        return
    except BotError as exc:
        extras.problems.append(f"**{name}**: {exc.user_message}")
        return
    except Exception as exc:  # a broken download or undecodable audio loses the file, never the question
        log.warning("Could not listen to attachment %s (%s): %r", name, attachment.content_type, exc)
        extras.problems.append(f"I couldn't listen to **{name}**.")
        return
    if not transcript:
        extras.problems.append(f"I heard no words in **{name}**.")
        return
    extras.spoken = f"{extras.spoken} {transcript}" if extras.spoken else transcript


def quote_of(message: discord.Message, me: discord.abc.Snowflake, addressed: bool = False) -> Quote:
    """A message as its quote: who wrote it (the bot is "you") and its text, cut to its share; `addressed` leaves
    out the bot's mention (a question to the bot, quoted as the question it stored)."""
    author = "you (the assistant)" if message.author.id == me.id else message.author.display_name
    content = re.sub(rf"<@!?{me.id}>", "", message.content).strip() if addressed else message.content
    return Quote(author, content[:QUOTE_CHARS] + ("…" if len(content) > QUOTE_CHARS else ""))


async def reply_chain(message: discord.Message, me: discord.abc.Snowflake, fetch: bool = True) -> list[Quote]:
    """The messages this one replies to, up its reply chain, oldest first.

    Discord sends the replied-to message with a message; older links are fetched unless `fetch` is off (where the
    bot may not read the channel: a user install in a server that did not invite it).
    """
    quotes: list[Quote] = []
    current = message
    while len(quotes) < REPLY_CHAIN_LIMIT and current.reference is not None and current.reference.message_id:
        parent = current.reference.resolved
        if not isinstance(parent, discord.Message):
            if not fetch:
                break
            try:
                parent = await current.channel.fetch_message(current.reference.message_id)
            except discord.HTTPException:
                break  # deleted, or not visible to the bot: the chain stops here
        quote = quote_of(parent, me)
        if quote.text.strip():
            quotes.append(quote)
        current = parent
    return list(reversed(quotes))
