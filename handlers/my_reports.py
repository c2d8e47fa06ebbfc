"""/myreports: a member's activity reports, newest first, to see, edit or delete.

Within `EDIT_DAYS` days of reporting she can edit one ("✏️ Edit" opens the report flow of
`handlers/activities.py` at its summary, prefilled, through `kit.offers`) or delete it (asked
first). A head's doubt mark is shown with its reason. Every press names a report and is checked
against her again, so a forged press for another member's report is refused.
"""

from __future__ import annotations

import html
from datetime import datetime
from typing import Any, TypedDict

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Message, Update
from telegram.ext import BaseHandler, CallbackQueryHandler, CommandHandler, MessageHandler, filters

from bot import callbacks
from bot.buttons import distinct
from bot.choices import Choice, Option
from bot.context import BotContext
from handlers.kit import answers, offers
from handlers.kit.days import (
    EDIT_DAYS,
    activity_button,
    activity_label,
    day_button,
    day_text,
    editable_until,
    is_editable,
    quantity_text,
    summary_lines,
)
from handlers.kit.flow import END, Flow, not_an_answer
from handlers.kit.replies import (
    answer_stale,
    member_press,
    member_with_chapter,
    retire_buttons,
    say,
    show,
    typed_text,
)
from handlers.kit.screens import remember
from storage import activities
from storage.activities import Report
from storage.members import Member

LIST_PREFIX = "myr"  # /myreports: myr:p:<page>, myr:o:<id>, myr:c:<id>:o:<key>, myr:d:<id>:o:…
MY_LIST, MY_CARD, MY_DELETE = "a_list", "a_card", "a_delete"
LIST_PAGE = 5


class Shown(TypedDict, total=False):
    """The screen she saw last (persisted in `user_data["myr"]`): what a typed number answers."""

    view: str  # "list", "card" or "delete"
    page: int  # of the list
    id: int  # the report of the card or of the delete question


def _shown(context: BotContext) -> Shown:
    shown: Shown | None = (context.user_data or {}).get(LIST_PREFIX)
    return shown or Shown()


def _list_line(context: BotContext, number: int, report: Report) -> str:
    t = context.t
    parts = [day_text(t, report.day), html.escape(activity_label(context, report.activity_code))]
    if report.quantity is not None:
        parts.append(quantity_text(context, report.activity_code, report.quantity))
    marks = (" 📷" if report.photo_file_id else "") + (" ⚠️" if report.flagged_at else "")
    return f"{number}. " + " · ".join(parts) + marks


