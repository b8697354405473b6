"""Which API failures are worth a retry, how long to wait, and what to tell the user otherwise."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from typing import Any

import httpx2
from huggingface_hub.errors import HfHubHTTPError, InferenceTimeoutError

from bot.errors import BotError, ModelUnavailableError, UnknownModelError

log = logging.getLogger(__name__)

RETRY_STATUSES = frozenset({429, 503})
DEFAULT_WAIT_SECONDS = 1.0


def _status(exc: BaseException) -> int | None:
    response = getattr(exc, "response", None)
    return getattr(response, "status_code", None)


def is_retryable(exc: BaseException) -> bool:
    if isinstance(exc, HfHubHTTPError):
        return _status(exc) in RETRY_STATUSES
    return isinstance(exc, httpx2.ConnectError | httpx2.RemoteProtocolError)


def server_hint_seconds(exc: BaseException) -> float | None:
    """`Retry-After` header, or TGI's `estimated_time` while a model is loading."""
    response = getattr(exc, "response", None)
    if response is None:
        return None
    header = response.headers.get("retry-after")
    if header:
        try:
            return float(header)
        except ValueError:
            return None
    try:
        body = json.loads(response.text or "{}")
    except (ValueError, httpx2.ResponseNotRead):
        return None
    estimated = body.get("estimated_time") if isinstance(body, dict) else None
    return float(estimated) if isinstance(estimated, int | float) else None


def retry_wait(cap: float) -> Callable[[Any], float]:
    """A tenacity wait: the server's hint when it gives one, else exponential backoff; never above `cap`."""

    def wait(state: Any) -> float:
        exc = state.outcome.exception() if state.outcome else None
        hint = server_hint_seconds(exc) if exc else None
        fallback = DEFAULT_WAIT_SECONDS * 2 ** (state.attempt_number - 1)
        return max(0.0, min(cap, hint if hint is not None else fallback))

    return wait


def describe_failure(exc: BaseException, model: str, base_url: str | None) -> BotError:
    """One user-readable error for any failure to start a stream; the detail goes to the log."""
    if isinstance(exc, BotError):
        return exc
    log.warning("Request to model %s failed: %r", model, exc)
    status = _status(exc)
    where = f"the model server at {base_url}" if base_url else "Hugging Face"
    if status in (401, 403):
        return ModelUnavailableError(f"{where} refused the token (HTTP {status}). Check HF_TOKEN.")
    if status == 404:
        return UnknownModelError(f"{where} does not know the model `{model}`. Check the model name.")
    if status in RETRY_STATUSES:
        return ModelUnavailableError(f"`{model}` is busy or still loading. Try again in a minute.")
    if isinstance(exc, InferenceTimeoutError | httpx2.TimeoutException):
        return ModelUnavailableError(f"{where} did not answer in time. Try again later.")
    if isinstance(exc, httpx2.TransportError):
        return ModelUnavailableError(f"Could not reach {where}. Check the address and that it is running.")
    if status is not None and status < 500:
        return ModelUnavailableError(f"{where} rejected the request (HTTP {status}).")
    return ModelUnavailableError(f"{where} failed to answer (model `{model}`). Try again later.")
