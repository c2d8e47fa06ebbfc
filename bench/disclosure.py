#!/usr/bin/env python
"""Disclosure control at district and city scale: the release and the protected breakdown.

Builds a temp-dir SQLite file shaped like Hoàng Mai (14 wards × 18 chapters, 134 self-assessed
households each, 1.5% of answers "not met"), the triggers flagging every household, then times
`bot.stats.criteria` for the district: the first read releases every chapter (recomputes its
published figures from the live answers), later reads find nothing due and only run
`bot.disclosure.protect` over the whole tree. Then `protect` alone on a Hà Nội-sized tree
(126 wards × 20 chapters).

    python bench/disclosure.py [--smoke]

``--smoke``: 3 households per chapter and a small city, seconds long (the test suite runs it).

The last line printed is JSON.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import sqlite3
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bot import disclosure
from bot import stats as figures_of
from bot.catalog import load
from storage.db import Database

WARDS, CHAPTERS_PER_WARD, HOUSEHOLDS = 14, 18, 134
AT = "2026-01-02T00:00:00Z"


def seed(path: Path, codes: list[str], households: int) -> int:
    """The tree, members and self-assessed households (plain sqlite3: fast to build)."""
    rng = random.Random(1)
    conn = sqlite3.connect(path)
    unit_sql = ("INSERT INTO units (id, code, name, kind, parent_id, created_at, updated_at)"
                " VALUES (?, ?, ?, ?, ?, ?, ?)")
    conn.execute("BEGIN")
    conn.execute(unit_sql, (1, "HM", "Quận Hoàng Mai", "district", None, AT, AT))
    unit, household = 2, 1
    for w in range(WARDS):
        ward = unit
        conn.execute(unit_sql, (ward, f"W{w}", f"Phường {w}", "ward", 1, AT, AT))
        unit += 1
        for c in range(CHAPTERS_PER_WARD):
            conn.execute(unit_sql, (unit, f"W{w}C{c}", f"Chi hội {c}", "chapter", ward, AT, AT))
            for _ in range(households):
                conn.execute(
                    "INSERT INTO members (id, telegram_user_id, chat_id, full_name, unit_id,"
                    " locale, status, created_at, updated_at)"
                    " VALUES (?, ?, ?, 'x', ?, 'vi', 'active', ?, ?)",
                    (household, household, household, unit, AT, AT))
                marks = [rng.random() < 0.985 for _ in codes]
                conn.execute(
                    "INSERT INTO household_registrations (id, year, member_id, unit_id,"
                    " registered_at, assessed_at, meets_all) VALUES (?, 2026, ?, ?, ?, ?, ?)",
                    (household, household, unit, AT, AT, int(all(marks))))
                conn.executemany(
                    "INSERT INTO household_answers (household_id, criterion_code, met,"
                    " answered_at) VALUES (?, ?, ?, ?)",
                    [(household, code, int(met), AT) for code, met in zip(codes, marks,
                                                                           strict=True)])
                household += 1
            unit += 1
    conn.execute("COMMIT")
    conn.close()
    return household - 1


async def main(households: int, city_wards: int) -> None:
    codes = [c.code for c in load().criteria]
    figures: dict[str, float] = {}
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "bench.sqlite3"
        await (await Database.connect(path)).close()  # migrations
        started = time.perf_counter()
        households = seed(path, codes, households)
        figures["seed_s"] = round(time.perf_counter() - started, 2)
        db = await Database.connect(path)
        try:
            now = datetime(2026, 12, 20, tzinfo=UTC)
            for label in ("first_read_releasing_ms", "later_read_ms"):
                started = time.perf_counter()
                view = await figures_of.criteria(db, 1, 2026, codes=codes, k=5, now=now)
                figures[label] = round((time.perf_counter() - started) * 1000, 1)
                print(f"{label:<28} {figures[label]:8.1f} ms  ({view.shown.respondents} "
                      f"households, {view.shown.failing} failing)")
        finally:
            await db.close()
    rng = random.Random(2)
    children: dict[object, list[object]] = {None: [0], 0: []}
    own: dict[object, disclosure.Aggregate] = {}
    unit = 1
    for _ward in range(city_wards):
        ward, unit = unit, unit + 1
        children[0].append(ward)
        children[ward] = []
        for _chapter in range(20):
            failing = rng.randint(0, 20)
            own[unit] = disclosure.Aggregate(failing + rng.randint(0, 100), failing,
                                             {c: rng.randint(0, failing) for c in codes})
            children[ward].append(unit)
            children[unit] = []
            unit += 1
    started = time.perf_counter()
    disclosure.protect(children=children, own=own, codes=codes, k=5)
    figures["protect_city_ms"] = round((time.perf_counter() - started) * 1000, 1)
    print(f"{'protect_city_ms':<28} {figures['protect_city_ms']:8.1f} ms  ({unit} units)")
    print(json.dumps({"households": households, **figures}))


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--smoke", action="store_true", help="tiny sizes, seconds long")
    smoke = parser.parse_args().smoke
    asyncio.run(main(3 if smoke else HOUSEHOLDS, 5 if smoke else 126))
