#!/usr/bin/env python
"""Interactive replies while a district broadcast runs at Telegram's limit (issue 16, §4).

50 registered members act at once in a random walk (21 actions/s in all): each taps a
main-menu button or one of the inline buttons of the bot's latest message to her, waits for
the answer, thinks a random while (exponential, so the walk keeps its rate) and acts again.
Meanwhile a notice to all 33,740 members of the district goes out through the outbox. All of
it through the real Application (its update processor: bounded concurrency, each member's
updates in order) with our pacing on (BOT_SEND_RATE default) against the in-process Bot API
enforcing Telegram's flood limits (30 new messages/s overall, 1/s per chat, bursts of 3).

Printed: first-reply latency p50/p95/p99/max (her update handed to the Application → the
first message sent or edited in her chat accepted), paced calls/s (new messages accepted:
replies and broadcast together) and the aims. The baseline, in the same sitting: the same
walk (same seed) on a copy of the same database without the broadcast. Real time.

    python bench/pacing.py [--members 33740] [--walkers 50] [--rate 21] [--seconds 30]

The last line printed is JSON.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import random
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.district import build_tree
from bot.app import build_application
from bot.channels.telegram_fake import FakeBotAPI, RateLimits
from bot.i18n import translator
from bot.settings import DEFAULT_SEND_RATE, Settings
from handlers.kit import menu
from storage import deliveries
from storage import members as storage_members
from storage.db import Database, utc_now
from storage.deliveries import NewBroadcast
from storage.members import NewMember

FIRST_USER = 20_000_000  # member i: FIRST_USER + i; the walkers are the first ones
SENDER = 42
AIM_P50_S, AIM_P99_S = 0.3, 1.0
# What a member taps in her main menu (registered, no office).
MENU = (menu.PROFILE, menu.REPORT, menu.STANDARD, menu.FAMILY, menu.SUPPORT, menu.LANGUAGE,
        menu.HELP, menu.PRIVACY)
PRESS_SHARE = 0.6  # of actions: an inline button of her latest message, when it has one
AVOID = ("xóa", "rút", "delete", "withdraw", "erase")  # labels the walk never presses
_REPLY_METHODS = frozenset({"sendmessage", "sendphoto", "senddocument", "editmessagetext",
                            "editmessagereplymarkup", "editmessagecaption"})
_PACED = ("send", "copymessage", "forwardmessage")
NOTICE = "Chủ nhật này ra quân vệ sinh môi trường."  # the broadcast; not a reply to anyone


class TimedAPI(FakeBotAPI):
    """Notes when the first reply to a waiting walker is accepted, and paced calls' times."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.waiting: dict[int, float] = {}  # chat id -> when her update was handed over
        self.first_reply: list[float] = []
        self.paced_at: list[float] = []

    async def do_request(self, url: str, method: str, *args: Any, **kwargs: Any) -> Any:
        code, payload = await super().do_request(url, method, *args, **kwargs)
        name = url.rsplit("/", 1)[-1].lower()
        if code == 200 and name in _REPLY_METHODS:
            now = time.perf_counter()
            if name.startswith(_PACED) and name != "sendchataction":
                self.paced_at.append(now)
            result = json.loads(payload)["result"]
            chat = (result.get("chat", {}).get("id") if isinstance(result, dict)
                    and NOTICE not in str(result.get("text")) else None)
            started = self.waiting.pop(chat, None) if chat is not None else None
            if started is not None:
                self.first_reply.append(now - started)
        return code, payload


async def seed(path: Path, members: int) -> None:
    """The district tree and `members` active members (with consent) spread over it."""
    db = await Database.connect(path)
    chapters = (await build_tree(db)).chapters
    await storage_members.insert_many(db, (
        NewMember(telegram_user_id=FIRST_USER + i, chat_id=FIRST_USER + i,
                  full_name=f"Nguyễn Thị Hoa {i}", phone=None,
                  unit_id=chapters[i % len(chapters)], locale="vi")
        for i in range(members)), at=utc_now(), consent=("membership", 1))
    await db.close()


def next_action(api: FakeBotAPI, user: dict[str, Any], rng: random.Random) -> dict[str, Any]:
    """Her next update: an inline button of the bot's latest keyboard to her, or a menu tap."""
    chat = user["id"]
    if rng.random() < PRESS_SHARE:
        for message in reversed(api.messages(chat)[-3:]):
            rows = (message.get("reply_markup") or {}).get("inline_keyboard") or []
            buttons = [b for row in rows for b in row if "callback_data" in b
                       and not any(word in b.get("text", "").lower() for word in AVOID)]
            if buttons:
                button = rng.choice(buttons)
                return api.callback_update(user, message["message_id"], button["callback_data"])
    label = translator("vi")._(rng.choice(MENU))
    return api.message_update(user, label)


def pct(ordered: list[float], share: float) -> float:
    """The `share` quantile of sorted values (nearest rank)."""
    return ordered[min(len(ordered) - 1, int(len(ordered) * share))] if ordered else 0.0


