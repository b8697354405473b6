"""A fake voice connection at the Discord edge: it 'plays' a source by reading its frames in a thread."""

from __future__ import annotations

import threading
import time
from typing import Any


class FakeVoiceConnection:
    def __init__(self, realtime: float = 0.0) -> None:
        self.connected = True
        self.realtime = realtime  # seconds per 20 ms frame (0: as fast as possible)
        self.sources: list[Any] = []
        self.frames_played: list[int] = []
        self.overlaps = 0
        self._playing = threading.Event()
        self._stop = threading.Event()

    def is_connected(self) -> bool:
        return self.connected

    def is_playing(self) -> bool:
        return self._playing.is_set()

    def play(self, source: Any, *, after: Any = None) -> None:
        if self._playing.is_set():
            self.overlaps += 1
        self._playing.set()
        self._stop.clear()
        self.sources.append(source)
        threading.Thread(target=self._play, args=(source, after), daemon=True).start()

    def _play(self, source: Any, after: Any) -> None:
        frames = 0
        while not self._stop.is_set() and (frame := source.read()):
            assert len(frame) == 3840
            frames += 1
            if self.realtime:
                time.sleep(self.realtime)
        self.frames_played.append(frames)
        self._playing.clear()
        if after is not None:
            after(None)

    def stop(self) -> None:
        self._stop.set()

    async def disconnect(self, *, force: bool = False) -> None:
        self.connected = False
