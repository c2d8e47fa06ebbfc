#!/usr/bin/env python
"""The Sunday reminder and the heads' summaries at district scale; chapter counts at volume.

Builds a temp-dir SQLite file shaped like Hoàng Mai (14 wards × 18 chapters, 33,740 members,
a head per chapter, 5% English-speaking, 2% opted out of reminders, two wards with their own
reminder text) and `--reports` activity reports over two years (default 1,000,000; about 60%
of members took part in each of the last two Sundays), then times:

1. the 06:30 tick that enqueues the Sunday reminder (one broadcast, one delivery row per
   member in one INSERT … SELECT, variants per text scope and language) — aim: under 2 s;
2. the 20:00 tick that enqueues each chapter head's summary (~250 variants), and the next
   Sunday's reminder, which looks up who is new to it (gets the introduction);
3. an idle tick (what runs every minute), the first claim of 500 deliveries with their
   variants, and the start-up "codes in use" check;
4. a chapter's week and month (/chapter: totals per type + who reported what) for every
   chapter, a ward's month, and one chapter's live summary page.

    python bench/reminders.py [--members N] [--reports N] [--smoke]

``--smoke``: 300 members and 2,000 reports, seconds long (the test suite runs it).

The last line printed is JSON.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import sys
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.district import build_tree
from bot import reminders as scheduler
from bot.catalog import check_stored_codes, load
from bot.clock import ManualClock
from bot.context import AppState
from bot.settings import Settings
from storage import activities, deliveries, reminders, roles
from storage import members as storage_members
from storage.db import Database, to_iso
from storage.members import NewMember

AT = "2026-01-10T02:00:00Z"
SUNDAY = date(2026, 3, 29)
SUNDAY_0630 = datetime(2026, 3, 28, 23, 30, tzinfo=UTC)  # 06:30 in Hà Nội
SUNDAY_2000 = datetime(2026, 3, 29, 13, 0, tzinfo=UTC)


async def build(db: Database, members: int, reports: int) -> tuple[list[int], list[int]]:
    """Units, members, heads, opt-outs, texts and reports through storage/: (wards, chapters)."""
    rng = random.Random(2026)
    codes = [a.code for a in load().activities]
    tree = await build_tree(db)
    wards, chapters = tree.wards, tree.chapters
    people = [(100_000 + i, chapters[i % len(chapters)], "en" if rng.random() < 0.05 else "vi",
               "stopped" if rng.random() < 0.01 else "active") for i in range(1, members + 1)]
    ids = await storage_members.insert_many(db, (
        NewMember(telegram_user_id=user, chat_id=user, full_name=f"Nguyễn Thị Hội Viên {user}",
                  phone=None, unit_id=chapter, locale=locale)
        for user, chapter, locale, _status in people), at=AT)
    unit_of = {member_id: p[1] for member_id, p in zip(ids, people, strict=True)}
    for member_id, p in zip(ids, people, strict=True):
        if p[3] != "active":
            await storage_members.set_status(db, member_id, p[3])
    for member_id in ids[: len(chapters)]:  # the first member of each chapter is its head
        await roles.grant(db, member_id, "chapter_head", unit_of[member_id])
    for member_id in ids:
        if rng.random() < 0.02:
            await reminders.set_opted_out(db, member_id, True, at=AT)
    for ward in wards[:2]:
        await reminders.set_text(db, 1, ward, "Phường em tập trung ở nhà văn hoá lúc 6:45",
                                 by=1, at=AT)
    rows: set[tuple[int, str, str]] = set()
    for sunday, share in ((SUNDAY, 0.6), (SUNDAY - timedelta(days=7), 0.55)):
        rows |= {(member_id, "sunday_environment", sunday.isoformat())
                 for member_id in ids if rng.random() < share}
    first = SUNDAY - timedelta(days=730)
    while len(rows) < reports:
        member_id = ids[rng.randrange(len(ids))]
        day = first + timedelta(days=rng.randrange(730))
        rows.add((member_id, rng.choice(codes), day.isoformat()))
    batch: list[activities.NewReport] = []
    for member_id, code, day in rows:
        quantity = round(rng.uniform(0.5, 20), 1) if code == "waste_to_money" else None
        batch.append(activities.NewReport(member_id, unit_of[member_id], code, day, quantity))
        if len(batch) == 50_000:
            await activities.add_many(db, batch, at=AT)
            batch = []
    await activities.add_many(db, batch, at=AT)
    await db.conn.execute("ANALYZE")
    return wards, chapters


async def timed(label: str, results: dict[str, float], factory, repeat: int = 1) -> object:
    start = time.perf_counter()
    value = None
    for _ in range(repeat):
        value = await factory()
    elapsed = (time.perf_counter() - start) * 1000 / repeat
    results[label] = round(elapsed, 2)
    print(f"{label:<58} {elapsed:10.2f} ms")
    return value


async def main(members: int, reports: int) -> None:
    with tempfile.TemporaryDirectory() as folder:
        db = await Database.connect(Path(folder) / "bench.sqlite3")
        start = time.perf_counter()
        wards, chapters = await build(db, members, reports)
        count = (await db.fetchone("SELECT count(*) FROM activity_reports"))[0]  # type: ignore[index]
        print(f"built {members} members, {len(chapters)} chapters, {count} reports in "
              f"{time.perf_counter() - start:.1f} s")
        clock = ManualClock(SUNDAY_0630 - timedelta(hours=1))
        state = AppState(settings=Settings(database=Path(folder) / "bench.sqlite3"), db=db,
                         clock=clock, catalog=load())
        results: dict[str, float] = {}
        await scheduler.tick(state)  # the first run after installing
        clock.advance(60)
        await timed("idle tick (nothing due; runs every minute)", results,
                    lambda: scheduler.tick(state), repeat=20)
        clock.advance(3600)
        [reminder] = await timed("06:30 tick: enqueue the Sunday reminder", results,
                                 lambda: scheduler.tick(state))  # type: ignore[misc]
        first_claim = await timed("claim the first 500 deliveries (with variants)", results,
                                  lambda: deliveries.claim(db, reminder.broadcast_id, after_id=0,
                                                           now=to_iso(clock.now()), limit=500))
        clock.advance((SUNDAY_2000 - clock.now()).total_seconds())
        [summary] = await timed("20:00 tick: enqueue the heads' summaries", results,
                                lambda: scheduler.tick(state))  # type: ignore[misc]
        longest = (await db.fetchone(
            "SELECT max(length(text_html)) FROM broadcast_variants WHERE broadcast_id = ?",
            (summary.broadcast_id,)))[0]  # type: ignore[index]
        await timed("start: activity codes in use", results,
                    lambda: check_stored_codes(db, state.catalog))  # type: ignore[arg-type]
        week = (SUNDAY - timedelta(days=6)).isoformat(), SUNDAY.isoformat()
        month = SUNDAY.replace(day=1).isoformat(), SUNDAY.isoformat()

        async def every_chapter(first: str, last: str) -> int:
            total = 0
            for chapter in chapters:
                total += len(await activities.in_subtree(db, chapter, first, last))
                await activities.totals(db, chapter, first, last)
                await activities.members_in_subtree(db, chapter)
            return total

        in_weeks = await timed(f"/chapter week, each of {len(chapters)} chapters (all)", results,
                               lambda: every_chapter(*week))
        in_months = await timed(f"/chapter month, each of {len(chapters)} chapters (all)",
                                results, lambda: every_chapter(*month))
        await timed("a ward's month: totals per type", results,
                    lambda: activities.totals(db, wards[0], *month), repeat=5)
        await timed("one chapter's live summary page (ens: press)", results,
                    lambda: scheduler.chapter_summary(db, chapters[0], SUNDAY), repeat=5)
        runs = await reminders.runs_since(db, SUNDAY.isoformat())
        # A week later everyone got last Sunday's: the newcomer check finds nobody new.
        await db.execute("UPDATE deliveries SET status = 'sent' WHERE broadcast_id = ?",
                         (reminder.broadcast_id,))  # type: ignore[attr-defined]
        clock.advance((SUNDAY_0630 + timedelta(days=7) - clock.now()).total_seconds())
        later = await timed("06:30 tick a week later (who is new to the reminder?)", results,
                            lambda: scheduler.tick(state))
        introduced = (await db.fetchone(
            "SELECT count(*) FROM deliveries d JOIN broadcast_variants v"
            " ON v.broadcast_id = d.broadcast_id AND v.variant = d.variant"
            " WHERE d.broadcast_id = ? AND v.text_html LIKE '%ℹ️%'",
            (next(o.broadcast_id for o in later if o.broadcast_id),)))[0]  # type: ignore[index,union-attr,attr-defined]
        await db.close()
    figures = {
        "members": members,
        "chapters": len(chapters),
        "reports": count,
        "reminder_recipients": reminder.recipients,  # type: ignore[attr-defined]
        "summary_recipients": summary.recipients,  # type: ignore[attr-defined]
        "longest_summary_chars": longest,
        "first_claim": len(first_claim),  # type: ignore[arg-type]
        "reports_in_chapter_weeks": in_weeks,
        "reports_in_chapter_months": in_months,
        "runs": sorted(r.status for r in runs.values()),
        "introduced_a_week_later": introduced,
        "ms": results,
    }
    print(json.dumps(figures, ensure_ascii=False, default=str))


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--members", type=int, default=33_740)
    parser.add_argument("--reports", type=int, default=1_000_000)
    parser.add_argument("--smoke", action="store_true", help="tiny sizes, seconds long")
    args = parser.parse_args()
    if args.smoke:
        args.members, args.reports = 300, 2_000
    asyncio.run(main(args.members, args.reports))
