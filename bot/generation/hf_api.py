"""The HF API backend: `huggingface_hub.AsyncInferenceClient.chat_completion(stream=True)`.

Serves HF Inference Providers, Inference Endpoints and self-hosted TGI/vLLM (by base URL). Retries happen only
before the first token; after text has been delivered a failure raises `GenerationInterrupted` with the
partial text, because retrying would repeat or contradict what the user already saw.

huggingface_hub keeps every streamed response on the client's exit stack until the client closes, so a
cancelled stream would linger on a long-lived client. Each stream therefore gets its own client inside
`async with`: closing our iterator closes the HTTP stream at once.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncGenerator, AsyncIterator, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

import httpx2
from huggingface_hub.errors import HfHubHTTPError, InferenceTimeoutError, TextGenerationError
from tenacity import AsyncRetrying, retry_if_exception, stop_after_attempt

from bot.domain import ChatMessage, GenerationParams, StreamEnd, Thought
from bot.errors import GenerationInterrupted
from bot.generation.api_errors import describe_failure, is_retryable, retry_wait
from bot.generation.tool_calls import ToolCallAssembler
from bot.generation.types import validate_messages
from bot.tools.types import ToolCalls

if TYPE_CHECKING:
    from huggingface_hub import AsyncInferenceClient

log = logging.getLogger(__name__)

CHARS_PER_TOKEN = 3.5  # documented estimate for API models, whose tokenizer we do not have
API_SAMPLING = GenerationParams(temperature=0.7)  # served models are large enough for moderate sampling
# Chat servers differ in how (and whether) they continue a final assistant message; asking works everywhere.
CONTINUE_REQUEST = "Continue your previous answer exactly where it stopped. Do not repeat anything."


@dataclass(frozen=True, slots=True)
class ApiConfig:
    token: str | None = None
    base_url: str | None = None
    provider: str | None = None
    timeout_seconds: float = 60.0
    max_retries: int = 4
    retry_max_wait_seconds: float = 30.0
    context_tokens: int = 8192
    sampling: GenerationParams = API_SAMPLING


_STREAM_FAILURES = (HfHubHTTPError, InferenceTimeoutError, TextGenerationError, httpx2.HTTPError, ValueError)


class HFApiBackend:
    kind: Literal["api"] = "api"

    def __init__(self, name: str, config: ApiConfig, takes_images: bool = False, takes_tools: bool = False) -> None:
        self.name = name
        self._config = config
        self.takes_images = takes_images  # a vision model: a question's images go as `image_url` parts
        self.takes_tools = takes_tools  # the server returns OpenAI-style `tool_calls` for this model

    async def tool_support(self) -> bool:
        return self.takes_tools

    async def context_window(self) -> int:
        return self._config.context_tokens

    async def sampling_defaults(self) -> GenerationParams:
        return self._config.sampling

    def needs_loading(self) -> bool:
        return False

    async def count_text(self, texts: Sequence[str]) -> list[int]:
        return [int(len(text) / CHARS_PER_TOKEN) + 1 for text in texts]

    def _client(self) -> AsyncInferenceClient:
        # Imported on the first request: the client and its generated types take a third of a second at start-up.
        from huggingface_hub import AsyncInferenceClient

        cfg = self._config
        if cfg.base_url:
            return AsyncInferenceClient(base_url=cfg.base_url, token=cfg.token, timeout=cfg.timeout_seconds)
        return AsyncInferenceClient(
            provider=cfg.provider or "auto",  # type: ignore[arg-type]
            token=cfg.token,
            timeout=cfg.timeout_seconds,
        )

    async def stream(
        self,
        messages: Sequence[ChatMessage],
        params: GenerationParams,
        tools: Sequence[dict[str, Any]] | None = None,
    ) -> AsyncGenerator[str | Thought | StreamEnd | ToolCalls, None]:
        images = [m.get("images") for m in messages]
        messages = validate_messages(messages)  # refused here, before anything is sent
        payload = [
            _with_images(m, pictures if self.takes_images else None)
            for m, pictures in zip(messages, images, strict=True)
        ]
        cut = _continued(messages)
        if cut is not None:  # after the cut answer, before any tool round that followed it (Continue with tools)
            payload = [*payload[: cut + 1], {"role": "user", "content": CONTINUE_REQUEST}, *payload[cut + 1 :]]
        delivered: list[str] = []
        end = StreamEnd()
        calls = ToolCallAssembler()
        async with self._client() as client:
            chunks = await self._open(client, payload, params, tools)
            try:
                async for chunk in chunks:
                    thought, piece = _delta(chunk)
                    if thought:
                        yield Thought(thought)
                    if piece:
                        delivered.append(piece)
                        yield piece
                    calls.feed(_tool_deltas(chunk))
                    end = _end(chunk, end)
                if tools and calls.any():
                    yield ToolCalls(calls.finish())
                yield end
            except _STREAM_FAILURES as exc:
                log.warning("Stream from %s broke after %d pieces: %r", self.name, len(delivered), exc)
                raise GenerationInterrupted(
                    "The model's answer was cut off by a connection problem; what arrived is kept.",
                    "".join(delivered),
                ) from exc

    async def _open(
        self,
        client: AsyncInferenceClient,
        messages: list[dict[str, Any]],
        params: GenerationParams,
        tools: Sequence[dict[str, Any]] | None = None,
    ) -> AsyncIterator[Any]:
        """Start the stream, retrying throttling, loading and connection failures (nothing sent yet)."""
        from huggingface_hub import ChatCompletionInputStreamOptions

        retrying = AsyncRetrying(
            retry=retry_if_exception(is_retryable),
            wait=retry_wait(self._config.retry_max_wait_seconds),
            stop=stop_after_attempt(self._config.max_retries + 1),
            reraise=True,
            before_sleep=lambda state: log.info(
                "Retrying %s (attempt %d): %r",
                self.name,
                state.attempt_number,
                state.outcome.exception() if state.outcome else None,
            ),
        )
        try:
            async for attempt in retrying:
                with attempt:
                    return await client.chat_completion(  # type: ignore[return-value,misc]
                        messages,
                        model=self.name,
                        stream=True,
                        max_tokens=params.max_tokens,
                        temperature=params.temperature,
                        top_p=params.top_p,
                        stop=list(params.stop) or None,
                        seed=params.seed,
                        stream_options=ChatCompletionInputStreamOptions(include_usage=True),  # token usage
                        extra_body={"top_k": params.top_k} if params.top_k is not None else None,
                        tools=list(tools) if tools else None,  # type: ignore[arg-type]  # OpenAI-shaped dicts
                        tool_choice="auto" if tools else None,
                    )
        except Exception as exc:
            raise describe_failure(exc, self.name, self._config.base_url) from exc
        raise AssertionError("unreachable: tenacity either returns or raises")


def _with_images(message: ChatMessage, images: list[str] | None) -> dict[str, Any]:
    """The message as the API takes it: OpenAI-style content parts when it carries images."""
    if "tool_calls" in message or message["role"] == "tool":  # a tool round, already in OpenAI's shape
        return {k: v for k, v in message.items() if k != "images"}
    if not images:
        return {"role": message["role"], "content": message["content"]}
    parts: list[dict[str, Any]] = [{"type": "text", "text": message["content"]}]
    parts += [{"type": "image_url", "image_url": {"url": url}} for url in images]
    return {"role": message["role"], "content": parts}


def _delta(chunk: Any) -> tuple[str, str]:
    """A chunk's reasoning (`reasoning_content` as DeepSeek and vLLM send it, or `reasoning`) and answer text."""
    choices = getattr(chunk, "choices", None) or []
    delta = getattr(choices[0], "delta", None) if choices else None
    if delta is None:
        return "", ""
    thought = getattr(delta, "reasoning_content", None) or getattr(delta, "reasoning", None) or ""
    return thought, getattr(delta, "content", None) or ""


