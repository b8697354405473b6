"""What people post: reply chains, text files, PDFs, images, and files that cannot be read (simcord)."""

from __future__ import annotations

import io
import json

from pypdf import PdfWriter
from pypdf.generic import DecodedStreamObject, DictionaryObject, NameObject

from bot.app import Services
from bot.db import history
from bot.services.extras import NO_IMAGES
from tests.cogs.helpers import server


def question(seen_json: str) -> str:
    """The last user message the model received (the echo backend answers with the messages' JSON)."""
    return json.loads(seen_json)[-1]["content"]


async def test_a_reply_to_an_answer_continues_from_it(simcord_env, simcord_bot, services: Services) -> None:
    s = server(simcord_env)
    me = simcord_bot.user
    await s.member.send(s.channel, f"<@{me.id}> tell me about lighthouses")
    answer = s.channel.last_message
    assert answer.author.id == me.id
    await s.admin.slash(s.channel, "forget")  # older than the history window: only the reply chain carries it
    services.registry.default_model = "echo"
    await s.member.send(s.channel, "and why are they painted?", reply_to=answer)  # no mention: a reply is enough
    seen = question(s.channel.last_message.content)
    assert "[The user is replying to this conversation:]" in seen
    assert f"bob: <@{me.id}> tell me about lighthouses" in seen
    assert "you (the assistant): Hello there, friend." in seen
    assert seen.endswith("and why are they painted?")


async def test_a_text_file_reaches_the_model_and_history_keeps_only_its_description(
    simcord_env, services: Services
) -> None:
    s = server(simcord_env)
    services.registry.default_model = "echo"
    notes = "Meeting notes\n- the lighthouse opens on Friday\n- bring a torch\n"
    result = await s.member.slash(s.channel, "ask", prompt="summarise this", file=("notes.md", notes.encode()))
    seen = question(result.response.content.split("\n\n-#")[0])
    assert "[File notes.md:]\nMeeting notes\n- the lighthouse opens on Friday" in seen
    async with services.db.sessions() as session:
        turns = await history.recent_turns(session, s.channel.id, 10)
    stored = turns[0].content
    assert stored.startswith("summarise this\n[attached: notes.md (") and "KB)]" in stored
    assert "lighthouse opens" not in stored


async def test_a_pdf_is_read(simcord_env, services: Services, simcord_bot) -> None:
    s = server(simcord_env)
    services.registry.default_model = "echo"
    await s.member.send(
        s.channel, f"<@{simcord_bot.user.id}> what does it say?", attachments=[("doc.pdf", pdf("Tides at noon"))]
    )
    assert "[File doc.pdf:]\nTides at noon" in question(s.channel.last_message.content)


async def test_binary_and_oversized_files_are_refused_clearly_and_the_text_is_answered(
    simcord_env, simcord_bot, services: Services
) -> None:
    s = server(simcord_env)
    me = simcord_bot.user
    blob = bytes(range(256)) * 8
    big = b"a line of text\n" * 80_000  # 1.2 MB
    await s.member.send(s.channel, f"<@{me.id}> hello there", attachments=[("tool.bin", blob), ("huge.txt", big)])
    answer = s.channel.last_message.content
    assert answer.startswith("Hello there, friend.")
    assert "-# ⚠️ I can't read **tool.bin**: it isn't a text, PDF or image file." in answer
    assert "-# ⚠️ **huge.txt** is too large to read (1.2 MB; the limit is 1.0 MB)." in answer


async def test_a_text_only_model_says_it_cannot_see_images(simcord_env, simcord_bot, services: Services) -> None:
    s = server(simcord_env)
    me = simcord_bot.user
    await s.member.send(s.channel, f"<@{me.id}> what is this?", attachments=[("cat.png", PNG)])
    answer = s.channel.last_message.content
    assert answer == f"Hello there, friend.\n\n-# ⚠️ {NO_IMAGES}"


def pdf(text: str) -> bytes:
    writer = PdfWriter()
    page = writer.add_blank_page(width=300, height=200)
    font = DictionaryObject(
        {
            NameObject("/Type"): NameObject("/Font"),
            NameObject("/Subtype"): NameObject("/Type1"),
            NameObject("/BaseFont"): NameObject("/Helvetica"),
        }
    )
    page[NameObject("/Resources")] = DictionaryObject(
        {NameObject("/Font"): DictionaryObject({NameObject("/F1"): writer._add_object(font)})}
    )
    stream = DecodedStreamObject()
    stream.set_data(f"BT /F1 12 Tf 20 100 Td ({text}) Tj ET".encode())
    page[NameObject("/Contents")] = writer._add_object(stream)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c6360000002000154a24f5f0000000049454e44ae426082"
)


async def test_a_refused_file_is_never_downloaded(simcord_env, simcord_bot, services: Services, monkeypatch) -> None:
    s = server(simcord_env)
    me = simcord_bot.user
    downloads: list[str] = []
    download = simcord_bot.http.get_from_cdn

    async def recording(url: str) -> bytes:
        downloads.append(url.rsplit("/", 1)[-1])
        return await download(url)

    monkeypatch.setattr(simcord_bot.http, "get_from_cdn", recording)
    big = b"a line of text\n" * 80_000  # 1.2 MB
    files = [("tool.bin", bytes(range(256))), ("huge.txt", big), ("notes.md", b"# Notes\nTides at noon")]
    await s.member.send(s.channel, f"<@{me.id}> hello there", attachments=files)
    answer = s.channel.last_message.content
    assert "**huge.txt** is too large to read" in answer and "I can't read **tool.bin**" in answer
    assert downloads == ["notes.md"]  # checked from the metadata first: only the usable file was read
