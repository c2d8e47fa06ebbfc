#!/usr/bin/env python
"""Statistics at district scale: /stats, /chart and the full export through the real bot.

Builds a temp-dir SQLite file shaped like Hoàng Mai — 33,740 members in 14 wards and 252
chapters, five years (2022-2026) of standard registrations with their evaluation results,
"5 không, 3 sạch" households with their eight self-assessment answers and decisions,
1,000,000 activity reports (60% on environment-day Sundays, 0.5% of those marked doubtful),
targets for every unit — then runs the real Application on the in-process Bot API and times:

1. `/stats` at district (super-admin), ward (unit admin) and chapter (head) scope: the time
   around `process_update` for the command, p50/p95/max over `--runs` runs each; also the
   children table of the district (a button press);
2. `/chart` at district scope (14 wards against their targets) and at chapter scope (five years);
3. the full district export (.xlsx, every member): from the command to the document sent,
   with the peak memory of the process (ru_maxrss) before and after, and the latency of a
   head's `/stats` while the export is being built (it runs in a worker thread);
4. the export of one chapter (first: it also loads openpyxl, once per process).

    python bench/stats.py [--members N] [--runs N] [--activities N] [--smoke]

``--smoke``: 400 members, 1 run, 3,000 reports, seconds long (the test suite runs it).

The last line printed is JSON.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import math
import os
import platform
import random
import resource
import sys
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.district import WARDS, build_tree  # noqa: E402
from bot import export  # noqa: E402
from bot.app import build_application  # noqa: E402
from bot.catalog import load  # noqa: E402
from bot.channels.telegram_fake import FakeBotAPI  # noqa: E402
from bot.clock import ManualClock  # noqa: E402
from bot.settings import Settings  # noqa: E402
from storage import activities as activity_store  # noqa: E402
from storage import campaigns, members, roles, targets  # noqa: E402
from storage.activities import NewReport  # noqa: E402
from storage.db import Database  # noqa: E402
from storage.members import NewMember  # noqa: E402
from storage.targets import TargetRow  # noqa: E402

CHAPTERS_PER_WARD = 18
YEARS = [2022, 2023, 2024, 2025, 2026]
NOW = datetime(2026, 11, 15, 3, 0, tzinfo=UTC)
ADMIN, WARD_ADMIN, HEAD = 1, 100_000_001, 100_000_002
AT = "2022-01-05T02:00:00Z"


def _iso(year: int, day: int) -> str:
    return f"{year}-{1 + day // 28:02d}-{1 + day % 28:02d}T02:00:00Z"


async def add_members(db: Database, rng: random.Random, count: int,
                      chapters: list[int]) -> list[tuple[Any, ...]]:
    """Chapters of uneven size, joined 2019-2026, a few stopped or unreachable; every one
    agreed to the current consent text (else the bot would ask again first).

    (member id, telegram id, chapter, status, joined) each, in the order drawn."""
    drawn = []
    for _ in range(count):
        chapter = chapters[min(len(chapters) - 1, int(rng.random() ** 1.3 * len(chapters)))]
        joined = rng.choice(range(2019, 2027))
        status = rng.choices(["active", "stopped", "unreachable"], [95, 3, 2])[0]
        drawn.append((chapter, status, _iso(joined, rng.randrange(300))))
    by_day: dict[str, list[int]] = {}
    for index, (_chapter, _status, joined) in enumerate(drawn):
        by_day.setdefault(joined, []).append(index)
    people: list[tuple[Any, ...]] = [()] * count
    for joined, indexes in by_day.items():  # one bulk insert per joining day
        ids = await members.insert_many(db, (
            NewMember(telegram_user_id=200_000_001 + i, chat_id=200_000_001 + i,
                      full_name=f"Hội viên {i + 1}", phone=f"+849{i + 1:08d}",
                      unit_id=drawn[i][0], locale="vi") for i in indexes),
            at=joined, consent=("membership", 1))
        for i, member_id in zip(indexes, ids, strict=True):
            people[i] = (member_id, 200_000_001 + i, *drawn[i])
    for member_id, _user, _chapter, status, _joined in people:
        if status != "active":
            await members.set_status(db, member_id, status)
    return people


async def add_campaigns(db: Database, rng: random.Random, people: list[tuple[Any, ...]],
                        chapters: list[int]) -> dict[str, int]:
    """Five years of both campaigns: registrations, answers, and the evaluation of every past
    year and of the 30% of chapters that already held this year's."""
    criteria = [c.code for c in load().criteria]
    done_now = {chapter for chapter in chapters if rng.random() < 0.3}
    regs = households = answers = 0
    for year in YEARS:
        alive = [(p[0], p[2]) for p in people if p[4] < f"{year + 1}"]
        registering = [p for p in alive if rng.random() < 0.94]
        standard = await campaigns.register_many(db, campaigns.STANDARD, year=year,
                                                 at=_iso(year, 10), rows=registering)
        decided_at = _iso(year, 330)
        evaluated = [1] if year != YEARS[-1] else sorted(done_now)
        for reg_id, (_member, chapter) in zip(standard, registering, strict=True):
            if rng.random() >= 0.95 and (year != YEARS[-1] or chapter in done_now):
                await campaigns.decide(db, campaigns.STANDARD, reg_id, campaigns.NOT_ACHIEVED,
                                       by=ADMIN, at=decided_at)
        family = await campaigns.register_many(
            db, campaigns.FAMILY, year=year, at=_iso(year, 10),
            rows=[p for p in alive if rng.random() < 0.82])
        answers += await campaigns.answer_many(
            db, ((h, code, rng.random() < 0.985) for h in family for code in criteria),
            live_codes=criteria, at=_iso(year, 40))
        for unit in evaluated:  # the rest achieved; households meeting all recognised
            await campaigns.decide_remaining(db, campaigns.STANDARD, year=year, unit_id=unit,
                                             result=campaigns.ACHIEVED, by=ADMIN, at=decided_at)
            await campaigns.decide_remaining(db, campaigns.FAMILY, year=year, unit_id=unit,
                                             result=campaigns.RECOGNISED, by=ADMIN,
                                             at=decided_at)
        regs += len(standard)
        households += len(family)
    return {"standard_registrations": regs, "households": households, "answers": answers}


