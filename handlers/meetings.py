"""/meeting: a head (her chapter) or an admin (her scope) invites members to a meeting or event;
/meetings: a member's upcoming ones (with her answer) and, for officers, the ones they organise
(QR code, attendance list); checking in with the event's code (`/start dd-<code>`).

Create: title → kind (catalog) → date and time (local) → place → audience filter → optional
agenda → preview → invitations through the outbox with "Sẽ tham dự" / "Không tham dự được".
The evening-before reminder is the job in bot/meetings.py. Every press is checked again.
"""

from __future__ import annotations

import html
import re
import secrets
from datetime import date, datetime, timedelta
from typing import Any

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Message, Update
from telegram.ext import (
    BaseHandler,
    CallbackQueryHandler,
    CommandHandler,
    MessageHandler,
    filters,
)

from bot import callbacks, orgtree
from bot import meetings as service
from bot import stats as figures_of
from bot.choices import Choice, Option
from bot.context import BotContext
from bot.i18n import N_, Translator
from bot.permissions import Role, may_act_on_unit
from handlers.kit import offers
from handlers.kit.days import local_today, parse_local_datetime
from handlers.kit.flow import END, Flow
from handlers.kit.replies import (
    STALE,
    acknowledge,
    answer_stale,
    draft_press,
    pressed_option,
    refuse,
    requires,
    retire_buttons,
    say,
    typed_text,
)
from handlers.kit.scope import may_see, parse_scope, roots, scope_name
from handlers.kit.screens import Screen, Views, put, remember
from storage import deliveries, meetings, units
from storage.db import to_iso
from storage.meetings import Event

PREFIX = "mt"  # the create flow: mt:<nonce>:<step>…
VIEWS_PREFIX = "mtv"  # /meetings screens
TITLE, KIND, WHEN, PLACE, AUDIENCE, AGENDA, PREVIEW = (
    "m_title", "m_kind", "m_when", "m_place", "m_audience", "m_agenda", "m_preview")
TITLE_MAX, PLACE_MAX, AGENDA_MAX = 120, 200, 1000
LIST, INVITE, EVENT, ATTEND = "l", "i", "e", "a"
PAGE_SIZE = 8
SINCE_DAYS = 60  # officers see their events of the last two months and those to come
AUDIENCE_LABELS = {"all": N_("Everyone"), "no_standard": N_("No standard yet"),
                   "no_household": N_("No household yet")}


def _draft(context: BotContext) -> dict[str, Any]:
    assert context.user_data is not None
    return context.user_data.setdefault(PREFIX, {})


def _cancel_row(context: BotContext, *extra: InlineKeyboardButton) -> list[InlineKeyboardButton]:
    nonce = _draft(context).get("nonce", "0")
    return [*extra, InlineKeyboardButton(context.t._("✖ Cancel"),
                                         callback_data=callbacks.encode(PREFIX, nonce, "x"))]


async def _prompt(update: Update, context: BotContext, text: str,
                  *extra: InlineKeyboardButton) -> None:
    """A free-text question with its cancel button."""
    await say(update, context, text, InlineKeyboardMarkup([_cancel_row(context, *extra)]))


# --- the create flow -------------------------------------------------------------------------


@requires(Role.CHAPTER_HEAD)
async def start_meeting(update: Update, context: BotContext) -> str | None:
    """/meeting [UNIT_CODE]: a new meeting or event for her chapter or a unit of her scope."""
    scope = await parse_scope(update, context, command="meeting")
    if scope is None:
        return None
    unit_id = scope.unit_id
    if unit_id is None and context.principal is not None and context.principal.is_super_admin:
        unit_id = await orgtree.top_parent(context.db)
    if unit_id is None:
        await say(update, context, context.t._(
            "For which unit? Please give its code, e.g. /meeting HM-HL-02."))
        return None
    assert context.user_data is not None
    context.user_data[PREFIX] = {"nonce": secrets.token_hex(3), "unit_id": unit_id}
    await _prompt(update, context, context.t._(
        "🗓 <b>New meeting or event</b> for {unit}.\nWhat is its title? (e.g. Sinh hoạt chi hội "
        "tháng 6). To see your meetings, the QR code and attendance: /meetings.",
        unit=await scope_name(context, unit_id)))
    return TITLE


def _text_of(update: Update) -> str:
    return " ".join(typed_text(update).split())


