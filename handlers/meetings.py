"""/meeting: a head (her chapter) or an admin (her scope) invites members to a meeting or event,
and the /stats summary's "🗓 Meetings" figures.

Create: title → kind (catalog) → date and time (local) → place → audience filter → optional
agenda → preview → invitations through the outbox with "Sẽ tham dự" / "Không tham dự được".
Answering them, /meetings and checking in are handlers/attendance.py; the evening-before
reminder is the job in bot/meetings.py. Every press is checked again.
"""

from __future__ import annotations

import html
import secrets
from datetime import datetime
from typing import Any, Literal, TypedDict

from telegram import InlineKeyboardMarkup, Update
from telegram.ext import (
    BaseHandler,
    CallbackQueryHandler,
    CommandHandler,
    MessageHandler,
    filters,
)

from bot import meetings as service
from bot import orgtree
from bot import stats as figures_of
from bot.choices import Choice, Option
from bot.context import BotContext
from bot.i18n import N_, Translator
from bot.permissions import Role, may_act_on_unit
from bot.when import parse_local_datetime
from handlers.kit import answers, audience, offers
from handlers.kit.days import local_today
from handlers.kit.flow import (
    END,
    Flow,
    drop_draft,
    on_step,
    option_pressed,
    option_typed,
    text_or_option,
)
from handlers.kit.replies import refuse, requires, say, typed_text
from handlers.kit.scope import parse_scope, scope_name
from storage import meetings
from storage.db import to_iso

PREFIX = "mt"  # the create flow: mt:<nonce>:<step>…
TITLE, KIND, WHEN, PLACE, AUDIENCE, AGENDA, PREVIEW = (
    "m_title", "m_kind", "m_when", "m_place", "m_audience", "m_agenda", "m_preview")
TITLE_MAX, PLACE_MAX, AGENDA_MAX = 120, 200, 1000


class Draft(TypedDict, total=False):
    """The meeting being drafted (persisted in `user_data["mt"]`, so a restart keeps it)."""

    nonce: str  # carried by the buttons of this draft: older buttons are stale
    unit_id: int
    title: str
    kind: str  # a code of the catalog's event_kinds
    when: str  # UTC instant (ISO)
    place: str
    audience: str  # a key of deliveries.AUDIENCE_FILTERS
    agenda: str | None


def _draft(context: BotContext) -> Draft:
    assert context.user_data is not None
    draft: Draft = context.user_data.setdefault(PREFIX, {})
    return draft


async def _prompt(update: Update, context: BotContext, text: str) -> None:
    """A free-text question with the kit's "✖ Hủy"."""
    await say(update, context, text, answers.cancel_keyboard(context, PREFIX))


async def _ask_choice(update: Update, context: BotContext, *, question: str, choice: Choice,
                      step: str) -> None:
    """A choice step's question: its options (`mt:<nonce>:<step>:o:<key>`), then "✖ Hủy"."""
    await say(update, context, question, choice.keyboard(
        PREFIX, _draft(context)["nonce"], step,
        extra_rows=[[answers.cancel_button(context, PREFIX)]]))


async def _keep_typed(update: Update, context: BotContext, *, field: Literal["title", "place"],
                      low: int, high: int, retry: str) -> bool:
    """Keep the typed answer, spaces folded, as the draft's `field` if it has `low` to `high`
    characters; else ask again (`retry`: a msgid with {max})."""
    text = " ".join(typed_text(update).split())
    if low <= len(text) <= high:
        _draft(context)[field] = text
        return True
    await _prompt(update, context, context.t._(retry, max=high))
    return False


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
    context.user_data[PREFIX] = Draft(nonce=secrets.token_hex(3), unit_id=unit_id)
    await _prompt(update, context, context.t._(
        "🗓 <b>New meeting or event</b> for {unit}.\nWhat is its title? (e.g. Sinh hoạt chi hội "
        "tháng 6). To see your meetings, the QR code and attendance: /meetings.",
        unit=await scope_name(context, unit_id)))
    return TITLE


