"""What listening needs, built once for every guild: the speech-to-text engine, the VAD model, the wake words."""

from __future__ import annotations

import contextlib
import importlib.util
from collections.abc import Sequence

from bot.voice.stt import Transcriber
from bot.voice.vad import SileroModel


class Hearing:
    def __init__(self, stt: Transcriber, wake_words: Sequence[str] = ()) -> None:
        self.stt, self.wake_words = stt, tuple(wake_words)
        self._vad: SileroModel | None = None

    def check(self) -> str | None:
        """What keeps listening from working here (None when it can)."""
        if importlib.util.find_spec("silero_vad") is None or importlib.util.find_spec("onnxruntime") is None:
            return "silero-vad and onnxruntime are missing (pip install 'hf-discord-bot[listen]')"
        return self.stt.check()

    def vad(self) -> SileroModel:
        """The one VAD model, loaded when listening first starts."""
        if self._vad is None:
            self._vad = SileroModel()
        return self._vad

    def close(self) -> None:
        close = getattr(self.stt, "close", None)
        if close is not None:
            with contextlib.suppress(Exception):
                close()
