"""/chapter (chapter heads, and admins in their scope): the chapter's activity this week or
this month — totals per type, who reported what — and a report can be marked as doubtful with
a reason (the member is told in her language). Also the pages of the Sunday summary.

It stays over 500 lines because it is one flow (choose a unit → its week or month → a
report's card → the doubt reason) with the pages of the Sunday summary it links to.

Weeks run Monday to Sunday and months are calendar months, in BOT_TIMEZONE. A chapter counts
the reports made in its subtree (a report keeps the unit it was made in). Every press is
authorised again on the unit (`may_act_on_unit`); the reason is typed in a persisted
conversation state.
"""

from __future__ import annotations

import html
import logging
from datetime import date, datetime, timedelta
from typing import Any, TypedDict

from telegram import InlineKeyboardButton, Message, Update
from telegram.error import BadRequest
from telegram.ext import BaseHandler, CallbackQueryHandler

from bot import callbacks, orgtree
from bot import reminders as schedule
from bot.buttons import distinct
from bot.choices import Choice, Option
from bot.context import BotContext
from bot.i18n import N_, nfc, translator
from bot.permissions import Role, may_act_on_unit
from bot.validators import given_name
from handlers.kit import answers, outbox
from handlers.kit.days import (
    activity_label,
    day_button,
    day_text,
    local_today,
    quantity_text,
)
from handlers.kit.flow import END, kept, screens_flow, text_only
from handlers.kit.replies import STALE, edit, gone, press_of, refuse, requires, say
from handlers.kit.scope import tree_level
from handlers.kit.screens import Screen, put, put_chosen, remember
from storage import activities, members, units
from storage.activities import FLAG_REASON_MAX, Report
from storage.db import to_iso

log = logging.getLogger(__name__)

PREFIX = "ch"  # ch:n:<node>:<page>… (choose), ch:v:<unit>:<period>… (view), ch:c:<report>… (card)
SCREEN, REASON = "c_screen", "c_reason"
PAGE_SIZE = 10
WEEK, MONTH = "w", "m"
REASON_MIN = 3

FLAG_NOTICE = N_("⚠️ Your chapter head marked one of your reports as doubtful: {activity}, "
                 "{date}.\nReason: {reason}\nIf this is a mistake, please talk to her, or "
                 "correct the report in /myreports.")


def period_bounds(period: str, today: date) -> tuple[date, date]:
    """This week (Monday to Sunday) or this month (first to last day), around `today`."""
    if period == MONTH:
        first = today.replace(day=1)
        following = (first + timedelta(days=32)).replace(day=1)
        return first, following - timedelta(days=1)
    monday = today - timedelta(days=today.weekday())
    return monday, monday + timedelta(days=6)


class Shown(TypedDict, total=False):
    """The latest screen shown, and the reason asked (persisted in `user_data["ch"]`)."""

    view: str  # "n" choose a unit, "v" a unit's period, "c" a report's card
    node: int  # "n": the unit whose children are listed (0: her roots)
    page: int
    unit: int  # "v", "c": the unit viewed
    period: str  # WEEK or MONTH
    report: int  # "c": the report shown
    flag: int  # the report whose doubt reason is awaited


def _shown(context: BotContext) -> Shown:
    """The latest screen shown in this chat (an empty one, kept nowhere, when none was)."""
    return kept(context, PREFIX)


async def _allowed(context: BotContext, unit_id: int) -> bool:
    assert context.principal is not None
    return await may_act_on_unit(context.db, context.principal, Role.CHAPTER_HEAD, unit_id)


async def _roots(context: BotContext) -> list[units.Unit]:
    """Where her scope starts: her granted units (the top of the tree for a super-admin)."""
    assert context.principal is not None
    if context.principal.is_super_admin:
        return await orgtree.children(context.db, await orgtree.top_parent(context.db))
    found = [await orgtree.get(context.db, g.unit_id) for g in context.principal.grants]
    unique = {u.id: u for u in found if u is not None}
    return list(unique.values())


# --- screens ---------------------------------------------------------------------------------


async def _pick_screen(context: BotContext, node: int, page: int) -> Screen:
    """Choose a unit: her roots (node 0) or the children of `node`; 📊 views a whole unit."""
    t = context.t
    options = await tree_level(context, node, roots=_roots, pick="v",
                               here=lambda unit: t._("📊 All of {unit}", unit=unit.name))
    if node:
        options.append(Option("up", t._("⬆ Back")))
    choice = Choice(options, page=page, page_size=PAGE_SIZE).at_page(page)
    remember(context, PREFIX, view="n", node=node, page=choice.page)
    text = "\n".join([t._("<b>Chapter activity</b>"), t._("Which unit? Tap it or type its "
                                                           "number.")])
    return Screen(text, choice.keyboard(PREFIX, "n", node), choice)


