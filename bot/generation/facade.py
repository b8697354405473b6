"""The seed's public API (`HF_gen_response`): `HuggingFaceGenerator` and its module-level functions.

A thin facade over the backend registry. In a script it is its own small composition root: it reads the settings,
builds a registry and runs it on a private event loop (see `sync_bridge`), so the same object serves synchronous
scripts and async callers. Inside the bot it is a view over the bot's running registry, model pool and speech,
on the bot's loop (the composition root installs it), so it never loads a second copy of a model. Either way its
answers pass through the same stages as the bot's (reasoning split off, echoed framing dropped).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncGenerator, Awaitable, Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import aclosing
from typing import Any

from bot.domain import ChatMessage, GenerationParams, Persona, params_for
from bot.errors import InvalidInputError
from bot.generation.builder import build_registry
from bot.generation.local_kind import LocalKind
from bot.generation.prompt import plain_prompt, render_prompt
from bot.generation.registry import ModelRegistry
from bot.generation.stages import StreamState, answer_text
from bot.generation.sync_bridge import LoopThread
from bot.generation.types import validate_messages
from bot.settings import Settings

log = logging.getLogger(__name__)

SpeechHook = Callable[[str, Persona], Awaitable[None]]
SEED_MAX_TOKENS = 4096  # the seed's default answer length; MAX_NEW_TOKENS caps it


class HuggingFaceGenerator:
    """Generates chat answers through the HF API or a local transformers model."""

    def __init__(
        self,
        settings: Settings | None = None,
        registry: ModelRegistry | None = None,
        local: LocalKind | None = None,
        speech: SpeechHook | None = None,
    ) -> None:
        """Standalone: no arguments (settings are read like the bot reads them). Over a running bot: its settings,
        registry and local models, built on the running event loop, and where `speak=True` sends answers."""
        self.settings = settings or Settings()
        if registry is None:
            self.local: LocalKind | None = LocalKind(self.settings)
            self.registry = build_registry(self.settings, self.local)
            self._bridge = LoopThread()
        else:
            self.local, self.registry = local, registry
            self._bridge = LoopThread(asyncio.get_running_loop())
        self.speech = speech
        self.model_name = self.registry.default_model

    # -- models ---------------------------------------------------------------------------------------
    def load_model(self, model_name: str) -> Awaitable[None] | None:
        """Load a local model (the least recently used idle one is freed past `LOCAL_MAX_RESIDENT`).

        From synchronous code this blocks until loaded. Inside a running event loop it returns an awaitable
        and loads in a thread, so the loop keeps running.
        """
        entry = self.registry.entry(model_name, allow_adhoc=True)
        if entry.kind != "local":
            raise InvalidInputError(f"`{model_name}` is an API model; there is nothing to load locally.")
        coro = self.registry.backend(model_name, allow_adhoc=True).context_window()
        try:
            asyncio.get_running_loop()
        except RuntimeError:
            self._bridge.run(coro)
            return None
        return self._bridge.run_async(_discard(coro))

    def set_model(self, model_name: str) -> None:
        self.registry.entry(model_name, allow_adhoc=True)  # raises UnknownModelError with the choices
        self.model_name = model_name

    # -- generation -----------------------------------------------------------------------------------
    def generate_response(
        self,
        messages: Sequence[ChatMessage],
        model: str | None = None,
        max_tokens: int = SEED_MAX_TOKENS,
        temperature: float = 0.0,
        stream: bool = True,
    ) -> str | Iterator[str]:
        """The full answer, or an iterator of text pieces when `stream=True`; routed to the API or the local backend
        by the model's configuration."""
        name = model or self.model_name
        if self.registry.entry(name, allow_adhoc=True).kind == "api":
            return self._generate_api_response(messages, name, max_tokens, temperature, stream)
        return self._generate_local_response(messages, name, max_tokens, temperature, stream)

    def _generate_api_response(
        self,
        messages: Sequence[ChatMessage],
        model: str,
        max_tokens: int = SEED_MAX_TOKENS,
        temperature: float = 0.0,
        stream: bool = True,
    ) -> str | Iterator[str]:
        """An answer from a model served through the HF API (or any OpenAI-compatible server it points at)."""
        return self._sync(messages, model, self._params(max_tokens, temperature), stream)

    def _generate_local_response(
        self,
        messages: Sequence[ChatMessage],
        model: str,
        max_tokens: int = SEED_MAX_TOKENS,
        temperature: float = 0.0,
        stream: bool = True,
    ) -> str | Iterator[str]:
        """An answer from a model run on this machine with transformers (loaded on first use)."""
        return self._sync(messages, model, self._params(max_tokens, temperature), stream)

    def _params(self, max_tokens: int, temperature: float) -> GenerationParams:
        capped = max(1, min(max_tokens, self.settings.max_new_tokens))
        return GenerationParams(max_tokens=capped, temperature=temperature)

    def _sync(
        self, messages: Sequence[ChatMessage], model: str, params: GenerationParams, stream: bool
    ) -> str | Iterator[str]:
        pieces = self._bridge.iterate(self._stream_on_bridge(messages, model, params))
        return pieces if stream else "".join(pieces)

    async def astream(
        self, messages: Sequence[ChatMessage], model: str | None = None, params: GenerationParams | None = None
    ) -> AsyncGenerator[str, None]:
        """Async streaming: `async for piece in gen.astream(...)`; leaving the loop stops generation."""
        inner = self._stream_on_bridge(messages, model or self.model_name, params or GenerationParams())
        async with aclosing(self._bridge.aiterate(inner)) as pieces:
            async for piece in pieces:
                yield piece

    async def _stream_on_bridge(
        self, messages: Sequence[ChatMessage], model: str, params: GenerationParams
    ) -> AsyncGenerator[str, None]:
        backend = self.registry.backend(model, allow_adhoc=True)
        items = backend.stream(validate_messages(messages), params)
        async with aclosing(answer_text(items, StreamState())) as pieces:
            async for piece in pieces:  # the answer only: no reasoning, no end marker
                yield piece

    async def sampling_defaults(self, model: str | None = None) -> GenerationParams:
        backend = self.registry.backend(model or self.model_name, allow_adhoc=True)
        return await self._bridge.run_async(backend.sampling_defaults())

    def _convert_messages_to_prompt(self, messages: Sequence[ChatMessage]) -> str:
        """The prompt the local model sees: its chat template, or a plain transcript without one."""
        name = self.registry.entry(self.model_name, allow_adhoc=True).name
        if self.local is None or not self.local.is_resident(name):
            return plain_prompt(validate_messages(messages))
        model = self._bridge.run(self.local.pool.get(name))
        return render_prompt(model.tokenizer, validate_messages(messages))

    def close(self) -> None:
        """A standalone generator closes what it built; over a running bot, the bot closes its own parts."""
        if self._bridge.owns_loop:
            self.registry.close()
            self._bridge.close()


