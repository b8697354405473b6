"""Logging, configured once by the composition root; modules use `logging.getLogger(__name__)`.

`LOG_FORMAT=json` writes one JSON object per line. Every line written while an answer runs carries that answer's
id, server, channel and model (a context variable set by the answer pipeline, so concurrent answers never mix).
Known secrets (the Discord and Hugging Face tokens) are masked in every line, whatever logged them.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any

_FORMAT = "%(asctime)s %(levelname)-7s %(name)s: %(message)s"
NOISY = ("discord.http", "httpx", "httpx2", "aiosqlite", "alembic.runtime.migration", "aiohttp.access")
MASK = "***"

answer_context: ContextVar[dict[str, Any] | None] = ContextVar("answer_context", default=None)


@contextmanager
def answering(**fields: Any) -> Iterator[dict[str, Any]]:
    """Mark log lines written inside (in this task and the tasks it starts) with the answer's fields."""
    current = {**(answer_context.get() or {}), **fields}
    token = answer_context.set(current)
    try:
        yield current  # the caller may add fields learned later (the model)
    finally:
        answer_context.reset(token)


class _Context(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.answer = answer_context.get()
        return True


class _Redact(logging.Filter):
    def __init__(self, secrets: Iterable[str]) -> None:
        super().__init__()
        self._secrets = [s for s in secrets if s and len(s) >= 8]

    def filter(self, record: logging.LogRecord) -> bool:
        if self._secrets:
            message = record.getMessage()
            masked = message
            for secret in self._secrets:
                masked = masked.replace(secret, MASK)
            if masked != message:
                record.msg, record.args = masked, None
        return True


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        line.update(getattr(record, "answer", None) or {})
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        return json.dumps(line, default=str, ensure_ascii=False)


def configure_logging(level: str = "INFO", fmt: str = "text", secrets: Iterable[str] = ()) -> None:
    handler = logging.StreamHandler()
    handler.setFormatter(JsonFormatter() if fmt == "json" else logging.Formatter(_FORMAT))
    # Filters on the handler see every record that reaches it, from any logger.
    handler.addFilter(_Context())
    handler.addFilter(_Redact(secrets))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    for noisy in NOISY:  # libraries that chatter at INFO about every request
        logging.getLogger(noisy).setLevel(logging.WARNING)