async def walk(path: Path, *, members: int, walkers: int, rate: float, seconds: float,
               broadcast: bool) -> dict[str, Any]:
    """One sitting of the walk, with or without the district notice going out meanwhile."""
    api = TimedAPI(rate_limits=RateLimits(global_per_second=30))
    api.add_chat(SENDER)
    for i in range(members):
        api.add_chat(FIRST_USER + i)
    app = build_application(Settings(database=path, admin_ids=frozenset({SENDER}),
                                     send_rate=DEFAULT_SEND_RATE), request=api, background=False)
    await app.initialize()
    await app.post_init(app)  # type: ignore[misc]
    engine = app.bot_data.delivery
    sending: asyncio.Task[Any] | None = None
    notice = None
    try:
        db = app.bot_data.db
        if broadcast:
            notice = await deliveries.create(db, NewBroadcast(
                draft_key="pacing", created_by=SENDER, sender_chat_id=SENDER, unit_id=1,
                audience="all", text_html=f"📢 <b>Quận Hoàng Mai</b>\n\n{NOTICE}",
                photo_file_id=None, scheduled_at=utc_now()))
            assert notice is not None
            await deliveries.start_due(db, utc_now(), time.gmtime().tm_year)
            sending = asyncio.create_task(engine.run_until_idle())
            await asyncio.sleep(min(1.0, seconds / 4))  # the broadcast at full rate first
        actions = 0
        think = walkers / rate  # mean seconds between one walker's actions

        async def walker(index: int) -> None:
            nonlocal actions
            rng = random.Random(index)
            user = api.user(FIRST_USER + index, first_name=f"Hoa {index}")
            next_at = time.perf_counter() + rng.uniform(0, think)
            first = True
            while next_at < end:
                await asyncio.sleep(max(0.0, next_at - time.perf_counter()))
                data = (api.message_update(user, "/start") if first
                        else next_action(api, user, rng))
                first = False
                update = api.to_update(data, app.bot)
                api.waiting[user["id"]] = time.perf_counter()
                await app.update_processor.process_update(update, app.process_update(update))
                api.waiting.pop(user["id"], None)
                actions += 1
                next_at += rng.expovariate(1 / think)

        began = time.perf_counter()
        end = began + seconds
        paced_before = len(api.paced_at)
        await asyncio.gather(*(walker(i) for i in range(walkers)))
        elapsed = max(time.perf_counter() - began, seconds)
        paced = sum(1 for at in api.paced_at[paced_before:] if at <= began + elapsed)
        sent = 0
        if sending is not None and notice is not None:
            await engine.stop(timeout=5)
            sending.cancel()
            await asyncio.gather(sending, return_exceptions=True)
            sent = (await deliveries.progress(db, notice.id)).sent
        ordered = sorted(api.first_reply)
        return {"broadcast": broadcast, "actions": actions, "elapsed_s": round(elapsed, 1),
                "actions_per_s": round(actions / elapsed, 1), "replied": len(ordered),
                "p50_s": round(pct(ordered, 0.5), 3), "p95_s": round(pct(ordered, 0.95), 3),
                "p99_s": round(pct(ordered, 0.99), 3),
                "max_s": round(ordered[-1], 3) if ordered else 0.0,
                "paced_per_s": round(paced / elapsed, 1), "broadcast_sent": sent,
                "flood_refusals": api.rate_limited_count,
                "refused_in_walker_chats": sum(
                    1 for c in api.calls if c.error_code == 429
                    and FIRST_USER <= int(c.params.get("chat_id") or 0) < FIRST_USER + walkers)}
    finally:
        if sending is not None and not sending.done():
            await engine.stop(timeout=5)
            sending.cancel()
        await app.shutdown()
        await app.post_shutdown(app)  # type: ignore[misc]


def line(label: str, r: dict[str, Any]) -> str:
    """One printed figure line."""
    return (f"{label}: {r['actions']} actions in {r['elapsed_s']} s ({r['actions_per_s']}/s), "
            f"first reply p50 {r['p50_s']} s  p95 {r['p95_s']} s  p99 {r['p99_s']} s  "
            f"max {r['max_s']} s; paced calls {r['paced_per_s']}/s; broadcast sent "
            f"{r['broadcast_sent']:,}; 429s {r['flood_refusals']}")


def main() -> None:
    """Seed once, run the baseline and the walk under the broadcast, print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--members", type=int, default=33_740)
    parser.add_argument("--walkers", type=int, default=50)
    parser.add_argument("--rate", type=float, default=21.0, help="actions/s of all walkers")
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--smoke", action="store_true", help="tiny sizes, seconds long")
    args = parser.parse_args()
    if args.smoke:
        args.members, args.walkers, args.rate, args.seconds = 300, 5, 2.1, 1.5
    logging.disable(logging.INFO)
    with tempfile.TemporaryDirectory(prefix="bench-pacing-") as folder:
        seeded = Path(folder) / "seed.sqlite3"
        asyncio.run(seed(seeded, args.members))
        runs = {}
        for name, broadcast in (("baseline", False), ("broadcast", True)):
            path = Path(folder) / f"{name}.sqlite3"
            shutil.copy(seeded, path)
            runs[name] = asyncio.run(walk(path, members=args.members, walkers=args.walkers,
                                          rate=args.rate, seconds=args.seconds,
                                          broadcast=broadcast))
    print(f"{args.walkers} members acting at once ({args.rate}/s), Telegram limits on, "
          f"BOT_SEND_RATE {DEFAULT_SEND_RATE:g}:")
    print(line("baseline, no broadcast", runs["baseline"]))
    print(line(f"while a {args.members:,}-member broadcast runs", runs["broadcast"]))
    under = runs["broadcast"]
    met = under["p50_s"] <= AIM_P50_S and under["p99_s"] <= AIM_P99_S
    print(f"aims under the broadcast: p50 <= {AIM_P50_S} s, p99 <= {AIM_P99_S} s: "
          f"{'met' if met else 'NOT met'}")
    print(json.dumps({"members": args.members, "walkers": args.walkers, "rate": args.rate,
                      **runs, "aims_met": met}))


if __name__ == "__main__":
    main()