async def _view_screen(context: BotContext, *, unit_id: int, period: str, page: int,
                       note: str | None = None) -> Screen:
    """A unit's activity in the period: counts, totals per type, who reported what."""
    t = context.t
    today = local_today(context)
    first, last = period_bounds(period, today)
    found = await activities.in_subtree(context.db, unit_id, first.isoformat(),
                                         last.isoformat())
    totals = await activities.totals(context.db, unit_id, first.isoformat(), last.isoformat())
    members_now = await activities.members_in_subtree(context.db, unit_id)
    path = html.escape(await orgtree.unit_path(context.db, unit_id))
    label = t._("This week") if period == WEEK else t._("This month")
    lines = [f"<b>{path}</b>"]
    if note:
        lines += [note]
    lines += [
        t._("📅 {period}: {first} – {last}", period=label, first=t.date(first),
            last=t.date(last)),
        t._("Members: {members} · reported something: {reported}",
            members=t.number(members_now),
            reported=t.number(len({line.report.member_id for line in found}))),
    ]
    if totals:
        lines += ["", t._("<b>Per activity</b>")]
        order = [e.code for e in context.catalog.entries["activities"]]
        for total in sorted(totals, key=lambda x: order.index(x.activity_code)
                            if x.activity_code in order else len(order)):
            text = t.n_("{activity}: {n} member, reported {reports}×",
                        "{activity}: {n} members, reported {reports}×", total.members,
                        activity=html.escape(activity_label(context, total.activity_code)),
                        reports=t.number(total.reports))
            if total.quantity:
                text += ", " + quantity_text(context, total.activity_code, total.quantity)
            lines.append(f"• {text}")
        flagged = sum(total.flagged for total in totals)
        if flagged:
            lines.append(t.n_("⚠️ {n} report marked as doubtful", "⚠️ {n} reports marked as "
                              "doubtful", flagged))
    labels = distinct([f"{given_name(line.full_name)} · {day_button(line.report.day)}"
                       for line in found])
    reports = Choice([Option(f"r{line.report.id}", label)
                      for line, label in zip(found, labels, strict=True)],
                     page=page, page_size=PAGE_SIZE).at_page(page)
    by_id = {f"r{line.report.id}": line for line in found}
    lines.append("")
    if not found:
        lines.append(t._("No reports in this period yet."))
    else:
        lines.append(t._("<b>Who reported what</b>"))
        if reports.pages > 1:
            lines.append(t._("Page {page} of {pages}.", page=reports.page + 1,
                             pages=reports.pages))
        for number, option in reports.visible():
            line = by_id[option.key]
            report = line.report
            parts = [day_text(t, report.day), html.escape(line.full_name),
                     html.escape(activity_label(context, report.activity_code))]
            if report.quantity is not None:
                parts.append(quantity_text(context, report.activity_code, report.quantity))
            marks = (" 📷" if report.photo_file_id else "") + (" ⚠️" if report.flagged_at
                                                              else "")
            lines.append(f"{number}. " + " · ".join(parts) + marks)
        lines += ["", t._("Tap a report (or type its number) to see it or mark it as "
                          "doubtful.")]
    actions = [Option(MONTH if period == WEEK else WEEK,
                      t._("📅 This month") if period == WEEK else t._("📅 This week"))]
    if await _has_pick(context):
        actions.append(Option("pick", t._("⬅ Another unit")))
    extra = [[InlineKeyboardButton(a.label, callback_data=callbacks.encode(PREFIX, "v", unit_id,
                                                                            period, "o", a.key))]
             for a in actions]
    keyboard = reports.keyboard(PREFIX, "v", unit_id, period, extra_rows=extra)
    remember(context, PREFIX, view="v", unit=unit_id, period=period, page=reports.page)
    return Screen("\n".join(lines), keyboard, Choice([*reports.options, *actions]))


async def _has_pick(context: BotContext) -> bool:
    """Whether she can choose among several units."""
    roots = await _roots(context)
    return len(roots) != 1 or await orgtree.has_children(context.db, roots[0].id)


def _card_choice(context: BotContext, report: Report) -> Choice:
    t = context.t
    options = [Option("unflag", t._("✅ Clear review mark")) if report.flagged_at
               else Option("flag", t._("⚠️ Needs review"))]
    if report.photo_file_id:
        options.append(Option("photo", t._("📷 See the photo")))
    options.append(Option("back", t._("⬅ Back to the list")))
    return Choice(options)