async def add_reports(db: Database, rng: random.Random, people: list[tuple[Any, ...]],
                      count: int) -> int:
    """Environment days on every Sunday (0.5% marked doubtful), other types on any day."""
    activity_codes = [a.code for a in load().activities if a.code != "sunday_environment"]
    stored = 0
    doubtful: list[NewReport] = []
    per_year = count // len(YEARS)
    for year in YEARS:
        alive = [p for p in people if p[4] < f"{year + 1}"]
        sundays = [d for d in (date(year, 1, 1) + timedelta(days=i) for i in range(366))
                   if d.year == year and d.weekday() == 6 and d <= NOW.date()]
        each = per_year * 6 // 10 // len(sundays)
        reports = []
        for day in sundays:
            for p in rng.sample(alive, min(each, len(alive))):
                report = NewReport(p[0], p[2], "sunday_environment", day.isoformat())
                (doubtful if rng.random() < 0.005 else reports).append(report)
        last = min(date(year, 12, 31), NOW.date())
        span = (last - date(year, 1, 1)).days + 1
        for _ in range(per_year - each * len(sundays)):
            p = alive[rng.randrange(len(alive))]
            code = rng.choice(activity_codes)
            day = date(year, 1, 1) + timedelta(days=rng.randrange(span))
            reports.append(NewReport(p[0], p[2], code, day.isoformat(), round(
                rng.uniform(0.5, 30), 1) if code == "waste_to_money" else None))
        stored += await activity_store.add_many(db, reports, at=_iso(year, 10))
    for new in doubtful:
        report, created = await activity_store.add_once(db, new, at=_iso(int(new.day[:4]), 10))
        await activity_store.flag(db, report.id, by=HEAD, reason="ảnh chưa rõ",
                                  at="2026-01-01T00:00:00Z")
        stored += created
    return stored


