"""Whom a notice or a survey goes to: a unit she may address, then an audience filter.

One chooser for /broadcast and /poll: it starts at the top of her scope (`scope.roots`; a
super-admin at the top of the tree), offers "📣 All of …" the current level and its children,
opens a child that has units below it (`…:<step>:o:in<id>`), picks one (`…:o:to<id>`), climbs
back (`…:up`) and pages (`…:<step>:p:<n>`). Every unit picked or opened is checked again, so a
forged press for a unit outside her scope is refused. The draft is `user_data[prefix]` (its
`nonce`, and `level`, `top`, `page` kept here).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, TypedDict

from telegram import InlineKeyboardButton, Message, Update
from telegram.ext import MessageHandler

from bot import callbacks, orgtree
from bot.choices import Choice, Option
from bot.context import BotContext
from bot.i18n import N_, Translator
from bot.permissions import Role, may_act_on_unit
from handlers.kit import answers, scope
from handlers.kit.flow import Handler, on_step
from handlers.kit.replies import (
    answer_stale,
    checked_press,
    refuse,
    retire_buttons,
    say,
    show,
    tree_move,
    typed_text,
)
from storage import deliveries, units

FILTER_BUTTONS = {
    "all": N_("Everyone"),
    "no_standard": N_("No standard sign-up"),
    "no_household": N_("No household sign-up"),
}
"""What the audience-filter buttons say (short: a narrow phone)."""

Chosen = Callable[[Update, BotContext], Awaitable[Any]]
"""What a flow asks next once `draft["unit_id"]` is set to a unit she may address."""


def filter_choice(t: Translator) -> Choice:
    """The audience filters (everyone, or only members not yet registered for …)."""
    return Choice([Option(key, t._(FILTER_BUTTONS.get(key, key)))
                   for key in deliveries.AUDIENCE_FILTERS])


def needs_filter() -> bool:
    """Whether there is a filter to choose (else the audience is everyone)."""
    return len(deliveries.AUDIENCE_FILTERS) > 1


class ChooserState(TypedDict, total=False):
    """What the unit step keeps in its flow's draft (beside the flow's own fields)."""

    nonce: str  # the draft's: older buttons are stale
    level: int | None  # the unit whose children are shown (None: the top of her scope)
    page: int
    top: int | None  # her scope's one top unit, if it has exactly one
    unit_id: int  # the unit chosen


class UnitChooser:
    """The unit step of one draft flow (`prefix`, its button code `step`, its state)."""

    def __init__(self, prefix: str, *, step: str, state: str, chosen: Chosen) -> None:
        self.prefix = prefix
        self.step = step
        self.state = state
        self.chosen = chosen

    def _draft(self, context: BotContext) -> ChooserState:
        assert context.user_data is not None
        draft: ChooserState = context.user_data.setdefault(self.prefix, {})
        return draft

    async def start(self, update: Update, context: BotContext) -> Any:
        """Ask from the top of her scope (one unit there: that unit's level)."""
        tops = await scope.roots(context)
        self._draft(context).update(ChooserState(
            level=None, page=0, top=tops[0] if tops and len(tops) == 1 else None))
        return await self.ask(update, context)

    async def _choice(self, context: BotContext) -> tuple[Choice, bool]:
        """The options at the current level, and whether "⬅ Back" climbs from it."""
        draft = self._draft(context)
        level = draft.get("level")
        options: list[Option] = []
        if level is None:
            tops = await scope.roots(context)
            if tops is None:
                level = draft["level"] = draft["top"] = await orgtree.top_parent(context.db)
            elif len(tops) == 1:
                level = draft["level"] = tops[0]
            else:
                for unit_id in tops:
                    unit = await units.get(context.db, unit_id)
                    if unit is not None:
                        options.append(Option(f"in{unit.id}", unit.name))
                return Choice(options, page=draft.get("page", 0)), False
        unit = await units.get(context.db, level) if level is not None else None
        if unit is not None:
            options.append(Option(f"to{unit.id}", context.t._("📣 All of {unit}",
                                                              unit=unit.name)))
        for child in await orgtree.children(context.db, level):
            nested = await orgtree.has_children(context.db, child.id)
            options.append(Option(f"{'in' if nested else 'to'}{child.id}", child.name))
        choice = Choice(options, page=draft.get("page", 0))
        return choice.at_page(choice.page), level is not None and level != draft.get("top")

    async def ask(self, update: Update, context: BotContext, *,
                  edit: Message | None = None) -> Any:
        """Who should receive it (in place of `edit` when she moves in the tree); a level with
        one unit to pick is picked for her."""
        choice, can_go_up = await self._choice(context)
        nonce = self._draft(context)["nonce"]
        if len(choice.options) == 1 and choice.options[0].key.startswith("to"):
            return await self._picked(update, context, int(choice.options[0].key[2:]))
        extra = [[InlineKeyboardButton(context.t._("⬅ Back"), callback_data=callbacks.encode(
            self.prefix, nonce, "up"))]] if can_go_up else []
        keyboard = choice.keyboard(self.prefix, nonce, self.step, extra_rows=extra)
        text = context.t._("Who should receive it?") + "\n" + context.t._(
            "Tap a button or type its number.")
        await show(update, context, text, keyboard, edit)
        return self.state

    async def _may_address(self, update: Update, context: BotContext, unit_id: int) -> bool:
        assert context.principal is not None
        if await may_act_on_unit(context.db, context.principal, Role.CHAPTER_HEAD, unit_id):
            return True
        await refuse(update, context)
        return False

    async def _picked(self, update: Update, context: BotContext, unit_id: int) -> Any:
        if not await self._may_address(update, context, unit_id):
            return self.state
        self._draft(context)["unit_id"] = unit_id
        return await self.chosen(update, context)

    async def _option(self, update: Update, context: BotContext, option: Option, *,
                      edit: Message | None) -> Any:
        unit_id = int(option.key[2:])
        if not option.key.startswith("in"):
            return await self._picked(update, context, unit_id)
        if not await self._may_address(update, context, unit_id):
            return self.state
        self._draft(context).update(ChooserState(level=unit_id, page=0))
        return await self.ask(update, context, edit=edit)

    async def pressed(self, update: Update, context: BotContext) -> Any:
        """A unit, a page or "⬅ Back"."""
        query = update.callback_query
        assert query is not None
        data = await checked_press(update, context, self.prefix)
        if data is None:
            return None
        message = query.message if isinstance(query.message, Message) else None
        draft = self._draft(context)
        moved = await tree_move(context, data, level=draft.get("level"),
                                page=draft.get("page", 0))
        if moved is not None:
            draft["level"], draft["page"] = moved.level, moved.page
            await query.answer()
            return await self.ask(update, context, edit=message) if moved.changed else self.state
        choice, _up = await self._choice(context)
        option = choice.by_key(data.arg(3))
        if option is None:
            await answer_stale(update, context)
            return None
        await query.answer()
        if option.key.startswith("to"):
            await retire_buttons(query)
        return await self._option(update, context, option, edit=message)

    async def typed(self, update: Update, context: BotContext) -> Any:
        """A unit chosen by number or name."""
        choice, _up = await self._choice(context)
        option = choice.resolve(typed_text(update))
        if option is None:
            await say(update, context, context.t._("Please tap one of the buttons or type its "
                                                   "number."))
            return None
        return await self._option(update, context, option, edit=None)

    def handlers(self) -> list[Handler]:
        """The handlers of the step (a new list for each application)."""
        return [on_step(self.prefix, self.step, self.pressed),
                on_step(self.prefix, "up", self.pressed),
                MessageHandler(answers.ANSWER, self.typed)]
