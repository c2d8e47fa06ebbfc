#!/usr/bin/env python
"""QR check-in at a meeting: N members scan the code within one minute, Telegram's limits on.

One chapter of N members (default 300) is invited to a meeting that starts now; each member
sends `/start dd-<code>` (what scanning the QR code sends) at a random moment within the
window (default 60 s, real time), all through the real Application with our pacing on
(BOT_SEND_RATE 25/s) against the in-process Bot API enforcing Telegram's flood limits (30/s
overall, 1/s per chat). Latency is the time from her update arriving to the bot's reply being
accepted. Afterwards: every member recorded once, a second scan of each answered "already".

    python bench/meetings.py [--members 300] [--seconds 60]

The last line printed is JSON.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import random
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.district import build_tree
from bot import meetings as service
from bot.app import build_application
from bot.channels.telegram_fake import FakeBotAPI, RateLimits
from bot.settings import Settings
from storage import meetings
from storage import members as storage_members
from storage.db import Database, to_iso
from storage.members import NewMember

FIRST_USER = 50_000


async def _seed(path: Path, count: int) -> tuple[int, datetime]:
    """One chapter with `count` members; returns its id and the meeting's start (now)."""
    db = await Database.connect(path)
    tree = await build_tree(db, wards=("Hoàng Liệt",), chapters_per_ward=1)
    chapter = tree.chapters[0]
    await storage_members.insert_many(db, [
        NewMember(telegram_user_id=FIRST_USER + n, chat_id=FIRST_USER + n,
                  full_name=f"Nguyễn Thị Hoa {n}", phone=None, unit_id=chapter, locale="vi")
        for n in range(count)], at="2026-01-01T00:00:00Z", consent=("membership", 1))
    await db.close()
    return chapter, datetime.now(UTC)


def _p(ordered: list[float], share: float) -> float:
    return ordered[min(len(ordered) - 1, int(len(ordered) * share))]


async def run(count: int, seconds: float) -> dict[str, float | int]:
    """The meeting: everyone scans once within `seconds`, then once more."""
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "bench.sqlite3"
        chapter, now = await _seed(path, count)
        api = FakeBotAPI(rate_limits=RateLimits(global_per_second=30))
        for n in range(count):
            api.add_chat(FIRST_USER + n)
        app = build_application(Settings(database=path, send_rate=25), request=api,
                                background=False)
        await app.initialize()
        await app.post_init(app)  # type: ignore[misc]
        try:
            state = app.bot_data
            new = service.new_event(unit_id=chapter, kind="chapter_meeting",
                                    title="Sinh hoạt chi hội", place="Nhà văn hóa",
                                    agenda=None, audience="all", when=now,
                                    tz=state.settings.timezone, now=now, created_by=0)
            event, invited = await meetings.create(
                state.db, new, service.invitation_render(state.catalog, new, "Chi hội",
                                                         state.settings.timezone, to_iso(now)),
                year=now.year, now=to_iso(now), sender_member=None)
            assert invited == count
            latencies: list[float] = []

            async def scan(user_id: int, at: float) -> None:
                await asyncio.sleep(at)
                user = api.user(user_id)
                update = api.to_update(api.command_update(user, "/start", f"dd-{event.code}"),
                                       app.bot)
                started = time.perf_counter()
                await app.process_update(update)
                latencies.append(time.perf_counter() - started)

            random.seed(13)
            began = time.perf_counter()
            await asyncio.gather(*(scan(FIRST_USER + n, random.uniform(0, seconds))
                                   for n in range(count)))
            elapsed = time.perf_counter() - began
            recorded = (await meetings.counts(state.db, event.id)).attended
            first = api.calls[-1]
            again = 0
            for n in range(min(count, 20)):
                mark = len(api.calls)
                user = api.user(FIRST_USER + n)
                await app.process_update(api.to_update(
                    api.command_update(user, "/start", f"dd-{event.code}"), app.bot))
                again += any("đã điểm danh rồi" in str(c.params.get("text"))
                             for c in api.calls[mark:] if c.ok)
            assert recorded == count and again == min(count, 20), (recorded, again, first)
            rejected = sum(1 for c in api.calls if not c.ok and c.method == "sendMessage")
            ordered = sorted(latencies)
            return {"members": count, "window_s": seconds, "elapsed_s": round(elapsed, 1),
                    "recorded": recorded, "second_scans_already": again,
                    "rejected_by_flood_limits": rejected,
                    "p50_ms": round(statistics.median(ordered) * 1000, 1),
                    "p99_ms": round(_p(ordered, 0.99) * 1000, 1),
                    "max_ms": round(ordered[-1] * 1000, 1)}
        finally:
            await app.shutdown()
            await app.post_shutdown(app)  # type: ignore[misc]


def main() -> None:
    """Print the figures, then JSON."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--members", type=int, default=300)
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--smoke", action="store_true", help="20 members in 2 s: a quick check")
    args = parser.parse_args()
    if args.smoke:
        args.members, args.seconds = 20, 2
    logging.disable(logging.INFO)
    r = asyncio.run(run(args.members, args.seconds))
    print(f"QR check-in: {r['members']} members within {r['window_s']} s, Telegram limits on: "
          f"reply p50 {r['p50_ms']} ms  p99 {r['p99_ms']} ms  max {r['max_ms']} ms")
    print(f"recorded once: {r['recorded']}/{r['members']}; second scans answered 'already': "
          f"{r['second_scans_already']}; replies refused by the flood limits: "
          f"{r['rejected_by_flood_limits']}")
    print(json.dumps(r))


if __name__ == "__main__":
    main()