async def title_given(update: Update, context: BotContext) -> str:
    """The title (3-120 characters)."""
    text = _text_of(update)
    if not 3 <= len(text) <= TITLE_MAX:
        await _prompt(update, context, context.t._(
            "The title needs 3 to {max} characters. Please type it again.", max=TITLE_MAX))
        return TITLE
    _draft(context)["title"] = text
    return await _ask_kind(update, context)


def _kind_choice(context: BotContext) -> Choice:
    kinds = [e for e in context.catalog.entries["event_kinds"] if not e.retired]
    return Choice([Option(e.code, e.label(context.t.locale)) for e in kinds],
                  page_size=max(1, len(kinds)))


async def _ask_kind(update: Update, context: BotContext) -> str:
    keyboard = _kind_choice(context).keyboard(PREFIX, _draft(context)["nonce"], "k",
                                              extra_rows=[_cancel_row(context)])
    await say(update, context, context.t._("What kind of event is it? Tap it or type its "
                                           "number."), keyboard)
    return KIND


async def kind_pressed(update: Update, context: BotContext) -> str | None:
    """A kind from the catalog."""
    option = await pressed_option(update, context, PREFIX, _kind_choice(context))
    return None if option is None else await _kind_chosen(update, context, option)


async def kind_typed(update: Update, context: BotContext) -> str | None:
    """A kind by number or name."""
    option = _kind_choice(context).resolve(typed_text(update))
    if option is None:
        await say(update, context, context.t._("Please tap one of the buttons or type its number."))
        return None
    return await _kind_chosen(update, context, option)


async def _kind_chosen(update: Update, context: BotContext, option: Option) -> str:
    _draft(context)["kind"] = option.key
    await _prompt(update, context, context.t._(
        "When is it? Type the date and time, e.g. 25/12 19:30 or 25/12/2026 19:30 (Vietnam "
        "time)."))
    return WHEN


async def when_given(update: Update, context: BotContext) -> str:
    """The local date and time; past, far-off and night-time ones are refused."""
    t = context.t
    tz = context.settings.timezone
    now = context.clock.now()
    when = parse_local_datetime(typed_text(update), now.astimezone(tz))
    if when is None:
        await _prompt(update, context, t._("I could not read that. Please type it like "
                                           "25/12 19:30 or 25/12/2026 19:30."))
        return WHEN
    problem = service.when_problem(when, now, tz)
    if problem is not None:
        await _prompt(update, context, t._(problem, time=f"{when.astimezone(tz):%H:%M}"))
        return WHEN
    _draft(context)["when"] = to_iso(when)
    await _prompt(update, context, t._("Where is it? (e.g. Nhà văn hóa tổ dân phố số 12)"))
    return PLACE


async def place_given(update: Update, context: BotContext) -> str:
    """The place (2-200 characters)."""
    text = _text_of(update)
    if not 2 <= len(text) <= PLACE_MAX:
        await _prompt(update, context, context.t._(
            "The place needs 2 to {max} characters. Please type it again.", max=PLACE_MAX))
        return PLACE
    _draft(context)["place"] = text
    if len(deliveries.AUDIENCE_FILTERS) > 1:
        keyboard = _audience_choice(context.t).keyboard(PREFIX, _draft(context)["nonce"], "f",
                                                        extra_rows=[_cancel_row(context)])
        await say(update, context, context.t._(
            "Whom to invite? Everyone in the unit, or only members not yet registered for the "
            "women's standard, or whose household is not yet registered this year."), keyboard)
        return AUDIENCE
    _draft(context)["audience"] = "all"
    return await _ask_agenda(update, context)


def _audience_choice(t: Translator) -> Choice:
    return Choice([Option(key, t._(AUDIENCE_LABELS.get(key, key)))
                   for key in deliveries.AUDIENCE_FILTERS])


async def audience_pressed(update: Update, context: BotContext) -> str | None:
    """An audience filter."""
    option = await pressed_option(update, context, PREFIX, _audience_choice(context.t))
    if option is None:
        return None
    _draft(context)["audience"] = option.key
    return await _ask_agenda(update, context)


async def audience_typed(update: Update, context: BotContext) -> str | None:
    """An audience filter by number."""
    option = _audience_choice(context.t).resolve(typed_text(update))
    if option is None:
        await say(update, context, context.t._("Please tap one of the buttons or type its number."))
        return None
    _draft(context)["audience"] = option.key
    return await _ask_agenda(update, context)


