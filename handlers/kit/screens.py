"""One screen mechanism: a view is rendered as a `Screen`, remembered as the chat's latest
question (so a typed number answers it like a press), and put in place of the pressed message
or as a new one."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass
from typing import Any, Protocol, TypeVar

from telegram import InlineKeyboardMarkup, Message, Update
from telegram.ext import BaseHandler, CallbackQueryHandler

from bot import callbacks
from bot.callbacks import CallbackData
from bot.choices import Choice
from bot.context import BotContext
from bot.permissions import Role
from handlers.kit import answers, menu
from handlers.kit.replies import (
    STALE,
    answer_stale,
    member_with_chapter,
    press_of,
    refuse,
    retire_buttons,
    show,
)
from storage.members import Member

Params = dict[str, Any]
T = TypeVar("T")


@dataclass(frozen=True)
class Screen:
    """What one screen shows, and the choice a typed number answers."""

    text: str
    keyboard: InlineKeyboardMarkup | None
    choice: Choice


def remember(context: BotContext, prefix: str, **params: Any) -> None:
    """The screen of `prefix` with `params` is the latest shown: a typed number answers it."""
    assert context.user_data is not None
    answers.ask(context, prefix)
    context.user_data[prefix] = params


def members_screen(context: BotContext, prefix: str) -> tuple[Member, Params] | None:
    """Her membership and the latest screen of `prefix` she saw, if it is of this year and
    she has a chapter (None otherwise: the screen no longer offers anything)."""
    member = context.principal.member if context.principal else None
    shown = (context.user_data or {}).get(prefix) or {}
    if member is None or member.unit_id is None or shown.get("year") != context.this_year:
        return None
    return member, shown


def members_options(prefix: str, options: Callable[[BotContext, Member, Params],
                                                   Awaitable[Choice | None]]
                    ) -> Callable[[BotContext], Awaitable[Choice | None]]:
    """The options of the latest screen of `prefix` a member saw (`members_screen`): `options`
    of her membership and that screen; None when it no longer offers anything."""

    async def latest(context: BotContext) -> Choice | None:
        found = members_screen(context, prefix)
        return None if found is None else await options(context, *found)

    return latest


async def members_press(update: Update, context: BotContext, *,
                        fits: Callable[[CallbackData], bool],
                        other_year: str) -> tuple[Member, CallbackData, Message | None] | None:
    """A press on a member's own screen of a year (`<prefix>:<year>:…`, the rest checked by
    `fits`): her membership, the press's data and message. None when it is answered here: she
    has no chapter, it is stale, or it is from another year (said with `other_year`, a msgid
    with {year}; its buttons are taken off)."""
    member = await member_with_chapter(update, context)
    query, data, message = press_of(update)
    if member is None:
        return None
    year = data.arg(0) if data else None
    if data is None or year is None or not year.isdigit() or not fits(data):
        await answer_stale(update, context)
        return None
    if int(year) != context.this_year:
        await query.answer(context.t._(other_year, year=year), show_alert=True)
        await retire_buttons(query)
        return None
    return member, data, message


async def put(update: Update, context: BotContext, screen: Screen | None,
              message: Message | None) -> None:
    """Show a screen in place of the pressed `message`, or as a new message (None: nothing)."""
    if screen is not None:
        await show(update, context, screen.text, screen.keyboard, message)


async def put_chosen(update: Update, context: BotContext, chosen: Screen | T,
                     message: Message | None, *, state: T) -> T:
    """After an option was carried out: a `Screen` is answered and shown (the flow stays in
    `state`); anything else is the flow's next state, returned as it is."""
    if not isinstance(chosen, Screen):
        return chosen
    if update.callback_query is not None:
        await update.callback_query.answer()
    await put(update, context, chosen, message)
    return state


Render = Callable[[BotContext, str, Params], Awaitable[Screen | None]]
Check = Callable[[Update, BotContext, str, Params], Awaitable[bool]]


class Act(Protocol):
    """Carries out one option `key` of the screen `view` with `p` (a press edits `message`)."""

    async def __call__(self, update: Update, context: BotContext, *, view: str, p: Params,
                       key: str, message: Message | None) -> None: ...


