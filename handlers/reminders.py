"""/reminders (unit admins and super-admins): the reminder schedules, edited in chat.

It stays over 500 lines because it is one flow: six screens of one schedule and three typed
questions asked from its card, all on the same latest screen shown.

Screens: the list → a schedule's card (when, on/off, texts, pauses, the last occurrences) →
change the day, the time (typed), the texts (per unit scope: a ward's text overrides the
whole organisation's; typed, formatting kept), the pause dates (typed, e.g. Tết).

Who may change what: a schedule addressed to everyone (the defaults) is managed — on/off, day,
time, pauses, its text for everyone — by super-admins; a schedule scoped to a unit by the
admins of that unit. Unit admins set or remove the text for units of their own subtree in any
schedule that reaches them. Every press is authorised again. Day and time changes (and
switching on) take effect from the next occurrence.
"""

from __future__ import annotations

import html
import re
from datetime import date, timedelta
from typing import Any, TypedDict

from telegram import Message, Update
from telegram.ext import BaseHandler

from bot import orgtree
from bot import reminders as schedule
from bot.choices import Choice, Option
from bot.context import BotContext
from bot.i18n import N_, nfc, sort_key
from bot.permissions import Role, may_act_on_unit
from bot.validators import InvalidInput
from handlers.kit import answers
from handlers.kit.days import local_today, parse_pause, zone_name
from handlers.kit.flow import END, kept, screens_flow, text_only
from handlers.kit.replies import gone, press_of, refuse, requires, say
from handlers.kit.scope import tree_level
from handlers.kit.screens import Screen, put, put_chosen, remember
from storage import deliveries, reminders
from storage.db import to_iso
from storage.reminders import ENVIRONMENT, HEADS_UP, SUMMARY, TEXT_MAX, Schedule

PREFIX = "rem"  # rem:<view>:<schedule id>:<node>:o:<key> (or :p:<page>)
SCREEN, TIME, TEXT, PAUSE = "r_screen", "r_time", "r_text", "r_pause"
TEXTS_SHOWN = 15  # texts listed (and removable) on one screen
LIST, CARD, DAY, TEXTS, UNIT, PAUSES = "l", "c", "d", "t", "u", "p"


class Shown(TypedDict, total=False):
    """The latest screen shown, or the question asked from a card (persisted in
    `user_data["rem"]`)."""

    view: str  # LIST, CARD, DAY, TEXTS, UNIT or PAUSES
    schedule: int  # the schedule of the card
    node: int  # UNIT: the unit whose children are listed (0: her roots)
    page: int
    unit: int | None  # a text asked: the unit whose text it is (None: for everyone)


def _shown(context: BotContext) -> Shown:
    """The latest screen shown in this chat (an empty one, kept nowhere, when none was)."""
    return kept(context, PREFIX)


# --- who may do what -------------------------------------------------------------------------


async def may_manage(context: BotContext, item: Schedule) -> bool:
    """On/off, day, time, pauses and the text for everyone it addresses."""
    assert context.principal is not None
    if context.principal.is_super_admin:
        return True
    return item.unit_id is not None and await may_act_on_unit(
        context.db, context.principal, Role.UNIT_ADMIN, item.unit_id)


async def may_set_text(context: BotContext, item: Schedule, unit_id: int | None) -> bool:
    """The text for a unit's subtree: her own units, inside the schedule's scope."""
    assert context.principal is not None
    if unit_id is None or unit_id == item.unit_id:
        return await may_manage(context, item)
    if not await may_act_on_unit(context.db, context.principal, Role.UNIT_ADMIN, unit_id):
        return False
    if item.unit_id is None:
        return True
    return any(u.id == item.unit_id for u in await _ancestry(context, unit_id))


async def _ancestry(context: BotContext, unit_id: int) -> list[Any]:
    chain: list[Any] = []
    unit = await orgtree.get(context.db, unit_id)
    while unit is not None and len(chain) < 64:
        chain.append(unit)
        unit = await orgtree.get(context.db, unit.parent_id)
    return chain


