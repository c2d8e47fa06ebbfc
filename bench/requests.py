#!/usr/bin/env python
"""Requests for help at district scale: a member's request, the officers' inbox, /stats.

Builds a temp-dir SQLite file shaped like Hoàng Mai (14 wards × 18 chapters, 33,740 members),
a request handler for one ward, one for the district and a district admin, and drives the real
Application on the in-process Bot API (`send_rate=0`, the outbox not run): latency is the time
around `process_update`, every Update built before its clock starts. Measured, with ratios
against `/help` timed in the same sitting:

1. `/help` from members (the baseline);
2. with N open requests in the district (N = 0, 500, 5,000; spread over every chapter, so the
   ward handler sees about N/14): `/requests` of the ward handler and of the district one,
   opening a request from the list (its card, the read written to the audit log), and the
   district admin's `/stats` → "🤝 Yêu cầu hỗ trợ" press (the content-free figures); that
   press again with 15,000 requests of the three years before also stored;
3. members sending a request through the whole `/support` flow (category, words, no photo,
   who may read, send) with 5,000 requests stored: each step, and the final "Gửi" (stores it,
   finds the ward's handlers, hands their notices to the outbox).

    python bench/requests.py [--smoke]

``--smoke``: 600 members, N = 0, 50, 200 (+300 older) and a few samples: seconds long (the
test suite runs it). The last line printed is JSON.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import math
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from telegram import Update
from telegram.ext import Application

from bench.district import build_tree
from bot.app import build_application
from bot.channels.telegram_fake import FakeBotAPI
from bot.clock import ManualClock
from bot.settings import Settings
from storage import members, roles, support
from storage.db import Database, to_iso
from storage.members import NewMember
from storage.support import CATEGORIES

MEMBERS = 33_740
SIZES = (0, 500, 5_000)
HISTORY = 15_000  # requests of the three years before, for /stats (one year's are counted)
FIRST_USER = 100_000
NOW = datetime(2026, 5, 25, 2, 0, tzinfo=UTC)  # Monday 09:00 in Hà Nội
WORDS = "Gia đình em đang có mâu thuẫn, em muốn được Hội tư vấn cách nói chuyện với chồng."


def pct(samples: list[float], q: float) -> float:
    """The q-quantile (nearest rank) in ms."""
    if not samples:
        return 0.0
    ordered = sorted(samples)
    return round(ordered[min(len(ordered) - 1, max(0, math.ceil(q * len(ordered)) - 1))]
                 * 1000, 1)


class Sitting:
    """The running bot and the people in it; `feed` times one update."""

    def __init__(self, app: Application, api: FakeBotAPI, clock: ManualClock) -> None:
        self.app, self.api, self.clock = app, api, clock

    async def feed(self, update: Update, into: list[float] | None = None) -> None:
        """One update, a second after the last (an officer's pace, not a flood)."""
        self.clock.advance(1)
        started = time.perf_counter()
        await self.app.process_update(update)
        if into is not None:
            into.append(time.perf_counter() - started)

    def command(self, user: dict[str, Any], text: str) -> Update:
        return self.api.to_update(self.api.command_update(user, text), self.app.bot)

    def text(self, user: dict[str, Any], text: str) -> Update:
        return self.api.to_update(self.api.message_update(user, text), self.app.bot)

    def press(self, user: dict[str, Any], choose: Callable[[str, str], bool]) -> Update:
        """A press on the newest message's first button `choose(label, data)` accepts."""
        for message in reversed(self.api.messages(user["id"])):
            keyboard = (message.get("reply_markup") or {}).get("inline_keyboard")
            if not keyboard:
                continue
            for row in keyboard:
                for button in row:
                    if "callback_data" in button and choose(button["text"],
                                                            button["callback_data"]):
                        return self.api.to_update(self.api.callback_update(
                            user, message["message_id"], button["callback_data"]),
                            self.app.bot)
            break
        raise SystemExit(f"user {user['id']}: no such button; the assistant said: "
                         f"{self.api.last_text(user['id'])!r}")


async def seed(path: Path, count: int) -> dict[str, Any]:
    """The district, its members; the ward handler, the district handler, the admin."""
    db = await Database.connect(path)
    tree = await build_tree(db)
    units = [tree.chapters[n % len(tree.chapters)] for n in range(count)]
    ids = await members.insert_many(db, (
        NewMember(telegram_user_id=FIRST_USER + n, chat_id=FIRST_USER + n,
                  full_name=f"Nguyễn Thị Hoa {n}", phone=None, unit_id=unit, locale="vi")
        for n, unit in enumerate(units)), at="2026-01-01T00:00:00Z", consent=("membership", 1))
    await roles.grant(db, ids[0], "request_handler", tree.wards[0])  # she lives in ward 0
    await roles.grant(db, ids[1], "request_handler", tree.district)
    await roles.grant(db, ids[2], "unit_admin", tree.district)
    await db.close()
    return {"ids": ids, "units": units, "tree": tree}


async def top_up(db: Database, seeded: dict[str, Any], target: int, *,
                 before: int | None = None) -> None:
    """Open requests until the district has `target`, one per member in turn: this year, or
    spread over the three years before `before` (last years' requests, still stored)."""
    have = len(await support.visible_to(db, handler_units=[], head_units=[], everything=True,
                                        limit=target + 1))
    ids, units = seeded["ids"], seeded["units"]
    for n in range(have, target):
        member = 3 + n % (len(ids) - 3)
        at = to_iso(NOW - timedelta(days=140) + timedelta(minutes=37 * n % (139 * 24 * 60))
                    if before is None else datetime(before - 3, 1, 1, tzinfo=UTC)
                    + timedelta(hours=(5 * n) % (3 * 365 * 24)))
        await support.open_request(db, member_id=ids[member], unit_id=units[member],
                                   category=CATEGORIES[n % len(CATEGORIES)], audience="handlers",
                                   body=WORDS, photo_file_id=None, at=at)


async def inbox(s: Sitting, officer: dict[str, Any], reads: int) -> dict[str, list[float]]:
    """`/requests` and opening the newest request from the list, `reads` times each."""
    found: dict[str, list[float]] = {"list": [], "open": []}
    for _ in range(reads):
        await s.feed(s.command(officer, "/requests"), found["list"])
        if "#" in str([b for m in s.api.messages(officer["id"])[-1:]
                       for row in (m.get("reply_markup") or {}).get("inline_keyboard", [])
                       for b in row]):
            await s.feed(s.press(officer, lambda label, _data: "#" in label),
                         found["open"])
    return found


async def stats(s: Sitting, admin: dict[str, Any], reads: int) -> list[float]:
    """The district admin's `/stats`, then the timed press on "🤝 Yêu cầu hỗ trợ"."""
    samples: list[float] = []
    for _ in range(reads):
        await s.feed(s.command(admin, "/stats"))
        await s.feed(s.press(admin, lambda label, _data: "Yêu cầu hỗ trợ" in label), samples)
    if "Yêu cầu hỗ trợ" not in s.api.last_text(admin["id"]):
        raise SystemExit(f"/stats support: {s.api.last_text(admin['id'])!r}")
    return samples


async def send_requests(s: Sitting, people: list[dict[str, Any]]) -> dict[str, list[float]]:
    """Each member sends one request through the whole flow."""
    found: dict[str, list[float]] = {"step": [], "send": [], "whole": []}
    for her in people:
        steps: list[float] = []
        await s.feed(s.command(her, "/support"), steps)
        await s.feed(s.press(her, lambda _l, data: data.endswith(":o:family_conflict")), steps)
        await s.feed(s.text(her, WORDS), steps)
        await s.feed(s.press(her, lambda _l, data: data.endswith(":o:skip")), steps)
        await s.feed(s.press(her, lambda _l, data: data.endswith(":o:handlers")), steps)
        await s.feed(s.press(her, lambda _l, data: data.endswith(":o:send")), steps)
        if "#" not in s.api.last_text(her["id"]):
            raise SystemExit(f"/support: {s.api.last_text(her['id'])!r}")
        found["step"] += steps
        found["send"].append(steps[-1])
        found["whole"].append(sum(steps))
    return found


def line(label: str, samples: list[float], baseline: float, note: str = "") -> dict[str, float]:
    """Print one figure; its p50, p95 and p50 / the /help p50."""
    if not samples:
        print(f"{label:<40} —  (nothing to time)")
        return {}
    p50, p95 = pct(samples, 0.5), pct(samples, 0.95)
    ratio = round(p50 / baseline, 1) if baseline else 0.0
    print(f"{label:<40} p50 {p50:7.1f} ms  p95 {p95:7.1f} ms  ×{ratio:<5} /help  {note}")
    return {"p50_ms": p50, "p95_ms": p95, "x_help": ratio}


async def run(count: int, sizes: tuple[int, ...], *, history: int, reads: int,
              senders: int) -> dict[str, Any]:
    """The whole sitting; the figures."""
    figures: dict[str, Any] = {}
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "bench.sqlite3"
        seeded = await seed(path, count)
        api = FakeBotAPI()
        users = [api.user(FIRST_USER + n, first_name="Hoa", language_code="vi")
                 for n in range(min(count, 3 + max(reads * 4, senders + 3)))]
        clock = ManualClock(NOW)
        app = build_application(Settings(database=path, send_rate=0), request=api,
                                clock=clock, background=False)
        await app.initialize()
        await app.post_init(app)  # type: ignore[misc]
        s = Sitting(app, api, clock)
        db: Database = app.bot_data.db
        try:
            ward_handler, district_handler, admin = users[:3]
            for her in users[3:6]:  # warm-up
                await s.feed(s.command(her, "/help"))
            baseline: list[float] = []
            for n in range(reads * 4):
                await s.feed(s.command(users[3 + n % (len(users) - 3)], "/help"), baseline)
            base = pct(baseline, 0.5)
            figures["help"] = line("/help (baseline)", baseline, base)
            for size in sizes:
                await top_up(db, seeded, size)
                ward = await inbox(s, ward_handler, reads)
                district = await inbox(s, district_handler, reads)
                figures[f"n{size}"] = {
                    "ward_list": line(f"/requests ward, N={size:,}", ward["list"], base),
                    "district_list": line(f"/requests district, N={size:,}", district["list"],
                                          base),
                    "open": line(f"open one (card + audit), N={size:,}",
                                 ward["open"] + district["open"], base),
                    "stats": line(f"/stats support figures, N={size:,}",
                                  await stats(s, admin, reads), base),
                }
            await top_up(db, seeded, max(sizes) + history, before=NOW.year)
            figures["history"] = {"stats": line(
                f"/stats support figures, +{history:,} older", await stats(s, admin, reads),
                base)}
            sent = await send_requests(s, users[3:3 + senders])
            stored = max(sizes)
            figures["request"] = {
                "step": line(f"request: one step, N={stored:,}", sent["step"], base),
                "send": line(f"request: the “Gửi” reply, N={stored:,}", sent["send"], base),
                "whole": line(f"request: whole flow (6 updates), N={stored:,}", sent["whole"],
                              base),
            }
            refused = [c for c in api.calls if not c.ok]
            if refused:
                raise SystemExit(f"calls Telegram would refuse: {refused[:3]}")
        finally:
            await app.shutdown()
            await app.post_shutdown(app)  # type: ignore[misc]
    return {"members": count, "sizes": list(sizes), "ms": figures}


def main() -> None:
    """Print the figures, then JSON."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--smoke", action="store_true", help="tiny sizes, seconds long")
    smoke = parser.parse_args().smoke
    logging.disable(logging.INFO)
    result = asyncio.run(run(600 if smoke else MEMBERS, (0, 50, 200) if smoke else SIZES,
                             history=300 if smoke else HISTORY, reads=3 if smoke else 30,
                             senders=3 if smoke else 40))
    print(json.dumps(result, ensure_ascii=False))


if __name__ == "__main__":
    main()
