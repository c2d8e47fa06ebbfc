"""The reminder scheduler: turns due schedule occurrences into broadcasts, exactly once.

`tick(state)` runs every minute in the background (PTB's JobQueue; tests call it with a
controlled clock). For each switched-on schedule it looks at the occurrences of the last
`LOOKBACK_DAYS` days in BOT_TIMEZONE (weekday by Python's `date.weekday()`, 0 = Monday):

- not recorded yet and due at most BOT_REMINDER_GRACE_HOURS ago → its broadcast is created
  (storage `reminders.enqueue`: run row, broadcast with a unique draft_key, deliveries, in one
  transaction), so a restart at any moment never sends it twice, and a bot that was down at
  06:30 and is back within the grace window still sends that day's reminder;
- due longer ago → recorded as skipped and logged; on a pause date → recorded as paused.

Members' reminders go to the active members of the schedule's scope who did not opt out, in
their language, with the text of the most specific unit that has one (a ward's text overrides
the district's), else the built-in text; the environment-day reminder carries the one-tap
"✅ I took part" button for that day. The summary schedule sends each chapter head how many of
her members took part on the latest environment day, the names and the change from last week.
"""

from __future__ import annotations

import functools
import html
import logging
import re
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime, time, timedelta, tzinfo

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from bot import callbacks
from bot.catalog import Catalog
from bot.context import AppState
from bot.i18n import N_, Translator, nfc, sort_key, translator
from bot.settings import SUPPORTED_LOCALES
from bot.when import parse_time  # noqa: F401  (re-exported: callers read it here)
from storage import activities, reminders, units
from storage.db import Database, to_iso
from storage.deliveries import SYSTEM_SENDER, NewBroadcast, Variant
from storage.reminders import ENVIRONMENT, HEADS_UP, SUMMARY, Pause, Schedule

log = logging.getLogger(__name__)

ENVIRONMENT_ACTIVITY = "sunday_environment"  # the catalog code the one-tap button records
BUTTON_PREFIX = "env"  # env:<yyyymmdd>
SUMMARY_PREFIX = "ens"  # ens:<unit id>:<yyyymmdd>:<page>
BUTTON_DAYS = 7  # the button records for its day until the same weekday a week later
LOOKBACK_DAYS = 7
TICK_SLACK = timedelta(minutes=2)  # the tick runs every minute
TEXT_LIMIT = 4096  # Telegram's limit for a message text
NAMES_PER_PAGE = 30  # 30 names of up to 100 characters stay under 4,096

WEEKDAYS = (N_("Monday"), N_("Tuesday"), N_("Wednesday"), N_("Thursday"), N_("Friday"),
            N_("Saturday"), N_("Sunday"))
KIND_LABELS = {
    ENVIRONMENT: N_("Environment-day reminder"),
    HEADS_UP: N_("Heads-up the day before"),
    SUMMARY: N_("Weekly summary"),
}
DEFAULT_TEXTS = {
    ENVIRONMENT: N_("🌿 <b>Today, {day}, is environment day!</b>\nLet us clean our "
                    "streets and lanes together this morning. When you have taken part, tap "
                    "the button below."),
    HEADS_UP: N_("🌿 Tomorrow, {day}, is environment day. See you in the morning to "
                 "clean our streets and lanes together!"),
}
"""The standard texts; {day} is the weekday and date of the environment day itself, so a
schedule moved to another weekday never says "Sunday"."""


def default_text(t: Translator, kind: str, environment_day: date) -> str:
    """The standard text of a reminder about `environment_day` (today's, or tomorrow's for
    the heads-up)."""
    day = t._("{weekday} {date}", weekday=t._(WEEKDAYS[environment_day.weekday()]),
              date=t.date(environment_day))
    return t._(DEFAULT_TEXTS[kind], day=day)
BUTTON_LABEL = N_("✅ I took part")
INTRODUCTION = N_("ℹ️ <b>What is environment day?</b> {description}")
"""Added, from the catalog, to the first environment-day reminder a member gets."""


def introduction(t: Translator, catalog: Catalog | None) -> str | None:
    """What the environment day is and what members do on it, in the catalog's words (its
    activity's description; not its label, which may name a weekday the schedule has left);
    None when the catalog has no such activity."""
    entry = catalog.find("activities", ENVIRONMENT_ACTIVITY) if catalog is not None else None
    if entry is None or not entry.description(t.locale):
        return None
    return t._(INTRODUCTION, description=html.escape(entry.description(t.locale)))


@dataclass(frozen=True, slots=True)
class Occurrence:
    """One schedule on one local date, due at an instant."""

    schedule: Schedule
    day: date
    due: datetime


