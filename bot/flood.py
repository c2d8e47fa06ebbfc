"""Per-member flood control: more than `LIMIT` updates in `WINDOW` seconds → a cool-down.

Runs as a `TypeHandler` before everything else (group -3). In memory, O(1) per update: one
deque of recent arrival times per person (swept every `SWEEP_EVERY` updates). When someone
sends too fast she gets one calm notice, then her updates are dropped (`ApplicationHandlerStop`,
button presses still answered so her phone stops spinning) until the cool-down has passed.
Nobody else waits for any of this.
"""

from __future__ import annotations

import contextlib
import logging
from collections import deque

from telegram import Update
from telegram.error import TelegramError
from telegram.ext import ApplicationHandlerStop

from bot.context import BotContext
from bot.i18n import N_, translator
from bot.processing import set_outcome
from storage import members

log = logging.getLogger(__name__)

LIMIT = 20
WINDOW = 10.0
COOLDOWN = 60.0
SWEEP_EVERY = 5000

NOTICE = N_("You are sending messages very quickly, so I will pause for a minute. Please wait a "
            "little, then continue; nothing you entered before is lost.")


class FloodGate:
    """The state of one application's flood control."""

    def __init__(self, *, limit: int = LIMIT, window: float = WINDOW,
                 cooldown: float = COOLDOWN) -> None:
        self.limit, self.window, self.cooldown = limit, window, cooldown
        self._recent: dict[int, deque[float]] = {}
        self._until: dict[int, float] = {}
        self._seen = 0

    def cooling(self, user_id: int, now: float) -> bool:
        """Whether her updates are being dropped now."""
        until = self._until.get(user_id)
        if until is None:
            return False
        if now < until:
            return True
        del self._until[user_id]
        self._recent.pop(user_id, None)
        return False

    def arrive(self, user_id: int, now: float) -> bool:
        """Count one update; True if it makes her exceed the limit (the cool-down starts)."""
        self._seen += 1
        if self._seen % SWEEP_EVERY == 0:
            self._sweep(now)
        times = self._recent.get(user_id)
        if times is None:
            times = self._recent[user_id] = deque(maxlen=self.limit + 1)
        times.append(now)
        if len(times) > self.limit and now - times[0] <= self.window:
            self._until[user_id] = now + self.cooldown
            return True
        return False

    def _sweep(self, now: float) -> None:
        stale = [u for u, times in self._recent.items() if now - times[-1] > self.window]
        for user_id in stale:
            del self._recent[user_id]

    async def __call__(self, update: object, context: BotContext) -> None:
        """The TypeHandler callback."""
        if not isinstance(update, Update) or update.effective_user is None:
            return
        if update.message is None and update.callback_query is None:
            return
        user_id = update.effective_user.id
        now = context.clock.monotonic()
        if self.cooling(user_id, now):
            await self._drop(update)
        if self.arrive(user_id, now):
            log.warning("flood: one user sent more than %s updates in %ss; paused %ss",
                        self.limit, self.window, self.cooldown)
            await self._notify(update, context)
            await self._drop(update)

    async def _drop(self, update: Update) -> None:
        set_outcome("flood")
        if update.callback_query is not None:
            with contextlib.suppress(TelegramError):
                await update.callback_query.answer()
        raise ApplicationHandlerStop

    async def _notify(self, update: Update, context: BotContext) -> None:
        assert update.effective_user is not None
        member = await members.by_user(context.db, update.effective_user.id)
        locale = member.locale if member else (context.user_data or {}).get(
            "locale", context.settings.default_locale)
        if update.effective_chat is None:
            return
        try:
            await context.bot.send_message(update.effective_chat.id,
                                           translator(str(locale))._(NOTICE))
        except TelegramError:
            log.info("flood notice could not be sent")
