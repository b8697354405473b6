"""Generation core: one backend protocol, a registry of models, and the seed's facade."""

from bot.generation.facade import (
    HuggingFaceGenerator,
    async_generate_response,
    generate_response,
    get_hf_model,
    process_response,
    set_hf_model,
    set_speech_hook,
)
from bot.generation.types import Backend, ChatMessage, GenerationParams

__all__ = [
    "Backend",
    "ChatMessage",
    "GenerationParams",
    "HuggingFaceGenerator",
    "async_generate_response",
    "generate_response",
    "get_hf_model",
    "process_response",
    "set_hf_model",
    "set_speech_hook",
]