async def _ask_agenda(update: Update, context: BotContext) -> str:
    skip = InlineKeyboardButton(context.t._("⏭ Skip"), callback_data=callbacks.encode(
        PREFIX, _draft(context)["nonce"], "skip"))
    await _prompt(update, context, context.t._(
        "The agenda (optional): type it, or tap “Skip”."), skip)
    return AGENDA


async def agenda_given(update: Update, context: BotContext) -> str | int:
    """The agenda text (up to 1000 characters)."""
    text = typed_text(update).strip()
    if len(text) > AGENDA_MAX:
        await _prompt(update, context, context.t._(
            "The agenda can have at most {max} characters. Please shorten it.", max=AGENDA_MAX))
        return AGENDA
    _draft(context)["agenda"] = text or None
    return await _preview(update, context)


async def agenda_skipped(update: Update, context: BotContext) -> str | int | None:
    """"Bỏ qua": no agenda."""
    if draft_press(update, context, PREFIX) is None:
        await answer_stale(update, context)
        return None
    assert update.callback_query is not None
    await update.callback_query.answer()
    await retire_buttons(update.callback_query)
    _draft(context)["agenda"] = None
    return await _preview(update, context)


def _new_event(context: BotContext, created_by: int) -> meetings.NewEvent:
    draft = _draft(context)
    return service.new_event(
        unit_id=draft["unit_id"], kind=draft["kind"], title=draft["title"],
        place=draft["place"], agenda=draft.get("agenda"), audience=draft["audience"],
        when=datetime.fromisoformat(draft["when"]), tz=context.settings.timezone,
        now=context.clock.now(), created_by=created_by)


async def _preview(update: Update, context: BotContext) -> str | int:
    t = context.t
    draft = _draft(context)
    assert update.effective_user is not None
    new = _new_event(context, update.effective_user.id)
    unit = await orgtree.unit_path(context.db, new.unit_id)
    count = await meetings.count_audience(
        context.db, new.unit_id, new.audience, context.this_year,
        sender_member=await service.sender_member(context.db, update.effective_user.id))
    render = service.invitation_render(context.catalog, new, unit, context.settings.timezone,
                                       to_iso(context.clock.now()))
    variant = next(v for locale, v in render(0) if locale == t.locale)
    await say(update, context, t._("Preview: this is what members will receive."))
    await say(update, context, variant.text_html)
    if count == 0:
        context.user_data.pop(PREFIX, None)  # type: ignore[union-attr]
        await say(update, context, t._("Nobody is in this audience, so nobody would be invited. "
                                       "Nothing was created."))
        return END
    draft["count"] = count
    keyboard = _send_choice(t).keyboard(PREFIX, draft["nonce"], "s")
    await say(update, context, t.n_("It will invite {n} member.", "It will invite {n} members.",
                                    count), keyboard)
    return PREVIEW


def _send_choice(t: Translator) -> Choice:
    return Choice([Option("send", t._("📤 Send invitations")), Option("cancel", t._("✖ Cancel"))])


async def send_pressed(update: Update, context: BotContext) -> int | None:
    """Send the invitations, or cancel."""
    option = await pressed_option(update, context, PREFIX, _send_choice(context.t))
    return None if option is None else await _send_chosen(update, context, option.key)


async def send_typed(update: Update, context: BotContext) -> int | None:
    """Send / cancel by number."""
    option = _send_choice(context.t).resolve(typed_text(update))
    if option is None:
        await say(update, context, context.t._("Please tap one of the buttons or type its number."))
        return None
    return await _send_chosen(update, context, option.key)


async def _send_chosen(update: Update, context: BotContext, key: str) -> int:
    if key != "send":
        return await cancel(update, context)
    t = context.t
    draft = _draft(context)
    user = update.effective_user
    assert user is not None and context.principal is not None
    if not await may_act_on_unit(context.db, context.principal, Role.CHAPTER_HEAD,
                                 draft["unit_id"]):
        await refuse(update, context)
        return END
    tz = context.settings.timezone
    now = context.clock.now()
    problem = service.when_problem(datetime.fromisoformat(draft["when"]), now, tz)
    new = _new_event(context, user.id)
    context.user_data.pop(PREFIX, None)  # type: ignore[union-attr]
    if problem is not None:
        await say(update, context, t._("The time of this meeting has passed meanwhile; nothing "
                                       "was sent. Please start again with /meeting."))
        return END
    unit = await orgtree.unit_path(context.db, new.unit_id)
    sender = await service.sender_member(context.db, user.id)
    event, invited = await meetings.create(
        context.db, new, service.invitation_render(context.catalog, new, unit, tz, to_iso(now)),
        year=context.this_year, now=to_iso(now), sender_member=sender)
    context.delivery.wake()
    if sender is not None and await meetings.invitation(context.db, event.id, sender):
        invited -= 1  # she is on the list, but is not sent her own invitation
    await say(update, context, t._(
        "✅ Invitations are being sent to {n} members. Check-in code: <code>{code}</code> (it "
        "works from an hour before the start until the end of that day). The QR code and the "
        "attendance list: /meetings.", n=t.number(invited),
        code=html.escape(service.CODE_PREFIX + event.code)))
    return END


