"""PCM audio as Discord wants it: 48 kHz, stereo, signed 16-bit, in 20 ms frames."""

from __future__ import annotations

import io
import wave
from dataclasses import dataclass

import discord

SAMPLE_RATE = 48_000
CHANNELS = 2
FRAME_BYTES = discord.opus.Encoder.FRAME_SIZE  # 20 ms: 960 samples x 2 channels x 2 bytes = 3840


@dataclass(frozen=True, slots=True)
class PcmAudio:
    data: bytes  # 48 kHz stereo s16le

    @property
    def seconds(self) -> float:
        return len(self.data) / (SAMPLE_RATE * CHANNELS * 2)

    def peak(self) -> int:
        import numpy as np  # on first speech, not at start-up (a tenth of a second)

        samples = np.frombuffer(self.data, dtype="<i2")
        return int(np.abs(samples.astype(np.int32)).max()) if samples.size else 0


def to_discord_pcm(samples: bytes, rate: int, channels: int) -> PcmAudio:
    """Resample (linear interpolation) and duplicate to stereo: enough for speech."""
    import numpy as np

    mono = np.frombuffer(samples[: len(samples) // 2 * 2], dtype="<i2").astype(np.float32)
    if channels == 2:
        mono = mono.reshape(-1, 2).mean(axis=1)
    if rate != SAMPLE_RATE and mono.size:
        positions = np.arange(0, mono.size, rate / SAMPLE_RATE)
        mono = np.interp(positions, np.arange(mono.size), mono)
    pcm = np.clip(mono, -32768, 32767).astype("<i2")
    return PcmAudio(np.repeat(pcm, 2).tobytes())


def wav_to_pcm(wav_bytes: bytes) -> PcmAudio:
    """A WAV file (also one streamed with a bogus length, as espeak-ng writes to stdout) as Discord PCM."""
    with wave.open(io.BytesIO(wav_bytes)) as wav:
        rate, channels, width = wav.getframerate(), wav.getnchannels(), wav.getsampwidth()
    if width != 2:
        raise ValueError(f"expected 16-bit audio, got {8 * width}-bit")
    data_at = wav_bytes.find(b"data")
    return to_discord_pcm(wav_bytes[data_at + 8 :], rate, channels)


class PcmSource(discord.AudioSource):
    """Plays PcmAudio frame by frame; discord.py's player thread calls `read` every 20 ms."""

    def __init__(self, audio: PcmAudio) -> None:
        self._data = audio.data
        self._position = 0

    def read(self) -> bytes:
        frame = self._data[self._position : self._position + FRAME_BYTES]
        self._position += FRAME_BYTES
        if not frame:
            return b""
        return frame.ljust(FRAME_BYTES, b"\x00")  # the last frame is padded with silence

    def is_opus(self) -> bool:
        return False
