"""/broadcast: compose a notice to a unit in her scope; /broadcasts: follow and cancel them.

Audience (a unit she may address, optionally narrowed by a filter) → text or photo → a preview
exactly as members will see it with the number of recipients → send now, schedule or cancel.
The delivery engine does the sending. Every press is authorised again on arrival.
"""

from __future__ import annotations

import functools
import html
import re
import secrets
from datetime import datetime, timedelta
from typing import Any, TypedDict

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Message, Update
from telegram.ext import (
    BaseHandler,
    CallbackQueryHandler,
    CommandHandler,
    MessageHandler,
    filters,
)

from bot import callbacks, delivery
from bot.choices import Choice, Option
from bot.context import BotContext
from bot.i18n import N_
from bot.permissions import Role, may_act_on_unit
from bot.when import parse_local_datetime
from handlers.kit import answers, audience, scope
from handlers.kit.flow import END, Flow, drop_draft, on_step, option_pressed, option_typed
from handlers.kit.replies import (
    STALE,
    page_buttons,
    paginate,
    refuse,
    requires,
    say,
    say_kept,
    typed_text,
)
from handlers.kit.replies import edit as edit_message
from storage import deliveries, units
from storage.db import to_iso
from storage.deliveries import NewBroadcast

AUDIENCE, FILTER, CONTENT, PREVIEW, SCHEDULE = (
    "b_audience", "b_filter", "b_content", "b_preview", "b_schedule"
)
PREFIX = "bc"
LIST_PREFIX = "bcl"
TEXT_LIMIT, CAPTION_LIMIT = 4096, 1024
SCHEDULE_HORIZON = timedelta(days=365)