async def cancel(update: Update, context: BotContext) -> int:
    """/cancel or ✖ Hủy: drop the draft; nothing is sent."""
    if context.user_data is not None:
        context.user_data.pop(PREFIX, None)
    await say(update, context, context.t._("Cancelled; nothing was sent."))
    return END


async def cancel_pressed(update: Update, context: BotContext) -> int | None:
    """The ✖ Hủy button under a question."""
    if draft_press(update, context, PREFIX) is None:
        await answer_stale(update, context)
        return None
    assert update.callback_query is not None
    await update.callback_query.answer()
    await retire_buttons(update.callback_query)
    return await cancel(update, context)


async def wrong_input(update: Update, context: BotContext) -> None:
    """Something that does not answer the current question."""
    await say(update, context, context.t._(
        "I cannot use that here. Please answer the last question with text or a button, "
        "or send /cancel to stop."))


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
    options: list[Option] = []
    shown: dict[str, tuple[str, str]] = {}  # option key → (section, line)
    for event, answer in mine:
        state = {service.YES: t._("you will come"), service.NO: t._("you cannot come")}.get(
            answer or "", t._("not answered yet"))
        options.append(Option(f"i{event.id}", "📩 " + _short(event.title, 15)))
        shown[f"i{event.id}"] = (t._("Your invitations:"), t._(
            "• {title} — {when} — {state}", title=html.escape(event.title),
            when=service.at_text(t, event.starts_at, tz), state=state))
    for event in managed:
        options.append(Option(f"e{event.id}", "🗓 " + _short(event.title, 15)))
        shown[f"e{event.id}"] = (t._("Meetings you organise:"), t._(
            "• {title} — {when}", title=html.escape(event.title),
            when=service.at_text(t, event.starts_at, tz)))
    choice = Choice(options, page_size=PAGE_SIZE).at_page(page)
    lines = [t._("🗓 <b>Meetings</b>")]
    for _number, option in choice.visible():  # the events of this page only
        section, line = shown[option.key]
        lines += [section, line] if section not in lines else [line]
    if not options:
        lines.append(t._("No meetings to come. A head or an officer creates one with /meeting."))
    else:
        lines.append(t._("Tap one (or type its number) to open it."))
    remember(context, VIEWS_PREFIX, view=LIST, page=choice.page)
    return Screen("\n".join(lines), choice.keyboard(VIEWS_PREFIX, LIST), choice)


async def _invite_screen(context: BotContext, event: Event) -> Screen:
    t = context.t
    member = context.principal.member if context.principal else None
    found = await meetings.invitation(context.db, event.id, member.id) if member else None
    unit = await orgtree.unit_path(context.db, event.unit_id)
    lines = service.details(t, context.catalog, event, unit=unit, tz=context.settings.timezone)
    answer = found.answer if found else None
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
    lines += ["", t._("Invited: {n} · will come: {yes} · cannot come: {no} · not answered: "
                      "{open}", n=t.number(c.invited), yes=t.number(c.yes), no=t.number(c.no),
                      open=t.number(c.invited - c.yes - c.no)),
              t._("Present: {figure}", figure=figures_of.ratio(t, c.attended, c.invited)),
              t._("Check-in code: <code>{code}</code>, from {opens} until the end of that day.",
                  code=html.escape(service.CODE_PREFIX + event.code),
                  opens=service.at_text(t, event.opens_at, tz))]
    choice = Choice([Option("qr", t._("📷 QR code")),
                     Option("att", t._("✅ Attendance")), Option("back", t._("⬅ Back"))])
    remember(context, VIEWS_PREFIX, view=EVENT, event=event.id)
    return Screen("\n".join(lines), choice.keyboard(VIEWS_PREFIX, EVENT, event.id), choice)