@dataclass(frozen=True, slots=True)
class Outcome:
    """What a tick did with one occurrence."""

    schedule_code: str
    day: date
    status: str
    broadcast_id: int | None = None
    recipients: int = 0


@dataclass(frozen=True, slots=True)
class Summary:
    """A chapter's participation on an environment day."""

    unit_id: int
    unit_name: str
    day: date
    members: int
    took_part: int
    previous: int  # the same weekday a week earlier
    names: tuple[str, ...]  # in Vietnamese order of given names


# --- dates and times -------------------------------------------------------------------------


def _clock_time(local_time: str) -> time:
    hour, minute = local_time.split(":")
    return time(int(hour), int(minute))


def button_data(day: date) -> str:
    """The one-tap button's callback data for an environment day."""
    return callbacks.encode(BUTTON_PREFIX, day.strftime("%Y%m%d"))


def parse_day(arg: str | None) -> date | None:
    """A 'yyyymmdd' argument of a button as a date."""
    if arg is None or not re.fullmatch(r"\d{8}", arg):
        return None
    try:
        return datetime.strptime(arg, "%Y%m%d").date()
    except ValueError:
        return None


def button_open(day: date, today: date) -> bool:
    """Whether the one-tap button of `day` still records: from that day to a week later."""
    return 0 <= (today - day).days <= BUTTON_DAYS


def latest_weekday(day: date, weekday: int) -> date:
    """The latest date on or before `day` that falls on `weekday` (0 = Monday)."""
    return day - timedelta(days=(day.weekday() - weekday) % 7)


def occurrences(schedule: Schedule, now: datetime, tz: tzinfo) -> list[Occurrence]:
    """The schedule's occurrences due by `now` in the last LOOKBACK_DAYS days, oldest first."""
    today = now.astimezone(tz).date()
    since = datetime.fromisoformat(schedule.active_since or "2000-01-01T00:00:00Z")
    found = []
    for back in range(LOOKBACK_DAYS, -1, -1):
        day = today - timedelta(days=back)
        if day.weekday() != schedule.weekday:
            continue
        due = datetime.combine(day, _clock_time(schedule.local_time), tzinfo=tz)
        if since <= due <= now:
            found.append(Occurrence(schedule, day, due))
    return found


def next_due(schedule: Schedule, now: datetime, tz: tzinfo, pauses: list[Pause]) -> datetime:
    """When the schedule sends next (skipping pause dates), as a local datetime."""
    local = now.astimezone(tz)
    since = datetime.fromisoformat(schedule.active_since or "2000-01-01T00:00:00Z")
    for ahead in range(0, 7 * 60):
        day = local.date() + timedelta(days=ahead)
        if day.weekday() != schedule.weekday or is_paused(schedule.id, day, pauses):
            continue
        due = datetime.combine(day, _clock_time(schedule.local_time), tzinfo=tz)
        if due > now and due >= since:
            return due
    return datetime.combine(local.date(), _clock_time(schedule.local_time), tzinfo=tz)


def is_paused(schedule_id: int, day: date, pauses: list[Pause]) -> bool:
    """Whether a pause of this schedule covers the local date."""
    text = day.isoformat()
    return any(p.schedule_id == schedule_id and p.first_day <= text <= p.last_day
               for p in pauses)


# --- the tick --------------------------------------------------------------------------------


async def tick(state: AppState) -> list[Outcome]:
    """Create every due reminder once; record (and log) skipped and paused occurrences."""
    db = state.db
    assert db is not None and state.catalog is not None
    now = state.clock.now()
    tz = state.settings.timezone
    grace = timedelta(hours=state.settings.reminder_grace_hours) + TICK_SLACK
    active = [s for s in await reminders.schedules(db) if s.enabled]
    if any(s.active_since is None for s in active):
        # The first run after installing: catch up within the grace window, no further back.
        since = to_iso(now - grace)
        await reminders.begin(db, [s.id for s in active if s.active_since is None], since)
        active = [s if s.active_since else replace(s, active_since=since) for s in active]
    due = [o for s in active for o in occurrences(s, now, tz)]
    if not due:
        return []
    first = min(o.day for o in due).isoformat()
    done = await reminders.runs_since(db, first)
    pending = [o for o in due if (o.schedule.id, o.day.isoformat()) not in done]
    if not pending:
        return []
    pauses = await reminders.pauses(db, from_day=first)
    outcomes = []
    for occurrence in pending:
        schedule, day = occurrence.schedule, occurrence.day.isoformat()
        if is_paused(schedule.id, occurrence.day, pauses):
            if await reminders.record(db, schedule.id, day, reminders.PAUSED,
                                      due_at=to_iso(occurrence.due), at=to_iso(now)):
                log.info("reminder %s of %s not sent: paused", schedule.code, day)
            outcomes.append(Outcome(schedule.code, occurrence.day, reminders.PAUSED))
        elif now - occurrence.due > grace:
            if await reminders.record(db, schedule.id, day, reminders.SKIPPED,
                                      due_at=to_iso(occurrence.due), at=to_iso(now)):
                log.warning("reminder %s of %s skipped: it was due at %s and the bot was not "
                            "running until %s, past the grace window of %s h", schedule.code,
                            day, occurrence.due.isoformat(timespec="minutes"),
                            now.astimezone(tz).isoformat(timespec="minutes"),
                            state.settings.reminder_grace_hours)
            outcomes.append(Outcome(schedule.code, occurrence.day, reminders.SKIPPED))
        else:
            outcomes.append(await _send(state, occurrence, active))
    if any(o.broadcast_id for o in outcomes) and state.delivery is not None:
        state.delivery.wake()
    return outcomes


