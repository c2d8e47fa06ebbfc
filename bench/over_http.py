#!/usr/bin/env python
"""Over real HTTP on loopback: this bot against bare python-telegram-bot and aiogram echo bots.

This process serves the in-process fake Bot API (`bot.channels.telegram_fake.FakeBotAPI`)
over HTTP on 127.0.0.1 (`bot.channels.telegram_fake.http_front`) and drives the load; each
bot runs as its own process polling it, one after another and alternating, in one sitting:

(a) this bot (``python -m bot run``, ``BOT_SEND_RATE=0``), its members registered beforehand;
(b) a bare python-telegram-bot echo bot (PTB's defaults: httpx, one update at a time);
(c) a bare aiogram echo bot (only if aiogram is installed: ``pip install -e '.[bench]'``).

The load is a closed loop: `--members` people each send ``/help``; as soon as the bot's
answer to one of them arrives, she sends the next, `--rounds` times (after one warm-up
``/help`` each: 20 in all by default, as many as the flood gate allows in 10 seconds).
Printed per run: updates/s (answers / wall time of the measured phase), latency
p50/p95/p99 (update queued → answer received), CPU ms per update of the bot process
and of this (front) process, start-up time (process start → first getUpdates) and the bot's
RSS when idle. Then the medians per bot and the ratios. ``--district`` also builds a database
at district scale (33,740 members, 1,000,000 reports; see bench/stats.py) and reports this
bot's start-up time and idle RSS on it. Loopback only; every run is bounded by `--timeout`.

    python bench/over_http.py [--members 200] [--rounds 19] [--repeat 2] [--district]
                         [--source CHECKOUT]   # this bot from another checkout, e.g. before

The last line printed is JSON.
"""

# Not named bench/http.py: with bench/ first on the import path (as every script here runs)
# that name would hide the standard library's `http` from the other benchmarks.
from __future__ import annotations

import argparse
import asyncio
import importlib.util
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

from bot.channels.telegram_fake import FakeBotAPI
from bot.channels.telegram_fake.http_front import FakeApiServer
from bot.unit_import import parse_csv
from storage import members, units
from storage.db import Database
from storage.members import NewMember

TOKEN = "123456789:AAHbenchmarkbenchmarkbenchmark00000"
MEMBER_BASE = 5_000_000
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
BOTS = ("hoivien", "ptb", "aiogram")
_HERE = Path(__file__).resolve().parent


# --- the bots under test (each runs in a child process) ---------------------------------------