async def _visible(context: BotContext) -> list[Schedule]:
    """The schedules that reach her units (all of them for a super-admin)."""
    assert context.principal is not None
    above: set[int] = set()  # her units and everything above them
    for grant in context.principal.grants:
        above |= {u.id for u in await _ancestry(context, grant.unit_id)}
    return [item for item in await reminders.schedules(context.db)
            if item.unit_id is None or item.unit_id in above or await may_manage(context, item)]


async def _roots(context: BotContext) -> list[Any]:
    """Where choosing a unit for a text starts."""
    assert context.principal is not None
    if context.principal.is_super_admin:
        return await orgtree.children(context.db, await orgtree.top_parent(context.db))
    grants = {g.unit_id for g in context.principal.grants if g.role == Role.UNIT_ADMIN}
    return [u for u in [await orgtree.get(context.db, i) for i in sorted(grants)] if u]


# --- texts shown -----------------------------------------------------------------------------


def _title(context: BotContext, item: Schedule) -> str:
    return context.t._(schedule.KIND_LABELS[item.kind])


def _when(context: BotContext, item: Schedule) -> str:
    t = context.t
    return t._("every {weekday} at {time}", weekday=t._(schedule.WEEKDAYS[item.weekday]),
               time=item.local_time)


def _status(context: BotContext, item: Schedule) -> str:
    return context.t._("✅ on") if item.enabled else context.t._("⏸ off")


async def _unit_name(context: BotContext, unit_id: int | None) -> str:
    if unit_id is None:
        return context.t._("everyone")
    return html.escape(await orgtree.unit_path(context.db, unit_id))


def _preview(text_html: str, limit: int = 150) -> str:
    """A stored text as a short plain preview (tags dropped, so clipping stays valid HTML)."""
    plain = html.unescape(re.sub(r"<[^>]+>", "", text_html)).replace("\n", " ")
    return html.escape(plain if len(plain) <= limit else plain[: limit - 1] + "…")


async def _shown_texts(context: BotContext, item: Schedule) -> list[reminders.ScheduleText]:
    """The texts listed on the texts screen: everyone's first, then by unit, at most TEXTS_SHOWN."""
    texts = await reminders.texts(context.db, item.id)
    paths: dict[int | None, str] = {
        x.unit_id: await orgtree.unit_path(context.db, x.unit_id) for x in texts
        if x.unit_id is not None}
    texts.sort(key=lambda x: (x.unit_id is not None, sort_key(paths.get(x.unit_id, ""))))
    return texts[:TEXTS_SHOWN]


# --- screens ---------------------------------------------------------------------------------


async def _list_screen(context: BotContext, note: str | None = None) -> Screen:
    t = context.t
    items = await _visible(context)
    lines = [note, ""] if note else []
    lines += [t._("<b>Reminder schedules</b>"),
              t._("Times are {zone} time.", zone=zone_name(context)), ""]
    options = []
    for number, item in enumerate(items, 1):
        lines.append(f"{number}. <b>{_title(context, item)}</b> — {_when(context, item)} — "
                     f"{_status(context, item)}")
        options.append(Option(str(item.id), _title(context, item)))
    lines += ["", t._("Tap a schedule (or type its number) to see or change it.")]
    choice = Choice(options, page_size=max(1, len(options)))
    remember(context, PREFIX, view=LIST)
    return Screen("\n".join(lines), choice.keyboard(PREFIX, LIST, 0, 0), choice)


async def _card_choice(context: BotContext, item: Schedule) -> Choice:
    t = context.t
    options = []
    if await may_manage(context, item):
        options += [Option("toggle", t._("⏸ Switch off") if item.enabled
                           else t._("▶ Switch on")),
                    Option("day", t._("📅 Change the day")),
                    Option("time", t._("🕒 Change the time")),
                    Option("pauses", t._("⏸ Pause dates"))]
    if item.kind in (ENVIRONMENT, HEADS_UP):
        options.append(Option("texts", t._("✏️ Texts")))
    options.append(Option("back", t._("⬅ All schedules")))
    return Choice(options, page_size=len(options))