async def title_given(update: Update, context: BotContext) -> str:
    """The title (3-120 characters, at least a letter or digit: "😀😀😀" names nothing)."""
    if not any(char.isalnum() for char in typed_text(update)):
        await _prompt(update, context, context.t._(
            "The title needs at least one letter or digit, e.g. Sinh hoạt chi hội tháng 6. "
            "Please type it again."))
        return TITLE
    if not await _keep_typed(update, context, field="title", low=3, high=TITLE_MAX, retry=N_(
            "The title needs 3 to {max} characters. Please type it again.")):
        return TITLE
    await _ask_choice(update, context, choice=_kind_choice(context), step="k",
                      question=context.t._("What kind of event is it? Tap it or type its "
                                           "number."))
    return KIND


def _kind_choice(context: BotContext) -> Choice:
    kinds = [e for e in context.catalog.entries["event_kinds"] if not e.retired]
    return Choice([Option(e.code, e.label(context.t.locale)) for e in kinds],
                  page_size=max(1, len(kinds)))


async def _kind_chosen(update: Update, context: BotContext, key: str) -> str:
    _draft(context)["kind"] = key
    await _prompt(update, context, context.t._(
        "When is it? Type the date and time, e.g. 25/12 19:30 or 25/12/2026 19:30 (Vietnam "
        "time)."))
    return WHEN


kind_pressed = option_pressed(PREFIX, _kind_choice, _kind_chosen)
kind_typed = option_typed(_kind_choice, _kind_chosen)


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
    if not await _keep_typed(update, context, field="place", low=2, high=PLACE_MAX, retry=N_(
            "The place needs 2 to {max} characters. Please type it again.")):
        return PLACE
    if audience.needs_filter():
        await _ask_choice(update, context, choice=_audience_choice(context), step="f",
                          question=context.t._(
            "Whom to invite? Everyone in the unit, or only members not yet registered for the "
            "women's standard, or whose household is not yet registered this year."))
        return AUDIENCE
    return await _audience_chosen(update, context, "all")


def _audience_choice(context: BotContext) -> Choice:
    return audience.filter_choice(context.t)


async def _audience_chosen(update: Update, context: BotContext, key: str) -> str:
    _draft(context)["audience"] = key
    await say(update, context, context.t._("The agenda (optional): type it, or tap “Skip”."),
              _agenda_keyboard(context))
    return AGENDA


def _agenda_keyboard(context: BotContext) -> InlineKeyboardMarkup:
    [[skip]] = _skip_choice(context).keyboard(PREFIX, _draft(context)["nonce"],
                                              "skip").inline_keyboard
    return InlineKeyboardMarkup([[skip, answers.cancel_button(context, PREFIX)]])


audience_pressed = option_pressed(PREFIX, _audience_choice, _audience_chosen)
audience_typed = option_typed(_audience_choice, _audience_chosen)


def _skip_choice(context: BotContext) -> Choice:
    return Choice([Option("skip", context.t._("⏭ Skip"))], numbered=False)


async def agenda_given(update: Update, context: BotContext) -> str | int:
    """The agenda text (up to 1000 characters)."""
    text = typed_text(update).strip()
    if len(text) > AGENDA_MAX:
        await _prompt(update, context, context.t._(
            "The agenda can have at most {max} characters. Please shorten it.", max=AGENDA_MAX))
        return AGENDA
    _draft(context)["agenda"] = text or None
    return await _preview(update, context)


async def _agenda_skipped(update: Update, context: BotContext, _key: str) -> str | int:
    """"Bỏ qua": no agenda."""
    _draft(context)["agenda"] = None
    return await _preview(update, context)


agenda_skipped = option_pressed(PREFIX, _skip_choice, _agenda_skipped)
agenda_typed = text_or_option(choice=_skip_choice, chosen=_agenda_skipped, taken=agenda_given,
                              keyboard=_agenda_keyboard)


