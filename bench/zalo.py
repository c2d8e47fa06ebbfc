#!/usr/bin/env python
"""Zalo event throughput and latency through the full application, beside Telegram's.

One run, `send_rate=0`, a temp-dir SQLite file, N members registered directly on each channel:

1. Telegram: ``/help`` updates through the real Application on the in-process Bot API;
2. Zalo: ``/help`` typed in Zalo events through the bridge (id mapping, event ledger,
   rendering to plain text) into the second Application, on the in-process Zalo fake
   (the real httpx client in front of it).

Latency is the time around one update (Telegram) or one `handle_event` (Zalo).

    python bench/zalo.py [--events N]

The last line printed is JSON.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import statistics
import sys
import tempfile
import time
from importlib import resources
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bot.app import build_application  # noqa: E402
from bot.channels.telegram_fake import FakeBotAPI  # noqa: E402
from bot.channels.zalo.client import ZaloClient  # noqa: E402
from bot.channels.zalo.fake import BASE_URL, TOKEN, FakeZaloAPI  # noqa: E402
from bot.channels.zalo.service import build_zalo_application  # noqa: E402
from bot.settings import Settings  # noqa: E402
from bot.unit_import import parse_csv  # noqa: E402
from storage import channels, members, units  # noqa: E402
from storage.db import Database  # noqa: E402
from storage.members import NewMember  # noqa: E402


def _figures(name: str, latencies: list[float]) -> dict[str, float | str | int]:
    ordered = sorted(latencies)
    return {"channel": name, "events": len(ordered),
            "per_s": round(len(ordered) / sum(ordered), 1),
            "p50_ms": round(statistics.median(ordered) * 1000, 2),
            "p99_ms": round(ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))] * 1000, 2)}


async def _seed(settings: Settings, count: int) -> list[str]:
    db = await Database.connect(settings.database)
    csv_text = (resources.files("bot") / "data" / "hoang_mai_units.csv").read_text("utf-8")
    rows, _ = parse_csv(csv_text)
    await units.upsert_many(db, rows)
    chapter = await units.by_code(db, "HM-HL-02")
    assert chapter is not None
    zalo_ids = []
    for n in range(count):
        zalo_id = f"{n:020x}"
        internal = await channels.internal_id(db, channel="zalo", external_id=zalo_id,
                                              at="2026-01-01T00:00:00Z")
        for user_id in (10_000 + n, internal):
            await members.register(db, NewMember(
                telegram_user_id=user_id, chat_id=user_id, full_name="Nguyễn Thị Hoa",
                phone="+84912345678", unit_id=chapter.id, locale="vi"),
                consent_purpose="membership", consent_version=1,
                consent_at="2026-01-01T00:00:00Z")
        zalo_ids.append(zalo_id)
    await db.close()
    return zalo_ids


async def run(events: int) -> list[dict[str, float | str | int]]:
    """Both channels, one after the other, in the same process and database."""
    with tempfile.TemporaryDirectory() as folder:
        settings = Settings(database=Path(folder) / "bench.sqlite3", send_rate=0,
                            zalo_send_rate=0)
        zalo_ids = await _seed(settings, min(events, 500))
        api = FakeBotAPI()
        telegram = build_application(settings, request=api, background=False)
        await telegram.initialize()
        await telegram.post_init(telegram)  # type: ignore[misc]
        zalo_api = FakeZaloAPI()
        client = ZaloClient(token=TOKEN, base_url=BASE_URL, transport=zalo_api)
        zapp, bridge = build_zalo_application(settings, client=client, background=False)
        await zapp.initialize()
        await zapp.post_init(zapp)  # type: ignore[misc]
        results = []
        latencies = []
        for n in range(events):
            user = api.user(10_000 + n % len(zalo_ids))
            update = api.to_update(api.command_update(user, "/help"), telegram.bot)
            started = time.perf_counter()
            await telegram.process_update(update)
            latencies.append(time.perf_counter() - started)
        results.append(_figures("telegram", latencies))
        latencies = []
        for n in range(events):
            event = zalo_api.event(zalo_ids[n % len(zalo_ids)], text="/help")
            started = time.perf_counter()
            await bridge.handle_event(event)
            latencies.append(time.perf_counter() - started)
        results.append(_figures("zalo", latencies))
        assert not zalo_api.rejected(), "the fake refused calls"
        for application in (zapp, telegram):
            await application.shutdown()
            await application.post_shutdown(application)  # type: ignore[misc]
        await client.close()
    return results


def main() -> None:
    """Print one line per channel, then JSON."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--events", type=int, default=2000)
    parser.add_argument("--smoke", action="store_true", help="a few events: a seconds-long check")
    args = parser.parse_args()
    if args.smoke:
        args.events = 40
    logging.disable(logging.INFO)
    results = asyncio.run(run(args.events))
    for r in results:
        print(f"{r['channel']:9} {r['events']} events  {r['per_s']}/s  p50 {r['p50_ms']} ms"
              f"  p99 {r['p99_ms']} ms")
    print(json.dumps({r["channel"]: r for r in results}))


if __name__ == "__main__":
    main()
