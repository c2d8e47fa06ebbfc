"""/report: members report what they did (and add a photo under a recorded reminder).

Over 500 lines because it is one flow: seven steps with their corrections, stale checks and
typed numbers, which read best together (its date and quantity parsing is `kit.report_input`).

/report (or "📋 Report an activity"): the activity type from the catalog → the date (today,
yesterday, or typed as dd/mm or dd/mm/yyyy; not in the future, not before 1 January of last
year) → a quantity when the type has a unit ("2,5" and "2.5"; positive, at most
`QUANTITY_MAX`; both read by `kit.report_input`) → an optional note (up to 500 characters) →
an optional photo (only its Telegram file_id is stored) → a summary to confirm or correct. One
report per type and day.

/myreports (`handlers/my_reports.py`) opens this flow at its summary to edit a report
(`edit_report`, offered through `kit.offers`). The environment-day reminder's one-tap "✅ I took
part" is `handlers/one_tap.py`; its "📷 Add a photo" (`actph:<report id>`) comes here.

Every choice is a `Choice` (a typed number works too). The flow is a persisted conversation
with its draft in `user_data["act"]` and a nonce in every button, so stale presses are told.
"""

from __future__ import annotations

import functools
import html
import secrets
from collections.abc import Callable, Coroutine
from datetime import date, timedelta
from typing import Any, Literal, TypedDict, Unpack

from telegram import InlineKeyboardMarkup, Update
from telegram.ext import (
    BaseHandler,
    CallbackQueryHandler,
    CommandHandler,
    MessageHandler,
    filters,
)

from bot import callbacks
from bot.choices import Choice, Option
from bot.context import BotContext
from bot.i18n import nfc
from bot.reminders import ENVIRONMENT_ACTIVITY, WEEKDAYS
from bot.validators import InvalidInput
from handlers.kit import answers, menu, offers
from handlers.kit.days import (
    EDIT_DAYS,
    PHOTO_PREFIX,
    activity_label,
    day_text,
    is_editable,
    local_today,
    summary_lines,
    unit_of,
)
from handlers.kit.flow import (
    END,
    Flow,
    Step,
    on_step,
    option_pressed,
    option_typed,
    text_or_option,
)
from handlers.kit.replies import (
    answer_stale,
    draft_press,
    member_press,
    member_with_chapter,
    retire_buttons,
    say,
    typed_text,
)
from handlers.kit.report_input import check_report_date, parse_date, parse_quantity
from storage import activities, reminders
from storage.activities import NOTE_MAX, DuplicateReport, NewReport, Report
from storage.db import to_iso

PREFIX = "act"  # buttons of the report flow: act:<nonce>:<step>:o:<key>
TYPE, DATE, QUANTITY, NOTE, PHOTO, CONFIRM, ADD_PHOTO = (
    "a_type", "a_date", "a_quantity", "a_note", "a_photo", "a_confirm", "a_add_photo",
)
SAME_DAY = "a_same_day"  # she already reported this type on the date she gave
OFF_DAY = "a_off_day"  # an environment day on a date that is not the schedule's weekday
SUNDAY = 6  # the environment day's weekday when no schedule says otherwise

Asked = Callable[[Update, BotContext], Coroutine[Any, Any, str]]
Chosen = Callable[[Update, BotContext, str], Coroutine[Any, Any, str]]


class Draft(TypedDict, total=False):
    """The report being entered (persisted in `user_data["act"]`, so a restart keeps it)."""

    nonce: str  # carried by the buttons of this draft: older buttons are stale
    mode: str  # "photo": only a photo is added to `report_id`
    report_id: int  # the report edited (or given a photo); absent for a new one
    code: str  # the activity type (a code of the catalog)
    day: str  # the local date (ISO)
    quantity: float | None
    note: str | None
    photo: str | None  # Telegram file_id
    review: bool  # back to the summary after a correction
    same_day: int  # the report of this type already on that day, asked about
    same_day_editable: bool
    off_day: str  # a date (ISO) off the environment day's weekday, asked about


def _draft(context: BotContext) -> Draft:
    assert context.user_data is not None
    draft: Draft = context.user_data.setdefault("act", {})
    return draft