async def _card_screen(context: BotContext, report: Report, note: str | None = None) -> Screen:
    t = context.t
    tz = context.settings.timezone
    member = await members.get(context.db, report.member_id)
    name = html.escape(member.full_name if member else "?")
    lines = [note, ""] if note else []
    lines += [f"<b>{name}</b>",
              t._("Activity: {activity}",
                  activity=html.escape(activity_label(context, report.activity_code))),
              t._("Date: {date}", date=day_text(t, report.day))]
    if report.quantity is not None:
        lines.append(t._("Quantity: {quantity}", quantity=quantity_text(
            context, report.activity_code, report.quantity)))
    written = f"<i>{html.escape(report.note)}</i>" if report.note else "—"
    lines += [t._("Note: {note}", note=written),
              t._("Photo: 📷 attached") if report.photo_file_id else t._("Photo: none"),
              t._("Reported on {when}.", when=t.datetime(
                  datetime.fromisoformat(report.created_at).astimezone(tz)))]
    if report.source == activities.BUTTON:
        lines.append(t._("(with the reminder's one-tap button)"))
    if report.flagged_at:
        reason = f"<i>{html.escape(report.flag_reason or '')}</i>"
        lines += ["", t._("⚠️ Marked as doubtful: {reason}", reason=reason)]
    choice = _card_choice(context, report)
    shown = _shown(context)
    remember(context, PREFIX, view="c", report=report.id, unit=shown.get("unit", report.unit_id),
              period=shown.get("period", WEEK), page=shown.get("page", 0))
    return Screen("\n".join(lines), choice.keyboard(PREFIX, "c", report.id), choice)


# --- entry -----------------------------------------------------------------------------------


@requires(Role.CHAPTER_HEAD)
async def show_chapter(update: Update, context: BotContext) -> str | int:
    """/chapter [UNIT_CODE]: her chapter's week, or the unit to choose first."""
    t = context.t
    if context.args:
        code = context.args[0][:40]
        unit = await units.by_code(context.db, code)
        if unit is None:
            await say(update, context, t._("There is no unit with the code {code}.",
                                           code=html.escape(code)))
            return END
        if not await _allowed(context, unit.id):
            await refuse(update, context)
            return END
        await put(update, context, await _view_screen(context, unit_id=unit.id, period=WEEK,
                                                      page=0), None)
        return SCREEN
    roots = await _roots(context)
    if not roots:
        await say(update, context, t._("No unit is in your care yet."))
        return END
    if len(roots) == 1 and not await orgtree.has_children(context.db, roots[0].id):
        await put(update, context, await _view_screen(context, unit_id=roots[0].id, period=WEEK,
                                                      page=0), None)
    elif len(roots) == 1:
        await put(update, context, await _pick_screen(context, roots[0].id, 0), None)
    else:
        await put(update, context, await _pick_screen(context, 0, 0), None)
    return SCREEN


@requires(Role.CHAPTER_HEAD)
async def pressed(update: Update, context: BotContext) -> str | int | None:
    """A button of the chooser, the view or a report's card."""
    query, data, message = press_of(update)
    args = data.args if data else ()
    number = answers.int_arg(args[1]) if len(args) > 1 else None
    last = answers.int_arg(args[-1]) if args else None
    if len(args) == 4 and args[0] == "n" and number is not None:
        if number and not await _allowed(context, number):
            await refuse(update, context)
            return None
        if args[2] == "p" and last is not None:
            await query.answer()
            await put(update, context, await _pick_screen(context, number, last), message)
            return SCREEN
        if args[2] == "o":
            return await _choose(update, context, view="n", params=Shown(node=number), key=args[3],
                                 message=message)
    if len(args) == 5 and args[0] == "v" and number is not None and args[2] in (WEEK, MONTH):
        if not await _allowed(context, number):
            await refuse(update, context)
            return None
        if args[3] == "p" and last is not None:
            await query.answer()
            await put(update, context, await _view_screen(context, unit_id=number, period=args[2],
                                                          page=last),
                       message)
            return SCREEN
        if args[3] == "o":
            return await _choose(update, context, view="v",
                                 params=Shown(unit=number, period=args[2]), key=args[4],
                                 message=message)
    if len(args) == 4 and args[0] == "c" and number is not None and args[2] == "o":
        return await _choose(update, context, view="c", params=Shown(report=number), key=args[3],
                             message=message)
    await query.answer(context.t._(STALE), show_alert=True)
    return None