@dataclass(frozen=True, kw_only=True)
class Views:
    """A feature's screens, addressed as `prefix:<view>:<params…>:<o|p>:<key>`.

    The one mechanism for a press and for a typed number on the latest screen: parse it, check
    it (`allowed`: her role and scope may have changed since), act, re-render.
    """

    prefix: str
    role: Role
    shapes: dict[str, tuple[str, ...]]
    """The parameters of each view, in button order (numbers unless named in `words`)."""
    words: dict[str, frozenset[str]]
    """The parameters that are words, with the values they may take."""
    render: Render
    allowed: Check
    act: Act

    def parse(self, data: CallbackData) -> tuple[str, Params, str, str] | None:
        """(view, params, 'o' or 'p', key) from a press, or None if it is not one of ours."""
        view, args = data.arg(0), data.args[1:]
        shape = self.shapes.get(view or "")
        if view is None or shape is None or len(args) != len(shape) + 2:
            return None
        params: Params = {}
        for name, raw in zip(shape, args, strict=False):
            value: Any = raw if name in self.words else answers.int_arg(raw)
            if value is None or (name in self.words and raw not in self.words[name]):
                return None
            params[name] = value
        kind, key = args[-2], args[-1]
        if kind not in ("o", "p") or (kind == "p" and answers.int_arg(key) is None):
            return None
        return view, params, kind, key

    async def pressed(self, update: Update, context: BotContext) -> None:
        """Any button of these screens; permission and freshness are checked first."""
        query = update.callback_query
        assert query is not None
        principal = context.principal
        if principal is None or not principal.at_least(self.role):
            await refuse(update, context)
            return
        data = callbacks.decode(query.data)
        parsed = self.parse(data) if data else None
        if parsed is None:
            await query.answer(context.t._(STALE), show_alert=True)
            return
        view, params, kind, key = parsed
        message = query.message if isinstance(query.message, Message) else None
        if kind == "p":  # another page of the same screen, if she may still see it
            params["page"] = int(key)
            if await self.allowed(update, context, view, params):
                await query.answer()
                await put(update, context, await self.render(context, view, params), message)
            return
        await self.act(update, context, view=view, p=params, key=key, message=message)

    def _shown(self, context: BotContext) -> tuple[str, Params] | None:
        principal = context.principal
        shown = (context.user_data or {}).get(self.prefix) or {}
        if principal is None or not principal.at_least(self.role) or "view" not in shown:
            return None
        return shown["view"], {k: v for k, v in shown.items() if k != "view"}

    async def typed(self, update: Update, context: BotContext, text: str) -> bool:
        """A typed number answering the latest screen shown."""
        shown = self._shown(context)
        if shown is None:
            return False
        view, params = shown
        if not await self.allowed(update, context, view, params):
            return True
        screen = await self.render(context, view, params)
        option = screen.choice.resolve(text) if screen is not None else None
        if option is None:
            return await answers.not_an_option(update, context, text,
                                               again=lambda: put(update, context, screen, None))
        await self.act(update, context, view=view, p=params, key=option.key, message=None)
        return True

    async def options(self, context: BotContext) -> Choice | None:
        """The options of the latest screen shown (after `typed` checked she may see it)."""
        shown = self._shown(context)
        screen = await self.render(context, *shown) if shown is not None else None
        return screen.choice if screen is not None else None

    def register(self) -> None:
        """Typed answers to these screens go through the router."""
        answers.register(self.prefix, self.typed, options=self.options)

    def handler(self) -> CallbackQueryHandler:
        """The handler of these screens' buttons (a new one for each application)."""
        return CallbackQueryHandler(self.pressed, pattern=callbacks.pattern(self.prefix))

    def opened_by(self, command: str, opened: Callable[..., Coroutine[Any, Any, Any]],
                  label: str | None = None) -> list[BaseHandler[Any, Any, Any]]:
        """A feature made of these screens: /`command` (and the main-menu button `label`)
        opens them with `opened`, then their buttons and typed numbers are handled here."""
        self.register()
        return [*menu.opened_by(command, opened, label), self.handler()]
