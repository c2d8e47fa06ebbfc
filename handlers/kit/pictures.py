"""Pictures the bot draws (charts), sent where the chat can show them and as text where not.

A channel's transport may say it cannot show an uploaded picture (`shows_uploads` False: Zalo
without a public address to serve it from). Then the officer gets the chart's own figures as
a text table instead of a picture she cannot open, and the picture is not even drawn.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence

from bot.context import BotContext


def shows_pictures(context: BotContext) -> bool:
    """Whether this Application's chats can show a picture the bot uploads."""
    return bool(getattr(context.bot.request, "shows_uploads", True))


async def send_picture(context: BotContext, chat_id: int, *, draw: Callable[[], bytes],
                       caption: str, table: Sequence[str]) -> None:
    """The picture `draw` makes (in a worker thread) with its caption; where pictures cannot
    be shown, the caption and `table` (the same figures, one line each, HTML-escaped)."""
    if shows_pictures(context):
        png = await asyncio.get_running_loop().run_in_executor(None, draw)
        await context.bot.send_photo(chat_id, png, caption=caption)
        return
    t = context.t
    note = t._("(The picture cannot be shown here; the figures above are the same. The picture "
               "is on Telegram with the same command, or ask your ward officer.)")
    await context.bot.send_message(chat_id, "\n\n".join([caption, "\n".join(table), note]))
