"""The local backend kind, kept at arm's length: nothing here imports torch or transformers until a local model
is really used.

An API-only bot (no `LOCAL_MODELS`, an API default) never builds the pool, so it starts without torch — and an
install without the `local` extra works. Configuring a local model without that extra is an operator mistake,
caught at start-up (`ConfigError`), not at the first question.
"""

from __future__ import annotations

import importlib.util
from typing import TYPE_CHECKING

from bot.errors import ConfigError
from bot.generation.embedded import EMBEDDED_ALIAS
from bot.generation.registry import BackendKind, ModelEntry
from bot.generation.types import Backend
from bot.settings import Settings

if TYPE_CHECKING:
    from bot.generation.local import LocalModelPool

LOCAL_WHERE = "runs on this machine"
LOCAL_PACKAGES = ("torch", "transformers")


def local_installed() -> bool:
    """Whether the `local` extra is installed (found, not imported: importing torch costs a second)."""
    return all(importlib.util.find_spec(name) is not None for name in LOCAL_PACKAGES)


def local_configured(settings: Settings) -> bool:
    """Whether the operator asked for a local model: listed in LOCAL_MODELS, or the default."""
    return bool(settings.local_models) or settings.default_model == EMBEDDED_ALIAS


class LocalKind:
    """The local models' pool, built (and torch imported) on first use."""

    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        self._pool: LocalModelPool | None = None

    @property
    def pool(self) -> LocalModelPool:
        if self._pool is None:
            from bot.generation.local import LocalModelPool

            s = self._settings
            self._pool = LocalModelPool(
                s.local_device,
                s.model_cache_dir,
                s.local_context_tokens,
                s.local_max_batch,
                s.local_max_waiting,
                s.local_max_resident,
                s.local_dtype,
            )
        return self._pool

    def is_resident(self, name: str) -> bool:
        return self._pool is not None and self._pool.is_resident(name)

    def backend(self, entry: ModelEntry) -> Backend:
        from bot.generation.local import LocalBackend

        return LocalBackend(entry.name, self.pool)

    def close(self) -> None:
        if self._pool is not None:
            self._pool.close()

    def as_kind(self) -> BackendKind:
        return BackendKind(self.backend, LOCAL_WHERE, close=self.close)


def check_local_extra(settings: Settings) -> None:
    """A local model configured without the `local` extra: say so at start-up, with the fix."""
    if local_configured(settings) and not local_installed():
        wanted = ", ".join([settings.default_model] if not settings.local_models else settings.local_models)
        raise ConfigError(
            f"Local model(s) {wanted} are configured, but the `local` extra (torch, transformers) is not "
            "installed. Install it (`pip install torch==2.13.0 && pip install '.[local]'`), or set "
            "DEFAULT_MODEL to one of API_MODELS and leave LOCAL_MODELS empty for an API-only bot."
        )
