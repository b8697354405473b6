"""How an answer's page looks on Discord (`MESSAGE_LAYOUT`): plain content with a classic view, or Components V2.

Components V2 (message flag IS_COMPONENTS_V2) holds 4,000 characters of text across its text displays: the answer,
then its notice as a small line, then the controls' action row. Discord refuses content or embeds beside the flag
and refuses removing it on an edit, so a message once written in V2 is always edited in V2.
"""

from __future__ import annotations

from typing import Any, Literal

import discord

from bot.discord_ui.controls import AnswerButtons
from bot.streaming.page import Page
from bot.streaming.splitting import COMPONENTS_LIMIT, DISCORD_LIMIT

LayoutName = Literal["components", "classic"]


class ClassicLayout:
    message_limit = DISCORD_LIMIT

    def parts(self, page: Page) -> dict[str, Any]:
        controls = page.controls
        return {"content": page.text(), "view": controls.classic() if isinstance(controls, AnswerButtons) else None}


class ComponentsLayout:
    message_limit = COMPONENTS_LIMIT

    def parts(self, page: Page) -> dict[str, Any]:
        texts: list[discord.ui.TextDisplay[discord.ui.LayoutView]] = [discord.ui.TextDisplay(page.body or "…")]
        if page.notice:
            texts.append(discord.ui.TextDisplay(page.notice))
        if isinstance(page.controls, AnswerButtons):
            return {"view": page.controls.layout(texts)}
        view = discord.ui.LayoutView(timeout=None)  # text only: nothing to listen for
        for text in texts:
            view.add_item(text)
        return {"view": view}


Layout = ClassicLayout | ComponentsLayout


def layout_named(name: LayoutName) -> Layout:
    return ComponentsLayout() if name == "components" else ClassicLayout()


def is_components(message: Any) -> bool:
    flags = getattr(message, "flags", None)
    return bool(flags is not None and flags.components_v2)


def layout_of(message: Any, default: Layout) -> Layout:
    """The layout a sent message must be edited in: V2 stays V2; a classic message may move to V2."""
    return ComponentsLayout() if is_components(message) else default


def page_of(message: discord.Message) -> Page:
    """A sent answer message read back: its text and notice, in either layout."""
    if not is_components(message):
        return Page(message.content)
    texts = [c.content for c in message.components if isinstance(c, discord.components.TextDisplay)]
    return Page(texts[0] if texts else "", "\n".join(texts[1:]))