async def _card_screen(context: BotContext, item: Schedule, note: str | None = None) -> Screen:
    t = context.t
    tz = context.settings.timezone
    now = context.clock.now()
    today = local_today(context)
    pauses = await reminders.pauses(context.db, from_day=today.isoformat(), schedule_id=item.id)
    lines = [note, ""] if note else []
    lines += [f"<b>{_title(context, item)}</b>",
              t._("When: {when} ({zone} time)", when=_when(context, item), zone=zone_name(context)),
              t._("Status: {status}", status=_status(context, item)),
              t._("Who: {unit}", unit=t._("the chapter heads") if item.kind == SUMMARY
                  else await _unit_name(context, item.unit_id))]
    if item.enabled:
        lines.append(t._("Next: {when}", when=t.datetime(
            schedule.next_due(item, now, tz, pauses))))
    if pauses:
        lines.append(t._("Paused: {dates}", dates=", ".join(_range_text(context, p.first_day,
                                                                         p.last_day)
                                                            for p in pauses)))
    if item.kind in (ENVIRONMENT, HEADS_UP):
        texts = await reminders.texts(context.db, item.id)
        own = [x for x in texts if x.unit_id is None]
        lines.append(t._("Text: {text}", text=_preview(own[0].text_html) if own
                         else t._("the standard text")))
        if len(texts) > len(own):
            lines.append(t.n_("Own texts for {n} unit.", "Own texts for {n} units.",
                              len(texts) - len(own)))
    runs = await reminders.last_runs(context.db, item.id)
    if runs:
        lines += ["", t._("<b>Latest</b>")]
        for run in runs:
            lines.append(await _run_line(context, run))
    choice = await _card_choice(context, item)
    remember(context, PREFIX, view=CARD, schedule=item.id)
    return Screen("\n".join(lines), choice.keyboard(PREFIX, CARD, item.id, 0), choice)


async def _run_line(context: BotContext, run: reminders.Run) -> str:
    t = context.t
    day = t.date(date.fromisoformat(run.day))
    if run.status == reminders.PAUSED:
        return t._("{date}: paused", date=day)
    if run.status == reminders.SKIPPED:
        return t._("{date}: not sent (the bot was not running in time)", date=day)
    if run.broadcast_id is None:
        return t._("{date}: nobody to send to", date=day)
    counts = await deliveries.progress(context.db, run.broadcast_id)
    return t._("{date}: sent {sent} of {total} (blocked {blocked}, failed {failed})",
               date=day, sent=t.number(counts.sent), total=t.number(counts.total),
               blocked=t.number(counts.blocked), failed=t.number(counts.failed))


def _range_text(context: BotContext, first: str, last: str) -> str:
    t = context.t
    if first == last:
        return t.date(date.fromisoformat(first))
    return f"{t.date(date.fromisoformat(first))}–{t.date(date.fromisoformat(last))}"


def _day_choice(context: BotContext) -> Choice:
    t = context.t
    return Choice([Option(str(i), t._(name)) for i, name in enumerate(schedule.WEEKDAYS)],
                  page_size=7)


async def _day_screen(context: BotContext, item: Schedule) -> Screen:
    t = context.t
    choice = _day_choice(context)
    remember(context, PREFIX, view=DAY, schedule=item.id)
    text = t._("On which day should “{title}” be sent? Tap it or type its number.",
               title=_title(context, item))
    return Screen(text, choice.keyboard(PREFIX, DAY, item.id, 0), choice)


async def _texts_choice(context: BotContext, item: Schedule) -> Choice:
    t = context.t
    options = []
    if await may_manage(context, item):
        options.append(Option("all", t._("✏️ Text for everyone")))
    options.append(Option("unit", t._("✏️ Text for a unit")))
    for text in await _shown_texts(context, item):
        if await may_set_text(context, item, text.unit_id):
            name = (await orgtree.get(context.db, text.unit_id)) if text.unit_id else None
            label = name.name if name else t._("everyone")
            options.append(Option(f"x{text.unit_id or 0}",
                                  t._("↩ Remove the text for {unit}", unit=label)))
    options.append(Option("back", t._("⬅ Back")))
    return Choice(options, page_size=len(options))


