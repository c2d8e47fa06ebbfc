"""Delivery engine benchmark: one notice to a district of 33,740 members.

    python bench/broadcast.py [--members N] [--limited-seconds S] [--smoke]

``--smoke`` runs all three parts in seconds (300 members, 1 s limited); the test suite runs it.

(a) engine overhead with an unlimited in-process transport and BOT_SEND_RATE=0;
(b) the transport enforcing Telegram's ~30 messages/s (sliding window) and BOT_SEND_RATE=30
    for S seconds: achieved rate as a share of the limit, and 429s served;
(c) the sending process killed with SIGKILL in the middle, then restarted on the same
    database: members who got nothing (lost: sends cut off by the kill, counted 'maybe
    delivered' and not retried) and members who got it twice (duplicates: none by design).
Figures are printed, with one JSON line at the end.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.district import build_tree  # noqa: E402
from bot.app import build_application  # noqa: E402
from bot.channels.telegram_fake import FakeBotAPI, RateLimits  # noqa: E402
from bot.settings import Settings  # noqa: E402
from storage import deliveries  # noqa: E402
from storage import members as storage_members  # noqa: E402
from storage.db import Database, utc_now  # noqa: E402
from storage.deliveries import NewBroadcast  # noqa: E402
from storage.members import NewMember  # noqa: E402

FIRST_USER = 10_000_000
SENDER = 42


async def seed(path: Path, members: int) -> None:
    """Migrate, load 14 wards x 18 chapters, and `members` active members spread over them."""
    db = await Database.connect(path)
    chapters = (await build_tree(db)).chapters
    await storage_members.insert_many(db, (
        NewMember(telegram_user_id=FIRST_USER + i, chat_id=FIRST_USER + i,
                  full_name="Nguyễn Thị Hoa", phone=None, unit_id=chapters[i % len(chapters)],
                  locale="vi") for i in range(members)), at=utc_now())
    await db.close()


def make_api(members: int, **kwargs: Any) -> FakeBotAPI:
    api = FakeBotAPI(**kwargs)
    api.add_chat(SENDER)
    for i in range(members):
        api.add_chat(FIRST_USER + i)
    return api


async def start(settings: Settings, api: FakeBotAPI) -> Any:
    app = build_application(settings, request=api, background=False)
    await app.initialize()
    await app.post_init(app)
    return app


async def queue_notice(db: Database, key: str) -> int:
    broadcast = await deliveries.create(db, NewBroadcast(
        draft_key=key, created_by=SENDER, sender_chat_id=SENDER, unit_id=1, audience="all",
        text_html="📢 <b>Quận Hoàng Mai</b>\n\nChủ nhật này ra quân vệ sinh môi trường.",
        photo_file_id=None, scheduled_at=utc_now()))
    assert broadcast is not None
    return broadcast.id


async def overhead(path: Path, members: int) -> dict[str, float]:
    """(a) unlimited transport, our pacing off."""
    api = make_api(members)
    app = await start(Settings(database=path, admin_ids=frozenset({SENDER}), send_rate=0), api)
    try:
        db = app.bot_data.db
        broadcast_id = await queue_notice(db, "overhead")
        started = time.perf_counter()
        year = time.gmtime().tm_year
        await deliveries.start_due(db, utc_now(), year)
        enqueued = time.perf_counter() - started
        await app.bot_data.delivery.run_until_idle()
        elapsed = time.perf_counter() - started
        counts = await deliveries.progress(db, broadcast_id)
        assert counts.sent == members, counts
        return {"members": members, "enqueue_s": round(enqueued, 3),
                "total_s": round(elapsed, 2), "per_second": round(members / elapsed)}
    finally:
        await app.shutdown()
        await app.post_shutdown(app)


async def limited(path: Path, members: int, seconds: float) -> dict[str, float]:
    """(b) the transport enforces 30/s; we pace at BOT_SEND_RATE=30 for `seconds`."""
    api = make_api(members, rate_limits=RateLimits(global_per_second=30))
    app = await start(Settings(database=path, admin_ids=frozenset({SENDER}), send_rate=30), api)
    try:
        db = app.bot_data.db
        broadcast_id = await queue_notice(db, "limited")
        engine = app.bot_data.delivery
        task = asyncio.create_task(engine.run_until_idle())
        await asyncio.sleep(seconds)
        await engine.stop(timeout=5)
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        sent = (await deliveries.progress(db, broadcast_id)).sent
        return {"seconds": seconds, "sent": sent, "rate": round(sent / seconds, 2),
                "share_of_limit": round(sent / seconds / 30, 3),
                "retry_after_served": api.rate_limited_count}
    finally:
        await app.shutdown()
        await app.post_shutdown(app)


class RecordingAPI(FakeBotAPI):
    """Appends the chat id of every accepted notice to a file (survives SIGKILL)."""

    def __init__(self, log: Path, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._log = os.open(log, os.O_WRONLY | os.O_APPEND | os.O_CREAT)

    async def do_request(self, url: str, method: str, *args: Any, **kwargs: Any) -> Any:
        await asyncio.sleep(0)  # a real request gives the event loop a turn
        code, payload = await super().do_request(url, method, *args, **kwargs)
        if url.endswith("/sendMessage") and code == 200:
            chat = json.loads(payload)["result"]["chat"]["id"]
            if chat != SENDER:
                os.write(self._log, f"{chat}\n".encode())
        return code, payload


async def child(path: Path, log: Path, members: int) -> None:
    """The sending process of (c): run the engine until done."""
    api = RecordingAPI(log)
    api.add_chat(SENDER)
    for i in range(members):
        api.add_chat(FIRST_USER + i)
    app = await start(Settings(database=path, admin_ids=frozenset({SENDER}), send_rate=0), api)
    await app.bot_data.delivery.run_until_idle()
    await app.shutdown()
    await app.post_shutdown(app)


def kill_and_restart(path: Path, members: int) -> dict[str, Any]:
    """(c) SIGKILL the sender mid-way, start again, count lost and duplicated messages."""
    log = path.with_suffix(".sent")
    broadcast_id = asyncio.run(_queue_only(path, "crash"))
    command = [sys.executable, __file__, "--child", str(path), str(log), str(members)]
    process = subprocess.Popen(command)
    while not log.exists() or log.stat().st_size < 10 * members // 3:
        time.sleep(0.05)
        if process.poll() is not None:
            break
    process.send_signal(signal.SIGKILL)
    process.wait()
    before = len(log.read_text().split())
    subprocess.run(command, check=True)
    counts = Counter(int(line) for line in log.read_text().split())
    lost = members - len(counts)
    duplicates = sum(n - 1 for n in counts.values() if n > 1)
    maybe = asyncio.run(_maybe_sent(path, broadcast_id))
    return {"killed_after": before, "lost": lost, "duplicates": duplicates, "maybe_sent": maybe}


async def _queue_only(path: Path, key: str) -> int:
    db = await Database.connect(path)
    broadcast_id = await queue_notice(db, key)
    await db.close()
    return broadcast_id


async def _maybe_sent(path: Path, broadcast_id: int) -> int:
    db = await Database.connect(path)
    counts = await deliveries.progress(db, broadcast_id)
    await db.close()
    return counts.maybe_sent


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--members", type=int, default=33_740)
    parser.add_argument("--limited-seconds", type=float, default=30.0)
    parser.add_argument("--child", nargs=3, help=argparse.SUPPRESS)
    parser.add_argument("--smoke", action="store_true", help="tiny sizes, seconds long")
    args = parser.parse_args()
    if args.smoke:
        args.members, args.limited_seconds = 300, 1.0
    if args.child:
        asyncio.run(child(Path(args.child[0]), Path(args.child[1]), int(args.child[2])))
        return
    folder = Path(tempfile.mkdtemp(prefix="bench-broadcast-"))
    results: dict[str, Any] = {}
    for name in ("a", "b", "c"):
        asyncio.run(seed(folder / f"{name}.sqlite3", args.members))
    results["a_overhead"] = asyncio.run(overhead(folder / "a.sqlite3", args.members))
    print(f"(a) engine overhead, unlimited transport: {results['a_overhead']['per_second']:,}"
          f" messages/s ({args.members:,} in {results['a_overhead']['total_s']} s; recipients"
          f" enqueued in {results['a_overhead']['enqueue_s']} s)")
    results["b_limited"] = asyncio.run(
        limited(folder / "b.sqlite3", args.members, args.limited_seconds))
    b = results["b_limited"]
    print(f"(b) transport limited to 30/s for {b['seconds']:.0f} s: {b['rate']}/s ="
          f" {b['share_of_limit']:.1%} of the limit; 429s served: {b['retry_after_served']}")
    results["c_kill_restart"] = kill_and_restart(folder / "c.sqlite3", args.members)
    c = results["c_kill_restart"]
    print(f"(c) SIGKILL after {c['killed_after']:,} sent, restart: lost {c['lost']},"
          f" duplicates {c['duplicates']}, counted 'maybe delivered' {c['maybe_sent']}")
    print(json.dumps(results))


if __name__ == "__main__":
    main()