def _new_draft(context: BotContext, **values: Unpack[Draft]) -> Draft:
    assert context.user_data is not None
    draft = Draft(nonce=secrets.token_hex(3))
    draft.update(values)
    context.user_data["act"] = draft
    return draft


def _drop_draft(context: BotContext) -> None:
    if context.user_data is not None:
        context.user_data.pop("act", None)
    answers.release(context, PREFIX)


def _press(update: Update, context: BotContext) -> callbacks.CallbackData | None:
    """The press, if it belongs to the current draft."""
    return draft_press(update, context, "act")


_stale = answer_stale


# --- choices ---------------------------------------------------------------------------------


def _type_choice(context: BotContext) -> Choice:
    return Choice([Option(a.code, a.button(context.t.locale)) for a in context.catalog.activities],
                  page_size=len(context.catalog.activities))


def _date_choice(context: BotContext) -> Choice:
    t = context.t
    today = local_today(context)
    return Choice([Option("today", t._("Today ({date})", date=day_text(t, today))),
                   Option("yesterday", t._("Yesterday ({date})",
                                           date=day_text(t, today - timedelta(days=1))))])


def _note_choice(context: BotContext) -> Choice:
    draft = _draft(context)
    if draft.get("review") and draft.get("note"):
        return Choice([Option("keep", context.t._("Keep the current note")),
                       Option("remove", context.t._("🗑 Remove the note"))])
    return Choice([Option("skip", context.t._("Skip: no note"))])


def _photo_choice(context: BotContext) -> Choice:
    if _draft(context).get("photo"):
        return Choice([Option("keep", context.t._("Keep the current photo")),
                       Option("remove", context.t._("🗑 Remove the photo"))])
    return Choice([Option("skip", context.t._("Skip: no photo"))])


def _confirm_choice(context: BotContext) -> Choice:
    t = context.t
    draft = _draft(context)
    options = [Option("save", t._("✅ Save")),
               Option("type", t._("✏️ Change the activity")),
               Option("date", t._("✏️ Change the date"))]
    if unit_of(context, draft.get("code")):
        options.append(Option("quantity", t._("✏️ Change the quantity")))
    options += [Option("note", t._("✏️ Change the note")),
                Option("photo", t._("📷 Change the photo"))]  # ✖ Cancel: the kit's, under it
    return Choice(options, page_size=len(options))


def _same_day_choice(context: BotContext) -> Choice:
    """Change the report she already has (while it may be changed), or give another date."""
    t = context.t
    options = [Option("date", t._("📅 Another date"))]
    if _draft(context).get("same_day_editable"):
        options.insert(0, Option("edit", t._("✏️ Change that report")))
    return Choice(options)


def _off_day_choice(context: BotContext) -> Choice:
    """Record the environment day on that date anyway, or give another date."""
    t = context.t
    return Choice([Option("keep", t._("✅ Record anyway")),
                   Option("date", t._("📅 Another date"))])


def _keyboard(context: BotContext, choice: Choice, step: str) -> InlineKeyboardMarkup:
    return choice.keyboard(PREFIX, _draft(context)["nonce"], step)


# --- asking ----------------------------------------------------------------------------------


async def _ask(update: Update, context: BotContext, text: str,
               keyboard: InlineKeyboardMarkup | None, state: str) -> str:
    answers.ask(context, PREFIX)
    rows = [list(row) for row in keyboard.inline_keyboard] if keyboard is not None else []
    await say(update, context, text, answers.cancel_keyboard(context, PREFIX, rows=rows))
    return state


async def _ask_type(update: Update, context: BotContext) -> str:
    t = context.t
    return await _ask(update, context,
                      t._("Which activity do you want to report? Tap it or type its number."),
                      _keyboard(context, _type_choice(context), "t"), TYPE)


async def _ask_date(update: Update, context: BotContext) -> str:
    t = context.t
    return await _ask(update, context,
                      t._("When was it? Tap a button, or type the date as dd/mm or dd/mm/yyyy "
                          "(“hôm qua” works too)."),
                      _keyboard(context, _date_choice(context), "d"), DATE)