async def _next_day(context: BotContext, item: Schedule) -> date:
    """The environment day the schedule's next reminder speaks of (the heads-up: tomorrow's)."""
    tz = context.settings.timezone
    pauses = await reminders.pauses(context.db, from_day=local_today(context).isoformat(),
                                    schedule_id=item.id)
    due = schedule.next_due(item, context.clock.now(), tz, pauses).astimezone(tz).date()
    return due + timedelta(days=1) if item.kind == HEADS_UP else due


async def _texts_screen(context: BotContext, item: Schedule, note: str | None = None) -> Screen:
    t = context.t
    lines = [note, ""] if note else []
    lines += [t._("<b>Texts of “{title}”</b>", title=_title(context, item)),
              t._("Members get the text of their own unit, else of the nearest unit above "
                  "it, else the text for everyone, else the standard text:"),
              "", t._("<b>Standard text</b> (in each member's language):"),
              _preview(schedule.default_text(t, item.kind, await _next_day(context, item)), 300)]
    intro = schedule.introduction(t, context.catalog) if item.kind == ENVIRONMENT else None
    if intro:
        lines += ["", t._("<b>Added to a member's first reminder</b> (from the catalog):"),
                  intro]
    for text in await _shown_texts(context, item):
        lines += ["", f"<b>{await _unit_name(context, text.unit_id)}</b>:",
                  _preview(text.text_html)]
    choice = await _texts_choice(context, item)
    remember(context, PREFIX, view=TEXTS, schedule=item.id)
    return Screen("\n".join(lines), choice.keyboard(PREFIX, TEXTS, item.id, 0), choice)


async def _unit_screen(context: BotContext, item: Schedule, node: int, page: int) -> Screen:
    """Choose the unit whose text to set: ✏️ sets it here, a name goes down the tree."""
    t = context.t
    options = await tree_level(context, node, roots=_roots, pick="s",
                               here=lambda unit: t._("✏️ {unit}", unit=unit.name))
    options.append(Option("back", t._("⬅ Back")))
    choice = Choice(options, page=page).at_page(page)
    remember(context, PREFIX, view=UNIT, schedule=item.id, node=node, page=choice.page)
    text = t._("For which unit? Tap it or type its number.")
    return Screen(text, choice.keyboard(PREFIX, UNIT, item.id, node), choice)


def _pauses_choice(context: BotContext, pauses: list[reminders.Pause]) -> Choice:
    t = context.t
    options = [Option("add", t._("➕ Add a pause"))]
    options += [Option(f"x{p.id}", t._("🗑 Remove {dates}", dates=_range_text(
        context, p.first_day, p.last_day))) for p in pauses[:20]]
    options.append(Option("back", t._("⬅ Back")))
    return Choice(options, page_size=len(options))


async def _pauses_screen(context: BotContext, item: Schedule, note: str | None = None) -> Screen:
    t = context.t
    pauses = await reminders.pauses(context.db, from_day=local_today(context).isoformat(),
                                    schedule_id=item.id)
    lines = [note, ""] if note else []
    lines += [t._("<b>Pause dates of “{title}”</b>", title=_title(context, item)),
              t._("On these dates nothing is sent (e.g. Tết).")]
    lines += [f"• {_range_text(context, p.first_day, p.last_day)}" for p in pauses] or [
        t._("No pauses planned.")]
    choice = _pauses_choice(context, pauses)
    remember(context, PREFIX, view=PAUSES, schedule=item.id)
    return Screen("\n".join(lines), choice.keyboard(PREFIX, PAUSES, item.id, 0), choice)


async def _screen(context: BotContext, *, view: str, item: Schedule | None, node: int = 0,
                  page: int = 0) -> Screen:
    """The screen `view` (of schedule `item`) as it is now."""
    if item is None or view == LIST:
        return await _list_screen(context)
    if view == DAY:
        return await _day_screen(context, item)
    if view == TEXTS:
        return await _texts_screen(context, item)
    if view == UNIT:
        return await _unit_screen(context, item, node, page)
    if view == PAUSES:
        return await _pauses_screen(context, item)
    return await _card_screen(context, item)


# --- entry and answers -----------------------------------------------------------------------


@requires(Role.UNIT_ADMIN)
async def show_reminders(update: Update, context: BotContext) -> str:
    """/reminders: the schedules."""
    await put(update, context, await _list_screen(context), None)
    return SCREEN


