"""Meetings and events: times and the check-in window, the invitation and reminder messages,
the evening-before reminder tick, the QR code and what a check-in means.

A code works from an hour before the start until the end of the event's local day, and only
for members invited (the audience when the event was created); attendance is recorded once.
"""

from __future__ import annotations

import html
import io
import logging
import secrets
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, tzinfo

import segno
from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from bot import callbacks, orgtree
from bot.catalog import Catalog
from bot.context import AppState
from bot.i18n import N_, Translator, translator
from bot.settings import SUPPORTED_LOCALES
from storage import meetings, members
from storage.db import Database, to_iso
from storage.deliveries import Variant
from storage.meetings import Event, NewEvent

log = logging.getLogger(__name__)

ANSWER_PREFIX = "mta"  # mta:<event id>:<y|n> under an invitation
CODE_PREFIX = "dd-"  # ?start=dd-<code>
OPENS_BEFORE = timedelta(hours=1)
REMIND_AT = time(18, 0)  # local, the evening before
HORIZON = timedelta(days=365)
EARLIEST, LATEST = time(5, 0), time(22, 30)  # a meeting outside these local hours is a typo
YES, NO = "yes", "no"
ANSWER_LABELS = {YES: N_("I will attend"), NO: N_("I cannot attend")}


def new_code() -> str:
    """An unguessable, short check-in code (URL-safe, fits a deep link)."""
    return secrets.token_urlsafe(6)


def deep_link(bot_username: str | None, code: str) -> str:
    """The link the QR code opens: the bot with the event's code."""
    return f"https://t.me/{bot_username or 'bot'}?start={CODE_PREFIX}{code}"


def qr_png(link: str) -> bytes:
    """The link as a QR code (PNG, large enough to scan from a phone held up in a hall)."""
    out = io.BytesIO()
    segno.make(link, error="m").save(out, kind="png", scale=10, border=4)
    return out.getvalue()


def when_problem(when: datetime, now: datetime, tz: tzinfo) -> str | None:
    """Why a meeting time cannot be right (a msgid), or None."""
    if when <= now:
        return N_("That time has already passed. Please give a time in the future, e.g. "
                  "25/12 19:30.")
    if when - now > HORIZON:
        return N_("That is more than a year ahead. Please give a time within a year.")
    local = when.astimezone(tz).time()
    if not EARLIEST <= local <= LATEST:
        return N_("A meeting at {time} at night looks like a typo. Please give a time between "
                  "05:00 and 22:30.")
    return None


def new_event(*, unit_id: int, kind: str, title: str, place: str, agenda: str | None,
              audience: str, when: datetime, tz: tzinfo, now: datetime,
              created_by: int) -> NewEvent:
    """The event with its window (an hour before until local midnight) and reminder time."""
    local = when.astimezone(tz)
    midnight = datetime.combine(local.date() + timedelta(days=1), time(0), tzinfo=tz)
    remind = datetime.combine(local.date() - timedelta(days=1), REMIND_AT, tzinfo=tz)
    return NewEvent(
        unit_id=unit_id, kind=kind, title=title, place=place, agenda=agenda, audience=audience,
        starts_at=to_iso(when), day=local.date().isoformat(), opens_at=to_iso(when - OPENS_BEFORE),
        closes_at=to_iso(midnight), remind_at=to_iso(remind) if remind > now else None,
        code=new_code(), created_by=created_by)


def at_text(t: Translator, instant: str | datetime, tz: tzinfo) -> str:
    """'lúc 19:30 ngày 24/5/2026'."""
    moment = datetime.fromisoformat(instant) if isinstance(instant, str) else instant
    local = moment.astimezone(tz)
    return t._("at {time} on {date}", time=f"{local:%H:%M}", date=t.date(local))


def kind_label(catalog: Catalog, t: Translator, code: str) -> str:
    """The catalog label of an event kind (the code if it was removed)."""
    entry = catalog.find("event_kinds", code)
    return entry.label(t.locale) if entry else code


