"""Strict in-process fake of the Telegram Bot API.

`FakeBotAPI` is a :class:`telegram.request.BaseRequest`, so a real ``telegram.Bot`` or a PTB
``Application`` runs on it with no network. Every call is checked against the Bot API method
list in ``bot/data/botapi_methods.json`` (Bot API 10.1) and against the limits production
enforces: text length after entity parsing, HTML well-formedness, button data size, unknown
chats, blocked users, edits of messages the bot never sent, double-answered callback queries
and (optionally) flood limits. Answers use Telegram's JSON envelope, so PTB raises the same
``BadRequest`` / ``Forbidden`` / ``RetryAfter`` it would raise in production.

The update builders (`user`, `message_update`, `command_update`, `callback_update`, ...) make
real ``Update`` JSON for tests and for the offline demo (`queue_update` feeds ``getUpdates``).

Rooms: `spec` (method list, limits, shared records), `entities` (UTF-16, HTML, MarkdownV2),
`server` (state and ``do_request``), `content` (text, markup and file checks), `methods`
(method implementations), `updates` (builders).
"""

from __future__ import annotations

from bot.channels.telegram_fake.entities import (
    EntityParseError,
    parse_html,
    parse_markdown_v2,
    utf16_len,
)
from bot.channels.telegram_fake.methods import BotMethods
from bot.channels.telegram_fake.spec import (
    ApiCall,
    MethodSpec,
    ParamSpec,
    RateLimits,
    UploadedFile,
    load_method_specs,
)
from bot.channels.telegram_fake.updates import UpdateBuilders

__all__ = [
    "ApiCall",
    "EntityParseError",
    "FakeBotAPI",
    "MethodSpec",
    "ParamSpec",
    "RateLimits",
    "UploadedFile",
    "load_method_specs",
    "parse_html",
    "parse_markdown_v2",
    "utf16_len",
]


class FakeBotAPI(BotMethods, UpdateBuilders):
    """An in-process, strict stand-in for api.telegram.org (see the package docstring).

    Pass the same instance as ``request`` and ``get_updates_request`` of ``telegram.Bot`` or
    ``ApplicationBuilder``. All state is inspectable: `calls`, `sent`, `last_text`,
    `messages`, `commands`, `unanswered_callback_queries`, `rate_limited_count`.
    """