@requires(Role.UNIT_ADMIN)
async def pressed(update: Update, context: BotContext) -> str | int | None:
    """`rem:<view>:<schedule>:<node>:o:<key>` or `…:p:<page>`."""
    query, data, message = press_of(update)
    args = data.args if data else ()
    numbers = [answers.int_arg(a) for a in args[1:3]]
    if (len(args) != 5 or args[0] not in (LIST, CARD, DAY, TEXTS, UNIT, PAUSES)
            or None in numbers or args[3] not in ("o", "p")):
        await gone(update, context)
        return None
    view, node = args[0], int(args[2])
    item = await reminders.get(context.db, int(args[1])) if view != LIST else None
    if view != LIST and (item is None or item not in await _visible(context)):
        await gone(update, context)
        return None
    if args[3] == "p":
        if answers.int_arg(args[4]) is None:
            await gone(update, context)
            return None
        await query.answer()
        await put(update, context, await _screen(context, view=view, item=item, node=node,
                                                 page=int(args[4])),
                   message)
        return SCREEN
    return await _choose(update, context, view=view, item=item, node=node, key=args[4],
                         message=message)


async def typed(update: Update, context: BotContext) -> str | int | None:
    """A typed number answering the latest screen."""
    shown = _shown(context)
    view = shown.get("view", LIST)
    item = await reminders.get(context.db, shown.get("schedule") or 0)
    if view != LIST and (item is None or item not in await _visible(context)):
        view, item = LIST, None
    screen = await _screen(context, view=view, item=item, node=shown.get("node", 0),
                           page=shown.get("page", 0))
    text = (update.effective_message.text or "") if update.effective_message else ""
    option = screen.choice.resolve(text)
    if option is None:
        await say(update, context, context.t._("Please tap one of the buttons or type its "
                                               "number."))
        return None
    return await _choose(update, context, view=view, item=item, node=shown.get("node", 0),
                         key=option.key, message=None)


Chosen = Screen | str | int | None
"""A screen to show, or the step to go to, or None (the press is answered already)."""


def _who(update: Update, context: BotContext) -> tuple[int, str]:
    """Who changes a reminder, and when (for its history)."""
    assert update.effective_user is not None
    return update.effective_user.id, to_iso(context.clock.now())


async def _choose_list(update: Update, context: BotContext, key: str) -> Chosen:
    number = answers.int_arg(key)
    chosen = await reminders.get(context.db, number) if number is not None else None
    if chosen is None or chosen not in await _visible(context):
        await gone(update, context)
        return None
    return await _card_screen(context, chosen)


async def _choose_card(update: Update, context: BotContext, item: Schedule, key: str) -> Chosen:
    t = context.t
    if key not in {o.key for o in (await _card_choice(context, item)).options}:
        await gone(update, context)
        return None
    if key == "toggle":
        user_id, now = _who(update, context)
        await reminders.set_enabled(context.db, item.id, not item.enabled, by=user_id, at=now)
        fresh = await reminders.get(context.db, item.id)
        assert fresh is not None
        return await _card_screen(context, fresh, t._("Switched on: it is sent from its "
                                                      "next time on.") if fresh.enabled
                                  else t._("Switched off."))
    if key == "back":
        return await _list_screen(context)
    if key == "day":
        return await _day_screen(context, item)
    if key == "texts":
        return await _texts_screen(context, item)
    if key == "pauses":
        return await _pauses_screen(context, item)
    return await _ask(update, context, item, TIME, t._(  # time
        "Type the new time (24 hours, {zone} time), e.g. 06:30 or 19h30. /cancel keeps "
        "{time}.", zone=zone_name(context), time=item.local_time))


async def _choose_day(update: Update, context: BotContext, item: Schedule, key: str) -> Chosen:
    if not await may_manage(context, item):
        await refuse(update, context)
        return None
    if _day_choice(context).by_key(key) is None:
        await gone(update, context)
        return None
    user_id, now = _who(update, context)
    await reminders.set_when(context.db, item.id, weekday=int(key),
                             local_time=item.local_time, by=user_id, at=now)
    return await _changed(context, item.id)