def _given_first(invitee: meetings.Invitee) -> tuple[str, str]:
    words = invitee.full_name.split()
    return (words[-1].casefold() if words else "", invitee.full_name.casefold())


async def _attend_screen(context: BotContext, event: Event, page: int) -> Screen:
    t = context.t
    people = sorted(await meetings.invitees(context.db, event.id), key=_given_first)
    options = [Option(str(p.member_id), ("✅ " if p.attended_at else "⬜ ")
                      + _short(p.full_name or t._("(erased)"), 16)) for p in people]
    options.append(Option("back", t._("⬅ Back")))
    choice = Choice(options, page_size=PAGE_SIZE).at_page(page)
    present = sum(1 for p in people if p.attended_at)
    lines = [f"🗓 <b>{html.escape(event.title)}</b>",
             t._("Present: {figure}", figure=figures_of.ratio(t, present, len(people))),
             t._("Tap a member (or type her number) to tick or untick her attendance.")]
    if choice.pages > 1:
        lines.append(t._("Page {page} of {pages}.", page=choice.page + 1, pages=choice.pages))
    remember(context, VIEWS_PREFIX, view=ATTEND, event=event.id, page=choice.page)
    return Screen("\n".join(lines), choice.keyboard(VIEWS_PREFIX, ATTEND, event.id), choice)


async def _render(context: BotContext, view: str, p: dict[str, Any]) -> Screen | None:
    if view == LIST:
        return await _list_screen(context, p.get("page", 0))
    event = await meetings.get(context.db, p.get("event", 0))
    if event is None:
        return None
    if view == INVITE:
        return await _invite_screen(context, event)
    if view == EVENT:
        return await _event_screen(context, event)
    return await _attend_screen(context, event, p.get("page", 0))


async def _allowed(update: Update, context: BotContext, view: str, p: dict[str, Any]) -> bool:
    """An invitation card is hers; an event's card and list are in her scope."""
    if view == LIST:
        return True
    event = await meetings.get(context.db, p.get("event", 0))
    if event is None:
        await acknowledge(update, context, context.t._(STALE))
        return False
    member = context.principal.member if context.principal else None
    if view == INVITE:
        if member is None or await meetings.invitation(context.db, event.id, member.id) is None:
            await refuse(update, context)
            return False
        return True
    if not await may_see(context, event.unit_id):
        await refuse(update, context)
        return False
    return True


async def _act(update: Update, context: BotContext, *, view: str, p: dict[str, Any], key: str,
               message: Message | None) -> None:
    """One press or typed number on a /meetings screen."""
    if not await _allowed(update, context, view, p):
        return
    if not key:  # a page
        await acknowledge(update, context)
        await put(update, context, await _render(context, view, p), message)
        return
    if key == "back":
        await acknowledge(update, context)
        back = (LIST, {}) if view in (INVITE, EVENT) else (EVENT, {"event": p.get("event")})
        await put(update, context, await _render(context, *back), message)
        return
    await _ACTIONS.get(view, _stale)(update, context, p, key, message)


async def _stale(update: Update, context: BotContext, p: dict[str, Any], key: str,
                 message: Message | None) -> None:
    await acknowledge(update, context, context.t._(STALE))


async def _list_action(update: Update, context: BotContext, p: dict[str, Any], key: str,
                       message: Message | None) -> None:
    view = {"i": INVITE, "e": EVENT}.get(key[:1])
    params = {"event": _int(key[1:]) or 0}
    if view is None or not await _allowed(update, context, view, params):
        if view is None:
            await _stale(update, context, p, key, message)
        return
    await acknowledge(update, context)
    await put(update, context, await _render(context, view, params), message)


async def _invite_action(update: Update, context: BotContext, p: dict[str, Any], key: str,
                         message: Message | None) -> None:
    value = {"y": service.YES, "n": service.NO}.get(key)
    if value is None:
        await _stale(update, context, p, key, message)
        return
    if await _record_answer(update, context, p["event"], value):
        await put(update, context, await _render(context, INVITE, p), message)


async def _event_action(update: Update, context: BotContext, p: dict[str, Any], key: str,
                        message: Message | None) -> None:
    event = await meetings.get(context.db, p["event"])
    assert event is not None
    if key == "att":
        await acknowledge(update, context)
        await put(update, context, await _attend_screen(context, event, 0), message)
    elif key == "qr":
        await acknowledge(update, context)
        await _send_qr(update, context, event)
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


