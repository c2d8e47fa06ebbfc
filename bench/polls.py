#!/usr/bin/env python
"""A district survey: enqueueing it for 33,740 members, its results with 30,000 answers, its chart.

Builds a temp-dir SQLite file shaped like Hoàng Mai (14 wards × 18 chapters, 33,740 members),
stores a survey addressed to the district and times the outbox start that picks its recipients
(`deliveries.start_due`, one INSERT … SELECT). Then 30,000 members answer (one transaction each,
as in chat) and `bot.polls.results` is timed for the district: named (live counts) and anonymous
(published batches through `disclosure.protect`; the first read releases every chapter). Then
the PNG chart.

    python bench/polls.py [--smoke]

``--smoke``: 600 members and 500 answers, seconds long (the test suite runs it).

The last line printed is JSON.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.district import build_tree
from bot import charts
from bot import polls as service
from bot.i18n import translator
from storage import deliveries, members, polls
from storage.db import Database, to_iso
from storage.deliveries import NewBroadcast
from storage.members import NewMember
from storage.polls import NewPoll

MEMBERS, ANSWERS, READS = 33_740, 30_000, 30
NOW = datetime(2026, 5, 25, 2, 0, tzinfo=UTC)


def p95(samples: list[float]) -> float:
    """The 95th percentile, in ms."""
    return round(statistics.quantiles(samples, n=20)[-1] * 1000, 1) if len(samples) > 1 else 0.0


async def survey(db: Database, district: int, *, anonymous: bool) -> polls.Poll:
    """A four-option survey of the whole district, handed to the outbox."""
    stamp = to_iso(NOW)
    poll = await polls.create(db, NewPoll(
        draft_key=f"bench:{anonymous}", created_by=1, unit_id=district, audience="all",
        question="Chị muốn họp chi hội vào buổi nào?", options=("Sáng", "Chiều", "Tối",
                                                              "Cuối tuần"),
        multiple=anonymous, other=False, anonymous=anonymous, show_results=True, locale="vi",
        closes_at=to_iso(NOW + timedelta(days=5)), remind_at=None, created_at=stamp))
    assert poll is not None
    t = translator("vi")
    await polls.send(db, poll, NewBroadcast(
        draft_key=f"poll:{poll.id}", created_by=1, sender_chat_id=1, unit_id=district,
        audience="all", text_html=service.message_text(t, poll, unit_name="Quận Hoàng Mai",
                                                       timezone=UTC),
        photo_file_id=None, scheduled_at=stamp, kind="poll",
        reply_markup=service.markup_json(service.keyboard(t, poll))))
    found = await polls.get(db, poll.id)
    assert found is not None
    return found


async def main(member_count: int, answers: int) -> None:
    figures: dict[str, float] = {}
    rng = random.Random(1)
    with tempfile.TemporaryDirectory() as folder:
        db = await Database.connect(Path(folder) / "bench.sqlite3")
        try:
            tree = await build_tree(db)
            units = [tree.chapters[n % len(tree.chapters)] for n in range(member_count)]
            ids = await members.insert_many(db, (
                NewMember(telegram_user_id=user, chat_id=user, full_name="x", phone=None,
                          unit_id=unit, locale="vi") for user, unit in enumerate(units, 2)),
                at=to_iso(NOW))
            named = await survey(db, tree.district, anonymous=False)
            started = time.perf_counter()
            await deliveries.start_due(db, to_iso(NOW), 2026)
            figures["enqueue_ms"] = round((time.perf_counter() - started) * 1000, 1)
            [row] = await db.fetchall("SELECT total FROM broadcasts WHERE id = ?",
                                      (named.broadcast_id,))
            print(f"{'enqueue: district survey':<34} {figures['enqueue_ms']:8.1f} ms  "
                  f"({row[0]} recipients)")
            anonymous = await survey(db, tree.district, anonymous=True)
            await deliveries.start_due(db, to_iso(NOW), 2026)
            stamp = to_iso(NOW + timedelta(minutes=1))
            started = time.perf_counter()
            for member_id, unit in list(zip(ids, units, strict=True))[:answers]:
                choice = rng.choice([1, 1, 2, 3, 4])
                await polls.answer(db, named, member_id=member_id, unit_id=unit,
                                   choices=[choice], other_text=None, at=stamp)
                await polls.answer(db, anonymous, member_id=member_id, unit_id=unit,
                                   choices=sorted({choice, rng.choice([1, 2, 3, 4])}),
                                   other_text=None, at=stamp)
            figures["answers_per_s"] = round(2 * answers / (time.perf_counter() - started))
            for label, poll in (("named", named), ("anonymous", anonymous)):
                samples = []
                for _ in range(READS):
                    started = time.perf_counter()
                    view = await service.results(db, poll, scope_id=tree.district, k=5,
                                                 now=NOW + timedelta(minutes=2))
                    samples.append(time.perf_counter() - started)
                figures[f"results_{label}_p95_ms"] = p95(samples[1:])
                figures[f"results_{label}_first_ms"] = round(samples[0] * 1000, 1)
                print(f"{'results p95: ' + label:<34} {figures[f'results_{label}_p95_ms']:8.1f}"
                      f" ms  (first {figures[f'results_{label}_first_ms']} ms; "
                      f"{view.scope.answered} answers, {len(view.children)} wards)")
            t = translator("vi")
            bars = [(label, view.scope.cells.get(code))
                    for code, label in service.labels(t, anonymous).items()]
            for label in ("chart_first_ms", "chart_ms"):  # the first one warms matplotlib up
                started = time.perf_counter()
                png = charts.poll(bars, total=view.scope.counted, title="Phiếu #2", empty="—",
                                  hidden="—")
                figures[label] = round((time.perf_counter() - started) * 1000, 1)
            print(f"{'chart: district survey':<34} {figures['chart_ms']:8.1f} ms  "
                  f"(first {figures['chart_first_ms']} ms; {len(png)} bytes)")
        finally:
            await db.close()
    print(json.dumps({"members": member_count, "answers": answers, "ms": figures}))


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--smoke", action="store_true", help="tiny sizes, seconds long")
    smoke = parser.parse_args().smoke
    asyncio.run(main(600 if smoke else MEMBERS, 500 if smoke else ANSWERS))
