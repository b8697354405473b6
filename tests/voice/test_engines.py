"""Speech engines: real espeak-ng synthesis, and the real Google client against a local stand-in."""

from __future__ import annotations

import base64
import io
import json
import math
import struct
import threading
import wave
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import ClassVar

import discord
import pytest
from google.auth.credentials import AnonymousCredentials

from bot.domain import VoiceSettings
from bot.errors import BotError
from bot.voice.audio import FRAME_BYTES, PcmAudio, PcmSource
from bot.voice.engines import GOOGLE_MAX_BYTES, EspeakEngine, GoogleEngine, byte_chunks


async def test_espeak_speaks_non_silent_audio_of_plausible_length() -> None:
    audio = await EspeakEngine().synthesize("Hello there. This sentence takes a couple of seconds to say.")
    assert 1.5 < audio.seconds < 8.0
    assert audio.peak() > 3000  # not silence
    longer = await EspeakEngine().synthesize("Hello there. " * 6)
    assert longer.seconds > audio.seconds


async def test_espeak_missing_says_so() -> None:
    engine = EspeakEngine(program=None)
    engine.program = None
    with pytest.raises(BotError, match="espeak-ng is not installed"):
        await engine.synthesize("hi")


def test_source_yields_20ms_frames_that_libopus_encodes() -> None:
    if not discord.opus.is_loaded():
        discord.opus._load_default()
    assert discord.opus.is_loaded(), "libopus is missing (Debian: libopus0)"
    tone = struct.pack("<" + "h" * 9600, *[int(8000 * math.sin(i / 10)) for i in range(9600)])  # 0.1 s stereo
    source = PcmSource(PcmAudio(tone + tone[:1000]))
    encoder = discord.opus.Encoder()
    frames = []
    while frame := source.read():
        assert len(frame) == FRAME_BYTES
        frames.append(encoder.encode(frame, encoder.SAMPLES_PER_FRAME))
    assert len(frames) == 6 and all(0 < len(packet) < FRAME_BYTES for packet in frames)


def _wav(seconds: float, rate: int = 48_000) -> bytes:
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as wav:
        wav.setnchannels(1)
        wav.setsampwidth(2)
        wav.setframerate(rate)
        wav.writeframes(
            struct.pack(
                "<" + "h" * int(rate * seconds), *[int(5000 * math.sin(i / 5)) for i in range(int(rate * seconds))]
            )
        )
    return buffer.getvalue()


class _Standin(BaseHTTPRequestHandler):
    requests: ClassVar[list[dict[str, object]]] = []
    status = 200

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        type(self).requests.append({"path": self.path, "body": body})
        if type(self).status != 200:
            payload = {"error": {"code": type(self).status, "message": "denied", "status": "PERMISSION_DENIED"}}
        else:
            payload = {"audioContent": base64.b64encode(_wav(0.25)).decode()}
        raw = json.dumps(payload).encode()
        self.send_response(type(self).status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(raw)))
        self.end_headers()
        self.wfile.write(raw)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def google_standin() -> Iterator[str]:
    _Standin.requests, _Standin.status = [], 200
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Standin)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


async def test_google_request_and_audio(google_standin: str) -> None:
    engine = GoogleEngine(api_endpoint=google_standin, credentials=AnonymousCredentials())
    voice = VoiceSettings(language="en-GB", voice_name="en-GB-Neural2-B", speaking_rate=1.2, pitch=-2.0)
    long_text = "This is a sentence that repeats. " * 400  # about 13 kB
    audio = await engine.synthesize(long_text, voice)
    requests = _Standin.requests
    assert len(requests) == len(byte_chunks(long_text)) >= 3
    first = requests[0]
    assert first["path"] == "/v1/text:synthesize"
    body = first["body"]
    assert isinstance(body, dict)
    assert body["voice"] == {"languageCode": "en-GB", "name": "en-GB-Neural2-B"}
    assert body["audioConfig"]["audioEncoding"] == "LINEAR16" and body["audioConfig"]["sampleRateHertz"] == 48000
    assert body["audioConfig"]["speakingRate"] == 1.2 and body["audioConfig"]["pitch"] == -2.0
    assert all(len(r["body"]["input"]["text"].encode()) <= GOOGLE_MAX_BYTES for r in requests)  # type: ignore[index]
    assert " ".join(r["body"]["input"]["text"] for r in requests).split() == long_text.split()  # type: ignore[index]
    assert audio.seconds == pytest.approx(0.25 * len(requests), rel=0.01) and audio.peak() > 3000


async def test_google_refusal_is_a_clear_error(google_standin: str) -> None:
    _Standin.status = 403
    engine = GoogleEngine(api_endpoint=google_standin, credentials=AnonymousCredentials())
    with pytest.raises(BotError, match="credentials"):
        await engine.synthesize("hello")


def test_google_without_credentials_reports_itself_unusable() -> None:
    from bot.voice.manager import VoiceManager

    problem = GoogleEngine().check()
    assert problem is not None and "GOOGLE_APPLICATION_CREDENTIALS" in problem
    assert GoogleEngine(credentials=AnonymousCredentials()).check() is None
    manager = VoiceManager(GoogleEngine(), idle_seconds=5)
    assert any("GOOGLE_APPLICATION_CREDENTIALS" in p for p in manager.problems)


async def test_a_failing_engine_is_reported_for_the_answer() -> None:
    from bot.voice.player import GuildPlayer
    from tests.voice.fakes import FakeVoiceConnection
    from tests.voice.test_player import wait_until

    class Refusing:
        name = "refusing"

        def check(self) -> None:
            return None

        async def synthesize(self, text: str, voice: VoiceSettings | None = None) -> PcmAudio:
            raise BotError("Google Text-to-Speech refused the request; check its credentials.")

    player = GuildPlayer(FakeVoiceConnection(), Refusing(), idle_seconds=5)
    player.say(3, "Hello.")
    await wait_until(lambda: 3 in player.failures)
    assert "refused" in player.failures[3] and player.played == []
    await player.close()
