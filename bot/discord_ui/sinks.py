"""Message sinks: where a streamed answer's messages go on Discord. Mentions are never allowed to ping."""

from __future__ import annotations

import contextlib
from typing import Any, NoReturn

import discord

from bot.streaming.pacing import Kind
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


class _RateLimitAware:
    """Turns a 429 that discord.py gave up on into `RateLimitedError` for the pacer; edits any sent message."""

    async def edit(self, handle: Any, content: str, view: Any | None) -> None:
        try:
            await handle.edit(content=content, view=view, allowed_mentions=NO_PINGS)
        except discord.HTTPException as exc:
            self._reraise(exc)

    @staticmethod
    def _reraise(exc: discord.HTTPException) -> NoReturn:
        if exc.status == 429:
            raise RateLimitedError(_retry_after(exc)) from exc
        raise exc


class InteractionSink(_RateLimitAware):
    """The deferred response of a slash command, then follow-up messages."""

    def __init__(self, interaction: discord.Interaction, use_original: bool = True) -> None:
        self._interaction = interaction
        self._used_original = not use_original  # a queued question's original is the private "in line" notice

    def create_kind(self) -> Kind:
        return Kind.CREATE if self._used_original else Kind.EDIT  # the first answer message edits the response

    async def create(self, content: str, view: Any | None) -> Any:
        kwargs: dict[str, Any] = {"content": content, "allowed_mentions": NO_PINGS}
        if view is not None:
            kwargs["view"] = view
        try:
            if not self._used_original:
                self._used_original = True
                return await self._interaction.edit_original_response(**kwargs)
            return await self._interaction.followup.send(wait=True, **kwargs)
        except discord.HTTPException as exc:
            self._reraise(exc)


class ChannelSink(_RateLimitAware):
    """A reply to a user's message, continued with plain messages in the same channel."""

    def __init__(self, message: discord.Message) -> None:
        self._message = message
        self._replied = False

    async def create(self, content: str, view: Any | None) -> Any:
        kwargs: dict[str, Any] = {"allowed_mentions": NO_PINGS}
        if view is not None:
            kwargs["view"] = view
        try:
            if not self._replied:
                self._replied = True
                return await self._message.reply(content, mention_author=False, **kwargs)
            return await self._message.channel.send(content, **kwargs)
        except discord.HTTPException as exc:
            self._reraise(exc)


class ReusingSink:
    """For Regenerate: the new answer goes into the old answer's messages first, then new ones."""

    def __init__(self, inner: Any, previous: list[Any]) -> None:
        self._inner, self._unused = inner, list(previous)

    def create_kind(self) -> Kind:
        return Kind.EDIT if self._unused else create_kind(self._inner)

    async def create(self, content: str, view: Any | None) -> Any:
        if self._unused:
            handle = self._unused.pop(0)
            await self._inner.edit(handle, content, view)
            return handle
        return await self._inner.create(content, view)

    async def edit(self, handle: Any, content: str, view: Any | None) -> None:
        await self._inner.edit(handle, content, view)

    async def delete_leftovers(self) -> None:
        for handle in self._unused:
            with contextlib.suppress(discord.HTTPException):
                await handle.delete()
