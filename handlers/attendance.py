"""A member and her meetings: answering an invitation, /meetings (her invitations with her
answer and, for officers, the events they organise: QR code, attendance list), and checking in
with the event's code (`/start dd-<code>` or a typed `dd-<code>`).

Creating a meeting (/meeting) is handlers/meetings.py; times, texts and what a check-in means
are bot/meetings.py. Every press is checked again.
"""

from __future__ import annotations

import html
import re
from datetime import date, timedelta
from typing import Any

from telegram import InlineKeyboardButton, Message, Update
from telegram.ext import BaseHandler, CallbackQueryHandler, CommandHandler, MessageHandler, filters

from bot import buttons as layout
from bot import callbacks, orgtree
from bot import meetings as service
from bot import stats as figures_of
from bot.choices import Choice, Option
from bot.context import BotContext
from bot.i18n import N_, Translator, sort_key
from bot.permissions import Role, may_act_on_unit
from handlers.kit.days import local_today
from handlers.kit.replies import STALE, acknowledge, answer_stale, refuse, say, typed_text
from handlers.kit.scope import may_see, roots
from handlers.kit.screens import Params, Screen, Views, put, remember
from storage import meetings, units
from storage.db import to_iso
from storage.meetings import Event

VIEWS_PREFIX = "mtv"  # /meetings screens
LIST, INVITE, EVENT, ATTEND, CONFIRM = "l", "i", "e", "a", "c"
PAGE_SIZE = 8
SINCE_DAYS = 60  # officers see their events of the last two months and those to come
CANCELLED = N_("🚫 This meeting has been cancelled.")  # its card, reached by an old button




# --- answers to an invitation ----------------------------------------------------------------


async def answer_pressed(update: Update, context: BotContext) -> None:
    """"Sẽ tham dự" / "Không tham dự được" under an invitation or a reminder."""
    query = update.callback_query
    assert query is not None
    data = callbacks.decode(query.data)
    event_id = _int(data.arg(0) if data else None)
    value = {"y": service.YES, "n": service.NO}.get((data.arg(1) if data else None) or "")
    if event_id is None or value is None:
        await answer_stale(update, context)
        return
    await _record_answer(update, context, event_id, value)


async def _record_answer(update: Update, context: BotContext, event_id: int,
                         value: str) -> bool:
    """Her answer, if she is invited and the event has not passed (answered either way)."""
    t = context.t
    member = context.principal.member if context.principal else None
    event = await meetings.get(context.db, event_id)
    if member is None or event is None:
        await acknowledge(update, context, t._(STALE))
        return False
    if event.cancelled_at is not None:
        await acknowledge(update, context, t._("This meeting was cancelled; no answer is "
                                               "needed."))
        return False
    if to_iso(context.clock.now()) >= event.closes_at:
        await acknowledge(update, context, t._("This meeting is over; no answer is needed."))
        return False
    if not await meetings.answer(context.db, event.id, member.id, value,
                                 at=to_iso(context.clock.now())):
        await acknowledge(update, context, t._(STALE))
        return False
    text = (t._("Thank you! I noted that you will come to {title}.", title=event.title)
            if value == service.YES else
            t._("Thank you! I noted that you cannot come to {title}.", title=event.title))
    await acknowledge(update, context, text)
    return True


# --- check-in --------------------------------------------------------------------------------

CHECK_IN = {
    "early": N_("The check-in for {title} opens {when} (an hour before the start). Please "
                "scan the code again then."),
    "late": N_("{title} is over: its code worked only until the end of {date}. If you took "
               "part, please ask your chapter head to tick you on the list."),
    "other_unit": N_("This code belongs to {title} of another unit, so I did not record it. "
                     "Please scan the code of your own chapter's meeting."),
    "not_invited": N_("You are not among the members invited to {title}, so I did not record "
                      "it. If you took part, please ask your chapter head to tick you."),
    "cancelled": N_("{title} was cancelled, so there is nothing to check in to."),
    "unknown": N_("That check-in code is not valid. Please scan the QR code again or type the "
                  "code exactly as shown (e.g. dd-Ab3x_9Qz)."),
}