def details(t: Translator, catalog: Catalog, event: Event, *, unit: str, tz: tzinfo) -> list[str]:
    """The event as every message shows it (escaped)."""
    lines = [
        f"🗓 <b>{html.escape(event.title)}</b>",
        t._("{kind} · {unit}", kind=html.escape(kind_label(catalog, t, event.kind)),
            unit=html.escape(unit)),
        t._("🕒 {when}", when=at_text(t, event.starts_at, tz)),
        t._("📍 {place}", place=html.escape(event.place)),
    ]
    if event.agenda:
        lines.append(t._("📝 Agenda: {agenda}", agenda=html.escape(event.agenda)))
    return lines


def answer_markup(t: Translator, event_id: int) -> InlineKeyboardMarkup:
    """"Sẽ tham dự" / "Không tham dự được", one a row (a narrow phone, a large font)."""
    return InlineKeyboardMarkup([
        [InlineKeyboardButton("✅ " + t._(ANSWER_LABELS[YES]),
                              callback_data=callbacks.encode(ANSWER_PREFIX, event_id, "y"))],
        [InlineKeyboardButton("❌ " + t._(ANSWER_LABELS[NO]),
                              callback_data=callbacks.encode(ANSWER_PREFIX, event_id, "n"))]])


Inviter = tuple[str, str]
"""Who invites, as members know her: her role ("chapter_head", "unit_admin") and its unit's name."""
INVITER_TITLES = {"chapter_head": N_("Chapter head of {unit}"),
                  "unit_admin": N_("Union officer of {unit}")}


def _intro(t: Translator, intro: str, by: Inviter | None) -> str:
    """The first line; an invitation says who invites (her title, never her phone)."""
    if intro != INVITATION or by is None or by[0] not in INVITER_TITLES:
        return t._(intro)
    title = t._(INVITER_TITLES[by[0]], unit=by[1])
    return t._("📩 <b>Invitation</b> from the {title}", title=html.escape(title))


def _variants(catalog: Catalog, event: Event, unit: str, tz: tzinfo,
              intro: str, *, by: Inviter | None = None) -> list[tuple[str, Variant]]:
    found = []
    for number, locale in enumerate(SUPPORTED_LOCALES):
        t = translator(locale)
        text = "\n".join([_intro(t, intro, by), "",
                          *details(t, catalog, event, unit=unit, tz=tz), "",
                          t._("Please tap whether you will come.")])
        found.append((locale, Variant(number, text[:4000],
                                      answer_markup(t, event.id).to_json())))
    return found


INVITATION = N_("📩 <b>Invitation</b>")
REMINDER = N_("⏰ <b>Reminder: tomorrow</b>")
CANCELLED = N_("🚫 <b>Cancelled</b>: this meeting will not take place. Sorry for the change.")


def cancellation_variants(catalog: Catalog, event: Event, unit: str,
                          tz: tzinfo) -> list[tuple[str, Variant]]:
    """The cancellation each invitee gets in her language (no buttons: nothing to answer)."""
    found = []
    for number, locale in enumerate(SUPPORTED_LOCALES):
        t = translator(locale)
        text = "\n".join([t._(CANCELLED), "", *details(t, catalog, event, unit=unit, tz=tz)])
        found.append((locale, Variant(number, text[:4000])))
    return found


async def cancel(state: AppState, event: Event, *, by: int) -> bool:
    """Cancel an event: no reminder, no check-in, no figure; those who said yes or did not
    answer are told through the outbox. False if it was cancelled already."""
    db, catalog = state.db, state.catalog
    assert db is not None and catalog is not None
    unit = await orgtree.unit_path(db, event.unit_id)
    done = await meetings.cancel(
        db, event, cancellation_variants(catalog, event, unit, state.settings.timezone),
        now=to_iso(state.clock.now()), by=by,
        sender_member=await sender_member(db, by))
    if done and state.delivery is not None:
        state.delivery.wake()
    return done