async def _ask_quantity(update: Update, context: BotContext) -> str:
    t = context.t
    unit = unit_of(context, _draft(context).get("code")) or ""
    return await _ask(update, context,
                      t._("How much, in {unit}? Type a number, e.g. 2,5.",
                          unit=html.escape(unit)), None, QUANTITY)


async def _ask_note(update: Update, context: BotContext) -> str:
    t = context.t
    lines = [t._("Would you like to add a note (up to {limit} characters)? Type it, or tap "
                 "the button.", limit=NOTE_MAX)]
    current = _draft(context).get("note")
    if current:
        shown = f"<i>{html.escape(current)}</i>"
        lines.append(t._("Now: {text}", text=shown))
    return await _ask(update, context, "\n".join(lines),
                      _keyboard(context, _note_choice(context), "n"), NOTE)


async def _ask_photo(update: Update, context: BotContext) -> str:
    t = context.t
    return await _ask(update, context,
                      t._("You can send one photo of it (optional), or tap the button."),
                      _keyboard(context, _photo_choice(context), "ph"), PHOTO)


async def _ask_confirm(update: Update, context: BotContext, note: str | None = None) -> str:
    t = context.t
    draft = _draft(context)
    draft["review"] = True
    lines = [note, ""] if note else []
    lines += [t._("<b>Please check your report:</b>"),
              *summary_lines(context, code=draft["code"], day=draft["day"],
                             quantity=draft.get("quantity"),
                             note=draft.get("note"), photo=draft.get("photo")),
              "", t._("Tap a button or type its number.")]
    return await _ask(update, context, "\n".join(lines),
                      _keyboard(context, _confirm_choice(context), "k"), CONFIRM)


async def _next(update: Update, context: BotContext) -> str:
    """Ask the first thing still missing (or, when correcting, show the summary again)."""
    draft = _draft(context)
    if "code" not in draft:
        return await _ask_type(update, context)
    if "day" not in draft:
        return await _ask_date(update, context)
    if unit_of(context, draft["code"]) and draft.get("quantity") is None:
        return await _ask_quantity(update, context)
    if draft.get("review"):
        return await _ask_confirm(update, context)
    if "note" not in draft:
        return await _ask_note(update, context)
    if "photo" not in draft:
        return await _ask_photo(update, context)
    return await _ask_confirm(update, context)


# --- entry points ----------------------------------------------------------------------------


async def start_report(update: Update, context: BotContext) -> str | int:
    """/report or the main-menu button: a new report."""
    member = await member_with_chapter(update, context)
    if member is None:
        return END
    _new_draft(context)
    return await _ask_type(update, context)


async def photo_pressed(update: Update, context: BotContext) -> str | int:
    """'📷 Add a photo' under a recorded reminder: wait for the photo."""
    press = await member_press(update, context)
    if press is None:
        return END
    query, member, data = press
    report_id = data.arg(0) if data else None
    number = answers.int_arg(report_id)
    report = await activities.get(context.db, number) if number is not None else None
    if report is None or report.member_id != member.id:
        await _stale(update, context)
        return END
    t = context.t
    if not is_editable(context, report):
        await query.answer(t._("This report can no longer be changed (reports can be changed "
                               "for {days} days).", days=EDIT_DAYS), show_alert=True)
        await retire_buttons(query)
        return END
    await query.answer()
    _new_draft(context, mode="photo", report_id=report.id)
    return await _ask(update, context,
                      t._("Send the photo now (one photo), or /cancel if you changed your mind."),
                      None, ADD_PHOTO)


# --- answers ---------------------------------------------------------------------------------




def _typed_or_asked(choice: Callable[[BotContext], Choice],
                    chosen: Callable[[Update, BotContext, str], Coroutine[Any, Any, Any]],
                    ask: Asked) -> Step:
    """The typed answer of a choice step: the option typed by number or name goes to `chosen`;
    anything else gets a hint and the question again."""

    async def typed(update: Update, context: BotContext) -> Any:
        option = choice(context).resolve(typed_text(update))
        if option is None:
            await say(update, context, context.t._("Please tap one of the buttons or type its "
                                                   "number."))
            return await ask(update, context)
        return await chosen(update, context, option.key)

    return typed


async def _type_chosen(update: Update, context: BotContext, code: str) -> str:
    draft = _draft(context)
    draft["code"] = code
    if not unit_of(context, code):
        draft["quantity"] = None
    return await _next(update, context)


