"""Voice activity: Silero VAD (its ONNX model from the `silero-vad` wheel, run with onnxruntime) cuts each member's
audio into utterances: speech starts on a voiced 32 ms window, ends after END_SILENCE_SECONDS without voice (or when
the member stops sending), and is cut at MAX_UTTERANCE_SECONDS."""

from __future__ import annotations

import importlib.util
import threading
from collections import deque
from dataclasses import dataclass
from pathlib import Path

import numpy as np

RATE = 16_000
WINDOW = 512  # samples per VAD step at 16 kHz (32 ms), what the model takes
CONTEXT = 64  # samples of the previous window the model sees with each one
WINDOW_SECONDS = WINDOW / RATE
VOICED = 0.5  # speech probability that starts (and keeps) speech
UNVOICED = 0.35  # below this, a window counts as silence (hysteresis)
END_SILENCE_SECONDS = 0.5  # end of turn
MAX_UTTERANCE_SECONDS = 30.0
MIN_SPEECH_SECONDS = 0.25  # less voiced time than this is a cough or a click, not a question
TALKING_WINDOWS = 3  # voiced windows (~100 ms) before a member counts as talking (barge-in)
PREROLL_WINDOWS = 6  # ~200 ms kept from before the onset, so the first syllable is not cut


def model_path() -> Path:
    """The model file inside the installed wheel (found without importing the package, which imports torch)."""
    spec = importlib.util.find_spec("silero_vad")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("silero-vad is not installed (pip install 'hf-discord-bot[listen]')")
    return Path(next(iter(spec.submodule_search_locations))) / "data" / "silero_vad.onnx"


class SileroModel:
    """One inference session for every member (onnxruntime sessions may run from several threads)."""

    def __init__(self, path: Path | None = None) -> None:
        import onnxruntime

        options = onnxruntime.SessionOptions()
        options.inter_op_num_threads = options.intra_op_num_threads = 1
        self._session = onnxruntime.InferenceSession(
            str(path or model_path()), sess_options=options, providers=["CPUExecutionProvider"]
        )
        self._rate = np.array(RATE, dtype=np.int64)

    def probability(self, window: np.ndarray, state: np.ndarray) -> tuple[float, np.ndarray]:
        """Speech probability of one window (CONTEXT + WINDOW samples), and the recurrent state after it."""
        out, new_state = self._session.run(None, {"input": window[None, :], "state": state, "sr": self._rate})
        return float(out[0, 0]), new_state


@dataclass(frozen=True, slots=True)
class Utterance:
    member_id: int
    audio: np.ndarray  # 16 kHz mono float32
    ended_at: float  # monotonic time the speech ended (the last voiced window arrived)
    capped: bool = False


class TurnSplitter:
    """One member's speech, window by window. `feed` and `idle` return what happened: 'talking' once per utterance
    (for barge-in) and finished utterances. Called from the socket thread and the event loop, hence the lock."""

    def __init__(self, model: SileroModel, member_id: int) -> None:
        self._model, self.member_id = model, member_id
        self._lock = threading.Lock()
        self._reset()

    def _reset(self) -> None:
        self._state = np.zeros((2, 1, 128), dtype=np.float32)
        self._pending = np.zeros(0, dtype=np.float32)
        self._context = np.zeros(CONTEXT, dtype=np.float32)
        self._preroll: deque[np.ndarray] = deque(maxlen=PREROLL_WINDOWS)
        self._speech: list[np.ndarray] | None = None
        self._voiced = self._silent = 0
        self._told_talking = False
        self._last_voice_at = 0.0

    def feed(self, samples: np.ndarray, now: float) -> list[Utterance | str]:
        events: list[Utterance | str] = []
        with self._lock:
            self._pending = np.concatenate([self._pending, samples])
            while self._pending.size >= WINDOW:
                window, self._pending = self._pending[:WINDOW], self._pending[WINDOW:]
                events.extend(self._step(window, now))
        return events

    def hearing(self) -> bool:
        return self._speech is not None

    def idle(self, now: float) -> Utterance | None:
        """The member stopped sending: their utterance ends once the end-of-turn silence has passed."""
        with self._lock:
            if self._speech is None or now - self._last_voice_at < END_SILENCE_SECONDS:
                return None
            utterance = self._finish(capped=False)
            self._reset()
            return utterance

    def _step(self, window: np.ndarray, now: float) -> list[Utterance | str]:
        p, self._state = self._model.probability(np.concatenate([self._context, window]), self._state)
        self._context = window[-CONTEXT:]
        if self._speech is None:
            if p < VOICED:
                self._preroll.append(window)
                return []
            self._speech = list(self._preroll)
        self._speech.append(window)
        if p >= UNVOICED:
            self._voiced, self._silent, self._last_voice_at = self._voiced + 1, 0, now
        else:
            self._silent += 1
        events: list[Utterance | str] = []
        if self._voiced >= TALKING_WINDOWS and not self._told_talking:
            self._told_talking = True
            events.append("talking")
        seconds = len(self._speech) * WINDOW_SECONDS
        if self._silent * WINDOW_SECONDS >= END_SILENCE_SECONDS or seconds >= MAX_UTTERANCE_SECONDS:
            if (done := self._finish(capped=seconds >= MAX_UTTERANCE_SECONDS)) is not None:
                events.append(done)
            self._speech, self._voiced, self._silent, self._told_talking = None, 0, 0, False
        return events

    def _finish(self, capped: bool) -> Utterance | None:
        speech = self._speech or []
        if self._voiced * WINDOW_SECONDS < MIN_SPEECH_SECONDS:
            return None
        return Utterance(self.member_id, np.concatenate(speech), self._last_voice_at, capped)
