"""How one update is processed: taken once (`bot.dedup`), timed, and logged in one line.

`BotApplication` is the PTB `Application` with a `process_update` that

1. drops an update id it has already taken (a redelivery after a crash or a webhook retry),
2. runs the handlers as PTB does, recording which feature handler ran (`instrument` names
   every callback of groups 0-99) and how it ended (gates set the outcome, e.g. ``flood``),
3. writes ``update=<id> kind=<what> handler=<module.function> ms=<duration> outcome=<…>``
   to the ``bot.updates`` logger (INFO): no texts, no phone numbers, no names.

`PerChatProcessor` lets updates of different people run at the same time (one member waiting
on the database no longer makes everybody wait) while each person's own updates run one after
another, in the order Telegram sent them: her conversation state, drafts and typed answers see
her messages exactly as she typed them.
"""

from __future__ import annotations

import contextvars
import functools
import inspect
import logging
import time
from collections import deque
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass, field
from typing import Any

from telegram import Update
from telegram.ext import Application, BaseHandler, BaseUpdateProcessor

from bot import dedup

log = logging.getLogger("bot.updates")

_CURRENT: contextvars.ContextVar[Processing | None] = contextvars.ContextVar(
    "processing", default=None
)
FEATURE_GROUPS = range(0, 100)


@dataclass(slots=True)
class Processing:
    """What happened to the update being processed."""

    handlers: list[str] = field(default_factory=list)
    outcome: str = "ok"


def set_outcome(outcome: str) -> None:
    """Say how the current update ended (a gate that dropped it, an error …)."""
    current = _CURRENT.get()
    if current is not None:
        current.outcome = outcome


def kind(update: object) -> str:
    """What an update is, without its content: ``command:/help``, ``text``, ``press:reg`` …"""
    if not isinstance(update, Update):
        return type(update).__name__
    if update.callback_query is not None:
        prefix = (update.callback_query.data or "").split(":", 1)[0]
        known = prefix.isascii() and prefix.isalpha() and len(prefix) <= 8
        return f"press:{prefix if known else '?'}"
    message = update.message
    if message is not None:
        text = message.text or ""
        if text.startswith("/"):
            command = text.split(maxsplit=1)[0].split("@", 1)[0][:33]
            return f"command:{command if command[1:].isascii() and command[1:].isalnum() else '/?'}"
        for attribute in ("text", "contact", "photo", "document", "sticker", "voice", "video",
                          "location"):
            if getattr(message, attribute):
                return attribute
        return "message"
    if update.my_chat_member is not None:
        return "chat_member"
    return "other"


class BotApplication(Application):
    """`Application` with at-most-once processing and one log line per update."""

    async def process_update(self, update: object) -> None:
        """Process an update once (see the module docstring)."""
        started = time.perf_counter()
        record = Processing()
        token = _CURRENT.set(record)
        try:
            if isinstance(update, Update) and not await dedup.claim(self, update.update_id):
                record.outcome = "duplicate"
            else:
                await super().process_update(update)
        finally:
            _CURRENT.reset(token)
            if log.isEnabledFor(logging.INFO):
                log.info(
                    "update=%s kind=%s handler=%s ms=%.1f outcome=%s",
                    getattr(update, "update_id", "-"), kind(update),
                    ",".join(record.handlers) or "-", (time.perf_counter() - started) * 1000,
                    record.outcome,
                )

    async def shutdown(self) -> None:
        """Shut down as PTB does, then finish recording the update ids taken."""
        await super().shutdown()
        await dedup.finish(self)

    async def process_error(self, update: object | None, error: Exception, *args: Any,
                            **kwargs: Any) -> bool:
        """Mark the update as failed, then let the error handlers run."""
        set_outcome("error")
        return await super().process_error(update, error, *args, **kwargs)


def ordering_key(update: object) -> int | None:
    """Whose updates must stay in order: the person's (in a private chat, also the chat's).

    Updates without a person (a channel post) are ordered by chat; None: no order needed.
    """
    if not isinstance(update, Update):
        return None
    if update.effective_user is not None:
        return update.effective_user.id
    return update.effective_chat.id if update.effective_chat is not None else None


class PerChatProcessor(BaseUpdateProcessor):
    """At most `max_concurrent_updates` updates at once; one person's strictly one by one.

    An update of someone whose earlier update is still running is not given a slot of its
    own: it is queued behind that update and run by the same slot, so a member sending many
    messages occupies one slot and never delays the others. A queue exists only while its
    person has an update running (no state is left behind for idle members).
    """

    def __init__(self, max_concurrent_updates: int) -> None:
        super().__init__(max_concurrent_updates)
        self._queues: dict[int, deque[Awaitable[Any]]] = {}

    @property
    def busy_keys(self) -> int:
        """How many people have an update running now (0 when idle)."""
        return len(self._queues)

    async def do_process_update(self, update: object, coroutine: Awaitable[Any]) -> None:
        """Run it now, or behind the running update of the same person."""
        key = ordering_key(update)
        if key is None:
            await coroutine
            return
        queue = self._queues.get(key)
        if queue is not None:
            queue.append(coroutine)
            return
        queue = self._queues[key] = deque([coroutine])
        try:
            while queue:
                await _run_logged(queue[0])
                queue.popleft()
        finally:
            del self._queues[key]
            for left in queue:  # cancelled at shutdown: do not leave coroutines unawaited
                if inspect.iscoroutine(left):
                    left.close()

    async def initialize(self) -> None:
        """Nothing to set up."""

    async def shutdown(self) -> None:
        """Nothing to release (PTB waits for the running updates before this)."""


async def _run_logged(coroutine: Awaitable[Any]) -> None:
    # `Application.process_update` hands handler errors to the error handlers; whatever still
    # escapes must not stop the updates queued behind it.
    try:
        await coroutine
    except Exception:
        log.exception("update processing failed")


def _named(
    callback: Callable[..., Coroutine[Any, Any, Any]],
) -> Callable[..., Coroutine[Any, Any, Any]]:
    if getattr(callback, "_instrumented", False):
        return callback
    module = getattr(callback, "__module__", "?").removeprefix("handlers.")
    name = f"{module}.{getattr(callback, '__qualname__', type(callback).__name__)}"

    @functools.wraps(callback)
    async def named(update: object, context: Any) -> Any:
        current = _CURRENT.get()
        if current is not None:
            current.handlers.append(name)
        return await callback(update, context)

    named._instrumented = True  # type: ignore[attr-defined]
    return named


def _instrument_handler(handler: BaseHandler[Any, Any, Any]) -> None:
    if callable(getattr(handler, "callback", None)):
        handler.callback = _named(handler.callback)


def instrument(application: Application) -> None:
    """Name the feature handlers (groups 0-99) in the per-update log line."""
    for group, handlers in application.handlers.items():
        if group in FEATURE_GROUPS:
            for handler in handlers:
                _instrument_handler(handler)