async def _discard(coro: Awaitable[Any]) -> None:
    await coro


# -- module-level seed functions -------------------------------------------------------------------------
_generator: HuggingFaceGenerator | None = None
_speech_hook: SpeechHook | None = None


def default_generator() -> HuggingFaceGenerator:
    global _generator
    if _generator is None:
        _generator = HuggingFaceGenerator()
    return _generator


def use_generator(generator: HuggingFaceGenerator | None) -> None:
    """Install the generator the module functions use (the composition root and tests call this)."""
    global _generator
    _generator = generator


def set_speech_hook(hook: SpeechHook | None) -> None:
    """Where `async_generate_response(..., speak=True)` sends the answer (filled in by the voice layer)."""
    global _speech_hook
    _speech_hook = hook


def set_hf_model(model_name: str) -> None:
    default_generator().set_model(model_name)


def get_hf_model() -> str:
    return default_generator().model_name


def generate_response(
    messages: Sequence[ChatMessage],
    model: str | None = None,
    max_tokens: int = SEED_MAX_TOKENS,
    temperature: float = 0.0,
    stream: bool = True,
) -> str | Iterator[str]:
    return default_generator().generate_response(messages, model, max_tokens, temperature, stream)


def process_response(response: str | Iterable[str]) -> str:
    """The whole text of an answer, whether it came as one string or as streamed pieces."""
    if isinstance(response, str):
        return response.strip()
    return "".join(response).strip()


async def async_generate_response(
    current_persona: Persona | Mapping[str, Any] | str,
    messages: Sequence[ChatMessage],
    temperature: float | None = None,
    top_p: float | None = None,
    top_k: int | None = None,
    *,
    speak: bool = False,
    model: str | None = None,
) -> str:
    """Answer under a persona (its system prompt and parameters); optionally speak the answer."""
    persona = Persona.coerce(current_persona)
    system: list[ChatMessage] = [{"role": "system", "content": persona.system_prompt}]
    history = [m for m in messages if m.get("role") != "system"]
    generator = default_generator()
    defaults = await generator.sampling_defaults(model)
    overrides = {"temperature": temperature, "top_p": top_p, "top_k": top_k}
    params = params_for(persona, defaults, generator.settings.max_new_tokens, **overrides)
    async with aclosing(generator.astream(system + history, model, params)) as pieces:
        text = process_response([piece async for piece in pieces])
    hook = generator.speech or _speech_hook
    if speak:
        if hook is None:
            log.warning("Speech was asked for, but no text-to-speech is configured")
        elif text:
            await hook(text, persona)
    return text
