"""The seed module's name, kept so existing imports (`from bot.HF_gen_response import ...`) keep working."""

from bot.generation.facade import (  # noqa: F401
    HuggingFaceGenerator,
    async_generate_response,
    generate_response,
    get_hf_model,
    process_response,
    set_hf_model,
    set_speech_hook,
)
