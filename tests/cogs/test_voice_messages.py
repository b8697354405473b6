"""Voice messages and audio files: an espeak-ng recording encoded to ogg/opus by PyAV, posted through simcord,
decoded in memory and transcribed by the real faster-whisper, answered like text and kept marked as spoken."""

from __future__ import annotations

import io
import json
import subprocess

import av

from bot.app import Services
from bot.db import history
from tests.cogs.helpers import server


def espeak_ogg(text: str) -> bytes:
    """`text` spoken by espeak-ng, as an ogg/opus file a phone would record."""
    wav = subprocess.run(["espeak-ng", "--stdout", text], capture_output=True, check=True).stdout
    out = io.BytesIO()
    with av.open(io.BytesIO(wav)) as src, av.open(out, "w", format="ogg") as dst:
        stream = dst.add_stream("libopus", rate=48000, layout="mono")
        for frame in src.decode(audio=0):
            frame.pts = None
            for packet in stream.encode(frame):
                dst.mux(packet)
        for packet in stream.encode(None):
            dst.mux(packet)
    return out.getvalue()


def question(seen_json: str) -> str:
    return str(json.loads(seen_json)[-1]["content"])


async def test_a_voice_message_is_transcribed_answered_and_kept_as_spoken(
    simcord_env, simcord_bot, services: Services
) -> None:
    s = server(simcord_env)
    services.registry.default_model = "echo"
    recording = espeak_ogg("What is the capital of France?")
    await s.member.send(s.channel, f"<@{simcord_bot.user.id}>", attachments=[("voice-message.ogg", recording)])
    seen = question(s.channel.last_message.content)
    assert seen.startswith("🎙️ ") and "capital of France" in seen
    async with services.db.sessions() as session:
        turns = await history.recent_turns(session, s.channel.id, 10)
    stored = turns[0].content
    assert stored.startswith("🎙️ ") and "capital of France" in stored
    assert "[attached: voice-message.ogg (audio/ogg," in stored


async def test_a_direct_voice_message_is_answered(simcord_env, simcord_bot, services: Services) -> None:
    s = server(simcord_env)
    services.registry.default_model = "echo"
    backend = simcord_env.backend
    dm = backend.get_dm_channel(s.member.id)
    files = backend.store_attachments(dm.id, [("note.ogg", espeak_ogg("What is the capital of France?"))])
    sent = await s.member.send_dm("", attachments=files)  # simcord's DMs take stored attachments
    replies = [
        r for r in simcord_env.http_requests if r.method == "POST" and r.path == f"/channels/{sent.channel.id}/messages"
    ]
    assert replies and "capital of France" in question(replies[-1].json["content"])


async def test_audio_that_is_too_large_is_refused_unread(simcord_env, simcord_bot, services: Services) -> None:
    s = server(simcord_env)
    cdn = simcord_env.backend.cdn
    downloads: list[str] = []
    read = cdn.get
    cdn.get = lambda url: downloads.append(url) or read(url)  # every attachment download the bot makes
    big = b"\0" * 26_000_000
    await s.member.send(s.channel, f"<@{simcord_bot.user.id}> hello there", attachments=[("long.mp3", big)])
    answer = s.channel.last_message.content
    assert answer.startswith("Hello there, friend.")
    assert "-# ⚠️ **long.mp3** is too large to listen to (26.0 MB; the limit is 25.0 MB)." in answer
    assert downloads == []  # refused from its metadata: never downloaded


async def test_undecodable_audio_loses_the_file_not_the_question(simcord_env, simcord_bot, services: Services) -> None:
    s = server(simcord_env)
    await s.member.send(s.channel, f"<@{simcord_bot.user.id}> hello there", attachments=[("bad.wav", b"RIFFjunk" * 50)])
    answer = s.channel.last_message.content
    assert answer.startswith("Hello there, friend.")
    assert "-# ⚠️ I couldn't listen to **bad.wav**." in answer
