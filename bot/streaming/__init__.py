"""Streaming an answer into Discord messages: splitting, per-channel pacing, and the renderer."""