async def check_in(update: Update, context: BotContext) -> None:
    """`/start dd-<code>` (the QR link) or a typed `dd-<code>`: her attendance, once."""
    t = context.t
    code = service.code_of(typed_text(update))
    member = context.principal.member if context.principal else None
    if member is None:
        await say(update, context, t._("Please register first with /start; then scan the code "
                                       "again."))
        return
    if code is None:
        await say(update, context, t._(CHECK_IN["unknown"]))
        return
    tz = context.settings.timezone
    done = await service.check_in(context.db, code, member_id=member.id,
                                  member_unit=member.unit_id, now=context.clock.now())
    event = done.event
    name = html.escape(member.full_name.split()[-1] if member.full_name.split() else "")
    if event is None:
        await say(update, context, t._(CHECK_IN["unknown"]))
    elif done.outcome == "recorded":
        await say(update, context, t._("✅ Thank you, {name}: you are checked in at {title} "
                                       "{when}.", name=name, title=html.escape(event.title),
                                       when=service.at_text(t, done.at or "", tz)))
    elif done.outcome == "already":
        await say(update, context, t._("You have already checked in at {title} ({when}).",
                                       title=html.escape(event.title),
                                       when=service.at_text(t, done.at or "", tz)))
    else:
        await say(update, context, t._(CHECK_IN[done.outcome], title=html.escape(event.title),
                                       when=service.at_text(t, event.opens_at, tz),
                                       date=t.date(date.fromisoformat(event.day))))


# --- /meetings screens -----------------------------------------------------------------------


def _int(value: str | None) -> int | None:
    return int(value) if value and value.isascii() and value.isdigit() and len(value) < 15 \
        else None