async def typed(update: Update, context: BotContext) -> str | int | None:
    """A typed number answering the latest screen."""
    shown = _shown(context)
    view = shown.get("view")
    text = (update.effective_message.text or "") if update.effective_message else ""
    option = None
    if view == "n":
        option = (await _pick_screen(context, shown.get("node", 0),
                                     shown.get("page", 0))).choice.resolve(text)
    elif view == "v" and await _allowed(context, shown.get("unit", 0)):
        option = (await _view_screen(context, unit_id=shown["unit"],
                                     period=shown.get("period", WEEK),
                                     page=shown.get("page", 0))).choice.resolve(text)
    elif view == "c":
        report = await activities.get(context.db, shown.get("report", 0))
        option = _card_choice(context, report).resolve(text) if report else None
    if option is None:
        await say(update, context, context.t._("Please tap one of the buttons or type its "
                                               "number."))
        return None
    return await _choose(update, context, view=view or "", params=shown, key=option.key,
                         message=None)


Chosen = Screen | str | int | None
"""A screen to show, or the step to go to (the press handled already), or None (answered)."""


async def _choose_node(update: Update, context: BotContext, params: Shown,
                       key: str) -> Chosen:
    """The unit chooser: up a level, into a unit, or a unit's reports."""
    if key == "up":
        unit = await orgtree.get(context.db, params.get("node") or 0)
        parent = unit.parent_id if unit else None
        roots = {u.id for u in await _roots(context)}
        node = 0 if unit is None or unit.id in roots or parent is None else parent
        return await _pick_screen(context, node, 0)
    elif key[:1] in ("i", "v") and answers.int_arg(key[1:]) is not None:
        unit_id = int(key[1:])
        if not await _allowed(context, unit_id):
            await refuse(update, context)
            return None
        return (await _pick_screen(context, unit_id, 0) if key[0] == "i"
                else await _view_screen(context, unit_id=unit_id, period=WEEK, page=0))
    else:
        await gone(update, context)
        return None


async def _choose_view(update: Update, context: BotContext, params: Shown,
                       key: str) -> Chosen:
    """A unit's reports: another period, another unit, or a report's card."""
    unit_id = params.get("unit", 0)
    if key in (WEEK, MONTH):
        return await _view_screen(context, unit_id=unit_id, period=key, page=0)
    elif key == "pick":
        return await _pick_screen(context, 0, 0)
    elif key.startswith("r") and answers.int_arg(key[1:]) is not None:
        report = await activities.get(context.db, int(key[1:]))
        if report is None or not await _allowed(context, report.unit_id):
            await gone(update, context)
            return None
        return await _card_screen(context, report)
    else:
        await gone(update, context)
        return None


async def _choose_card(update: Update, context: BotContext, params: Shown,
                       key: str) -> Chosen:
    """A report's card: back, its photo, remove the doubt mark, or mark it doubtful."""
    t = context.t
    query = update.callback_query
    report = await activities.get(context.db, params.get("report", 0))
    if report is None:
        await gone(update, context)
        return None
    if not await _allowed(context, report.unit_id):
        await refuse(update, context)
        return None
    if _card_choice(context, report).by_key(key) is None:
        await gone(update, context)
        return None
    shown = _shown(context)
    if key == "back":
        return await _view_screen(context, unit_id=shown.get("unit", report.unit_id),
                                  period=shown.get("period", WEEK), page=shown.get("page", 0))
    elif key == "photo":
        assert update.effective_chat is not None and report.photo_file_id is not None
        try:
            await context.bot.send_photo(update.effective_chat.id, report.photo_file_id)
        except BadRequest:
            await gone(update, context, t._("The photo can no longer be shown."))
            return None
        if query is not None:
            await query.answer()
        return SCREEN
    elif key == "unflag":
        await activities.unflag(context.db, report.id)
        fresh = await activities.get(context.db, report.id)
        assert fresh is not None
        return await _card_screen(context, fresh, t._("✅ The doubt mark is removed."))
    else:  # flag: ask for the reason
        if query is not None:
            await query.answer()
        remember(context, PREFIX, **{**shown, "view": "c", "report": report.id})
        _shown(context)["flag"] = report.id
        await say(update, context, t._(
            "Why is this report doubtful? Type the reason in one message (up to {limit} "
            "characters); it is shown to the member. /cancel keeps the report as it is.",
            limit=FLAG_REASON_MAX), answers.cancel_keyboard(context, PREFIX))
        return REASON


_CHOOSERS = {"n": _choose_node, "v": _choose_view, "c": _choose_card}


