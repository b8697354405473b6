"""One member's audio stream: packets put back in order, duplicates dropped, opus decoded to 16 kHz mono."""

from __future__ import annotations

import logging
from collections import Counter

import discord
import numpy as np

REORDER_DEPTH = 3  # packets held back (60 ms) so a late one can still take its place
HALF_RANGE = 0x8000  # RTP sequence numbers wrap at 16 bits


class OncePerCause:
    """Bad audio is logged once per cause (never per packet) and counted."""

    def __init__(self, log: logging.Logger) -> None:
        self._log = log
        self.counts: Counter[str] = Counter()

    def __call__(self, cause: str) -> None:
        self.counts[cause] += 1
        if self.counts[cause] == 1:
            self._log.warning("Voice receive: %s (logged once; later ones are only counted)", cause)


def to_16k_mono(pcm: bytes) -> np.ndarray:
    """48 kHz stereo s16 (what the opus decoder gives) as 16 kHz mono float32: channels averaged, every 3 samples
    averaged (a box filter is enough ahead of speech models)."""
    samples = np.frombuffer(pcm, dtype="<i2").astype(np.float32).reshape(-1, 2).mean(axis=1)
    samples = samples[: samples.size // 3 * 3].reshape(-1, 3).mean(axis=1)
    return samples / 32768.0


def _ahead(a: int, b: int) -> int:
    """How far sequence number `a` is ahead of `b` (negative when behind), across the 16-bit wrap."""
    return ((a - b + HALF_RANGE) & 0xFFFF) - HALF_RANGE


class MemberStream:
    def __init__(self, problems: OncePerCause) -> None:
        self._decoder = discord.opus.Decoder()
        self._problems = problems
        self._held: dict[int, bytes] = {}
        self._next: int | None = None

    def push(self, sequence: int, opus: bytes) -> list[np.ndarray]:
        """The decoded audio this packet releases, in order (none while it waits for a late one)."""
        if self._next is not None and _ahead(sequence, self._next) < 0:
            self._problems("late or duplicate packet dropped")
            return []
        if sequence in self._held:
            self._problems("duplicate packet dropped")
            return []
        self._held[sequence] = opus
        if self._next is None:
            self._next = sequence
        return self._release(flush=False)

    def drain(self) -> list[np.ndarray]:
        """Everything held back (the member went quiet: nothing later will come to fill a gap)."""
        return self._release(flush=True)

    def _release(self, flush: bool) -> list[np.ndarray]:
        out: list[np.ndarray] = []
        while self._held and self._next is not None:
            if self._next not in self._held:
                if not flush and len(self._held) <= REORDER_DEPTH:
                    break
                self._problems("lost packet skipped")
                self._next = min(self._held, key=lambda s: _ahead(s, self._next or 0))
            frame = self._decode(self._held.pop(self._next))
            self._next = (self._next + 1) & 0xFFFF
            if frame is not None:
                out.append(frame)
        return out

    def _decode(self, opus: bytes) -> np.ndarray | None:
        try:
            return to_16k_mono(self._decoder.decode(opus, fec=False))
        except discord.opus.OpusError:
            self._problems("corrupt opus frame dropped")
            return None