def invitation_render(catalog: Catalog, new: NewEvent, unit: str, tz: tzinfo,
                      created_at: str, *, by: Inviter | None = None) -> meetings.Render:
    """The invitation of an event being created, once its id is known."""
    def render(event_id: int) -> list[tuple[str, Variant]]:
        event = Event(event_id, new.unit_id, new.kind, new.title, new.place, new.agenda,
                      new.audience, new.starts_at, new.day, new.opens_at, new.closes_at,
                      new.remind_at, None, new.code, new.created_by, created_at)
        return _variants(catalog, event, unit, tz, INVITATION, by=by)

    return render


async def sender_member(db: Database, user_id: int) -> int | None:
    """The member id of whoever creates an event (her own invitation is not sent to her)."""
    member = await members.by_user(db, user_id)
    return member.id if member else None


async def tick(state: AppState) -> int:
    """Queue every evening-before reminder that is due (exactly once); how many were queued."""
    db, catalog = state.db, state.catalog
    assert db is not None and catalog is not None
    now = to_iso(state.clock.now())
    queued = 0
    for event in await meetings.due_reminders(db, now=now):
        unit = await orgtree.unit_path(db, event.unit_id)
        variants = _variants(catalog, event, unit, state.settings.timezone, REMINDER)
        broadcast = await meetings.queue_reminder(
            db, event, variants, now=now, sender_member=await sender_member(db, event.created_by))
        if broadcast is not None:
            queued += 1
            log.info("meeting #%d: reminder queued as broadcast #%d", event.id, broadcast)
    if queued and state.delivery is not None:
        state.delivery.wake()
    return queued


# --- check-in --------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class CheckIn:
    """What a code did: 'recorded', 'already', 'early', 'late', 'other_unit', 'not_invited',
    'cancelled', 'unknown' (forged or mistyped)."""

    outcome: str
    event: Event | None = None
    at: str | None = None  # when she was recorded (now or before)


def code_of(text: str) -> str | None:
    """The code in 'dd-<code>', 'start dd-<code>' or '/start dd-<code>' (None: not one)."""
    words = text.strip().split()
    word = words[-1] if words and len(words) <= 2 else ""
    if not word.lower().startswith(CODE_PREFIX) or not 4 <= len(word) - 3 <= 40:
        return None
    code = word[3:]
    return code if all(c.isascii() and (c.isalnum() or c in "-_") for c in code) else None


async def check_in(db: Database, code: str, *, member_id: int, member_unit: int | None,
                   now: datetime) -> CheckIn:
    """Record her attendance by an event's code, if the window is open and she is invited."""
    event = await meetings.by_code(db, code)
    if event is None:
        return CheckIn("unknown")
    if event.cancelled_at is not None:
        return CheckIn("cancelled", event)
    stamp = to_iso(now)
    if stamp < event.opens_at:
        return CheckIn("early", event)
    if stamp >= event.closes_at:
        return CheckIn("late", event)
    result = await meetings.check_in(db, event.id, member_id, at=stamp)
    if result is not None:
        recorded, at = result
        return CheckIn("recorded" if recorded else "already", event, at)
    inside = await _within(db, member_unit, event.unit_id)
    return CheckIn("not_invited" if inside else "other_unit", event)


async def _within(db: Database, unit_id: int | None, root: int) -> bool:
    """Whether a unit is `root` or below it."""
    by_id = await orgtree.units_by_id(db)
    for _ in range(64):
        if unit_id is None:
            return False
        if unit_id == root:
            return True
        unit = by_id.get(unit_id)
        unit_id = unit.parent_id if unit else None
    return False


def period_of(year: int) -> tuple[date, date]:
    """A calendar year as the local dates it spans."""
    return date(year, 1, 1), date(year, 12, 31)