async def _choose_texts(update: Update, context: BotContext, item: Schedule, key: str) -> Chosen:
    options = {o.key for o in (await _texts_choice(context, item)).options}
    if key not in options:
        await gone(update, context)
        return None
    if key == "back":
        return await _card_screen(context, item)
    if key == "all":
        return await _ask_text(update, context, item, None)
    if key == "unit":
        return await _unit_screen(context, item, 0, 0)
    unit_id = int(key[1:]) or None
    await reminders.clear_text(context.db, item.id, unit_id, by=_actor(update),
                               at=to_iso(context.clock.now()))
    return await _texts_screen(context, item, context.t._(
        "The text for {unit} is removed.", unit=await _unit_name(context, unit_id)))


async def _choose_unit(update: Update, context: BotContext, item: Schedule, key: str) -> Chosen:
    if key == "back":
        return await _texts_screen(context, item)
    unit_id = answers.int_arg(key[1:])
    if key[:1] not in ("s", "i") or unit_id is None:
        await gone(update, context)
        return None
    if key[0] == "i":
        if not await may_act_on_unit(context.db, context.principal,  # type: ignore[arg-type]
                                     Role.UNIT_ADMIN, unit_id):
            await refuse(update, context)
            return None
        return await _unit_screen(context, item, unit_id, 0)
    if not await may_set_text(context, item, unit_id):
        await refuse(update, context)
        return None
    return await _ask_text(update, context, item, unit_id)


async def _choose_pauses(update: Update, context: BotContext, item: Schedule,
                         key: str) -> Chosen:
    t = context.t
    if not await may_manage(context, item):
        await refuse(update, context)
        return None
    if key == "back":
        return await _card_screen(context, item)
    if key == "add":
        return await _ask(update, context, item, PAUSE, t._(
            "Type the date to pause, e.g. 17/2/2027, or a range, e.g. 14/2/2027 – "
            "22/2/2027. /cancel stops."))
    if key.startswith("x") and answers.int_arg(key[1:]) is not None:
        removed = await reminders.remove_pause(context.db, int(key[1:]), item.id,
                                               by=_actor(update), at=to_iso(context.clock.now()))
        return await _pauses_screen(context, item, t._("The pause is removed.") if removed
                                    else None)
    await gone(update, context)
    return None


_CHOOSERS = {CARD: _choose_card, DAY: _choose_day, TEXTS: _choose_texts, UNIT: _choose_unit,
             PAUSES: _choose_pauses}


async def _choose(update: Update, context: BotContext, *, view: str, item: Schedule | None,
                  node: int, key: str, message: Message | None) -> str | int | None:
    """Carry out one option of a screen (a press or a typed number)."""
    chooser = _CHOOSERS.get(view)
    if view == LIST:
        chosen = await _choose_list(update, context, key)
    elif item is None or chooser is None:
        await gone(update, context)
        return None
    else:
        chosen = await chooser(update, context, item, key)
    return await put_chosen(update, context, chosen, message, state=SCREEN)


async def _changed(context: BotContext, schedule_id: int) -> Screen:
    fresh = await reminders.get(context.db, schedule_id)
    assert fresh is not None
    return await _card_screen(context, fresh, context.t._(
        "Saved: {when}. It takes effect from the next time.", when=_when(context, fresh)))


def _actor(update: Update) -> int | None:
    """Who pressed (for /audit)."""
    return update.effective_user.id if update.effective_user else None


async def _ask(update: Update, context: BotContext, item: Schedule, state: str,
               question: str, **params: Any) -> str:
    if update.callback_query is not None:
        await update.callback_query.answer()
    remember(context, PREFIX, view=CARD, schedule=item.id, **params)
    await say(update, context, question, answers.cancel_keyboard(context, PREFIX))
    return state


async def _ask_text(update: Update, context: BotContext, item: Schedule,
                    unit_id: int | None) -> str:
    t = context.t
    return await _ask(update, context, item, TEXT, t._(
        "Send the text for {unit} in one message (up to {limit} characters; bold and italics "
        "are kept). It is sent as written, whatever the member's language. /cancel keeps the "
        "current one.", unit=await _unit_name(context, unit_id), limit=TEXT_MAX),
        unit=unit_id or 0)