async def build(db: Database, members_count: int, activities: int) -> dict[str, Any]:
    """Units, members, five years of campaigns, reports and targets through storage/."""
    rng = random.Random(2026)
    tree = await build_tree(db, wards=WARDS, chapters_per_ward=CHAPTERS_PER_WARD)
    chapters, ward_ids = tree.chapters, tree.wards
    people = await add_members(db, rng, members_count, chapters)
    figures = await add_campaigns(db, rng, people, chapters)
    reports = await add_reports(db, rng, people, activities)
    # Targets for every unit and year: registration 95%, achievement 90%, households.
    await targets.set_many(db, [
        TargetRow(unit, year, metric, value) for unit in [tree.district, *ward_ids, *chapters]
        for year in YEARS
        for metric, value in (("standard_registered", 95), ("standard_achieved", 90),
                              ("households_recognised", 100))], by=ADMIN, at=AT, source="bench")
    # The people who ask: a ward admin and a chapter head (members of their units).
    for user, unit, role in ((WARD_ADMIN, ward_ids[0], "unit_admin"),
                             (HEAD, chapters[0], "chapter_head")):
        member = await members.register(
            db, NewMember(telegram_user_id=user, chat_id=user, full_name=f"Cán bộ {user}",
                          phone=None, unit_id=chapters[0], locale="vi"),
            consent_purpose="membership", consent_version=1, consent_at=AT)
        await roles.grant(db, member.id, role, unit)
    return {"chapters": len(chapters), "wards": len(ward_ids), **figures,
            "activity_reports": reports, "chapter": chapters[0]}


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, math.ceil(q * len(ordered)) - 1))]


def summary(values: list[float]) -> dict[str, float]:
    return {"p50": round(percentile(values, 0.5), 2), "p95": round(percentile(values, 0.95), 2),
            "max": round(max(values), 2), "runs": len(values)}


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