type_pressed = option_pressed(PREFIX, _type_choice, _type_chosen)
"""An activity type button."""
type_typed = _typed_or_asked(_type_choice, _type_chosen, _ask_type)
"""An activity type by number or name."""


async def date_typed(update: Update, context: BotContext) -> str | None:
    """A typed date (or the number of a button)."""
    text = typed_text(update)
    option = _date_choice(context).resolve(text)
    if option is not None:
        return await _date_chosen(update, context, option.key)
    today = local_today(context)
    try:
        day = parse_date(text, today)
        check_report_date(day, today)
    except InvalidInput as exc:
        await say(update, context, context.t._(exc.reason, **exc.values))
        return await _ask_date(update, context)
    return await _day_given(update, context, day)


async def _date_chosen(update: Update, context: BotContext, key: str) -> str:
    today = local_today(context)
    return await _day_given(update, context,
                            today if key == "today" else today - timedelta(days=1))


async def _day_given(update: Update, context: BotContext, day: date) -> str:
    """Take the date, unless she already reported this activity that day: then ask first,
    before she types a quantity, a note and a photo for a report that cannot be saved."""
    draft = _draft(context)
    member = context.principal.member if context.principal else None
    same = None
    if member is not None and "code" in draft:
        same = await activities.on_day(context.db, member.id, draft["code"], day.isoformat())
    if same is None or same.id == draft.get("report_id"):
        if draft.get("code") == ENVIRONMENT_ACTIVITY:
            weekday = await _environment_weekday(context)
            if day.weekday() != weekday:
                return await _ask_off_day(update, context, day, weekday)
        draft["day"] = day.isoformat()
        return await _next(update, context)
    draft["same_day"] = same.id
    draft["same_day_editable"] = is_editable(context, same)
    t = context.t
    lines = [t._("You have already reported {activity} on {date}.",
                 activity=html.escape(activity_label(context, same.activity_code)),
                 date=day_text(t, same.day))]
    lines.append(t._("Would you like to change that report, or give another date?")
                 if draft["same_day_editable"] else
                 t._("That report can no longer be changed (reports can be changed for {days} "
                     "days). Would you like to give another date?", days=EDIT_DAYS))
    return await _ask(update, context, "\n".join(lines),
                      _keyboard(context, _same_day_choice(context), "s"), SAME_DAY)


async def same_day_typed(update: Update, context: BotContext) -> str | None:
    """The same, by number."""
    option = _same_day_choice(context).resolve(typed_text(update))
    if option is None:
        await say(update, context, context.t._("Please tap one of the buttons or type its "
                                               "number."))
        return SAME_DAY
    return await _same_day_chosen(update, context, option.key)


async def _same_day_chosen(update: Update, context: BotContext, key: str) -> str:
    draft = _draft(context)
    report = await activities.get(context.db, draft.pop("same_day", 0))
    draft.pop("same_day_editable", None)
    member = context.principal.member if context.principal else None
    if key == "date" or report is None or member is None or report.member_id != member.id \
            or not is_editable(context, report):
        return await _ask_date(update, context)
    _new_draft(context, report_id=report.id, code=report.activity_code, day=report.day,
               quantity=report.quantity, note=report.note, photo=report.photo_file_id,
               review=True)
    return await _ask_confirm(update, context)


same_day_pressed = option_pressed(PREFIX, _same_day_choice, _same_day_chosen)


async def _environment_weekday(context: BotContext) -> int:
    """The weekday of the environment-day reminder (the first switched on, as the reminders
    use it), so a report on another day is asked about rather than taken silently."""
    found = [s for s in await reminders.schedules(context.db) if s.kind == reminders.ENVIRONMENT]
    chosen = next((s for s in found if s.enabled), found[0] if found else None)
    return chosen.weekday if chosen else SUNDAY


async def _ask_off_day(update: Update, context: BotContext, day: date, weekday: int) -> str:
    t = context.t
    _draft(context)["off_day"] = day.isoformat()
    text = t._("{date} is a {weekday}, not the environment day ({environment_weekday}). "
               "Record it for this day anyway?", date=day_text(t, day),
               weekday=t._(WEEKDAYS[day.weekday()]), environment_weekday=t._(WEEKDAYS[weekday]))
    return await _ask(update, context, text, _keyboard(context, _off_day_choice(context), "w"),
                      OFF_DAY)


