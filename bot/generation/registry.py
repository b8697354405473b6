"""Maps model names to backends; feeds `/model list` and autocomplete.

Open to new backend kinds: a kind registers a factory (`register_kind`), a configured model is an entry naming its
kind and where it runs, and the registry builds each backend on first use. Services ask the registry questions
("does this model need loading?") instead of reading any backend's internals. Ad-hoc names with a `kind:` prefix
are accepted only where the caller allows it (the seed API, the terminal playground), never from Discord.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from bot.errors import UnknownModelError
from bot.generation.types import Backend

AUTOCOMPLETE_LIMIT = 25  # Discord's cap on autocomplete choices


@dataclass(frozen=True, slots=True)
class ModelEntry:
    name: str
    kind: str
    where: str  # where it runs, as users read it: "runs on this machine", "Hugging Face API", a server's address

    @property
    def label(self) -> str:
        return f"{self.name} ({self.where})"


BackendFactory = Callable[[ModelEntry], Backend]


@dataclass(frozen=True, slots=True)
class BackendKind:
    factory: BackendFactory
    where: str  # the default description of where models of this kind run
    close: Callable[[], None] = lambda: None  # frees what the kind holds (loaded models) at shutdown


class ModelRegistry:
    def __init__(self, default_model: str) -> None:
        self._kinds: dict[str, BackendKind] = {}
        self._entries: dict[str, ModelEntry] = {}
        self._backends: dict[str, Backend] = {}
        self.default_model = default_model

    def register_kind(self, kind: str, backend_kind: BackendKind) -> None:
        self._kinds[kind] = backend_kind

    def add(self, name: str, kind: str, where: str | None = None) -> ModelEntry:
        """Configure a model of a registered kind."""
        entry = ModelEntry(name, kind, where or self._kinds[kind].where)
        self._entries[name] = entry
        return entry

    def register(self, backend: Backend, where: str = "plugin") -> None:
        """Add a ready backend under its own name (plugins, tests); it shows in `/model list` like any other."""
        self._entries[backend.name] = ModelEntry(backend.name, backend.kind, where)
        self._backends[backend.name] = backend

    def check_default(self) -> None:
        if self.default_model not in self._entries:
            raise UnknownModelError(f"DEFAULT_MODEL `{self.default_model}` is not among the configured models.")

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
            if sep and rest and kind in self._kinds:
                return ModelEntry(rest, kind, self._kinds[kind].where)
        known = ", ".join(self._entries) or "none"
        raise UnknownModelError(f"There is no model called `{name}`. Available: {known}.")

    def backend(self, name: str, allow_adhoc: bool = False) -> Backend:
        entry = self.entry(name, allow_adhoc)
        if entry.name not in self._backends:
            self._backends[entry.name] = self._kinds[entry.kind].factory(entry)
        return self._backends[entry.name]

    def needs_loading(self, name: str) -> bool:
        """Whether an answer with this model would first wait for it to load."""
        return self.backend(name).needs_loading()

    def close(self) -> None:
        for kind in self._kinds.values():
            kind.close()
