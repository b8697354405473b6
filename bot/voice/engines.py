"""Text-to-speech engines: text in, Discord PCM out. Nothing here knows about Discord voice connections.

`EspeakEngine` runs the offline espeak-ng program (no account, no network); `GoogleEngine` calls Google Cloud
Text-to-Speech with its synchronous client (the async client has no REST transport) in a worker thread.
"""

from __future__ import annotations

import asyncio
import logging
import shutil
from typing import Any, Protocol

from bot.domain import VoiceSettings
from bot.errors import BotError
from bot.voice.audio import SAMPLE_RATE, PcmAudio, wav_to_pcm

log = logging.getLogger(__name__)

GOOGLE_MAX_BYTES = 5000  # Google's limit per request, in bytes of UTF-8 input
ESPEAK_WORDS_PER_MINUTE = 175


class SpeechUnavailableError(BotError):
    """Speech cannot work here (engine missing, credentials refused); text answers are unaffected."""


class SpeechEngine(Protocol):
    name: str

    def check(self) -> str | None: ...

    async def synthesize(self, text: str, voice: VoiceSettings | None = None) -> PcmAudio: ...


class EspeakEngine:
    name = "espeak"

    def __init__(self, program: str | None = None) -> None:
        self.program = program or shutil.which("espeak-ng") or shutil.which("espeak")

    def check(self) -> str | None:
        """Why this engine cannot work here, or None."""
        return None if self.program else "espeak-ng is not installed (Debian: apt-get install espeak-ng)."

    async def synthesize(self, text: str, voice: VoiceSettings | None = None) -> PcmAudio:
        if not self.program:
            raise SpeechUnavailableError("Speech is unavailable: espeak-ng is not installed on the bot's machine.")
        args = [
            self.program,
            "--stdout",
            "-s",
            str(int(ESPEAK_WORDS_PER_MINUTE * (voice.speaking_rate if voice else 1))),
        ]
        if voice is not None:
            args += ["-v", voice.language.lower(), "-p", str(max(0, min(99, int(50 + voice.pitch * 2))))]
        process = await asyncio.create_subprocess_exec(
            *args, stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE
        )
        wav, error = await process.communicate(text.encode())
        if process.returncode != 0 or not wav:
            log.warning("espeak-ng failed (%s): %s", process.returncode, error.decode(errors="replace")[:200])
            raise SpeechUnavailableError("Speech synthesis failed on the bot's machine.")
        return await asyncio.to_thread(wav_to_pcm, wav)


def byte_chunks(text: str, limit: int = GOOGLE_MAX_BYTES) -> list[str]:
    """Split at sentence or word boundaries so each chunk's UTF-8 form stays under `limit` bytes."""
    chunks: list[str] = []
    current = ""
    for word in text.replace("\n", " ").split(" "):
        candidate = f"{current} {word}" if current else word
        if len(candidate.encode()) <= limit:
            current = candidate
            continue
        if current:
            chunks.append(current)
        while len(word.encode()) > limit:  # one enormous "word": cut it by characters
            cut = limit
            while len(word[:cut].encode()) > limit:
                cut -= 1
            chunks.append(word[:cut])
            word = word[cut:]
        current = word
    if current:
        chunks.append(current)
    return chunks


class GoogleEngine:
    name = "google"

    def __init__(self, client: Any | None = None, api_endpoint: str | None = None, credentials: Any = None) -> None:
        self._client = client
        self._endpoint, self._credentials = api_endpoint, credentials

    def check(self) -> str | None:
        """Why this engine cannot work here, or None. Never probes the network for ambient credentials."""
        if self._client is None and self._credentials is None:
            return "Google Text-to-Speech has no credentials (set GOOGLE_APPLICATION_CREDENTIALS to a key file)"
        return None

    def _get_client(self) -> Any:
        if self._client is None:
            from google.cloud import texttospeech

            options = {"api_endpoint": self._endpoint} if self._endpoint else None
            self._client = texttospeech.TextToSpeechClient(
                credentials=self._credentials, transport="rest", client_options=options
            )
        return self._client

    def _synthesize_blocking(self, text: str, voice: VoiceSettings | None) -> PcmAudio:
        from google.api_core import exceptions
        from google.auth import exceptions as auth_exceptions
        from google.cloud import texttospeech

        settings = voice or VoiceSettings()
        selection = texttospeech.VoiceSelectionParams(language_code=settings.language, name=settings.voice_name or "")
        config = texttospeech.AudioConfig(
            audio_encoding=texttospeech.AudioEncoding.LINEAR16,
            sample_rate_hertz=SAMPLE_RATE,
            speaking_rate=settings.speaking_rate,
            pitch=settings.pitch,
        )
        parts: list[bytes] = []
        try:
            client = self._get_client()
            for chunk in byte_chunks(text):
                response = client.synthesize_speech(
                    input=texttospeech.SynthesisInput(text=chunk), voice=selection, audio_config=config
                )
                parts.append(wav_to_pcm(response.audio_content).data)
        except (exceptions.GoogleAPICallError, auth_exceptions.GoogleAuthError) as exc:
            log.warning("Google Text-to-Speech failed: %r", exc)
            raise SpeechUnavailableError("Google Text-to-Speech refused the request; check its credentials.") from exc
        return PcmAudio(b"".join(parts))

    async def synthesize(self, text: str, voice: VoiceSettings | None = None) -> PcmAudio:
        return await asyncio.to_thread(self._synthesize_blocking, text, voice)
