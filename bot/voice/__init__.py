"""Spoken answers: text preparation, text-to-speech engines, PCM audio for Discord, and the per-guild player."""