def child_ptb(base_url: str) -> None:
    """A bare python-telegram-bot echo bot with PTB's defaults."""
    from telegram import Update
    from telegram.ext import ApplicationBuilder, ContextTypes, MessageHandler, filters

    async def echo(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        assert update.message is not None and update.message.text is not None
        await update.message.reply_text(update.message.text)

    application = ApplicationBuilder().token(TOKEN).base_url(base_url).build()
    application.add_handler(MessageHandler(filters.TEXT, echo))
    application.run_polling(allowed_updates=["message"])


def child_aiogram(base_url: str) -> None:
    """A bare aiogram echo bot with aiogram's defaults."""
    from aiogram import Bot, Dispatcher
    from aiogram.client.session.aiohttp import AiohttpSession
    from aiogram.client.telegram import TelegramAPIServer
    from aiogram.types import Message

    server = TelegramAPIServer.from_base(base_url.removesuffix("/bot"))
    dispatcher = Dispatcher()

    @dispatcher.message()
    async def echo(message: Message) -> None:
        await message.answer(message.text or "?")

    async def main() -> None:
        bot = Bot(TOKEN, session=AiohttpSession(api=server))
        await dispatcher.start_polling(bot, handle_signals=True, allowed_updates=["message"])

    asyncio.run(main())


def command(bot: str, base_url: str, database: Path, source: Path | None = None
            ) -> tuple[list[str], dict[str, str]]:
    """The command line and environment of one bot process (`source`: this bot's checkout)."""
    env = {**os.environ, "PYTHONPATH": str(_HERE.parent)}
    if bot == "hoivien":
        env["PYTHONPATH"] = str(source or _HERE.parent)
        env.update(TELEGRAM_BOT_TOKEN=TOKEN, TELEGRAM_API_BASE_URL=base_url, BOT_SEND_RATE="0",
                   BOT_DATABASE=str(database))
        return [sys.executable, "-m", "bot", "--log-level", "WARNING", "run"], env
    return [sys.executable, str(Path(__file__).resolve()), "--child", bot, base_url], env


# --- measuring -----------------------------------------------------------------------------


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS


def rss_mb(pid: int) -> float:
    """Resident memory of a process (Linux /proc)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


@dataclass
class Run:
    """The figures of one bot process under the load."""

    bot: str
    answers: int = 0
    wall: float = 0.0
    latencies: list[float] = field(default_factory=list)
    cpu_bot: float = 0.0
    cpu_front: float = 0.0
    startup: float = 0.0
    idle_rss: float = 0.0

    @property
    def per_second(self) -> float:
        return self.answers / self.wall if self.wall else 0.0

    def pct_ms(self, q: float) -> float:
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000 if ordered else 0.0

    def figures(self) -> dict[str, Any]:
        return {"bot": self.bot, "answers": self.answers, "per_second": round(self.per_second, 1),
                "p50_ms": round(self.pct_ms(0.5), 1), "p95_ms": round(self.pct_ms(0.95), 1),
                "p99_ms": round(self.pct_ms(0.99), 1),
                "cpu_ms_per_update": round(self.cpu_bot / max(self.answers, 1) * 1000, 3),
                "front_cpu_ms_per_update": round(self.cpu_front / max(self.answers, 1) * 1000, 3),
                "startup_s": round(self.startup, 2), "idle_rss_mb": round(self.idle_rss, 1)}


class Load:
    """The closed loop: each person sends her next /help when the answer to the last arrives."""

    def __init__(self, api: FakeBotAPI, people: list[dict[str, Any]], rounds: int) -> None:
        self.api, self.people = api, {p["id"]: p for p in people}
        self.rounds = rounds
        self.left: dict[int, int] = {}
        self.sent_at: dict[int, float] = {}
        self.latencies: list[float] = []
        self.answers = 0
        self.done = asyncio.Event()
        self.expected = 0

    def send(self, user_id: int) -> None:
        self.sent_at[user_id] = time.perf_counter()
        self.api.queue_update(self.api.command_update(self.people[user_id], "/help"))

    def start(self, rounds: int) -> None:
        self.latencies, self.answers, self.done = [], 0, asyncio.Event()
        self.expected = rounds * len(self.people)
        for user_id in self.people:
            self.left[user_id] = rounds - 1
            self.send(user_id)

    def answered(self, chat_id: int) -> None:
        sent = self.sent_at.pop(chat_id, None)
        if sent is None:
            return
        self.latencies.append(time.perf_counter() - sent)
        self.answers += 1
        if self.left.get(chat_id, 0) > 0:
            self.left[chat_id] -= 1
            self.send(chat_id)
        if self.answers >= self.expected:
            self.done.set()


async def one_run(bot: str, *, server: FakeApiServer, people_count: int, rounds: int,
                  database: Path, timeout: float, source: Path | None) -> Run:
    """Start one bot process, warm it up, measure the closed loop, stop it."""
    api = FakeBotAPI()
    people = [api.user(MEMBER_BASE + i, first_name=f"Hội viên {i}") for i in range(people_count)]
    load = Load(api, people, rounds)
    await server.use(api, on_message=load.answered)
    argv, env = command(bot, server.base_url, database, source)
    started = time.perf_counter()
    cwd = source if bot == "hoivien" and source is not None else None  # `-m bot` looks there
    process = subprocess.Popen(argv, env=env, stdin=subprocess.DEVNULL, cwd=cwd)
    run = Run(bot)
    try:
        await asyncio.wait_for(server.polled.wait(), timeout)
        run.startup = time.perf_counter() - started
        load.start(1)  # warm-up: one /help each
        await asyncio.wait_for(load.done.wait(), timeout)
        run.idle_rss = rss_mb(process.pid)
        cpu_bot, cpu_front = cpu_seconds(process.pid), time.process_time()
        t0 = time.perf_counter()
        load.start(rounds)
        await asyncio.wait_for(load.done.wait(), timeout)
        run.wall = time.perf_counter() - t0
        run.cpu_bot = cpu_seconds(process.pid) - cpu_bot
        run.cpu_front = time.process_time() - cpu_front
        run.answers, run.latencies = load.answers, load.latencies
    finally:
        process.terminate()
        try:
            await asyncio.to_thread(process.wait, 20)
        except subprocess.TimeoutExpired:
            process.kill()
            await asyncio.to_thread(process.wait)
    refused = [c for c in api.calls if not c.ok and c.error_code is not None]  # not cut off
    if refused:
        raise SystemExit(f"{bot}: {len(refused)} calls refused by the fake, e.g. "
                         f"{refused[0].method}: {refused[0].description}")
    return run


async def prepare_members(database: Path, count: int) -> None:
    """The demo's units and `count` registered members for this bot."""
    db = await Database.connect(database)
    try:
        rows, _lines = parse_csv(
            (resources.files("bot") / "data" / "hoang_mai_units.csv").read_text("utf-8"))
        await units.upsert_many(db, rows)
        chapters = [r[0] for r in await db.fetchall("SELECT id FROM units WHERE kind = 'chapter'")]
        for i in range(count):
            await members.register(
                db, NewMember(telegram_user_id=MEMBER_BASE + i, chat_id=MEMBER_BASE + i,
                              full_name=f"Nguyễn Thị Hoa {i}", phone=f"+8491{i:07d}",
                              unit_id=chapters[i % len(chapters)], locale="vi"),
                consent_purpose="membership", consent_version=1,
                consent_at="2026-01-01T00:00:00Z")
    finally:
        await db.close()


async def district(server: FakeApiServer, folder: Path, timeout: float) -> dict[str, Any]:
    """Start-up time and idle RSS of this bot on a district-scale database."""
    spec = importlib.util.spec_from_file_location("bench_stats", _HERE / "stats.py")
    assert spec is not None and spec.loader is not None
    stats = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(stats)
    database = folder / "district.sqlite3"
    db = await Database.connect(database)
    t0 = time.perf_counter()
    data = await stats.build(db, 33_740, 1_000_000)
    await db.close()
    built = time.perf_counter() - t0
    result: dict[str, Any] = {"build_s": round(built, 1), "data": data,
                              "file_mb": round(database.stat().st_size / 1e6)}
    for attempt in range(2):  # the first start also migrates and warms the file cache
        api = FakeBotAPI()
        await server.use(api, on_message=lambda _chat: None)
        argv, env = command("hoivien", server.base_url, database)
        started = time.perf_counter()
        process = subprocess.Popen(argv, env=env, stdin=subprocess.DEVNULL)
        try:
            await asyncio.wait_for(server.polled.wait(), timeout)
            result[f"startup_s_{attempt + 1}"] = round(time.perf_counter() - started, 2)
            await asyncio.sleep(2)  # idle: no updates
            result[f"idle_rss_mb_{attempt + 1}"] = round(rss_mb(process.pid), 1)
        finally:
            process.terminate()
            await asyncio.to_thread(process.wait, 30)
    return result


def report(runs: list[Run]) -> dict[str, Any]:
    """Print every run, the medians per bot and the ratios; return the figures."""
    print(f"{'bot':<10}{'answers':>8}{'upd/s':>9}{'p50 ms':>9}{'p95 ms':>9}{'p99 ms':>9}"
          f"{'CPU ms/u':>10}{'front ms/u':>11}{'start s':>9}{'RSS MB':>8}")
    for run in runs:
        f = run.figures()
        print(f"{run.bot:<10}{f['answers']:>8}{f['per_second']:>9.1f}{f['p50_ms']:>9.1f}"
              f"{f['p95_ms']:>9.1f}{f['p99_ms']:>9.1f}{f['cpu_ms_per_update']:>10.3f}"
              f"{f['front_cpu_ms_per_update']:>11.3f}{f['startup_s']:>9.2f}"
              f"{f['idle_rss_mb']:>8.1f}")
    medians: dict[str, dict[str, float]] = {}
    for bot in BOTS:
        mine = [r for r in runs if r.bot == bot]
        if mine:
            medians[bot] = {
                "per_second": round(statistics.median(r.per_second for r in mine), 1),
                "p99_ms": round(statistics.median(r.pct_ms(0.99) for r in mine), 1),
                "cpu_ms_per_update": round(statistics.median(
                    r.cpu_bot / max(r.answers, 1) * 1000 for r in mine), 3),
            }
    print()
    ours = medians["hoivien"]
    ratios: dict[str, float] = {}
    for other, aim in (("ptb", 1.0), ("aiogram", None)):
        if other not in medians:
            print(f"{other}: not run (not installed?)")
            continue
        ratio = ours["per_second"] / medians[other]["per_second"]
        ratios[f"vs_{other}"] = round(ratio, 3)
        verdict = "" if aim is None else (
            f" (aim >= {aim:.1f}x: {'met' if ratio >= aim else 'NOT met'})")
        mine, theirs = ours["cpu_ms_per_update"], medians[other]["cpu_ms_per_update"]
        cpu = "CPU per update below the clock tick (a longer run measures it)"
        if mine > 0 and theirs > 0:  # a short run may use less than one tick of CPU
            ratios[f"cpu_efficiency_vs_{other}"] = round(theirs / mine, 3)
            cpu = f"CPU per update {mine / theirs:.2f}x theirs"
        print(f"/help over HTTP vs bare {other} echo: {ratio:.2f}x throughput{verdict}; {cpu}")
    return {"medians": medians, "ratios": ratios}


async def main(args: argparse.Namespace) -> dict[str, Any]:
    """Run the bots alternating, `--repeat` times each; print the table."""
    bots = [b for b in BOTS if b != "aiogram" or importlib.util.find_spec("aiogram")]
    server = FakeApiServer()
    await server.start()
    runs: list[Run] = []
    result: dict[str, Any] = {
        "python": platform.python_version(), "cpus": os.cpu_count(), "members": args.members,
        "rounds": args.rounds, "repeat": args.repeat,
    }
    try:
        with tempfile.TemporaryDirectory(prefix="hoivien-http-") as tmp:
            folder = Path(tmp)
            database = folder / "bot.sqlite3"
            await prepare_members(database, args.members)
            for _ in range(args.repeat):
                for bot in bots:
                    run = await one_run(bot, server=server, people_count=args.members,
                                        rounds=args.rounds, database=database,
                                        timeout=args.timeout, source=args.source)
                    runs.append(run)
                    print(f"  {bot}: {run.per_second:.1f} upd/s", flush=True)
            if args.district:
                result["district"] = await district(server, folder, args.timeout * 5)
    finally:
        await server.stop()
    print()
    print(f"hoivien-bot HTTP benchmark: Python {platform.python_version()}, {os.cpu_count()} "
          f"CPUs, load average {' '.join(f'{x:.2f}' for x in os.getloadavg())}; "
          f"{args.members} members x {args.rounds} /help, closed loop, loopback HTTP")
    result["runs"] = [r.figures() for r in runs]
    if runs:
        result.update(report(runs))
    if "district" in result:
        d = result["district"]
        print(f"district scale ({d['data']}, {d['file_mb']} MB): start-up "
              f"{d['startup_s_1']} s / {d['startup_s_2']} s (aim <= 2 s), idle RSS "
              f"{d['idle_rss_mb_2']} MB (aim <= 150 MB)")
    return result


def parse(argv: list[str] | None = None) -> argparse.Namespace:
    """The options."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--members", type=int, default=200)
    # 1 warm-up + 19 measured = 20 each: the flood gate lets a member send 20 in 10 seconds.
    parser.add_argument("--rounds", type=int, default=19, help="measured /help per member")
    parser.add_argument("--repeat", type=int, default=2, help="runs of each bot, alternating")
    parser.add_argument("--timeout", type=float, default=120.0, help="seconds per phase")
    parser.add_argument("--source", type=Path, default=None,
                        help="run this bot from another checkout (e.g. before a change)")
    parser.add_argument("--district", action="store_true",
                        help="also start-up time and idle RSS at district scale")
    parser.add_argument("--smoke", action="store_true",
                        help="5 members x 2 rounds, one run each: a seconds-long check")
    parser.add_argument("--child", nargs=2, metavar=("BOT", "BASE_URL"), help=argparse.SUPPRESS)
    options = parser.parse_args(argv)
    if options.smoke:
        options.members, options.rounds, options.repeat, options.timeout = 5, 2, 1, 60.0
    return options


if __name__ == "__main__":
    options = parse()
    if options.child:
        {"ptb": child_ptb, "aiogram": child_aiogram}[options.child[0]](options.child[1])
    else:
        print(json.dumps(asyncio.run(main(options)), ensure_ascii=False))
