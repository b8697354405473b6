"""Offline speech (espeak-ng): time from a complete sentence to its first audio frame, and the real-time factor.

Targets: first frame ready < 300 ms after the sentence completes; real-time factor well under 1 (synthesis faster
than playback). The player synthesises each sentence while the previous one plays, so only the first sentence's
latency is heard.

    python bench/tts_latency.py
"""

from __future__ import annotations

import asyncio
import statistics
import time

from bot.voice.audio import PcmSource
from bot.voice.engines import EspeakEngine

SENTENCES = [
    "Paris is the capital of France.",
    "It has been a major centre of finance, diplomacy, commerce, fashion and science for centuries.",
    "Sure!",
    "The quick brown fox jumps over the lazy dog, and then it runs back into the forest to rest.",
    "Let me know if you would like more details about any of these points.",
]


async def main() -> None:
    engine = EspeakEngine()
    await engine.synthesize("warm up")
    latencies, factors = [], []
    for _ in range(3):
        for sentence in SENTENCES:
            started = time.perf_counter()
            audio = await engine.synthesize(sentence)
            first_frame = PcmSource(audio).read()
            ready = time.perf_counter() - started
            assert first_frame
            latencies.append(ready)
            factors.append(ready / audio.seconds)
    print(
        f"sentence complete -> first audio frame ready: median {statistics.median(latencies) * 1000:.0f} ms, "
        f"max {max(latencies) * 1000:.0f} ms  (target < 300 ms)"
    )
    print(
        f"real-time factor (synthesis time / audio length): median {statistics.median(factors):.3f}, "
        f"max {max(factors):.3f}"
    )


if __name__ == "__main__":
    asyncio.run(main())
