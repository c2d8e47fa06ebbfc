#!/usr/bin/env python
"""Disclosure control at district and city scale: the release and the protected breakdown.

Builds a temp-dir SQLite file shaped like Hoàng Mai (14 wards × 18 chapters, 134 self-assessed
households each, 1.5% of answers "not met"), the triggers flagging every household, then times
`bot.stats.criteria` for the district: the first read releases every chapter (recomputes its
published figures from the live answers), later reads find nothing due and only run
`bot.disclosure.protect` over the whole tree. Then `protect` alone on a Hà Nội-sized tree
(126 wards × 20 chapters).

    python bench/disclosure.py [--smoke]

``--smoke``: 6 households per chapter and a small city, seconds long (the test suite runs it).

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
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.district import build_tree
from bot import disclosure
from bot import stats as figures_of
from bot.catalog import load
from storage import campaigns, members
from storage.db import Database
from storage.members import NewMember

CHAPTERS_PER_WARD, HOUSEHOLDS = 18, 134
AT = "2026-01-02T00:00:00Z"


async def seed(db: Database, codes: list[str], households: int) -> int:
    """The tree, members and self-assessed households, through storage/'s bulk writes."""
    rng = random.Random(1)
    chapters = (await build_tree(db, chapters_per_ward=CHAPTERS_PER_WARD)).chapters
    units = [chapter for chapter in chapters for _ in range(households)]
    ids = await members.insert_many(db, (
        NewMember(telegram_user_id=user, chat_id=user, full_name="x", phone=None, unit_id=unit,
                  locale="vi") for user, unit in enumerate(units, 1)), at=AT)
    registered = await campaigns.register_many(db, campaigns.FAMILY, year=2026, at=AT,
                                               rows=list(zip(ids, units, strict=True)))
    await campaigns.answer_many(db, ((household, code, rng.random() < 0.985)
                                     for household in registered for code in codes),
                                live_codes=codes, at=AT)
    return len(registered)


async def main(households: int, city_wards: int) -> None:
    codes = [c.code for c in load().criteria]
    figures: dict[str, float] = {}
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "bench.sqlite3"
        db = await Database.connect(path)
        try:
            started = time.perf_counter()
            households = await seed(db, codes, households)
            figures["seed_s"] = round(time.perf_counter() - started, 2)
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
    asyncio.run(main(6 if smoke else HOUSEHOLDS, 5 if smoke else 126))
