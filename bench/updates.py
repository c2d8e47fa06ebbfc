#!/usr/bin/env python
"""Update throughput and latency of the real Application on the in-process Bot API.

One run measures, with `send_rate=0` (no outgoing pacing) and a temp-dir SQLite file:

1. ``/help`` from many registered members (pre-registered through ``storage.members``);
2. a bare python-telegram-bot echo Application on the same kind of fake transport, fed the
   same number of text updates (the ceiling PTB itself sets), and the ratio ours / bare;
3. complete registrations (/start, agree, name, contact, ward, chapter, confirm) by distinct
   new users, checked afterwards against the ``members`` table.

Latency is the time around ``await application.process_update(update)``; every Update is
built before its clock starts. Throughput is updates divided by the summed processing time.

    python bench/updates.py [--seconds N] [--members N] [--profile [help|registration]] [--smoke]

``--seconds`` is the measuring time of the /help phase and of the registration phase each
(the echo phase processes as many updates as /help did). The last line printed is JSON.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import io
import json
import logging
import math
import os
import platform
import pstats
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import telegram  # noqa: E402
from telegram import Update  # noqa: E402
from telegram.ext import (  # noqa: E402
    Application,
    ApplicationBuilder,
    ContextTypes,
    MessageHandler,
    filters,
)

from bot.app import OFFLINE_TOKEN, build_application  # noqa: E402
from bot.channels.telegram_fake import ApiCall, FakeBotAPI  # noqa: E402
from bot.settings import Settings  # noqa: E402
from bot.unit_import import parse_csv  # noqa: E402
from storage import members, units  # noqa: E402
from storage.db import Database  # noqa: E402
from storage.members import NewMember  # noqa: E402

ADMIN_ID = 9001
MEMBER_BASE = 1_000_000  # pre-registered members: MEMBER_BASE + i
NEWCOMER_BASE = 2_000_000  # people who register during the benchmark: NEWCOMER_BASE + i
BATCH = 500  # updates built (untimed) before each timed batch
WARMUP_UPDATES = 300
WARMUP_REGISTRATIONS = 20
SURNAMES = ("Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Vũ", "Đặng", "Bùi")
GIVEN = ("Lan", "Hoa", "Mai", "Hương", "Thảo", "Ngọc", "Linh", "Hằng", "Yến", "Trang")


# --- measurements ----------------------------------------------------------------------------


@dataclass
class Timings:
    """Per-update latencies (seconds) and the processing time they add up to."""

    latencies: list[float] = field(default_factory=list)

    @property
    def count(self) -> int:
        """How many were timed."""
        return len(self.latencies)

    @property
    def busy(self) -> float:
        """Total processing time (s)."""
        return sum(self.latencies)

    @property
    def per_second(self) -> float:
        """Throughput over the processing time."""
        return self.count / self.busy if self.busy else 0.0

    def pct_ms(self, q: float) -> float:
        """The q-quantile (0..1, nearest rank) in milliseconds."""
        if not self.latencies:
            return 0.0
        ordered = sorted(self.latencies)
        index = min(len(ordered) - 1, max(0, math.ceil(q * len(ordered)) - 1))
        return ordered[index] * 1000


async def timed(application: Application, updates: Sequence[Update], into: Timings,
                profiler: cProfile.Profile | None = None) -> None:
    """Process prepared updates one by one, timing (and optionally profiling) each."""
    clock = time.perf_counter
    process = application.process_update
    for update in updates:
        if profiler is not None:
            profiler.enable()
        start = clock()
        await process(update)
        into.latencies.append(clock() - start)
        if profiler is not None:
            profiler.disable()


class TimedFakeBotAPI(FakeBotAPI):
    """The strict fake, also adding up the time spent serving calls (the transport's share)."""

    def __init__(self) -> None:
        super().__init__()
        self.serving = 0.0
        self.served = 0
        self.refused: list[str] = []

    async def do_request(self, *args: Any, **kwargs: Any) -> tuple[int, bytes]:
        """Serve one call (see FakeBotAPI.do_request), timed."""
        start = time.perf_counter()
        try:
            return await super().do_request(*args, **kwargs)
        finally:
            self.serving += time.perf_counter() - start

    def drain(self) -> list[ApiCall]:
        """The calls recorded since the last drain (refusals kept aside); forgets them.

        Keeps memory flat over a long run: the fake otherwise keeps every call forever.
        """
        calls = list(self.calls)
        self.clear_calls()
        self.served += len(calls)
        self.refused += [f"{c.method}: {c.description}" for c in calls if not c.ok]
        return calls


class ErrorLog(logging.Handler):
    """Counts warnings and errors (the bot's error handler logs every failed update)."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


# --- the bot ---------------------------------------------------------------------------------


async def start_bot(db_path: Path) -> tuple[Application, TimedFakeBotAPI]:
    """The real Application (as in tests/conftest.py), organisation tree loaded."""
    settings = Settings(database=db_path, admin_ids=frozenset({ADMIN_ID}), send_rate=0)
    db = await Database.connect(settings.database)
    csv_text = (resources.files("bot") / "data" / "hoang_mai_units.csv").read_text("utf-8")
    rows, _lines = parse_csv(csv_text)
    await units.upsert_many(db, rows)
    await db.close()
    api = TimedFakeBotAPI()
    api.user(ADMIN_ID, first_name="Admin")  # she opened the bot, so her command menu can be set
    application = build_application(settings, request=api)
    await application.initialize()
    await application.post_init(application)  # type: ignore[misc]
    api.drain()
    return application, api


async def stop_bot(application: Application) -> None:
    """Shut down like a graceful stop."""
    await application.shutdown()
    await application.post_shutdown(application)  # type: ignore[misc]


async def preregister(application: Application, api: FakeBotAPI, count: int) -> list[dict]:
    """Store `count` members directly; returns their Telegram users (chats known to the fake)."""
    db: Database = application.bot_data.db
    chapters = [r[0] for r in await db.fetchall("SELECT id FROM units WHERE kind = 'chapter'")]
    people = []
    for i in range(count):
        user = api.user(MEMBER_BASE + i, first_name=f"Hội viên {i}", language_code="vi")
        await members.register(
            db,
            NewMember(telegram_user_id=user["id"], chat_id=user["id"],
                      full_name=f"{SURNAMES[i % 8]} Thị {GIVEN[i % 10]}", phone=f"+8491{i:07d}",
                      unit_id=chapters[i % len(chapters)], locale="vi"),
            consent_purpose="membership", consent_version=1, consent_at="2026-01-01T00:00:00Z",
        )
        people.append(user)
    return people


def help_updates(api: FakeBotAPI, bot: telegram.Bot, people: list[dict], start: int,
                 count: int) -> list[Update]:
    """`/help` from consecutive members (cycling), as ready Update objects."""
    return [api.to_update(api.command_update(people[(start + k) % len(people)], "/help"), bot)
            for k in range(count)]


def answers(calls: list[ApiCall]) -> int:
    """Messages the bot sent successfully."""
    return sum(1 for c in calls if c.ok and c.method == "sendMessage")


async def bench_help(application: Application, api: TimedFakeBotAPI, people: list[dict],
                     seconds: float, profiler: cProfile.Profile | None = None,
                     ) -> tuple[Timings, float]:
    """/help from registered members for about `seconds` of processing time.

    Returns the timings and the time spent inside the fake transport.
    """
    await timed(application, help_updates(api, application.bot, people, 0, WARMUP_UPDATES),
                Timings())
    api.drain()
    result = Timings()
    sent, serving = 0, api.serving
    while result.busy < seconds:
        batch = help_updates(api, application.bot, people, WARMUP_UPDATES + result.count, BATCH)
        await timed(application, batch, result, profiler)
        sent += answers(api.drain())
    if sent != result.count:
        raise SystemExit(f"/help: {result.count} updates but {sent} answers")
    return result, api.serving - serving


# --- registration ----------------------------------------------------------------------------


@dataclass
class Registrations:
    """Per-update and per-registration timings of complete registrations."""

    updates: Timings = field(default_factory=Timings)
    whole: Timings = field(default_factory=Timings)
    wall: float = 0.0
    api_calls: int = 0
    serving: float = 0.0


def newest_buttons(api: FakeBotAPI, chat_id: int) -> tuple[int, list[str]]:
    """(message_id, callback data) of the newest bot message with inline buttons."""
    for message in reversed(api.messages(chat_id)):
        keyboard = (message.get("reply_markup") or {}).get("inline_keyboard")
        if keyboard:
            return message["message_id"], [b["callback_data"] for row in keyboard for b in row
                                           if "callback_data" in b]
    return 0, []


def press(api: FakeBotAPI, user: dict, bot: telegram.Bot, needle: str, pick: int = 0) -> Update:
    """A press on the newest button whose data contains `needle` (the pick-th of them)."""
    message_id, datas = newest_buttons(api, user["id"])
    matches = [d for d in datas if needle in d]
    if not matches:
        raise SystemExit(f"user {user['id']}: no button {needle!r} in {datas}; bot said: "
                         f"{api.last_text(user['id'])!r}")
    data = matches[pick % len(matches)]
    return api.to_update(api.callback_update(user, message_id, data), bot)


async def register_one(application: Application, api: TimedFakeBotAPI, i: int,
                       into: Registrations, profiler: cProfile.Profile | None = None) -> None:
    """One newcomer through the whole flow; each update built before it is timed."""
    bot = application.bot
    user = api.user(NEWCOMER_BASE + i, first_name="Lan", language_code="vi")
    steps: list[float] = []

    async def feed(update: Update) -> None:
        if profiler is not None:
            profiler.enable()
        start = time.perf_counter()
        await application.process_update(update)
        steps.append(time.perf_counter() - start)
        if profiler is not None:
            profiler.disable()

    await feed(api.to_update(api.command_update(user, "/start"), bot))
    await feed(press(api, user, bot, ":o:yes"))
    name = f"{SURNAMES[i % len(SURNAMES)]} Thị {GIVEN[i // len(SURNAMES) % len(GIVEN)]}"
    await feed(api.to_update(api.message_update(user, name), bot))
    await feed(api.to_update(api.contact_update(user, f"+8498{i:07d}"), bot))
    for level in range(4):  # ward, then chapter (and deeper, if the tree had more levels)
        _mid, datas = newest_buttons(api, user["id"])
        if not any(":u:o:" in d for d in datas):
            break
        await feed(press(api, user, bot, ":u:o:", pick=i // (level + 1)))
    await feed(press(api, user, bot, ":o:ok"))
    into.updates.latencies.extend(steps)
    into.whole.latencies.append(sum(steps))


async def bench_registrations(application: Application, api: TimedFakeBotAPI, seconds: float,
                              profiler: cProfile.Profile | None = None,
                              ) -> tuple[Registrations, int]:
    """Registrations for about `seconds` of processing time; returns them and the warm-up count."""
    for i in range(WARMUP_REGISTRATIONS):
        await register_one(application, api, i, Registrations())
    api.drain()
    result = Registrations()
    serving = api.serving
    started = time.perf_counter()
    i = WARMUP_REGISTRATIONS
    busy = 0.0
    while busy < seconds:
        await register_one(application, api, i, result, profiler)
        busy += result.whole.latencies[-1]
        result.api_calls += len(api.drain())
        i += 1
    result.wall = time.perf_counter() - started
    result.serving = api.serving - serving
    return result, WARMUP_REGISTRATIONS


# --- the bare echo baseline ------------------------------------------------------------------


async def echo(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Reply with the text."""
    assert update.message is not None and update.message.text is not None
    await update.message.reply_text(update.message.text)


async def bench_echo(count: int, users: int) -> tuple[Timings, TimedFakeBotAPI, float]:
    """A bare PTB Application with one MessageHandler, fed `count` text updates.

    Returns the timings, the fake and the time spent inside it.
    """
    api = TimedFakeBotAPI()
    application = (
        ApplicationBuilder().token(OFFLINE_TOKEN).request(api).get_updates_request(api).build()
    )
    application.add_handler(MessageHandler(filters.TEXT & ~filters.COMMAND, echo))
    await application.initialize()
    people = [api.user(MEMBER_BASE + i, first_name=f"User {i}") for i in range(users)]

    def updates(start: int, n: int) -> list[Update]:
        return [api.to_update(api.message_update(people[(start + k) % users],
                                                 f"xin chào {start + k}"), application.bot)
                for k in range(n)]

    await timed(application, updates(0, WARMUP_UPDATES), Timings())
    api.drain()
    result = Timings()
    sent, serving = 0, api.serving
    while result.count < count:
        await timed(application, updates(WARMUP_UPDATES + result.count,
                                         min(BATCH, count - result.count)), result)
        sent += answers(api.drain())
    await application.shutdown()
    if sent != result.count:
        raise SystemExit(f"echo: {result.count} updates but {sent} answers")
    return result, api, api.serving - serving


# --- report ----------------------------------------------------------------------------------


def row(name: str, t: Timings, serving: float, unit: str = "upd/s") -> str:
    """One line of the table; `serving` is the time spent inside the fake transport."""
    return (f"{name:<28} {t.count:>6} {t.per_second:>9.1f} {unit:<6}"
            f"{t.pct_ms(0.50):>8.3f} {t.pct_ms(0.99):>8.3f} {t.busy / t.count * 1000:>8.3f}"
            f"{serving / t.count * 1000:>9.3f}")


def figures(t: Timings) -> dict[str, float | int]:
    """The JSON figures of one measurement."""
    return {"count": t.count, "per_second": round(t.per_second, 1),
            "p50_ms": round(t.pct_ms(0.50), 3), "p99_ms": round(t.pct_ms(0.99), 3)}


def top_costs(profile: cProfile.Profile, lines: int = 25) -> str:
    """The most expensive functions of a profile, by internal and by cumulative time."""
    out = io.StringIO()
    stats = pstats.Stats(profile, stream=out).strip_dirs()
    stats.sort_stats("tottime").print_stats(lines)
    stats.sort_stats("cumulative").print_stats(lines)
    return out.getvalue()


async def run(seconds: float, member_count: int, profile: str | None) -> dict[str, Any]:
    """All three measurements in one process; prints the table, returns the figures."""
    errors = ErrorLog()
    logging.getLogger().addHandler(errors)
    profiler = cProfile.Profile() if profile else None
    with tempfile.TemporaryDirectory(prefix="hoivien-bench-") as tmp:
        application, api = await start_bot(Path(tmp) / "bot.sqlite3")
        try:
            t0 = time.perf_counter()
            people = await preregister(application, api, member_count)
            setup = time.perf_counter() - t0
            help_t, help_serving = await bench_help(
                application, api, people, seconds, profiler if profile == "help" else None)
            echo_t, echo_api, echo_serving = await bench_echo(help_t.count, member_count)
            regs, warm = await bench_registrations(
                application, api, seconds, profiler if profile == "registration" else None)

            db: Database = application.bot_data.db
            found = await db.fetchone(
                "SELECT COUNT(*) FROM members WHERE telegram_user_id >= ? AND status = 'active'",
                (NEWCOMER_BASE,))
            stored = int(found[0]) if found else 0
            expected = warm + regs.whole.count
            if stored != expected:
                raise SystemExit(f"registrations: expected {expected} new members, found {stored}")
            found = await db.fetchone("SELECT COUNT(*) FROM conversations")
            open_conversations = int(found[0]) if found else -1
            api.drain()
            refused = api.refused + echo_api.refused
            if refused:
                raise SystemExit(f"{len(refused)} calls rejected by the fake, e.g. {refused[:3]}")
            unanswered = api.unanswered_callback_queries()
            if unanswered:
                raise SystemExit(f"{len(unanswered)} button presses never answered")
            if errors.records:
                first = errors.records[0]
                raise SystemExit(f"{len(errors.records)} warnings/errors logged, first: "
                                 f"{first.name}: {first.getMessage()}")
        finally:
            await stop_bot(application)

    n = regs.whole.count
    ratio = help_t.per_second / echo_t.per_second
    # The same comparison with the time spent inside the fake Bot API taken out of both sides.
    ratio_own = ((echo_t.busy - echo_serving) / echo_t.count) / (
        (help_t.busy - help_serving) / help_t.count)
    print(f"hoivien-bot update benchmark: Python {platform.python_version()}, "
          f"PTB {telegram.__version__}, in-process FakeBotAPI, send_rate=0, SQLite in a temp dir")
    print(f"setup: {member_count} members pre-registered in {setup:.2f} s; "
          f"--seconds {seconds:g} per measured phase; load average "
          f"{' '.join(f'{x:.2f}' for x in os.getloadavg())} on {os.cpu_count()} CPUs")
    print()
    print(f"{'measurement':<28} {'count':>6} {'rate':>9} {'':<6}{'p50 ms':>8} {'p99 ms':>8} "
          f"{'mean ms':>8} {'in fake':>8}")
    print("-" * 87)
    print(row("/help (registered members)", help_t, help_serving))
    print(row("bare PTB echo", echo_t, echo_serving))
    print(row("registration: one update", regs.updates, regs.serving))
    print(row("registration: whole flow", regs.whole, regs.serving, "reg/s"))
    print("-" * 87)
    print("rate = count / summed processing time; 'in fake' = mean ms inside the fake Bot API")
    print(f"/help vs bare echo throughput: {ratio:.1%} "
          f"(aim >= 50%: {'met' if ratio >= 0.5 else 'NOT met'}); "
          f"excluding time inside the fake: {ratio_own:.1%}")
    print(f"registrations/s: {regs.whole.per_second:.1f} "
          f"(aim >= 100: {'met' if regs.whole.per_second >= 100 else 'NOT met'}); "
          f"{n / regs.wall:.1f}/s on wall time incl. building the updates")
    print(f"per registration: {regs.updates.count / n:.2f} updates, "
          f"{regs.api_calls / n:.2f} Bot API calls; new members in the DB: {stored} "
          f"= {n} measured + {warm} warm-up; rejected calls: {len(refused)}; "
          f"open conversations left: {open_conversations}")
    if profiler is not None:
        print()
        print(f"cProfile of process_update in the {profile} phase:")
        print(top_costs(profiler))
    return {
        "python": platform.python_version(),
        "ptb": telegram.__version__,
        "seconds": seconds,
        "members_preregistered": member_count,
        "load_average": [round(x, 2) for x in os.getloadavg()],
        "help": {**figures(help_t), "in_fake_ms": round(help_serving / help_t.count * 1000, 3)},
        "echo": {**figures(echo_t), "in_fake_ms": round(echo_serving / echo_t.count * 1000, 3)},
        "help_vs_echo_ratio": round(ratio, 3),
        "help_vs_echo_ratio_excluding_fake": round(ratio_own, 3),
        "registration_update": figures(regs.updates),
        "registration": {
            **figures(regs.whole),
            "per_second_wall": round(n / regs.wall, 1),
            "updates_per_registration": round(regs.updates.count / n, 2),
            "api_calls_per_registration": round(regs.api_calls / n, 2),
            "members_stored": stored,
            "rejected_calls": len(refused),
        },
    }


def main(argv: Sequence[str] | None = None) -> None:
    """Parse the options, run, print the final JSON line."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=10.0,
                        help="processing time of the /help and registration phases (default 10)")
    parser.add_argument("--members", type=int, default=2000,
                        help="members pre-registered for /help (default 2000)")
    parser.add_argument("--profile", nargs="?", const="help", choices=("help", "registration"),
                        help="cProfile one phase (default: help) and print the top costs")
    parser.add_argument("--smoke", action="store_true",
                        help="a seconds-long run with tiny sizes (the test suite runs it)")
    args = parser.parse_args(argv)
    if args.smoke:
        args.seconds, args.members = 0.2, 300  # enough people to stay under the flood limit
    result = asyncio.run(run(args.seconds, args.members, args.profile))
    print(json.dumps(result, ensure_ascii=False))


if __name__ == "__main__":
    main()