async def main(members: int, runs: int, activities: int) -> None:
    logging.basicConfig(level=logging.WARNING)
    logging.getLogger("bot.updates").setLevel(logging.WARNING)
    figures: dict[str, Any] = {"members": members, "activities": activities,
                               "python": platform.python_version(),
                               "cpus": os.cpu_count()}
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "stats.sqlite3"
        db = await Database.connect(path)
        start = time.perf_counter()
        figures["data"] = await build(db, members, activities)
        figures["build_s"] = round(time.perf_counter() - start, 1)
        await db.close()
        print(f"built in {figures['build_s']} s: {figures['data']}")
        print(f"database file {path.stat().st_size / 1e6:.0f} MB")

        api = FakeBotAPI()
        clock = ManualClock(NOW)
        settings = Settings(database=path, admin_ids=frozenset({ADMIN}), send_rate=0)
        app = build_application(settings, request=api, clock=clock, background=False)
        await app.initialize()
        await app.post_init(app)  # type: ignore[misc]
        users = {who: api.user(who, first_name="Chị") for who in (ADMIN, WARD_ADMIN, HEAD)}

        async def send(who: int, text: str) -> float:
            command, _, args = text.partition(" ")
            data = api.command_update(users[who], command, args) if args else \
                api.command_update(users[who], command)
            update = api.to_update(data, app.bot)
            clock.advance(1)  # one update a second per person: well under the flood limit
            begin = time.perf_counter()
            await app.process_update(update)
            return (time.perf_counter() - begin) * 1000

        ms: dict[str, Any] = {}
        for label, who in (("district", ADMIN), ("ward", WARD_ADMIN), ("chapter", HEAD)):
            for _ in range(3):
                await send(who, "/stats")
            ms[f"stats_{label}"] = summary([await send(who, "/stats") for _ in range(runs)])
            print(f"/stats {label:<9} {ms[f'stats_{label}']}")
        assert "Quận Hoàng Mai" in api.last_text(ADMIN)
        assert "\nPhường Hoàng Liệt\n" in api.last_text(WARD_ADMIN), api.last_text(WARD_ADMIN)
        assert "Chi hội tổ dân phố số 1\n" in api.last_text(HEAD), api.last_text(HEAD)
        # The district's children table: a button press.
        presses = []
        for _ in range(max(5, runs // 4)):
            await send(ADMIN, "/stats")
            message = next(m for m in reversed(api.messages(ADMIN)) if m.get("reply_markup"))
            data = message["reply_markup"]["inline_keyboard"][0][0]["callback_data"]
            update = api.to_update(api.callback_update(users[ADMIN], message["message_id"], data),
                                   app.bot)
            clock.advance(1)
            begin = time.perf_counter()
            await app.process_update(update)
            presses.append((time.perf_counter() - begin) * 1000)
        ms["stats_district_children_table"] = summary(presses)
        print(f"children table   {ms['stats_district_children_table']}")

        charts = [await send(ADMIN, "/chart") for _ in range(3)]
        ms["chart_district"] = summary(charts)
        ms["chart_chapter"] = summary([await send(HEAD, "/chart") for _ in range(3)])
        print(f"/chart district  {ms['chart_district']}\n/chart chapter   {ms['chart_chapter']}")
        photo = next(c for c in reversed(api.calls) if c.method == "sendPhoto")
        figures["chart_png_bytes"] = len(photo.files["photo"].content)

        # One chapter's export first (it also loads openpyxl, once per process).
        begin = time.perf_counter()
        await send(HEAD, "/export")
        await asyncio.gather(*[t for t in asyncio.all_tasks()
                               if t.get_name() == export.EXPORT_TASK])
        ms["export_chapter_s"] = round(time.perf_counter() - begin, 2)
        print(f"export chapter   {ms['export_chapter_s']} s")
        # The full export, with a head asking for her figures meanwhile.
        before = peak_mb()
        begin = time.perf_counter()
        await send(ADMIN, "/export")
        tasks = [t for t in asyncio.all_tasks() if t.get_name() == export.EXPORT_TASK]
        during = []
        while not all(t.done() for t in tasks):
            during.append(await send(HEAD, "/stats"))
            await asyncio.sleep(0.05)
        await asyncio.gather(*tasks)
        ms["export_district_s"] = round(time.perf_counter() - begin, 2)
        document = next(c for c in reversed(api.calls) if c.method == "sendDocument")
        figures["export_bytes"] = len(document.files["document"].content)
        figures["peak_rss_mb_before_export"] = round(before, 1)
        figures["peak_rss_mb_after_export"] = round(peak_mb(), 1)
        ms["stats_chapter_during_export"] = summary(during) if during else {}
        print(f"export district  {ms['export_district_s']} s, "
              f"{figures['export_bytes'] / 1e6:.1f} MB; peak RSS {before:.0f} → "
              f"{peak_mb():.0f} MB")
        print(f"/stats chapter during the export {ms['stats_chapter_during_export']}")

        await app.shutdown()
        await app.post_shutdown(app)  # type: ignore[misc]
    figures["ms"] = ms
    print(json.dumps(figures, ensure_ascii=False))


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--members", type=int, default=33_740)
    parser.add_argument("--runs", type=int, default=50)
    parser.add_argument("--activities", type=int, default=1_000_000)
    parser.add_argument("--smoke", action="store_true", help="tiny sizes, seconds long")
    options = parser.parse_args()
    if options.smoke:
        options.members, options.runs, options.activities = 400, 1, 3_000
    asyncio.run(main(options.members, options.runs, options.activities))
