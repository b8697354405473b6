"""Message sinks: where a streamed answer's messages go on Discord, in the configured layout. Mentions never ping."""

from __future__ import annotations

import contextlib
from typing import Any, NoReturn

import discord

from bot.discord_ui.layouts import ClassicLayout, Layout, is_components, layout_of
from bot.streaming.pacing import Kind
from bot.streaming.page import Page
from bot.streaming.renderer import RateLimitedError, create_kind

NO_PINGS = discord.AllowedMentions.none()
DEFAULT_RETRY_AFTER = 1.0


def _retry_after(exc: discord.HTTPException) -> float:
    response = getattr(exc, "response", None)
    header = response.headers.get("Retry-After") if response is not None else None
    try:
        return float(header) if header else DEFAULT_RETRY_AFTER
    except ValueError:
        return DEFAULT_RETRY_AFTER


def created(parts: dict[str, Any]) -> dict[str, Any]:
    """A new message's arguments: no view at all rather than `view=None` (follow-ups refuse that)."""
    return {k: v for k, v in parts.items() if k != "view" or v is not None} | {"allowed_mentions": NO_PINGS}


class _RateLimitAware:
    """Turns a 429 that discord.py gave up on into `RateLimitedError` for the pacer; edits any sent message."""

    layout: Layout = ClassicLayout()

    @property
    def message_limit(self) -> int:
        return self.layout.message_limit

    async def edit(self, handle: Any, page: Page) -> None:
        parts = layout_of(handle, self.layout).parts(page)
        if "content" not in parts and not is_components(handle):
            parts["content"] = None  # a classic message moving to V2 (Regenerate after a layout change)
        try:
            await handle.edit(**parts, allowed_mentions=NO_PINGS)
        except discord.HTTPException as exc:
            self._reraise(exc)

    @staticmethod
    def _reraise(exc: discord.HTTPException) -> NoReturn:
        if exc.status == 429:
            raise RateLimitedError(_retry_after(exc)) from exc
        raise exc


class InteractionSink(_RateLimitAware):
    """The deferred response of a slash command, then follow-up messages."""

    def __init__(self, interaction: discord.Interaction, layout: Layout, use_original: bool = True) -> None:
        self._interaction, self.layout = interaction, layout
        self._used_original = not use_original  # a queued question's original is the private "in line" notice

    def create_kind(self) -> Kind:
        return Kind.CREATE if self._used_original else Kind.EDIT  # the first answer message edits the response

    async def create(self, page: Page) -> Any:
        kwargs = created(self.layout.parts(page))
        try:
            if not self._used_original:  # the deferred response is completed by editing it, in the layout
                self._used_original = True
                return await self._interaction.edit_original_response(**kwargs)
            return await self._interaction.followup.send(wait=True, **kwargs)
        except discord.HTTPException as exc:
            self._reraise(exc)


class ChannelSink(_RateLimitAware):
    """A reply to a user's message, continued with plain messages in the same channel."""

    def __init__(self, message: discord.Message, layout: Layout) -> None:
        self._message, self.layout = message, layout
        self._replied = False

    async def create(self, page: Page) -> Any:
        kwargs = created(self.layout.parts(page))
        try:
            if not self._replied:
                self._replied = True
                return await self._message.reply(mention_author=False, **kwargs)
            return await self._message.channel.send(**kwargs)
        except discord.HTTPException as exc:
            self._reraise(exc)


class ReusingSink:
    """For Regenerate: the new answer goes into the old answer's messages first, then new ones."""

    def __init__(self, inner: Any, previous: list[Any]) -> None:
        self._inner, self._unused = inner, list(previous)
        self.message_limit: int = inner.message_limit

    def create_kind(self) -> Kind:
        return Kind.EDIT if self._unused else create_kind(self._inner)

    async def create(self, page: Page) -> Any:
        if self._unused:
            handle = self._unused.pop(0)
            await self._inner.edit(handle, page)
            return handle
        return await self._inner.create(page)

    async def edit(self, handle: Any, page: Page) -> None:
        await self._inner.edit(handle, page)

    async def delete_leftovers(self) -> None:
        for handle in self._unused:
            with contextlib.suppress(discord.HTTPException):
                await handle.delete()