def _tool_deltas(chunk: Any) -> list[Any]:
    choices = getattr(chunk, "choices", None) or []
    delta = getattr(choices[0], "delta", None) if choices else None
    return list(getattr(delta, "tool_calls", None) or [])


def _end(chunk: Any, so_far: StreamEnd) -> StreamEnd:
    """Fold a chunk's finish reason and usage (servers send them on the last chunks) into the stream's end."""
    choices = getattr(chunk, "choices", None) or []
    reason = getattr(choices[0], "finish_reason", None) if choices else None
    usage = getattr(chunk, "usage", None)
    return StreamEnd(
        finish_reason="length" if reason == "length" else so_far.finish_reason,
        prompt_tokens=getattr(usage, "prompt_tokens", None) or so_far.prompt_tokens,
        completion_tokens=getattr(usage, "completion_tokens", None) or so_far.completion_tokens,
    )


def _continued(messages: Sequence[ChatMessage]) -> int | None:
    """The index of the answer a Continue goes on from: the last message when it is the assistant's own text, or the
    one just before the tool rounds that followed it. None when this is not a Continue."""
    index = len(messages) - 1
    while index >= 0 and (messages[index]["role"] == "tool" or messages[index].get("tool_calls")):
        index -= 1
    if index < 0 or messages[index]["role"] != "assistant":
        return None
    return index