async def _choose(update: Update, context: BotContext, *, view: str, params: Shown,
                  key: str, message: Message | None) -> str | int | None:
    """Carry out one option of a screen (a press or a typed number)."""
    chooser = _CHOOSERS.get(view)
    if chooser is None:
        await gone(update, context)
        return None
    chosen = await chooser(update, context, params, key)
    return await put_chosen(update, context, chosen, message, state=SCREEN)


async def reason_typed(update: Update, context: BotContext) -> str | int | None:
    """The reason for marking a report as doubtful; the member is told."""
    t = context.t
    shown = _shown(context)
    text = nfc((update.effective_message.text or "") if update.effective_message else "").strip()
    if not REASON_MIN <= len(text) <= FLAG_REASON_MAX:
        await say(update, context, t._("Please type a reason of {low} to {high} characters, or "
                                       "/cancel.", low=REASON_MIN, high=FLAG_REASON_MAX))
        return None
    report = await activities.get(context.db, shown.get("flag") or 0)
    if report is None:
        await say(update, context, t._("This report no longer exists."))
        return END
    if not await _allowed(context, report.unit_id):
        await refuse(update, context)
        return END
    assert update.effective_user is not None
    await activities.flag(context.db, report.id, by=update.effective_user.id, reason=text,
                          at=to_iso(context.clock.now()))
    told = await _tell_member(context, report, text)
    fresh = await activities.get(context.db, report.id)
    assert fresh is not None
    note = (t._("⚠️ Marked as doubtful; she will be told in a moment.") if told
            else t._("⚠️ Marked as doubtful. She could not be told (she has stopped or blocked "
                     "the bot)."))
    await put(update, context, await _card_screen(context, fresh, note), None)
    return SCREEN


async def _tell_member(context: BotContext, report: Report, reason: str) -> bool:
    """Send her the doubt mark and its reason in her language (through the outbox); False if
    she has left or erased her data."""
    member = await members.get(context.db, report.member_id)
    if member is None or member.status not in ("active", "stopped"):
        return False
    t = translator(member.locale)
    entry = context.catalog.find("activities", report.activity_code)
    label = entry.label(t.locale) if entry else report.activity_code
    written = f"<i>{html.escape(reason)}</i>"
    text = t._(FLAG_NOTICE, activity=html.escape(label), date=day_text(t, report.day),
               reason=written)
    await outbox.tell(context, [(member.id, text)], kind="doubt_mark",
                      unit_id=member.unit_id or 0)
    return True


async def cancel(update: Update, context: BotContext) -> int | None:
    """/cancel: leave without marking anything."""
    said = context.t._("Cancelled; nothing was changed.")
    return await answers.cancel(update, context, PREFIX, said)


# --- the pages of the Sunday summary ---------------------------------------------------------


@requires(Role.CHAPTER_HEAD)
async def summary_pressed(update: Update, context: BotContext) -> None:
    """`ens:<unit>:<yyyymmdd>:<page>`: another page (or chapter) of the heads' summary."""
    query = update.callback_query
    assert query is not None and context.principal is not None
    data = callbacks.decode(query.data)
    day = schedule.parse_day(data.arg(1)) if data else None
    unit_id = answers.int_arg(data.arg(0)) if data else None
    page = answers.int_arg(data.arg(2)) if data else None
    if data is None or day is None or unit_id is None or page is None:
        await query.answer(context.t._(STALE), show_alert=True)
        return
    if not await _allowed(context, unit_id):
        await refuse(update, context)
        return
    summary = await schedule.chapter_summary(context.db, unit_id, day)
    if summary is None:
        await query.answer(context.t._(STALE), show_alert=True)
        return
    await query.answer()
    others = []
    for grant in context.principal.grants:
        unit = await orgtree.get(context.db, grant.unit_id)
        if unit is not None and unit.id != unit_id and grant.role == Role.CHAPTER_HEAD:
            others.append((unit.id, unit.name))
    text, keyboard = schedule.summary_view(context.t, context.catalog, summary,
                                           page, others)
    if isinstance(query.message, Message):
        await edit(query.message, text, keyboard)


def conversation() -> list[BaseHandler[Any, Any, Any]]:
    """The /chapter flow (a new object per application)."""
    return screens_flow("chapter", prefix=PREFIX, command="chapter", opened=show_chapter,
                        pressed=pressed, screen=(SCREEN, typed), asked={REASON: reason_typed},
                        not_text=text_only(N_("Please type the reason as text, or /cancel.")),
                        cancel=cancel)


def handlers() -> list[BaseHandler[Any, Any, Any]]:
    """The handlers of this feature, new for each application."""
    return [
        *conversation(),
        CallbackQueryHandler(summary_pressed, pattern=callbacks.pattern(schedule.SUMMARY_PREFIX)),
    ]