async def _list_view(context: BotContext, member: Member,
                     page: int) -> tuple[str, InlineKeyboardMarkup | None, Choice]:
    t = context.t
    total = await activities.count_of_member(context.db, member.id)
    pages = max(1, -(-total // LIST_PAGE))
    page = min(max(page, 0), pages - 1)
    found = await activities.of_member(context.db, member.id, limit=LIST_PAGE,
                                       offset=page * LIST_PAGE)
    if not found:
        answers.release(context, LIST_PREFIX)
        return t._("You have not reported any activity yet. Report one with /report."), None, \
            Choice([])
    remember(context, LIST_PREFIX, view="list", page=page)
    lines = [t._("<b>Your activity reports</b> (newest first)")]
    if pages > 1:
        lines.append(t._("Page {page} of {pages}.", page=page + 1, pages=pages))
    lines += [_list_line(context, i + 1, r) for i, r in enumerate(found)]
    lines += ["", t._("Tap a report (or type its number) to see, edit or delete it.")]
    labels = distinct([f"{day_button(r.day)} · {activity_button(context, r.activity_code)}"
                       for r in found])
    choice = Choice([Option(str(r.id), label) for r, label in zip(found, labels, strict=True)],
                    page_size=LIST_PAGE)
    rows = [list(row) for row in choice.keyboard(LIST_PREFIX).inline_keyboard]
    nav = []
    if page > 0:
        nav.append(InlineKeyboardButton("◀", callback_data=callbacks.encode(
            LIST_PREFIX, "p", page - 1)))
    if pages > 1:
        nav.append(InlineKeyboardButton(f"{page + 1}/{pages}", callback_data=callbacks.encode(
            LIST_PREFIX, "p", page)))
    if page < pages - 1:
        nav.append(InlineKeyboardButton("▶", callback_data=callbacks.encode(
            LIST_PREFIX, "p", page + 1)))
    if nav:
        rows.append(nav)
    return "\n".join(lines), InlineKeyboardMarkup(rows), choice


def _card_choice(context: BotContext, report: Report) -> Choice:
    t = context.t
    options = []
    if is_editable(context, report):
        options += [Option("edit", t._("✏️ Edit")), Option("delete", t._("🗑 Delete"))]
    options.append(Option("back", t._("⬅ Back to the list")))
    return Choice(options)


def _card_view(context: BotContext, report: Report,
               note: str | None = None) -> tuple[str, InlineKeyboardMarkup, Choice]:
    t = context.t
    tz = context.settings.timezone
    lines = [note, ""] if note else []
    lines += [t._("<b>Your report</b>"),
              *summary_lines(context, code=report.activity_code, day=report.day,
                             quantity=report.quantity,
                             note=report.note, photo=report.photo_file_id),
              t._("Reported on {when}.", when=t.datetime(
                  datetime.fromisoformat(report.created_at).astimezone(tz)))]
    if report.flagged_at:
        reason = f"<i>{html.escape(report.flag_reason or '')}</i>"
        lines += ["", t._("⚠️ Your chapter head marked this report as doubtful: {reason}",
                          reason=reason)]
    if is_editable(context, report):
        lines.append(t._("You can edit or delete it until {when}.", when=t.datetime(
            editable_until(report).astimezone(tz))))
    else:
        lines.append(t._("It can no longer be changed (reports can be changed for {days} "
                         "days).", days=EDIT_DAYS))
    choice = _card_choice(context, report)
    remember(context, LIST_PREFIX, view="card", id=report.id)
    return "\n".join(lines), choice.keyboard(LIST_PREFIX, "c", report.id), choice


def _delete_choice(context: BotContext) -> Choice:
    return Choice([Option("yes", context.t._("🗑 Yes, delete it")),
                   Option("no", context.t._("✖ No, keep it"))])


async def my_reports(update: Update, context: BotContext) -> str | int:
    """/myreports: the first page of her reports."""
    member = await member_with_chapter(update, context)
    if member is None:
        return END
    text, keyboard, _choice = await _list_view(context, member, 0)
    await say(update, context, text, keyboard)
    return MY_LIST if keyboard is not None else END  # no list: her typed "1" is not for it


async def list_pressed(update: Update, context: BotContext) -> str | int | None:
    """A page, a report, a card action or the delete confirmation (`myr:…`)."""
    press = await member_press(update, context)
    if press is None:
        return END
    query, member, data = press
    message = query.message if isinstance(query.message, Message) else None
    kind = data.arg(0) if data else None
    number = answers.int_arg(data.arg(1)) if data else None
    if data is not None and kind == "p" and number is not None:
        await query.answer()
        text, keyboard, _choice = await _list_view(context, member, number)
        await show(update, context, text, keyboard, message)
        return MY_LIST
    if data is not None and kind == "o" and number is not None:
        return await _act(update, context, member=member, action="open", report_id=number,
                          message=message)
    if data is not None and kind in ("c", "d") and number is not None and data.arg(2) == "o":
        key = data.arg(3) or ""
        action = {"c": {"edit": "edit", "delete": "delete", "back": "back"},
                  "d": {"yes": "confirm_delete", "no": "keep"}}[kind].get(key)
        if action is not None:
            return await _act(update, context, member=member, action=action, report_id=number,
                              message=message)
    await answer_stale(update, context)
    return None


async def list_typed(update: Update, context: BotContext) -> str | int | None:
    """A typed number answering the latest list, card or delete question."""
    member = await member_with_chapter(update, context)
    if member is None:
        return END
    shown = _shown(context)
    view = shown.get("view")
    text = typed_text(update)
    if view == "list":
        _text, _keys, choice = await _list_view(context, member, shown.get("page", 0))
        option = choice.resolve(text)
        if option is not None:
            return await _act(update, context, member=member, action="open",
                              report_id=int(option.key), message=None)
    elif view in ("card", "delete"):
        report = await activities.get(context.db, shown.get("id") or 0)
        if report is not None and report.member_id == member.id:
            choice = (_card_choice(context, report) if view == "card"
                      else _delete_choice(context))
            option = choice.resolve(text)
            actions = {"edit": "edit", "delete": "delete", "back": "back",
                       "yes": "confirm_delete", "no": "keep"}
            if option is not None:
                return await _act(update, context, member=member, action=actions[option.key],
                                  report_id=report.id, message=None)
    await say(update, context, context.t._("Please tap one of the buttons or type its number."))
    return None


async def _act(update: Update, context: BotContext, *, member: Member, action: str,
               report_id: int, message: Message | None) -> str | int | None:
    """Open a report, go back, start editing, ask to delete, delete."""
    t = context.t
    query = update.callback_query
    report = await activities.get(context.db, report_id)
    if report is None or report.member_id != member.id:
        if query is not None:
            await query.answer(t._("This report no longer exists."), show_alert=True)
        text, keyboard, _choice = await _list_view(context, member, 0)
        await show(update, context, text, keyboard, message)
        return MY_LIST
    if action in ("edit", "delete", "confirm_delete") and not is_editable(context, report):
        if query is not None:
            await query.answer(t._("This report can no longer be changed (reports can be "
                                   "changed for {days} days).", days=EDIT_DAYS),
                               show_alert=True)
        text, keyboard, _choice = _card_view(context, report)
        await show(update, context, text, keyboard, message)
        return MY_CARD
    if query is not None:
        await query.answer()
    if action == "back":
        page = _shown(context).get("page", 0)
        text, keyboard, _choice = await _list_view(context, member, page)
        await show(update, context, text, keyboard, message)
        return MY_LIST
    if action == "edit":
        edit = offers.report_edit()
        if query is not None:
            await retire_buttons(query)
        if edit is None:
            return END
        await edit(update, context, report)
        return END
    if action == "delete":
        remember(context, LIST_PREFIX, view="delete", id=report.id)
        text = "\n".join([t._("Delete this report?"),
                          *summary_lines(context, code=report.activity_code, day=report.day,
                                         quantity=report.quantity, note=report.note,
                                         photo=report.photo_file_id)])
        await show(update, context, text,
                   _delete_choice(context).keyboard(LIST_PREFIX, "d", report.id), message)
        return MY_DELETE
    if action == "confirm_delete":
        await activities.delete(context.db, report.id, member.id)
        text, keyboard, _choice = await _list_view(context, member, 0)
        await show(update, context, t._("🗑 The report is deleted.") + "\n\n" + text, keyboard,
                   message)
        return MY_LIST if keyboard is not None else END
    text, keyboard, _choice = _card_view(context, report)  # open, keep
    await show(update, context, text, keyboard, message)
    return MY_CARD


async def cancel(update: Update, context: BotContext) -> int:
    """/cancel at /myreports: nothing was being changed."""
    answers.release(context, LIST_PREFIX)
    await say(update, context, context.t._("Cancelled."))
    return END


def handlers() -> list[BaseHandler[Any, Any, Any]]:
    """The handlers of /myreports, new for each application."""
    answer = answers.ANSWER
    return Flow(
        "my_reports",
        prefixes=(LIST_PREFIX,),
        entry_points=[
            CommandHandler("myreports", my_reports, filters.ChatType.PRIVATE),
            CallbackQueryHandler(list_pressed, pattern=callbacks.pattern(LIST_PREFIX)),
        ],
        states={step: [MessageHandler(answer, list_typed)]
                for step in (MY_LIST, MY_CARD, MY_DELETE)},
        fallbacks=[
            CommandHandler("cancel", cancel),
            MessageHandler(~filters.COMMAND & ~filters.TEXT, not_an_answer),
        ],
    ).handlers()