def _new_event(context: BotContext, created_by: int) -> meetings.NewEvent:
    draft = _draft(context)
    return service.new_event(
        unit_id=draft["unit_id"], kind=draft["kind"], title=draft["title"],
        place=draft["place"], agenda=draft.get("agenda"), audience=draft["audience"],
        when=datetime.fromisoformat(draft["when"]), tz=context.settings.timezone,
        now=context.clock.now(), created_by=created_by)


async def _inviter(context: BotContext, unit_id: int) -> service.Inviter | None:
    """Her title as the invitation names it: head of this chapter, else officer of a unit."""
    grants = context.principal.grants if context.principal else ()
    for role in ("chapter_head", "unit_admin"):
        for grant in grants:
            if grant.role == role and (role == "unit_admin" or grant.unit_id == unit_id):
                unit = await orgtree.get(context.db, grant.unit_id)
                return (role, unit.name) if unit else None
    return None


async def _preview(update: Update, context: BotContext) -> str | int:
    t = context.t
    assert update.effective_user is not None
    new = _new_event(context, update.effective_user.id)
    unit = await orgtree.unit_path(context.db, new.unit_id)
    sender = await service.sender_member(context.db, update.effective_user.id)
    count = await meetings.count_audience(context.db, new.unit_id, new.audience,
                                          context.this_year, sender_member=sender)
    listed = await meetings.count_audience(context.db, new.unit_id, new.audience,
                                           context.this_year)  # with her: the card's "Invited"
    render = service.invitation_render(context.catalog, new, unit, context.settings.timezone,
                                       to_iso(context.clock.now()),
                                       by=await _inviter(context, new.unit_id))
    variant = next(v for locale, v in render(0) if locale == t.locale)
    await say(update, context, t._("Preview: this is what members will receive."))
    await say(update, context, variant.text_html)
    if count == 0:
        context.user_data.pop(PREFIX, None)  # type: ignore[union-attr]
        await say(update, context, t._("Nobody is in this audience, so nobody would be invited. "
                                       "Nothing was created."))
        return END
    keyboard = _send_choice(context).keyboard(PREFIX, _draft(context)["nonce"], "s")
    text = t.n_("It will invite {n} member.", "It will invite {n} members.", count)
    if listed > count:  # she is on the attendance list too, without a copy of her own
        text = t.n_("It will invite {n} member; with you, {listed} on the attendance list.",
                    "It will invite {n} members; with you, {listed} on the attendance list.",
                    count, listed=t.number(listed))
    await say(update, context, text, keyboard)
    return PREVIEW


def _send_choice(context: BotContext) -> Choice:
    t = context.t
    return Choice([Option("send", t._("📤 Send invitations")), Option("cancel", t._("✖ Cancel"))])


async def _send_chosen(update: Update, context: BotContext, key: str) -> int:
    """Send the invitations (authorised and timed again), or cancel."""
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
        context.db, new, service.invitation_render(context.catalog, new, unit, tz, to_iso(now),
                                                   by=await _inviter(context, new.unit_id)),
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


send_pressed = option_pressed(PREFIX, _send_choice, _send_chosen)
send_typed = option_typed(_send_choice, _send_chosen)

cancel = drop_draft(PREFIX)
"""/cancel, ✖ Hủy (the kit's button, through the router) or "✖ Hủy" at the preview: drop the
draft; nothing is sent."""


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


def _on(step: str, callback: Any) -> CallbackQueryHandler[Any, Any]:
    return on_step(PREFIX, step, callback)


TEXT = filters.TEXT & ~filters.COMMAND


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
            AGENDA: [_on("skip", agenda_skipped), MessageHandler(TEXT, agenda_typed)],
            PREVIEW: [_on("s", send_pressed), MessageHandler(TEXT, send_typed)],
        },
        fallbacks=Flow.standard_fallbacks(PREFIX, cancel=cancel),
    ).handlers()


def handlers() -> list[BaseHandler[Any, Any, Any]]:
    """The handlers of this feature, new for each application."""
    return conversation()