async def _current(update: Update, context: BotContext) -> Schedule | None:
    """The schedule a typed time, text or pause is for, if she may still change it."""
    item = await reminders.get(context.db, _shown(context).get("schedule") or 0)
    if item is None or item not in await _visible(context):
        await say(update, context, context.t._("This schedule no longer exists."))
        return None
    return item


async def _managed(update: Update, context: BotContext) -> Schedule | None:
    """`_current`, if she may also change its time and pauses (she is told if not)."""
    item = await _current(update, context)
    if item is not None and not await may_manage(context, item):
        await refuse(update, context)
        return None
    return item


async def time_typed(update: Update, context: BotContext) -> str | int | None:
    """The new local time."""
    item = await _managed(update, context)
    if item is None:
        return END
    value = schedule.parse_time(update.effective_message.text or "")  # type: ignore[union-attr]
    if value is None:
        await say(update, context, context.t._("Please type a time of day like 06:30 or 19h30."))
        return None
    assert update.effective_user is not None
    await reminders.set_when(context.db, item.id, weekday=item.weekday, local_time=value,
                             by=update.effective_user.id, at=to_iso(context.clock.now()))
    await put(update, context, await _changed(context, item.id), None)
    return SCREEN


async def text_typed(update: Update, context: BotContext) -> str | int | None:
    """The text for the chosen scope (its formatting kept, as Telegram HTML)."""
    t = context.t
    item = await _current(update, context)
    message = update.effective_message
    if item is None or message is None:
        return END
    unit_id = _shown(context).get("unit") or None
    if not await may_set_text(context, item, unit_id):
        await refuse(update, context)
        return END
    plain = nfc(message.text or "").strip()
    if len(plain) > TEXT_MAX:
        await say(update, context, t._("That is {length} characters; a reminder can have at "
                                       "most {limit}. Please shorten it and send it again.",
                                       length=len(plain), limit=TEXT_MAX))
        return None
    assert update.effective_user is not None
    await reminders.set_text(context.db, item.id, unit_id, nfc(message.text_html or ""),
                             by=update.effective_user.id, at=to_iso(context.clock.now()))
    await put(update, context, await _texts_screen(context, item, t._(
        "Saved: the text for {unit}.", unit=await _unit_name(context, unit_id))), None)
    return SCREEN


async def pause_typed(update: Update, context: BotContext) -> str | int | None:
    """The dates of a new pause."""
    t = context.t
    item = await _managed(update, context)
    if item is None:
        return END
    try:
        first, last = parse_pause(update.effective_message.text or "",  # type: ignore[union-attr]
                                  local_today(context))
    except InvalidInput as exc:
        await say(update, context, t._(exc.reason, **exc.values))
        return None
    assert update.effective_user is not None
    await reminders.add_pause(context.db, item.id, first.isoformat(), last.isoformat(),
                              by=update.effective_user.id, at=to_iso(context.clock.now()))
    await put(update, context, await _pauses_screen(context, item, t._(
        "Paused: {dates}.", dates=_range_text(context, first.isoformat(), last.isoformat()))),
        None)
    return SCREEN


async def cancel(update: Update, context: BotContext) -> int | None:
    """/cancel: leave; nothing more is changed."""
    said = context.t._("Cancelled; nothing more was changed.")
    return await answers.cancel(update, context, PREFIX, said)


def conversation() -> list[BaseHandler[Any, Any, Any]]:
    """The /reminders flow (a new object per application); a photo or sticker where a time, a
    text or dates were asked is told to answer with text."""
    return screens_flow("reminders", prefix=PREFIX, command="reminders", opened=show_reminders,
                        pressed=pressed, screen=(SCREEN, typed),
                        asked={TIME: time_typed, TEXT: text_typed, PAUSE: pause_typed},
                        not_text=text_only(N_("Please answer with text, or /cancel.")),
                        cancel=cancel)


def handlers() -> list[BaseHandler[Any, Any, Any]]:
    """The handlers of this feature, new for each application."""
    return conversation()