async def _off_day_chosen(update: Update, context: BotContext, key: str) -> str:
    draft = _draft(context)
    day = draft.pop("off_day", None)
    if key != "keep" or day is None:
        return await _ask_date(update, context)
    draft["day"] = day
    return await _next(update, context)


off_day_pressed = option_pressed(PREFIX, _off_day_choice, _off_day_chosen)
off_day_typed = option_typed(_off_day_choice, _off_day_chosen)


date_pressed = option_pressed(PREFIX, _date_choice, _date_chosen)
"""Today or yesterday."""


async def quantity_typed(update: Update, context: BotContext) -> str | None:
    """The quantity, e.g. 2,5 (kg)."""
    draft = _draft(context)
    try:
        value = parse_quantity(typed_text(update), unit_of(context, draft.get("code")))
    except InvalidInput as exc:
        values = {key: context.t.number(value) if isinstance(value, int) else value
                  for key, value in exc.values.items()}  # the limit as "1.000"
        await say(update, context, context.t._(exc.reason, **values))
        return await _ask_quantity(update, context)
    draft["quantity"] = value
    return await _next(update, context)




def _skip_or_keep(field: Literal["note", "photo"], then: Asked) -> Chosen:
    """The button (or number) under the optional `field`'s question: skip or remove it, or keep
    the current one; then `then`."""

    async def chosen(update: Update, context: BotContext, key: str) -> str:
        if key in ("skip", "remove"):
            _draft(context)[field] = None
        return await then(update, context)

    return chosen


def _photo_kept(update: Update, context: BotContext) -> tuple[Draft, str]:
    """Keep the photo sent (only its file_id): the draft and the photo's caption."""
    message = update.effective_message
    assert message is not None and message.photo
    draft = _draft(context)
    draft["photo"] = message.photo[-1].file_id
    return draft, nfc(message.caption or "").strip()


_note_chosen = _skip_or_keep("note", _next)


note_pressed = option_pressed(PREFIX, _note_choice, _note_chosen)
"""Skip the note (or keep / remove the current one)."""


async def note_typed(update: Update, context: BotContext) -> str | None:
    """The note itself, or the number of a button."""
    text = nfc(typed_text(update)).strip()
    option = _note_choice(context).resolve(text)
    if option is not None:
        return await _note_chosen(update, context, option.key)
    if len(text) > NOTE_MAX:
        await _note_too_long(update, context, len(text))
        return NOTE
    _draft(context)["note"] = text or None
    return await _next(update, context)


def _note_keyboard(context: BotContext) -> InlineKeyboardMarkup:
    rows = _keyboard(context, _note_choice(context), "n").inline_keyboard
    return answers.cancel_keyboard(context, PREFIX, rows=[list(row) for row in rows])


note_answered = text_or_option(choice=_note_choice, chosen=_note_chosen, taken=note_typed,
                               keyboard=_note_keyboard)
"""A bare number names a button or is asked back, never saved as the note by a slip."""


async def _note_too_long(update: Update, context: BotContext, length: int) -> None:
    await say(update, context, context.t._(
        "That is {length} characters; a note can have at most {limit}. Please shorten it "
        "and send it again.", length=length, limit=NOTE_MAX))


async def note_photo(update: Update, context: BotContext) -> str | None:
    """A photo where the note was asked: take it as the photo (its caption as the note)."""
    draft, caption = _photo_kept(update, context)
    t = context.t
    if len(caption) > NOTE_MAX:  # the photo is kept; the note is asked again
        await _note_too_long(update, context, len(caption))
        return await _ask_note(update, context)
    if caption:
        draft["note"] = caption
    elif "note" not in draft:
        draft["note"] = None
    return await _ask_confirm(update, context, t._("📷 Thank you, the photo is added."))




_photo_chosen = _skip_or_keep("photo", _ask_confirm)


photo_pressed_in_flow = option_pressed(PREFIX, _photo_choice, _photo_chosen)
"""Skip the photo (or keep / remove the current one)."""