def _short(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _event_label(t: Translator, icon: str, event: Event, number: int) -> str:
    """"🗓 Sinh hoạt chi… · 3/6": the title cut to fit a button of its own row beside its
    "N. ", and its day, so "… tháng 11" and "… tháng 12" differ even when cut alike."""
    day = date.fromisoformat(event.day)
    shown = f" · {day.day}/{day.month}" if t.locale == "vi" else f" · {day.month}/{day.day}"
    room = layout.ALONE - layout.width(f"{number}. {icon} {shown}")
    title = event.title if layout.width(event.title) <= room \
        else event.title[: room - 1].rstrip() + "…"
    return f"{icon} {title}{shown}"


async def _managed(context: BotContext) -> list[Event]:
    """The events of her scope she may manage (officers)."""
    principal = context.principal
    if principal is None or not principal.at_least(Role.CHAPTER_HEAD):
        return []
    found = await roots(context)
    ids: list[int] | None = None
    if found is not None:
        ids = [u.id for root in found for u, _d in await units.tree(context.db, root)]
    since = (local_today(context) - timedelta(days=SINCE_DAYS)).isoformat()
    return await meetings.in_units(context.db, ids, since_day=since)


async def _list_screen(context: BotContext, page: int) -> Screen:
    t = context.t
    tz = context.settings.timezone
    member = context.principal.member if context.principal else None
    mine = (await meetings.upcoming_for(context.db, member.id, now=to_iso(context.clock.now()))
            if member is not None else [])
    managed = await _managed(context)
    organised = {event.id for event in managed}  # her own chapter's meeting: listed once, as
    options: list[Option] = []                   # hers to run, not also as an invitation
    shown: dict[str, tuple[str, str]] = {}  # option key → (section, line)
    for event, answer in mine:
        if event.id in organised:
            continue
        state = {service.YES: t._("you will come"), service.NO: t._("you cannot come")}.get(
            answer or "", t._("not answered yet"))
        options.append(Option(f"i{event.id}", _event_label(t, "📩", event, len(options) + 1)))
        shown[f"i{event.id}"] = (t._("Your invitations:"), t._(
            "{number}. {title} — {when} — {state}", number="{number}",
            title=html.escape(event.title), when=service.at_text(t, event.starts_at, tz),
            state=state))
    for event in managed:
        options.append(Option(f"e{event.id}", _event_label(t, "🗓", event, len(options) + 1)))
        shown[f"e{event.id}"] = (t._("Meetings you organise:"), t._(
            "{number}. {title} — {when}", number="{number}", title=html.escape(event.title),
            when=service.at_text(t, event.starts_at, tz)))
    choice = Choice(options, page_size=PAGE_SIZE).at_page(page)
    lines = [t._("🗓 <b>Meetings</b>")]
    for number, option in choice.visible():  # the events of this page only, numbered as
        section, line = shown[option.key]     # their buttons (the full title beside a short one)
        line = line.replace("{number}", str(number), 1)
        lines += [section, line] if section not in lines else [line]
    if not options and context.principal is not None and context.principal.at_least(
            Role.CHAPTER_HEAD):
        lines.append(t._("No meetings to come. A head or an officer creates one with /meeting."))
    elif not options:  # a member: her invitations only, no officers' instructions
        lines.append(t._("You have no meeting invitations for now."))
    else:
        lines.append(t._("Tap one (or type its number) to open it."))
    remember(context, VIEWS_PREFIX, view=LIST, page=choice.page)
    keyboard = choice.keyboard(VIEWS_PREFIX, LIST) if options else None  # no empty keyboard
    return Screen("\n".join(lines), keyboard, choice)


async def _invite_screen(context: BotContext, event: Event) -> Screen:
    t = context.t
    member = context.principal.member if context.principal else None
    found = await meetings.invitation(context.db, event.id, member.id) if member else None
    unit = await orgtree.unit_path(context.db, event.unit_id)
    lines = service.details(t, context.catalog, event, unit=unit, tz=context.settings.timezone)
    answer = found.answer if found else None
    if event.cancelled_at is not None:  # reached by an old button: nothing to answer
        lines += ["", t._(CANCELLED)]
        choice = Choice([Option("back", t._("⬅ Back"))])
        remember(context, VIEWS_PREFIX, view=INVITE, event=event.id)
        return Screen("\n".join(lines), choice.keyboard(VIEWS_PREFIX, INVITE, event.id), choice)
    lines += ["", {service.YES: t._("Your answer: you will come."),
                   service.NO: t._("Your answer: you cannot come.")}.get(
                       answer or "", t._("You have not answered yet."))]
    choice = Choice([Option("y", "✅ " + t._(service.ANSWER_LABELS[service.YES])),
                     Option("n", "❌ " + t._(service.ANSWER_LABELS[service.NO])),
                     Option("back", t._("⬅ Back"))])
    remember(context, VIEWS_PREFIX, view=INVITE, event=event.id)
    return Screen("\n".join(lines), choice.keyboard(VIEWS_PREFIX, INVITE, event.id), choice)


async def _event_screen(context: BotContext, event: Event) -> Screen:
    t = context.t
    tz = context.settings.timezone
    unit = await orgtree.unit_path(context.db, event.unit_id)
    c = await meetings.counts(context.db, event.id)
    lines = service.details(t, context.catalog, event, unit=unit, tz=tz)
    cancelled = event.cancelled_at is not None
    if cancelled:
        lines += ["", t._(CANCELLED)]
    lines += ["", t._("Invited: {n} · will come: {yes} · cannot come: {no} · not answered: "
                      "{open}", n=t.number(c.invited), yes=t.number(c.yes), no=t.number(c.no),
                      open=t.number(c.invited - c.yes - c.no)),
              t._("Present: {figure}", figure=figures_of.ratio(t, c.attended, c.invited))]
    if not cancelled:
        lines.append(t._("Check-in code: <code>{code}</code>, from {opens} until the end of "
                         "that day.", code=html.escape(service.CODE_PREFIX + event.code),
                         opens=service.at_text(t, event.opens_at, tz)))
    options = [Option("att", t._("✅ Attendance"))] if cancelled else [
        Option("qr", t._("📷 QR code")), Option("att", t._("✅ Attendance"))]
    if await _may_cancel(context, event):
        options.append(Option("cancel", t._("🚫 Cancel the meeting")))
    choice = Choice([*options, Option("back", t._("⬅ Back"))])
    remember(context, VIEWS_PREFIX, view=EVENT, event=event.id)
    return Screen("\n".join(lines), choice.keyboard(VIEWS_PREFIX, EVENT, event.id), choice)


async def _may_cancel(context: BotContext, event: Event) -> bool:
    """Whoever created it, or an admin over its unit, until it is over (then it happened)."""
    principal = context.principal
    if principal is None or event.cancelled_at is not None:
        return False
    if to_iso(context.clock.now()) >= event.closes_at:
        return False
    return principal.user_id == event.created_by or await may_act_on_unit(
        context.db, principal, Role.UNIT_ADMIN, event.unit_id)


async def _confirm_screen(context: BotContext, event: Event) -> Screen:
    t = context.t
    member = context.principal.member if context.principal else None
    told = sum(1 for i in await meetings.invitees(context.db, event.id)
               if i.answer != service.NO and (member is None or i.member_id != member.id))
    lines = [t._("🚫 Cancel <b>{title}</b> ({when})?", title=html.escape(event.title),
                 when=service.at_text(t, event.starts_at, context.settings.timezone)),
             t._("The {n} members who said they will come or have not answered yet will be "
                 "told that it will not take place.", n=t.number(told))]
    choice = Choice([Option("yes", t._("Yes, cancel the meeting")),
                     Option("no", t._("No, keep it"))])
    remember(context, VIEWS_PREFIX, view=CONFIRM, event=event.id)
    return Screen("\n".join(lines), choice.keyboard(VIEWS_PREFIX, CONFIRM, event.id), choice)


def _given_first(invitee: meetings.Invitee) -> tuple[Any, ...]:
    """Vietnamese lists go by given name (the last word), in Vietnamese order ("Hạnh" before
    "Hương"), then by the full name."""
    words = invitee.full_name.split()
    return sort_key(words[-1] if words else ""), sort_key(invitee.full_name)


async def _attend_screen(context: BotContext, event: Event, page: int) -> Screen:
    t = context.t
    people = sorted(await meetings.invitees(context.db, event.id), key=_given_first)
    options = [Option(str(p.member_id), ("✅ " if p.attended_at else "⬜ ")
                      + _short(p.full_name or t._("(erased)"), 16)) for p in people]
    back = Option("back", t._("⬅ Back"))  # under every page, not only the last
    choice = Choice(options, page_size=PAGE_SIZE).at_page(page)
    present = sum(1 for p in people if p.attended_at)
    lines = [f"🗓 <b>{html.escape(event.title)}</b>",
             t._("Present: {figure}", figure=figures_of.ratio(t, present, len(people))),
             t._("Tap a member (or type her number) to tick or untick her attendance.")]
    if choice.pages > 1:
        lines.append(t._("Page {page} of {pages}.", page=choice.page + 1, pages=choice.pages))
    remember(context, VIEWS_PREFIX, view=ATTEND, event=event.id, page=choice.page)
    keyboard = choice.keyboard(VIEWS_PREFIX, ATTEND, event.id, extra_rows=[[
        InlineKeyboardButton(back.label, callback_data=callbacks.encode(
            VIEWS_PREFIX, ATTEND, event.id, "o", back.key))]])
    typed = Choice([*options, back], page_size=PAGE_SIZE).at_page(choice.page)  # "quay lại"
    return Screen("\n".join(lines), keyboard, typed)


async def _render(context: BotContext, view: str, p: Params) -> Screen | None:
    if view == LIST:
        return await _list_screen(context, p.get("page", 0))
    event = await meetings.get(context.db, p.get("event", 0))
    if event is None:
        return None
    if view == INVITE:
        return await _invite_screen(context, event)
    if view == EVENT:
        return await _event_screen(context, event)
    if view == CONFIRM:
        return await _confirm_screen(context, event)
    return await _attend_screen(context, event, p.get("page", 0))


async def _allowed(update: Update, context: BotContext, view: str, p: Params) -> bool:
    """An invitation card is hers; an event's card and list are in her scope."""
    if view == LIST:
        return True
    event = await meetings.get(context.db, p.get("event", 0))
    if event is None:
        await acknowledge(update, context, context.t._(STALE))
        return False
    if view == INVITE:
        member = context.principal.member if context.principal else None
        allowed = (member is not None
                   and await meetings.invitation(context.db, event.id, member.id) is not None)
    elif view == CONFIRM:
        allowed = await _may_cancel(context, event)
    else:
        allowed = await may_see(context, event.unit_id)
    if not allowed:
        await refuse(update, context)
    return allowed


async def _act(update: Update, context: BotContext, *, view: str, p: Params, key: str,
               message: Message | None) -> None:
    """One press or typed number on a /meetings screen."""
    if not await _allowed(update, context, view, p):
        return
    if key == "back":
        await acknowledge(update, context)
        back = (LIST, {}) if view in (INVITE, EVENT) else (EVENT, {"event": p.get("event")})
        await put(update, context, await _render(context, *back), message)
        return
    await _ACTIONS.get(view, _stale)(update, context, p, key, message)


async def _stale(update: Update, context: BotContext, p: Params, key: str,
                 message: Message | None) -> None:
    await acknowledge(update, context, context.t._(STALE))


async def _list_action(update: Update, context: BotContext, p: Params, key: str,
                       message: Message | None) -> None:
    view = {"i": INVITE, "e": EVENT}.get(key[:1])
    params = {"event": _int(key[1:]) or 0}
    if view is None or not await _allowed(update, context, view, params):
        if view is None:
            await _stale(update, context, p, key, message)
        return
    await acknowledge(update, context)
    await put(update, context, await _render(context, view, params), message)


async def _invite_action(update: Update, context: BotContext, p: Params, key: str,
                         message: Message | None) -> None:
    value = {"y": service.YES, "n": service.NO}.get(key)
    if value is None:
        await _stale(update, context, p, key, message)
        return
    if await _record_answer(update, context, p["event"], value):
        await put(update, context, await _render(context, INVITE, p), message)


async def _event_action(update: Update, context: BotContext, p: Params, key: str,
                        message: Message | None) -> None:
    event = await meetings.get(context.db, p["event"])
    assert event is not None
    if key == "att":
        await acknowledge(update, context)
        await put(update, context, await _attend_screen(context, event, 0), message)
    elif key == "qr" and event.cancelled_at is not None:  # an old button
        await acknowledge(update, context, context.t._(CANCELLED))
        await put(update, context, await _event_screen(context, event), message)
    elif key == "qr":
        await acknowledge(update, context)
        await _send_qr(update, context, event)
    elif key == "cancel" and await _may_cancel(context, event):
        await acknowledge(update, context)
        await put(update, context, await _confirm_screen(context, event), message)
    else:
        await _stale(update, context, p, key, message)


async def _send_qr(update: Update, context: BotContext, event: Event) -> None:
    """The QR code to show at the meeting, with the code for those who type it."""
    t = context.t
    tz = context.settings.timezone
    link = service.deep_link(context.bot.username, event.code)
    chat = update.effective_chat
    assert chat is not None
    caption = "\n".join([
        f"🗓 <b>{html.escape(_short(event.title, 200))}</b>",
        t._("Scan to check in, or type: <code>{code}</code>",
            code=html.escape(service.CODE_PREFIX + event.code)),
        t._("On Zalo, type: start {code}", code=html.escape(service.CODE_PREFIX + event.code)),
        html.escape(link),
        t._("Works from {opens} until the end of {date}, only for the members invited.",
            opens=service.at_text(t, event.opens_at, tz),
            date=t.date(date.fromisoformat(event.day)))])
    await context.bot.send_photo(chat.id, service.qr_png(link), caption=caption[:1000])


async def _attend_action(update: Update, context: BotContext, p: Params, key: str,
                         message: Message | None) -> None:
    member_id = _int(key)
    found = await meetings.invitation(context.db, p["event"], member_id) if member_id else None
    user = update.effective_user
    if found is None or member_id is None or user is None:
        await _stale(update, context, p, key, message)
        return
    await meetings.set_attended(context.db, p["event"], member_id, found.attended_at is None,
                                at=to_iso(context.clock.now()), by=user.id)
    await acknowledge(update, context)
    await put(update, context, await _render(context, ATTEND, p), message)


async def _confirm_action(update: Update, context: BotContext, p: Params, key: str,
                          message: Message | None) -> None:
    """"Có, hủy cuộc họp" cancels (checked again by `_allowed`); "Không, giữ lại" goes back."""
    event = await meetings.get(context.db, p["event"])
    user = update.effective_user
    assert event is not None
    if key == "no":
        await acknowledge(update, context)
        await put(update, context, await _event_screen(context, event), message)
        return
    if key != "yes" or user is None:
        await _stale(update, context, p, key, message)
        return
    done = await service.cancel(context.bot_data, event, by=user.id)
    await acknowledge(update, context)
    t = context.t
    text = (t._("🚫 {title} is cancelled. Those who said they will come or have not answered "
                "are being told; there will be no reminder and no check-in.",
                title=html.escape(event.title)) if done
            else t._("{title} was already cancelled.", title=html.escape(event.title)))
    await put(update, context, Screen(text, None, Choice([])), message)


_ACTIONS = {LIST: _list_action, INVITE: _invite_action, EVENT: _event_action,
            ATTEND: _attend_action, CONFIRM: _confirm_action}

VIEWS = Views(
    prefix=VIEWS_PREFIX,
    role=Role.MEMBER,
    shapes={LIST: (), INVITE: ("event",), EVENT: ("event",), ATTEND: ("event",),
            CONFIRM: ("event",)},
    words={},
    render=_render,
    allowed=_allowed,
    act=_act,
)
VIEWS.register()


async def meetings_command(update: Update, context: BotContext) -> None:
    """/meetings: her upcoming meetings with her answer, and those she organises."""
    if context.principal is None or (context.principal.member is None
                                     and not context.principal.at_least(Role.CHAPTER_HEAD)):
        await say(update, context, context.t._("Please register first with /start."))
        return
    await put(update, context, await _list_screen(context, 0), None)


TEXT = filters.TEXT & ~filters.COMMAND
CODE_TEXT = filters.Regex(re.compile(r"^\s*(?:/?start(?:@\w+)?\s+)?dd-[A-Za-z0-9_-]{4,40}\s*$",
                                     re.IGNORECASE))


def handlers() -> list[BaseHandler[Any, Any, Any]]:
    """The handlers of this feature, new for each application (before registration's /start:
    a check-in link is not a registration)."""
    return [
        CommandHandler("start", check_in, filters.ChatType.PRIVATE & CODE_TEXT),
        MessageHandler(filters.ChatType.PRIVATE & TEXT & CODE_TEXT, check_in),
        CommandHandler("meetings", meetings_command, filters.ChatType.PRIVATE),
        CallbackQueryHandler(answer_pressed, pattern=callbacks.pattern(service.ANSWER_PREFIX)),
        VIEWS.handler(),
    ]