async def _send(state: AppState, occurrence: Occurrence, active: list[Schedule]) -> Outcome:
    db = state.db
    assert db is not None and state.catalog is not None
    schedule = occurrence.schedule
    if schedule.kind == SUMMARY:
        environment = next((s for s in active if s.kind == ENVIRONMENT), None)
        weekday = environment.weekday if environment else schedule.weekday
        made = await enqueue_summaries(db, state.catalog, schedule, occurrence,
                                       latest_weekday(occurrence.day, weekday),
                                       now=state.clock.now())
    else:
        made = await enqueue_reminder(db, schedule, occurrence, now=state.clock.now(),
                                      catalog=state.catalog)
    if made is None:  # recorded meanwhile by another tick
        return Outcome(schedule.code, occurrence.day, reminders.SENT)
    broadcast_id, total = made
    log.info("reminder %s of %s queued as broadcast #%d for %d recipients", schedule.code,
             occurrence.day.isoformat(), broadcast_id, total)
    return Outcome(schedule.code, occurrence.day, reminders.SENT, broadcast_id, total)


def _scope(tree: list[units.Unit], root: int | None) -> list[units.Unit]:
    """The units of `root`'s subtree (all for None), parents before children."""
    if root is None:
        return tree
    children: dict[int | None, list[units.Unit]] = defaultdict(list)
    for unit in tree:
        children[unit.parent_id].append(unit)
    found, stack = [], [u for u in tree if u.id == root]
    while stack:
        unit = stack.pop()
        found.append(unit)
        stack.extend(children[unit.id])
    return found


async def enqueue_reminder(
    db: Database, schedule: Schedule, occurrence: Occurrence, *, now: datetime,
    catalog: Catalog | None = None,
) -> tuple[int, int] | None:
    """Members' reminder for one occurrence: one variant per (text scope, language); for the
    environment day a second set, with the catalog's introduction, for members who never got
    one before."""
    tree = [unit for unit, _depth in await units.tree(db)]
    scope = _scope(tree, schedule.unit_id)
    if not scope:
        return None
    texts = {text.unit_id: text.text_html for text in await reminders.texts(db, schedule.id)}
    by_id = {u.id: u for u in tree}
    # The most specific unit with a text, for every unit of the scope (None: the default).
    source: dict[int, int | None] = {}
    for unit in scope:
        walk: units.Unit | None = unit
        while walk is not None and walk.id not in texts:
            walk = by_id.get(walk.parent_id or 0) if walk.id != schedule.unit_id else None
        source[unit.id] = walk.id if walk is not None else None
    sources = sorted({s for s in source.values() if s is not None})
    index: dict[int | None, int] = {s: i + 1 for i, s in enumerate(sources)}  # 0: default text
    locales = SUPPORTED_LOCALES
    # The heads-up speaks of tomorrow; the environment-day reminder of today.
    day = occurrence.day + timedelta(days=1 if schedule.kind == HEADS_UP else 0)
    variants, introduced = [], []
    shift = (len(sources) + 1) * len(locales) if schedule.kind == ENVIRONMENT else None
    for number, scope_unit in [(0, None), *((index[s], s) for s in sources)]:
        for offset, locale in enumerate(locales):
            t = translator(locale)
            text = texts.get(scope_unit) or default_text(t, schedule.kind, day)
            variant = number * len(locales) + offset
            if shift is None:
                variants.append(Variant(variant, text))
                continue
            markup = InlineKeyboardMarkup([[InlineKeyboardButton(
                t._(BUTTON_LABEL), callback_data=button_data(occurrence.day))]]).to_json()
            variants.append(Variant(variant, text, markup))
            introduced.append(Variant(variant + shift, _introduced(t, text, catalog), markup))
    variants += introduced
    unit_map = [
        (unit.id, locale, index.get(source[unit.id], 0) * len(locales) + offset)
        for unit in scope for offset, locale in enumerate(locales)
    ]
    new = NewBroadcast(
        draft_key=f"reminder:{schedule.id}:{occurrence.day.isoformat()}",
        created_by=SYSTEM_SENDER, sender_chat_id=SYSTEM_SENDER, unit_id=scope[0].id,
        audience=schedule.code, text_html=variants[0].text_html, photo_file_id=None,
        scheduled_at=to_iso(occurrence.due), kind="reminder",
    )
    return await reminders.enqueue(db, schedule.id, occurrence.day.isoformat(), new, variants,
                                   due_at=to_iso(occurrence.due), at=to_iso(now),
                                   unit_map=unit_map, first_time_shift=shift)


