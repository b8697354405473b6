"""Every tool the bot has: the built-ins, then each MCP server's allowlisted tools (as the servers list them now)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from bot.tools.types import Tool


class ToolSource(Protocol):
    """Somewhere tools come from (an MCP manager); its list may change while the bot runs (a server restarts)."""

    def tools(self) -> list[Tool]: ...


class ToolCatalogue:
    def __init__(self, builtins: Sequence[Tool], sources: Sequence[ToolSource] = ()) -> None:
        self._builtins, self._sources = list(builtins), list(sources)

    def add_source(self, source: ToolSource) -> None:
        self._sources.append(source)

    def tools(self) -> list[Tool]:
        """Each name once: a built-in wins over an MCP tool of the same name, an earlier server over a later one."""
        found: dict[str, Tool] = {}
        for tool in [*self._builtins, *(t for source in self._sources for t in source.tools())]:
            found.setdefault(tool.spec.name, tool)
        return list(found.values())

    def names(self) -> list[str]:
        return [tool.spec.name for tool in self.tools()]
