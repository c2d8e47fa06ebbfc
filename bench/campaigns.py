#!/usr/bin/env python
"""Campaign storage at district scale: per-chapter-per-year counts, lists, bulk decisions.

Builds a temp-dir SQLite file shaped like Hoàng Mai (14 wards × 18 chapters, 33,740 members,
95% registered for the standard, 85% households with a full self-assessment of the shipped
eight criteria), then times what the bot and the statistics issue do with it:

1. `campaigns.counts` for every chapter (the per-chapter-per-year figures) and for the district;
2. `campaigns.evaluation_rows` for one chapter (the head's list);
3. `campaigns.decide_remaining` for one chapter ("mark all remaining as achieved");
4. `campaigns.unsent` and `campaigns.send_results` for that chapter ("📨 Gửi kết quả": the
   list's count, then one outbox broadcast with a message per member, marked told together);
5. the start-up work: `catalog.check_stored_codes` and `campaigns.refresh_meets_all`.

    python bench/campaigns.py [--members N] [--smoke]

``--smoke``: 300 members, seconds long (the test suite runs it).

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
from dataclasses import asdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.district import build_tree
from bot.catalog import check_stored_codes, load
from storage import campaigns
from storage import members as storage_members
from storage.db import Database
from storage.deliveries import NewBroadcast
from storage.members import NewMember

AT = "2026-01-10T02:00:00Z"


async def build(db: Database, members: int) -> list[int]:
    """Units, members, registrations and answers through storage/'s bulk writes; chapter ids."""
    rng = random.Random(2026)
    criteria = [c.code for c in load().criteria]
    chapters = (await build_tree(db)).chapters
    ids = await storage_members.insert_many(db, (
        NewMember(telegram_user_id=100_000 + i, chat_id=100_000 + i, full_name=f"Hội viên {i}",
                  phone=None, unit_id=chapters[i % len(chapters)], locale="vi")
        for i in range(1, members + 1)), at=AT)
    people = [(member_id, chapters[i % len(chapters)]) for i, member_id in enumerate(ids, 1)]
    await campaigns.register_many(db, campaigns.STANDARD, year=2026, at=AT,
                                  rows=[p for p in people if rng.random() < 0.95])
    households = await campaigns.register_many(db, campaigns.FAMILY, year=2026, at=AT,
                                               rows=[p for p in people if rng.random() < 0.85])
    await campaigns.answer_many(db, ((h, code, rng.random() < 0.97) for h in households
                                     for code in criteria), live_codes=criteria, at=AT)
    await db.conn.execute("ANALYZE")
    return chapters


async def timed(label: str, results: dict[str, float], coro_factory, repeat: int = 1) -> object:
    start = time.perf_counter()
    value = None
    for _ in range(repeat):
        value = await coro_factory()
    elapsed = (time.perf_counter() - start) * 1000 / repeat
    results[label] = round(elapsed, 2)
    print(f"{label:<48} {elapsed:9.2f} ms")
    return value


async def main(members: int) -> None:
    with tempfile.TemporaryDirectory() as folder:
        db = await Database.connect(Path(folder) / "bench.sqlite3")
        start = time.perf_counter()
        chapters = await build(db, members)
        print(f"built {members} members in {len(chapters)} chapters in "
              f"{time.perf_counter() - start:.1f} s")
        catalog = load()
        codes = [c.code for c in catalog.criteria]
        results: dict[str, float] = {}
        await timed("start: check_stored_codes", results,
                    lambda: check_stored_codes(db, catalog))
        await timed("start: refresh_meets_all (first run)", results,
                    lambda: campaigns.refresh_meets_all(db, 2026, codes))
        await timed("start: refresh_meets_all (nothing changed)", results,
                    lambda: campaigns.refresh_meets_all(db, 2026, codes))

        async def all_chapters() -> int:
            total = 0
            for chapter in chapters:
                total += (await campaigns.counts(db, 2026, chapter)).standard_registered
            return total

        total = await timed(f"counts for each of {len(chapters)} chapters (all)", results,
                            all_chapters)
        district = await timed("counts for the district (one subtree)", results,
                               lambda: campaigns.counts(db, 2026, 1), repeat=5)
        rows = await timed("evaluation_rows for one chapter", results,
                           lambda: campaigns.evaluation_rows(db, 2026, chapters[0]), repeat=5)
        changed = await timed("decide_remaining for one chapter", results,
                              lambda: campaigns.decide_remaining(
                                  db, campaigns.STANDARD, year=2026, unit_id=chapters[1],
                                  result=campaigns.ACHIEVED, by=1, at=AT))
        pending = await timed("unsent for one chapter (the list's count)", results,
                              lambda: campaigns.unsent(db, 2026, chapters[1]), repeat=5)
        new = NewBroadcast(draft_key="bench:results", created_by=1, sender_chat_id=1,
                           unit_id=chapters[1], audience="evaluation", text_html="",
                           photo_file_id=None, scheduled_at=AT, kind="evaluation")
        texts = {item.member_id: "🎉 Chúc mừng chị!" for item in pending}
        _broadcast, sent = await timed("send_results for one chapter (outbox + told)", results,
                                       lambda: campaigns.send_results(
                                           db, new, items=pending, texts=texts, at=AT))
        await db.close()
    figures = {
        "members": members,
        "chapters": len(chapters),
        "standard_registered": total,
        "district_counts": asdict(district),  # type: ignore[call-overload]
        "chapter_list_rows": len(rows),  # type: ignore[arg-type]
        "bulk_decided": len(changed),  # type: ignore[arg-type]
        "results_sent": sent,
        "ms": results,
    }
    print(json.dumps(figures, ensure_ascii=False, default=str))


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--members", type=int, default=33_740)
    parser.add_argument("--smoke", action="store_true", help="tiny sizes, seconds long")
    options = parser.parse_args()
    asyncio.run(main(300 if options.smoke else options.members))