def _introduced(t: Translator, text: str, catalog: Catalog | None) -> str:
    """The text for a member's first environment day: the reminder and the introduction."""
    intro = introduction(t, catalog)
    if intro and len(text) + len(intro) + 2 <= TEXT_LIMIT:
        return f"{text}\n\n{intro}"
    return text


# --- the heads' summaries --------------------------------------------------------------------


async def enqueue_summaries(
    db: Database, catalog: Catalog, schedule: Schedule, occurrence: Occurrence, day: date, *,
    now: datetime,
) -> tuple[int, int] | None:
    """Each active chapter head's summary of `day`, one variant per head, in a few queries."""
    heads = await reminders.heads(db)
    tree = [unit for unit, _depth in await units.tree(db)]
    if not tree:
        return None
    children: dict[int | None, list[int]] = defaultdict(list)
    for unit in tree:
        children[unit.parent_id].append(unit.id)
    by_id = {u.id: u for u in tree}
    members = await activities.members_by_unit(db)
    took = await activities.counts_by_unit(db, ENVIRONMENT_ACTIVITY, day.isoformat())
    before = await activities.counts_by_unit(
        db, ENVIRONMENT_ACTIVITY, (day - timedelta(days=7)).isoformat())
    names: dict[int, list[str]] = defaultdict(list)
    for unit_id, _member, full_name in await activities.participants(
            db, ENVIRONMENT_ACTIVITY, day.isoformat()):
        names[unit_id].append(full_name)
    summaries: dict[int, Summary] = {}

    def summary(unit_id: int) -> Summary:
        if unit_id not in summaries:
            subtree, stack = [], [unit_id]
            while stack:
                current = stack.pop()
                subtree.append(current)
                stack.extend(children[current])
            summaries[unit_id] = Summary(
                unit_id, by_id[unit_id].name, day,
                sum(members.get(u, 0) for u in subtree), sum(took.get(u, 0) for u in subtree),
                sum(before.get(u, 0) for u in subtree),
                tuple(sorted((n for u in subtree for n in names[u]), key=_given_name_key)))
        return summaries[unit_id]

    grants: dict[int, list[int]] = defaultdict(list)
    locale_of: dict[int, str] = {}
    for head in heads:
        if head.unit_id in by_id and summary(head.unit_id).members:
            grants[head.member_id].append(head.unit_id)
            locale_of[head.member_id] = head.locale
    variants, recipients = [], []
    for number, (member_id, unit_ids) in enumerate(sorted(grants.items())):
        t = translator(locale_of[member_id])
        others = [(u, by_id[u].name) for u in unit_ids[1:]]
        text, markup = summary_view(t, catalog, summary(unit_ids[0]), 0, others)
        variants.append(Variant(number, text, markup.to_json() if markup else None))
        recipients.append((member_id, number))
    new = NewBroadcast(
        draft_key=f"reminder:{schedule.id}:{occurrence.day.isoformat()}",
        created_by=SYSTEM_SENDER, sender_chat_id=SYSTEM_SENDER, unit_id=tree[0].id,
        audience=schedule.code, text_html=variants[0].text_html if variants else "",
        photo_file_id=None, scheduled_at=to_iso(occurrence.due), kind="summary",
    )
    return await reminders.enqueue(db, schedule.id, occurrence.day.isoformat(), new, variants,
                                   due_at=to_iso(occurrence.due), at=to_iso(now),
                                   recipients=recipients)


