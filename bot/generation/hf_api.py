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
from typing import Any, Literal

import httpx2
from huggingface_hub import AsyncInferenceClient
from huggingface_hub.errors import HfHubHTTPError, InferenceTimeoutError, TextGenerationError
from tenacity import AsyncRetrying, retry_if_exception, stop_after_attempt

from bot.errors import GenerationInterrupted
from bot.generation.api_errors import describe_failure, is_retryable, retry_wait
from bot.generation.types import ChatMessage, GenerationParams

log = logging.getLogger(__name__)

CHARS_PER_TOKEN = 3.5  # documented estimate for API models, whose tokenizer we do not have


@dataclass(frozen=True, slots=True)
class ApiConfig:
    token: str | None = None
    base_url: str | None = None
    provider: str | None = None
    timeout_seconds: float = 60.0
    max_retries: int = 4
    retry_max_wait_seconds: float = 30.0
    context_tokens: int = 8192


_STREAM_FAILURES = (HfHubHTTPError, InferenceTimeoutError, TextGenerationError, httpx2.HTTPError, ValueError)


class HFApiBackend:
    kind: Literal["api"] = "api"

    def __init__(self, name: str, config: ApiConfig) -> None:
        self.name = name
        self._config = config

    async def context_window(self) -> int:
        return self._config.context_tokens

    async def count_tokens(self, messages: Sequence[ChatMessage]) -> int:
        return estimate_tokens(messages)

    async def count_text(self, texts: Sequence[str]) -> list[int]:
        return [int(len(text) / CHARS_PER_TOKEN) + 1 for text in texts]

    def _client(self) -> AsyncInferenceClient:
        cfg = self._config
        if cfg.base_url:
            return AsyncInferenceClient(base_url=cfg.base_url, token=cfg.token, timeout=cfg.timeout_seconds)
        return AsyncInferenceClient(
            provider=cfg.provider or "auto",  # type: ignore[arg-type]
            token=cfg.token,
            timeout=cfg.timeout_seconds,
        )

    async def stream(self, messages: Sequence[ChatMessage], params: GenerationParams) -> AsyncGenerator[str, None]:
        delivered: list[str] = []
        async with self._client() as client:
            chunks = await self._open(client, messages, params)
            try:
                async for chunk in chunks:
                    piece = _delta(chunk)
                    if piece:
                        delivered.append(piece)
                        yield piece
            except _STREAM_FAILURES as exc:
                log.warning("Stream from %s broke after %d pieces: %r", self.name, len(delivered), exc)
                raise GenerationInterrupted(
                    "The model's answer was cut off by a connection problem; what arrived is kept.",
                    "".join(delivered),
                ) from exc

    async def _open(
        self, client: AsyncInferenceClient, messages: Sequence[ChatMessage], params: GenerationParams
    ) -> AsyncIterator[Any]:
        """Start the stream, retrying throttling, loading and connection failures (nothing sent yet)."""
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
                    return await client.chat_completion(  # type: ignore[return-value]
                        [dict(m) for m in messages],
                        model=self.name,
                        stream=True,
                        max_tokens=params.max_tokens,
                        temperature=params.temperature,
                        top_p=params.top_p,
                        stop=list(params.stop) or None,
                        extra_body={"top_k": params.top_k} if params.top_k is not None else None,
                    )
        except Exception as exc:
            raise describe_failure(exc, self.name, self._config.base_url) from exc
        raise AssertionError("unreachable: tenacity either returns or raises")


def _delta(chunk: Any) -> str:
    choices = getattr(chunk, "choices", None) or []
    if not choices:
        return ""
    delta = getattr(choices[0], "delta", None)
    return (getattr(delta, "content", None) or "") if delta is not None else ""


def estimate_tokens(messages: Sequence[ChatMessage]) -> int:
    """Roughly 3.5 characters per token plus a few tokens of chat framing per message."""
    return sum(int(len(m["content"]) / CHARS_PER_TOKEN) + 4 for m in messages)