async def photo_given(update: Update, context: BotContext) -> str | None:
    """The photo (only its file_id is kept)."""
    draft, caption = _photo_kept(update, context)
    if caption and not draft.get("note") and len(caption) <= NOTE_MAX:
        draft["note"] = caption  # a caption is her note
    return await _ask_confirm(update, context, context.t._("📷 Thank you, the photo is added."))


async def photo_text(update: Update, context: BotContext) -> str | None:
    """Text where a photo was asked: the number of a button, or a hint."""
    option = _photo_choice(context).resolve(typed_text(update))
    if option is not None:
        return await _photo_chosen(update, context, option.key)
    await say(update, context, context.t._("Please send a photo (not text), or tap the button "
                                           "below the question."))
    return await _ask_photo(update, context)


async def photo_as_file(update: Update, context: BotContext) -> None:
    """An image sent as a file."""
    await say(update, context, context.t._("Please send the picture as a photo, not as a "
                                           "file."))
    return None




async def _confirm_chosen(update: Update, context: BotContext, key: str) -> str | int | None:
    if key == "type":
        return await _ask_type(update, context)
    if key == "date":
        return await _ask_date(update, context)
    if key == "quantity":
        return await _ask_quantity(update, context)
    if key == "note":
        return await _ask_note(update, context)
    if key == "photo":
        return await _ask_photo(update, context)
    return await _save(update, context)


confirm_pressed = option_pressed(PREFIX, _confirm_choice, _confirm_chosen)
"""Save, correct something, or cancel at the summary."""
confirm_typed = _typed_or_asked(_confirm_choice, _confirm_chosen, _ask_confirm)
"""The summary answered by number."""


async def _save(update: Update, context: BotContext) -> str | int:
    t = context.t
    member = await member_with_chapter(update, context)
    if member is None:
        return CONFIRM
    assert member.unit_id is not None
    draft = _draft(context)
    now = to_iso(context.clock.now())
    today = local_today(context)
    try:
        check_report_date(date.fromisoformat(draft["day"]), today)
    except InvalidInput as exc:  # the draft waited past the window
        await say(update, context, t._(exc.reason, **exc.values))
        return await _ask_date(update, context)
    label = html.escape(activity_label(context, draft["code"]))
    try:
        if draft.get("report_id"):
            report = await activities.get(context.db, draft["report_id"])
            if report is None or report.member_id != member.id or not is_editable(context,
                                                                                   report):
                _drop_draft(context)
                await say(update, context, t._("This report can no longer be changed (reports "
                                               "can be changed for {days} days).",
                                               days=EDIT_DAYS))
                return END
            await activities.update(
                context.db, report.id, member.id, activity_code=draft["code"], day=draft["day"],
                quantity=draft.get("quantity"), note=draft.get("note"),
                photo_file_id=draft.get("photo"), at=now)
            text = t._("✅ Your report is updated.")
        else:
            await activities.add(context.db, NewReport(
                member_id=member.id, unit_id=member.unit_id, activity_code=draft["code"],
                day=draft["day"], quantity=draft.get("quantity"), note=draft.get("note"),
                photo_file_id=draft.get("photo")), at=now)
            text = t._("✅ Thank you! Your report is saved: {activity}, {date}.",
                       activity=label, date=day_text(t, draft["day"]))
    except DuplicateReport:
        return await _ask_confirm(update, context, t._(
            "You have already reported {activity} on {date}. Change the date or the activity "
            "here, or change that report in /myreports.", activity=label,
            date=day_text(t, draft["day"])))
    _drop_draft(context)
    await say(update, context, text + "\n" + t._("See all your reports with /myreports."))
    return END


async def photo_added(update: Update, context: BotContext) -> str | int | None:
    """The photo for a recorded report (after '📷 Add a photo')."""
    t = context.t
    member = await member_with_chapter(update, context)
    message = update.effective_message
    draft = _draft(context)
    if member is None or message is None or not message.photo:
        return ADD_PHOTO
    report = await activities.get(context.db, draft.get("report_id") or 0)
    _drop_draft(context)
    if report is None or report.member_id != member.id or not is_editable(context, report):
        await say(update, context, t._("This report can no longer be changed (reports can be "
                                       "changed for {days} days).", days=EDIT_DAYS))
        return END
    await activities.set_photo(context.db, report.id, member.id, message.photo[-1].file_id,
                               at=to_iso(context.clock.now()))
    await say(update, context, t._("📷 Thank you! The photo is added to your report of {date}.",
                                   date=day_text(t, report.day)))
    return END