async def chapter_summary(db: Database, unit_id: int, day: date) -> Summary | None:
    """One chapter's participation now (for paging through a summary's names)."""
    unit = await units.get(db, unit_id)
    if unit is None:
        return None
    lines = await activities.in_subtree(db, unit_id, day.isoformat(), day.isoformat())
    previous = (day - timedelta(days=7)).isoformat()
    before = await activities.in_subtree(db, unit_id, previous, previous)
    took = sorted({line.report.member_id: line.full_name for line in lines
                   if line.report.activity_code == ENVIRONMENT_ACTIVITY}.values(),
                  key=_given_name_key)
    return Summary(unit.id, unit.name, day, await activities.members_in_subtree(db, unit_id),
                   len(took), len({line.report.member_id for line in before
                                   if line.report.activity_code == ENVIRONMENT_ACTIVITY}),
                   tuple(took))


def summary_view(
    t: Translator, catalog: Catalog, summary: Summary, page: int,
    others: Sequence[tuple[int, str]] = (),
) -> tuple[str, InlineKeyboardMarkup | None]:
    """The summary message: N of M took part, the change from last week, one page of names."""
    entry = catalog.find("activities", ENVIRONMENT_ACTIVITY)
    activity = entry.label(t.locale) if entry else ENVIRONMENT_ACTIVITY
    previous_day = t.date(summary.day - timedelta(days=7))
    lines = [
        t._("🌿 <b>{activity}, {date}</b>", activity=html.escape(activity),
            date=t.date(summary.day)),
        t.n_("<b>{unit}</b>: {took} of {n} member took part.",
             "<b>{unit}</b>: {took} of {n} members took part.", summary.members,
             unit=html.escape(summary.unit_name), took=t.number(summary.took_part)),
    ]
    change = summary.took_part - summary.previous
    if change > 0:
        lines.append(t._("▲ {n} more than last week ({previous} on {date}).",
                         n=t.number(change), previous=t.number(summary.previous),
                         date=previous_day))
    elif change < 0:
        lines.append(t._("▼ {n} fewer than last week ({previous} on {date}).",
                         n=t.number(-change), previous=t.number(summary.previous),
                         date=previous_day))
    else:
        lines.append(t._("The same as last week ({date}).", date=previous_day))
    pages = max(1, -(-len(summary.names) // NAMES_PER_PAGE))
    page = min(max(page, 0), pages - 1)
    if summary.names:
        lines += ["", t._("<b>Who took part:</b>")]
        start = page * NAMES_PER_PAGE
        lines += [f"{start + i + 1}. {html.escape(name)}"
                  for i, name in enumerate(summary.names[start:start + NAMES_PER_PAGE])]
        if pages > 1:
            lines.append(t._("Page {page} of {pages}.", page=page + 1, pages=pages))
    else:
        lines += ["", t._("Nobody has reported taking part yet.")]
    rows = []
    stamp = summary.day.strftime("%Y%m%d")
    if pages > 1:
        nav = []
        if page > 0:
            nav.append(InlineKeyboardButton("◀", callback_data=callbacks.encode(
                SUMMARY_PREFIX, summary.unit_id, stamp, page - 1)))
        nav.append(InlineKeyboardButton(f"{page + 1}/{pages}", callback_data=callbacks.encode(
            SUMMARY_PREFIX, summary.unit_id, stamp, page)))
        if page < pages - 1:
            nav.append(InlineKeyboardButton("▶", callback_data=callbacks.encode(
                SUMMARY_PREFIX, summary.unit_id, stamp, page + 1)))
        rows.append(nav)
    for unit_id, name in others:
        rows.append([InlineKeyboardButton(f"➡ {name}"[:60], callback_data=callbacks.encode(
            SUMMARY_PREFIX, unit_id, stamp, 0))])
    return "\n".join(lines), InlineKeyboardMarkup(rows) if rows else None


def _given_name_key(name: str) -> tuple[object, ...]:
    """Vietnamese lists are ordered by given name (the last word), then the full name."""
    words = name.split()
    return name_key(words[-1] if words else ""), name_key(name)


_PARTS = re.compile(r"\d+|\D")


@functools.cache
def _letter_key(part: str) -> tuple[int, int | str, int]:
    return sort_key(part)[0]


def name_key(text: str) -> tuple[tuple[int, int | str, int], ...]:
    """`bot.i18n.sort_key`, with each letter's key computed once (summaries sort 20,000 names)."""
    return tuple((0, int(part), 0) if part.isdigit() else _letter_key(part)
                 for part in _PARTS.findall(nfc(text).casefold()))
