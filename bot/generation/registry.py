"""Maps model names to backends; feeds `/model list` and autocomplete.

Names come from configuration: the embedded `smollm2`, `LOCAL_MODELS` (Hub ids or paths run in-process) and
`API_MODELS` (served through huggingface_hub). Ad-hoc names with an explicit `local:` or `api:` prefix are
accepted only where the caller allows it (the seed API, the terminal playground), never from Discord.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from bot.errors import UnknownModelError
from bot.generation.embedded import EMBEDDED_ALIAS
from bot.generation.hf_api import ApiConfig, HFApiBackend
from bot.generation.local import LocalBackend, LocalModelPool
from bot.generation.types import Backend

AUTOCOMPLETE_LIMIT = 25  # Discord's cap on autocomplete choices


@dataclass(frozen=True, slots=True)
class ModelEntry:
    name: str
    kind: Literal["api", "local"]

    @property
    def label(self) -> str:
        where = "runs on this machine" if self.kind == "local" else "Hugging Face API"
        return f"{self.name} ({where})"


class ModelRegistry:
    def __init__(
        self,
        api_config: ApiConfig,
        pool: LocalModelPool,
        local_models: list[str],
        api_models: list[str],
        default_model: str = EMBEDDED_ALIAS,
    ) -> None:
        self.api_config = api_config
        self.pool = pool
        entries = [ModelEntry(EMBEDDED_ALIAS, "local")]
        entries += [ModelEntry(n, "local") for n in local_models if n != EMBEDDED_ALIAS]
        entries += [ModelEntry(n, "api") for n in api_models]
        self._entries = {e.name: e for e in entries}
        self._backends: dict[str, Backend] = {}
        if default_model not in self._entries:
            raise UnknownModelError(f"DEFAULT_MODEL `{default_model}` is not among the configured models.")
        self.default_model = default_model

    def register(self, backend: Backend) -> None:
        """Add a backend under its own name (plugins, tests); it shows in `/model list` like any other."""
        self._entries[backend.name] = ModelEntry(backend.name, backend.kind)
        self._backends[backend.name] = backend

    def entries(self) -> list[ModelEntry]:
        return list(self._entries.values())

    def is_known(self, name: str) -> bool:
        return name in self._entries

    def suggest(self, typed: str) -> list[ModelEntry]:
        typed = typed.lower()
        hits = [e for e in self._entries.values() if typed in e.name.lower()]
        return hits[:AUTOCOMPLETE_LIMIT]

    def entry(self, name: str, allow_adhoc: bool = False) -> ModelEntry:
        if name in self._entries:
            return self._entries[name]
        if allow_adhoc:
            kind, sep, rest = name.partition(":")
            if sep and rest and kind in ("api", "local"):
                return ModelEntry(rest, "api" if kind == "api" else "local")
        known = ", ".join(self._entries) or "none"
        raise UnknownModelError(f"There is no model called `{name}`. Available: {known}.")

    def backend(self, name: str, allow_adhoc: bool = False) -> Backend:
        entry = self.entry(name, allow_adhoc)
        if entry.name not in self._backends:
            if entry.kind == "local":
                self._backends[entry.name] = LocalBackend(entry.name, self.pool)
            else:
                self._backends[entry.name] = HFApiBackend(entry.name, self.api_config)
        return self._backends[entry.name]