async def photo_expected(update: Update, context: BotContext) -> str | None:
    """Text while a photo for a recorded report is awaited."""
    await say(update, context, context.t._("Please send a photo (not text), or /cancel."))
    return ADD_PHOTO


async def cancel(update: Update, context: BotContext) -> int | None:
    """/cancel: leave the flow; nothing half-entered is stored."""
    draft = _draft(context)
    _drop_draft(context)
    t = context.t
    if draft.get("report_id") and draft.get("mode") != "photo":
        await say(update, context, t._("Cancelled; your report is unchanged."))
    elif draft.get("mode") == "photo":
        await say(update, context, t._("Cancelled; no photo was added."))
    elif draft:
        await say(update, context, t._("Cancelled; nothing was saved."))
    else:
        await say(update, context, t._("Cancelled."))
    return END


async def wrong_kind(update: Update, context: BotContext) -> None:
    """A photo, sticker or file where text or a button was expected."""
    await say(update, context, context.t._(
        "I cannot use that here. Please answer the last question with text or a button "
        "(a photo can be added at the end), or send /cancel to stop."))


async def edit_report(update: Update, context: BotContext, report: Report) -> None:
    """/myreports' "✏️ Edit": the flow at its summary, prefilled with her report."""
    _new_draft(context, report_id=report.id, code=report.activity_code, day=report.day,
               quantity=report.quantity, note=report.note, photo=report.photo_file_id,
               review=True)
    _READER.enter(context, await _ask_confirm(update, context))


offers.offer_report_edit(edit_report)
_READER = Flow("activities", prefixes=(PREFIX,), entry_points=[], states={}, fallbacks=[])
"""Sets the step an edit opened at (the application's own Flow is built in `conversation`)."""


# --- wiring ----------------------------------------------------------------------------------


def conversation() -> list[BaseHandler[Any, Any, Any]]:
    """The report conversation (a new object per application)."""
    answer, _on = answers.ANSWER, functools.partial(on_step, PREFIX)
    return Flow(
        "activities",
        prefixes=(PREFIX,),
        entry_points=[
            CommandHandler("report", start_report, filters.ChatType.PRIVATE),
            MessageHandler(filters.ChatType.PRIVATE & menu.button_filter(menu.REPORT),
                           start_report),
            CallbackQueryHandler(photo_pressed, pattern=callbacks.pattern(PHOTO_PREFIX)),
        ],
        states={
            TYPE: [_on("t", type_pressed), MessageHandler(answer, type_typed)],
            DATE: [_on("d", date_pressed), MessageHandler(answer, date_typed)],
            QUANTITY: [MessageHandler(answer, quantity_typed)],
            NOTE: [_on("n", note_pressed), MessageHandler(answer, note_answered),
                   MessageHandler(filters.PHOTO, note_photo)],
            PHOTO: [_on("ph", photo_pressed_in_flow), MessageHandler(filters.PHOTO, photo_given),
                    MessageHandler(filters.Document.IMAGE, photo_as_file),
                    MessageHandler(answer, photo_text)],
            SAME_DAY: [_on("s", same_day_pressed), MessageHandler(answer, same_day_typed)],
            OFF_DAY: [_on("w", off_day_pressed), MessageHandler(answer, off_day_typed)],
            CONFIRM: [_on("k", confirm_pressed), MessageHandler(answer, confirm_typed)],
            ADD_PHOTO: [MessageHandler(filters.PHOTO, photo_added),
                        MessageHandler(filters.Document.IMAGE, photo_as_file),
                        MessageHandler(answer, photo_expected)],
        },
        fallbacks=Flow.standard_fallbacks(PREFIX, cancel=cancel, wrong_input=wrong_kind),
    ).handlers()


def handlers() -> list[BaseHandler[Any, Any, Any]]:
    """The handlers of this feature, new for each application."""
    return [
        *conversation(),
    ]