async def _attend_action(update: Update, context: BotContext, p: dict[str, Any], key: str,
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


_ACTIONS = {LIST: _list_action, INVITE: _invite_action, EVENT: _event_action,
            ATTEND: _attend_action}

VIEWS = Views(
    prefix=VIEWS_PREFIX,
    role=Role.MEMBER,
    shapes={LIST: (), INVITE: ("event",), EVENT: ("event",), ATTEND: ("event",)},
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


# --- figures in /stats -----------------------------------------------------------------------


def figure_lines(t: Translator, context: BotContext, fig: meetings.Figures) -> list[str]:
    """The figures of meetings in the union's words."""
    kinds = [f"{html.escape(service.kind_label(context.catalog, t, code))} {t.number(n)}"
             for code, n in sorted(fig.events.items())]
    lines = [t._("• Held: {n}", n=t.number(fig.held)) + (f" ({' · '.join(kinds)})"
                                                         if kinds else "")]
    if not fig.held:
        return [t._("• No meetings or events recorded yet.")]
    lines += [
        t._("• Invitations: {n} · answered: {answers} (will come {yes}, cannot come {no})",
            n=t.number(fig.invited), answers=t.number(fig.answers), yes=t.number(fig.yes),
            no=t.number(fig.no)),
        t._("• Attendance: {figure}", figure=figures_of.ratio(t, fig.attended, fig.invited)),
        t._("• Members reached by awareness meetings: {figure}",
            figure=figures_of.ratio(t, fig.reached, fig.members)),
    ]
    return lines


async def show_figures(update: Update, context: BotContext, unit_id: int | None,
                       year: int) -> None:
    """The /stats summary's "🗓 Meetings": events held, answers, attendance, reach."""
    t = context.t
    first, last = service.period_of(year)
    last = min(last, local_today(context))
    fig = await meetings.figures(context.db, unit_id, first=first, last=last)
    lines = [t._("🗓 <b>Meetings and events {year}</b>", year=year),
             f"<b>{await scope_name(context, unit_id)}</b>", *figure_lines(t, context, fig)]
    await say(update, context, "\n".join(lines))


offers.offer_scope_action("meet", show_figures)


def _on(step: str, callback: Any) -> CallbackQueryHandler:
    return CallbackQueryHandler(callback, pattern=rf"^{PREFIX}:[0-9a-f]+:{step}(?::|$)")


TEXT = filters.TEXT & ~filters.COMMAND
CODE_TEXT = filters.Regex(re.compile(r"^\s*(?:/?start(?:@\w+)?\s+)?dd-[A-Za-z0-9_-]{4,40}\s*$",
                                     re.IGNORECASE))


def conversation() -> list[BaseHandler[Any, Any, Any]]:
    """The /meeting flow (a new object per application)."""
    return Flow(
        "meeting",
        prefixes=(PREFIX,),
        entry_points=[CommandHandler("meeting", start_meeting, filters.ChatType.PRIVATE)],
        states={
            TITLE: [MessageHandler(TEXT, title_given)],
            KIND: [_on("k", kind_pressed), MessageHandler(TEXT, kind_typed)],
            WHEN: [MessageHandler(TEXT, when_given)],
            PLACE: [MessageHandler(TEXT, place_given)],
            AUDIENCE: [_on("f", audience_pressed), MessageHandler(TEXT, audience_typed)],
            AGENDA: [_on("skip", agenda_skipped), MessageHandler(TEXT, agenda_given)],
            PREVIEW: [_on("s", send_pressed), MessageHandler(TEXT, send_typed)],
        },
        fallbacks=[
            CommandHandler("cancel", cancel),
            _on("x", cancel_pressed),
            CallbackQueryHandler(answer_stale, pattern=rf"^{PREFIX}:"),
            MessageHandler(~filters.COMMAND, wrong_input),
        ],
    ).handlers()


def handlers() -> list[BaseHandler[Any, Any, Any]]:
    """The handlers of this feature, new for each application (before registration's /start:
    a check-in link is not a registration)."""
    return [
        CommandHandler("start", check_in, filters.ChatType.PRIVATE & CODE_TEXT),
        MessageHandler(filters.ChatType.PRIVATE & TEXT & CODE_TEXT, check_in),
        *conversation(),
        CommandHandler("meetings", meetings_command, filters.ChatType.PRIVATE),
        CallbackQueryHandler(answer_pressed, pattern=callbacks.pattern(service.ANSWER_PREFIX)),
        VIEWS.handler(),
    ]
