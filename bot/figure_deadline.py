"""The monthly reporting deadline of unit figures (BOT_FIGURES_DEADLINE_DAY, default the 20th).

A month's figures are due by that day of the month (local time). A chapter has reported when
it, or a unit above it, entered at least one figure for the month (a ward that reports for its
chapters covers them). After the deadline every chapter that has not reported gets ONE
reminder, to the people holding a role on it, through the delivery outbox (paced, resumed after
a restart; the reminder is noted in the same transaction, so it is never sent twice); the
officer above sees the late units in /figures.
"""

from __future__ import annotations

import html
import secrets
from collections.abc import Mapping
from datetime import date

from bot import indicators, orgtree
from bot.context import AppState
from bot.i18n import translator
from storage import deliveries, figures, members
from storage.db import Database, to_iso
from storage.deliveries import SYSTEM_SENDER, NewBroadcast
from storage.units import Unit

KIND = "figures_deadline"


def due_month(today: date) -> str:
    """The month whose figures are due this month ('YYYY-MM')."""
    return indicators.month_key(today.year, today.month)


def deadline(month: str, day: int) -> date:
    """The last day to report a month's figures."""
    return date(int(month[:4]), int(month[5:7]), day)


async def late_units(db: Database, scope_id: int | None, month: str) -> list[Unit]:
    """The chapters of a scope that have not reported for a month (by tree order)."""
    by_id = await orgtree.units_by_id(db)
    wanted = {u.id for u in indicators.chapters(by_id, indicators.subtree(by_id, scope_id))}
    reported = await figures.units_reported(db, month)
    return [unit for unit, _depth in await orgtree.sorted_tree(db, scope_id)
            if unit.id in wanted and not _covered(unit, by_id, reported)]


def _covered(unit: Unit, by_id: Mapping[int, Unit], reported: set[int]) -> bool:
    current: Unit | None = unit
    for _ in range(64):
        if current is None:
            return False
        if current.id in reported:
            return True
        current = by_id.get(current.parent_id) if current.parent_id is not None else None
    return False


async def remind(state: AppState) -> int:
    """After the deadline: one reminder per late chapter to its heads; how many were queued."""
    settings, db = state.settings, state.db
    assert db is not None
    now = state.clock.now()
    today = now.astimezone(settings.timezone).date()
    if today.day <= settings.figures_deadline_day:
        return 0
    month = due_month(today)
    already = await figures.reminded(db, month)
    late = [u for u in await late_units(db, None, month) if u.id not in already]
    heads: dict[int, list[figures.Officer]] = {}
    for officer in await figures.officers(db, [u.id for u in late]):
        heads.setdefault(officer.unit_id, []).append(officer)
    at = to_iso(now)
    due = deadline(month, settings.figures_deadline_day)
    queued = 0
    for unit in late:
        texts = []
        for officer in heads.get(unit.id, []):
            member = await members.get(db, officer.member_id)
            t = translator(officer.locale)
            given = (member.full_name.split() or [""])[-1] if member else ""
            texts.append((officer.member_id, t._(
                "⏰ Dear {name}, the figures of {unit} for {month}/{year} were due on {date}. "
                "Please enter them with /figures.", name=html.escape(given),
                unit=html.escape(unit.name), month=int(month[5:7]), year=int(month[:4]),
                date=t.date(due))))
        if not texts:
            continue
        async with db.transaction() as conn:
            if not await figures.mark_reminded(conn, unit.id, month, at):
                continue
            await deliveries.insert_personal(conn, NewBroadcast(
                draft_key=f"{KIND}:{unit.id}:{month}:{secrets.token_hex(4)}",
                created_by=SYSTEM_SENDER, sender_chat_id=SYSTEM_SENDER, unit_id=unit.id,
                audience=KIND, text_html="", photo_file_id=None, scheduled_at=at, kind=KIND),
                texts, at)
        queued += len(texts)
    if queued and state.delivery is not None:
        state.delivery.wake()
    return queued