def _utf16_len(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


class Draft(TypedDict, total=False):
    """The notice being drafted (persisted in `user_data["bc"]`, so a restart keeps it)."""

    nonce: str  # carried by the buttons of this draft: older buttons are stale
    level: int | None  # the unit chooser's (kit.audience): the level shown, its top, the page
    top: int | None
    page: int
    unit_id: int
    audience: str  # a key of deliveries.AUDIENCE_FILTERS
    html: str  # the notice as members will see it, header included
    photo: str | None  # its photo's file id


def _draft(context: BotContext) -> Draft:
    assert context.user_data is not None
    draft: Draft = context.user_data.setdefault(PREFIX, {})
    return draft


# --- audience ------------------------------------------------------------------------------


async def _unit_chosen(update: Update, context: BotContext) -> str | int:
    """The unit is hers to address: the filter, or (only one) the notice itself."""
    if audience.needs_filter():
        return await _ask_filter(update, context)
    return await _filter_chosen(update, context, "all")


UNITS = audience.UnitChooser(PREFIX, step="a", state=AUDIENCE, chosen=_unit_chosen)


async def _ask_filter(update: Update, context: BotContext) -> str:
    keyboard = audience.filter_choice(context.t).keyboard(PREFIX, _draft(context)["nonce"], "f")
    await say(update, context, context.t._("Send it to everyone, or only to members who …"),
              keyboard)
    return FILTER


async def _ask_content(update: Update, context: BotContext) -> str:
    unit = await units.get(context.db, _draft(context)["unit_id"])
    await say(update, context, context.t._(
        "Now send the notice for {unit}: a text, or a photo with a caption.",
        unit=html.escape(unit.name if unit else "?")), answers.cancel_keyboard(context, PREFIX))
    return CONTENT


# --- entry and answers ---------------------------------------------------------------------


@requires(Role.CHAPTER_HEAD)
async def start_broadcast(update: Update, context: BotContext) -> str | int:
    """/broadcast: begin a notice."""
    assert context.user_data is not None
    context.user_data[PREFIX] = Draft(nonce=secrets.token_hex(3))
    return await UNITS.start(update, context)


def _filter_choice(context: BotContext) -> Choice:
    return audience.filter_choice(context.t)


async def _filter_chosen(update: Update, context: BotContext, key: str) -> str:
    """An audience filter (or everyone, when there is none to choose)."""
    _draft(context)["audience"] = key
    return await _ask_content(update, context)


filter_pressed = option_pressed(PREFIX, _filter_choice, _filter_chosen)
filter_typed = option_typed(_filter_choice, _filter_chosen)


async def content_given(update: Update, context: BotContext) -> str | int:
    """The notice itself: text, or a photo with a caption; checked against Telegram's limits."""
    message = update.effective_message
    assert message is not None
    t = context.t
    draft = _draft(context)
    unit = await units.get(context.db, draft["unit_id"])
    header = f"📢 <b>{html.escape(unit.name if unit else '')}</b>\n\n"
    header_len = _utf16_len(html.unescape(re.sub(r"<[^>]+>", "", header)))
    if message.photo:
        body, plain, limit = message.caption_html or "", message.caption or "", CAPTION_LIMIT
        draft["photo"] = message.photo[-1].file_id
    else:
        body, plain, limit = message.text_html or "", message.text or "", TEXT_LIMIT
        draft["photo"] = None
        if not plain.strip():
            await say(update, context, t._("The notice is empty. Please send its text."),
                      answers.cancel_keyboard(context, PREFIX))
            return CONTENT
    if header_len + _utf16_len(plain) > limit:
        await say(update, context, t._(
            "That is {length} characters; a notice can have at most {limit} here. Please "
            "shorten it and send it again.",
            length=t.number(_utf16_len(plain)), limit=t.number(limit - header_len)),
            answers.cancel_keyboard(context, PREFIX))
        return CONTENT
    draft["html"] = header + body
    return await _preview(update, context)


async def content_unsupported(update: Update, context: BotContext) -> str:
    """Video, voice, stickers, files …"""
    await say(update, context, context.t._(
        "Only a text or a photo (with an optional caption) can be sent as a notice. "
        "Please send one of those."), answers.cancel_keyboard(context, PREFIX))
    return CONTENT


def _preview_choice(context: BotContext) -> Choice:
    t = context.t
    return Choice([Option("now", t._("📤 Send now")), Option("later", t._("🕒 Schedule")),
                   Option("cancel", t._("✖ Cancel"))])


async def _preview(update: Update, context: BotContext) -> str | int:
    t = context.t
    draft = _draft(context)
    chat = update.effective_chat
    assert chat is not None
    year = context.clock.now().astimezone(context.settings.timezone).year
    count = await deliveries.count_recipients(
        context.db, draft["unit_id"], draft["audience"], year, sender=chat.id
    )
    await say(update, context, t._("Preview: this is exactly what members will receive."))
    photo = draft.get("photo")
    if photo:
        await context.bot.send_photo(chat.id, photo, caption=draft["html"])
    else:
        await context.bot.send_message(chat.id, draft["html"])
    if count == 0:
        context.user_data.pop(PREFIX, None)  # type: ignore[union-attr]
        await say(update, context, t._("No member would receive it (nobody in this audience can "
                                       "be reached now). Nothing was sent."))
        return END
    keyboard = _preview_choice(context).keyboard(PREFIX, draft["nonce"], "s")
    await say(update, context, t.n_("It will go to {n} member.", "It will go to {n} members.",
                                    count), keyboard)
    return PREVIEW


async def _preview_chosen(update: Update, context: BotContext, key: str) -> str | int:
    """Send now, schedule or cancel."""
    if key == "cancel":
        return await cancel(update, context)
    if key == "later":
        await say(update, context, context.t._(
            "When should it be sent? Type the date and time, e.g. 25/12 07:30 or "
            "25/12/2026 07:30 (Vietnam time)."), answers.cancel_keyboard(context, PREFIX))
        return SCHEDULE
    return await _create(update, context, context.clock.now())


preview_pressed = option_pressed(PREFIX, _preview_choice, _preview_chosen)
preview_typed = option_typed(_preview_choice, _preview_chosen)


async def schedule_typed(update: Update, context: BotContext) -> str | int:
    """The date and time for a scheduled notice."""
    t = context.t
    now = context.clock.now()
    when = parse_local_datetime(typed_text(update), now.astimezone(context.settings.timezone))
    if when is None:
        await say(update, context, t._("I could not read that. Please type it like 25/12 07:30 "
                                       "or 25/12/2026 07:30."),
                  answers.cancel_keyboard(context, PREFIX))
        return SCHEDULE
    if when <= now or when - now > SCHEDULE_HORIZON:
        await say(update, context, t._("Please choose a time in the future, within a year."),
                  answers.cancel_keyboard(context, PREFIX))
        return SCHEDULE
    return await _create(update, context, when)


async def _create(update: Update, context: BotContext, when: datetime) -> int:
    t = context.t
    draft = _draft(context)
    user, chat = update.effective_user, update.effective_chat
    assert user is not None and chat is not None and context.principal is not None
    if not await may_act_on_unit(context.db, context.principal, Role.CHAPTER_HEAD,
                                 draft["unit_id"]):
        await refuse(update, context)
        return END
    now = context.clock.now()
    scheduled = when > now
    status = None if scheduled else await say_kept(
        update, context, t._("⏳ Preparing to send …"))
    broadcast = await deliveries.create(
        context.db,
        NewBroadcast(
            draft_key=f"{user.id}:{draft['nonce']}",
            created_by=user.id,
            sender_chat_id=chat.id,
            unit_id=draft["unit_id"],
            audience=draft["audience"],
            text_html=draft["html"],
            photo_file_id=draft.get("photo"),
            scheduled_at=to_iso(when),
        ),
    )
    context.user_data.pop(PREFIX, None)  # type: ignore[union-attr]
    if broadcast is None:
        await say(update, context, t._("This notice has already been sent."))
        return END
    if status is not None:
        await deliveries.set_progress_message(context.db, broadcast.id, chat.id,
                                              status.message_id)
        context.delivery.wake()
    else:
        local = when.astimezone(context.settings.timezone)
        await say(update, context, t._(
            "Scheduled for {when}. You can follow or cancel it with /broadcasts.",
            when=t.datetime(local)))
    return END


cancel = drop_draft(PREFIX)
"""/cancel: drop the draft; nothing is sent."""


# --- /broadcasts ---------------------------------------------------------------------------


async def _scope_unit_ids(context: BotContext) -> list[int] | None:
    roots = await scope.roots(context)
    if roots is None:
        return None
    ids: list[int] = []
    for root in roots:
        ids += [unit.id for unit, _depth in await units.tree(context.db, root)]
    return ids


async def _render_list(context: BotContext, page: int) -> tuple[str, InlineKeyboardMarkup | None]:
    t = context.t
    items = await deliveries.recent_in_units(context.db, await _scope_unit_ids(context), 30)
    if not items:
        return t._("No notices yet. Send one with /broadcast."), None
    lines, cancellable = [], []
    for b in items:
        counts = await deliveries.progress(context.db, b.id)
        unit = await units.get(context.db, b.unit_id)
        when = datetime.fromisoformat(b.scheduled_at).astimezone(context.settings.timezone)
        state = t._(CANCEL_REASONS.get(b.cancel_reason or "", STATUS_LABELS[b.status]))
        figures = {
            "id": b.id, "when": t.datetime(when), "unit": html.escape(unit.name if unit else "?"),
            "state": state, "sent": t.number(counts.sent),
            "total": t.number(counts.total or b.total), "failed": t.number(counts.failed),
            "blocked": t.number(counts.blocked), "maybe": t.number(counts.maybe_sent)}
        if b.status == "scheduled":
            lines.append(await _scheduled_line(context, b, figures))
        elif not (counts.total or b.total):  # cancelled before it started: no "sent 0/0"
            lines.append(t._("#{id} · {when} · {unit} · {state} · “{start}”",
                             start=first_words(b.text_html), **figures))
        else:  # failures and blocks only when there are some; its first words as above
            maybe = [t._("maybe delivered {n}", n=figures["maybe"])] if counts.maybe_sent else []
            lines.append(" · ".join([
                t._("#{id} · {when} · {unit} · {state} · sent {sent}/{total}", **figures),
                *maybe, *delivery.troubles(t, counts),
                f"“{first_words(b.text_html)}”"]))
        if b.status in ("scheduled", "running"):
            cancellable.append(b.id)
    pages = paginate(lines, max_lines=10)
    page = min(max(page, 0), len(pages) - 1)
    rows = [[InlineKeyboardButton(t._("✖ Cancel #{id}", id=b_id),
                                  callback_data=callbacks.encode(LIST_PREFIX, "x", b_id))]
            for b_id in cancellable[:10]]
    nav = page_buttons(LIST_PREFIX, page, len(pages))
    if nav is not None:
        rows += [list(row) for row in nav.inline_keyboard]
    header = t._("<b>Recent notices</b>")
    return "\n".join([header, *pages[page]]), InlineKeyboardMarkup(rows) if rows else None


FIRST_WORDS = 40  # how much of a scheduled notice its line in /broadcasts shows


def first_words(text_html: str, limit: int = FIRST_WORDS) -> str:
    """The start of a notice as plain text, cut at a word, escaped."""
    body = text_html.split("\n\n", 1)[-1]  # after the "📢 unit" header
    plain = " ".join(re.sub(r"<[^>]+>", "", html.unescape(body)).split())
    if len(plain) > limit:
        plain = plain[:limit].rsplit(" ", 1)[0] + "…"
    return html.escape(plain)


async def _scheduled_line(context: BotContext, b: deliveries.Broadcast,
                          figures: dict[str, Any]) -> str:
    """A notice not sent yet: whom it will reach (as of now) and how it starts."""
    t = context.t
    year = context.clock.now().astimezone(context.settings.timezone).year
    count = await deliveries.count_recipients(context.db, b.unit_id, b.audience, year,
                                              sender=b.sender_chat_id)
    return t.n_("#{id} · {when} · {unit} · {state} · for {n} member · “{start}”",
                "#{id} · {when} · {unit} · {state} · for {n} members · “{start}”", count,
                start=first_words(b.text_html), **figures)


STATUS_LABELS = {
    "scheduled": N_("scheduled"),
    "running": N_("sending"),
    "done": N_("done"),
    "cancelled": N_("cancelled"),
}
# Notices stopped by the bot rather than by a person pressing "Cancel" (storage: cancel_reason).
CANCEL_REASONS = {
    "erased": N_("cancelled: its sender erased her data"),
    "permission": N_("cancelled: its sender may no longer send to this unit"),
}


@requires(Role.CHAPTER_HEAD)
async def list_broadcasts(update: Update, context: BotContext) -> None:
    """/broadcasts: recent notices in her scope with their figures."""
    text, keyboard = await _render_list(context, 0)
    await say(update, context, text, keyboard)


@requires(Role.CHAPTER_HEAD)
async def list_pressed(update: Update, context: BotContext) -> None:
    """A page of /broadcasts, or cancelling one (authorised on the broadcast's unit)."""
    query = update.callback_query
    assert query is not None and context.principal is not None
    data = callbacks.decode(query.data)
    t = context.t
    if data is None or not (data.arg(1) or "").isdigit() or data.arg(0) not in ("p", "x", "y"):
        await query.answer(t._(STALE), show_alert=True)
        return
    number = int(data.arg(1) or 0)
    if data.arg(0) == "p":
        await query.answer()
        text, keyboard = await _render_list(context, number)
        if isinstance(query.message, Message):
            await edit_message(query.message, text, keyboard)
        return
    broadcast = await deliveries.get(context.db, number)
    if broadcast is None or not await may_act_on_unit(
        context.db, context.principal, Role.CHAPTER_HEAD, broadcast.unit_id
    ):
        await refuse(update, context)
        return
    message = query.message if isinstance(query.message, Message) else None
    if data.arg(0) == "x":  # asked first: one slip of a finger must not cancel a notice
        await query.answer()
        if message is not None:
            await edit_message(message, _cancel_question(context, broadcast), InlineKeyboardMarkup([
                [InlineKeyboardButton(t._("✖ Yes, cancel it"), callback_data=callbacks.encode(
                    LIST_PREFIX, "y", broadcast.id))],
                [InlineKeyboardButton(t._("⬅ No, keep it"), callback_data=callbacks.encode(
                    LIST_PREFIX, "p", 0))]]))
        return
    if await deliveries.cancel(context.db, broadcast.id, to_iso(context.clock.now())):
        context.delivery.cancelled(broadcast.id)
        await query.answer(t._("Notice #{id} cancelled.", id=broadcast.id), show_alert=True)
    else:
        await query.answer(t._("Notice #{id} has already finished.", id=broadcast.id),
                           show_alert=True)
    if message is not None:  # the list as it is now
        text, keyboard = await _render_list(context, 0)
        await edit_message(message, text, keyboard)


def _cancel_question(context: BotContext, broadcast: deliveries.Broadcast) -> str:
    t = context.t
    when = datetime.fromisoformat(broadcast.scheduled_at).astimezone(context.settings.timezone)
    return t._("Cancel notice #{id} ({when}): “{start}”? Nobody will receive it.",
               id=broadcast.id, when=t.datetime(when), start=first_words(broadcast.text_html))


TEXT = filters.TEXT & ~filters.COMMAND


def conversation() -> list[BaseHandler[Any, Any, Any]]:
    """The /broadcast flow (a new object per application)."""
    _on = functools.partial(on_step, PREFIX)
    return Flow(
        "broadcast",
        prefixes=(PREFIX,),
        entry_points=[CommandHandler("broadcast", start_broadcast, filters.ChatType.PRIVATE)],
        states={
            AUDIENCE: UNITS.handlers(),
            FILTER: [_on("f", filter_pressed), MessageHandler(TEXT, filter_typed)],
            CONTENT: [MessageHandler(TEXT | filters.PHOTO, content_given),
                      MessageHandler(~filters.COMMAND, content_unsupported)],
            PREVIEW: [_on("s", preview_pressed), MessageHandler(TEXT, preview_typed)],
            SCHEDULE: [MessageHandler(TEXT, schedule_typed)],
        },
        fallbacks=Flow.standard_fallbacks(PREFIX, cancel=cancel),
    ).handlers()


def handlers() -> list[BaseHandler[Any, Any, Any]]:
    """The handlers of this feature, new for each application."""
    return [
        *conversation(),
        CommandHandler("broadcasts", list_broadcasts, filters.ChatType.PRIVATE),
        CallbackQueryHandler(list_pressed, pattern=callbacks.pattern(LIST_PREFIX)),
    ]
