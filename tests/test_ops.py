"""Operations: logs without personal data, `check`, `backup` while writing, graceful SIGTERM."""

from __future__ import annotations

import asyncio
import contextlib
import io
import json
import logging
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from importlib import resources
from pathlib import Path

import httpx
import pytest
from aiohttp import web

from bot import logging_setup
from bot.channels.telegram_fake import FakeBotAPI
from bot.channels.telegram_fake.http_front import FakeApiServer
from bot.channels.zalo.fake import TOKEN as ZALO_TOKEN
from bot.channels.zalo.fake import FakeZaloAPI
from bot.logging_setup import mask
from bot.settings import Settings, SettingsError
from bot.unit_import import parse_csv
from storage import deliveries, members, units
from storage.db import Database, to_iso
from storage.deliveries import NewBroadcast
from storage.members import NewMember

REPO = Path(__file__).resolve().parent.parent
TOKEN = "123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw0"


def cli(cwd: Path, *args: str, timeout: float = 30, **env: str) -> subprocess.CompletedProcess[str]:
    """`python -m bot ARGS` with only PATH and PYTHONPATH from this environment."""
    clean = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "PYTHONPATH": str(REPO)}
    return subprocess.run([sys.executable, "-m", "bot", *args], cwd=cwd, env={**clean, **env},
                          capture_output=True, text=True, encoding="utf-8", timeout=timeout,
                          check=False)


async def seeded(path: Path, count: int = 0, *, first_id: int = 100_000) -> Database:
    """A database with the demo tree and `count` members in HM-HL-02."""
    db = await Database.connect(path)
    rows, _ = parse_csv((resources.files("bot") / "data" / "hoang_mai_units.csv")
                        .read_text("utf-8"))
    await units.upsert_many(db, rows)
    chapter = await units.by_code(db, "HM-HL-02")
    assert chapter is not None
    for user_id in range(first_id, first_id + count):
        await members.register(db, NewMember(
            telegram_user_id=user_id, chat_id=user_id, full_name="Nguyễn Thị Hoa",
            phone="+84912345678", unit_id=chapter.id, locale="vi"),
            consent_purpose="membership", consent_version=1, consent_at="2026-01-01T00:00:00Z")
    return db


# --- logs ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("phone", ["0912345678", "0912 345 678", "+84912345678", "84912345678",
                                   "091.234.5678", "(024) 3856 1234", "02438561234"])
def test_phone_numbers_are_masked(phone: str) -> None:
    assert mask(f"she typed {phone} here") == "she typed [phone] here"


def test_ids_and_tokens_are_told_apart() -> None:
    assert mask("update=812345678 user 1001 chat -1001234567890") == (
        "update=812345678 user 1001 chat -1001234567890")
    assert mask(f"POST https://api.telegram.org/bot{TOKEN}/getMe") == (
        "POST https://api.telegram.org/bot[token]/getMe")


async def test_the_log_of_a_whole_registration_has_no_personal_data(person, db):
    buffer = io.StringIO()
    root = logging.getLogger()
    level = root.level
    handler = logging_setup.install(logging.StreamHandler(buffer), logging.DEBUG)
    try:
        hoa = person(1101)
        await hoa.send("/start")
        await hoa.press("1.")
        await hoa.send("Nguyễn Thị Hoà Bình")
        await hoa.send("0987 654 321")
        await hoa.press("Hoàng Liệt")
        await hoa.press("số 2")
        await hoa.press("1.")
        assert "hoàn tất" in hoa.reply_text()
        await hoa.send("/mydata")  # her data in a reply, in the log only as an update line
        await hoa.send("một câu hỏi riêng tư của chị")
    finally:
        root.removeHandler(handler)
        root.setLevel(level)
    log = buffer.getvalue()
    lines = log.splitlines()
    updates = [line for line in lines if " bot.updates " in line]
    assert len(updates) == 9, "one line per update"
    assert all(len(line.split(" bot.updates ")[1].split()) == 5 for line in updates)
    assert "kind=command:/start handler=registration.start" in log
    # Typed answers reach the flow through the typed-answer router.
    assert "kind=text handler=kit.answers.free_message ms=" in log
    assert "kind=press:reg handler=registration.confirm_pressed" in log
    assert "handler=my_data.show_my_data" in log and "outcome=ok" in log
    assert any("telegram" in line for line in lines), "third-party DEBUG lines are there too"
    for secret in ("Hoà Bình", "Hoa Binh", "Nguyễn", "987654321", "987 654 321", "0987",
                   "+8498", "một câu hỏi", "riêng tư"):
        assert secret not in log, secret
    assert "\n\n" not in log


def test_library_records_lose_their_arguments_as_they_are_made(caplog):
    logging_setup.protect_records()
    logging_setup.protect_records()  # idempotent: one wrapper
    caplog.set_level(logging.DEBUG)
    library = logging.getLogger("somelibrary")
    library.debug("user %(name)s", {"name": "Nguyễn Thị Hoa"})
    library.debug("sql %s params %s", "SELECT 1", ("Trần Thị Lan", 7))
    library.debug({"text": "say rượu"})
    logging.getLogger("bot.somewhere").debug("own %s", "kept")
    said = [r.getMessage() for r in caplog.records]
    assert said == ["user <text, 14 chars>", "sql <text, 8 chars> params <tuple of 2>",
                    "<dict keys=text>", "own kept"]


async def test_no_record_carries_personal_data_even_at_debug(person, db, caplog):
    """Not only our formatter: the records themselves (any handler, e.g. the journal's or
    pytest's) hold no name, phone or request text, even with SQL logged at DEBUG."""
    from tests.conftest import grant, register_member

    handler = await register_member(db, 1190, "HM-HL-07", name="Trần Thị Lan")
    await grant(db, handler, "request_handler", "HM-HL")
    caplog.set_level(logging.DEBUG)
    hoa = person(1191)
    await hoa.send("/start")
    await hoa.press("1.")
    await hoa.send("Nguyễn Thị Hoà Bình")
    await hoa.send("0987 654 321")
    await hoa.press("Hoàng Liệt")
    await hoa.press("số 2")
    await hoa.press("1.")
    assert "hoàn tất" in hoa.reply_text()
    await hoa.send("/support")
    await hoa.press("Mâu thuẫn gia đình")
    await hoa.send("Chồng em say rượu về la mắng suốt đêm")
    await hoa.press("Bỏ qua")
    await hoa.press("Chỉ cán bộ phường")
    await hoa.press("Gửi")
    assert "Em đã gửi yêu cầu #1" in hoa.reply_text()
    await hoa.send("/family")
    await hoa.press("Đăng ký hộ")
    await hoa.press("Tôi đồng ý")
    await hoa.press("Không đói nghèo")
    assert "Đã đạt: 1/8 tiêu chí" in hoa.reply_text()
    records = caplog.records
    assert any(r.name.startswith("aiosqlite") or r.name.startswith("telegram")
               for r in records), "third-party DEBUG records are there"
    logged = "\n".join(f"{r.getMessage()} {r.args!r} {r.exc_text or ''}" for r in records)
    for secret in ("Hoà Bình", "Nguyễn", "987654321", "987 654 321", "+84987",
                   "say rượu", "la mắng"):
        assert secret not in logged, secret


# --- check ---------------------------------------------------------------------------------------


class GetMe(BaseHTTPRequestHandler):
    """A tiny Bot API on 127.0.0.1 that answers getMe (or refuses the token)."""

    refuse = False

    def do_POST(self) -> None:
        if self.refuse:
            status, body = 401, {"ok": False, "error_code": 401, "description": "Unauthorized"}
        else:
            status, body = 200, {"ok": True, "result": {
                "id": 123456789, "is_bot": True, "first_name": "Hội", "username": "hoivien_bot",
                "can_join_groups": False, "can_read_all_group_messages": False,
                "supports_inline_queries": False}}
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args: object) -> None:
        """Quiet."""


@pytest.fixture
def bot_api_server():
    """(base URL, handler class) of a local getMe server; stops by itself."""
    handler = type("Handler", (GetMe,), {})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/bot", handler
    server.shutdown()
    server.server_close()


def test_check_reports_ok_and_calls_get_me(tmp_path: Path, bot_api_server) -> None:
    base, _handler = bot_api_server
    assert cli(tmp_path, "migrate", BOT_DATABASE="bot.sqlite3").returncode == 0
    result = cli(tmp_path, "check", BOT_DATABASE="bot.sqlite3", TELEGRAM_BOT_TOKEN=TOKEN,
                 TELEGRAM_API_BASE_URL=base, BOT_ORG_NAME="Hội LHPN phường Hoàng Liệt",
                 BOT_ORG_CONTACT="024 3864 0000", BOT_ADMIN_IDS="11111111")
    assert result.returncode == 0, result.stdout + result.stderr
    lines = result.stdout.splitlines()
    assert [line.split()[0] for line in lines if "translations" not in line] == ["ok"] * 6
    assert "controller Hội LHPN phường Hoàng Liệt" in result.stdout
    assert next(line for line in lines if "translations" in line).split()[0] in ("ok", "warn")
    assert "migrations applied" in result.stdout and "@hoivien_bot" in result.stdout
    assert "8 criteria" in result.stdout and "vi " in result.stdout
    assert TOKEN not in result.stdout + result.stderr


def test_check_fails_on_a_refused_token_and_a_broken_database(tmp_path: Path,
                                                               bot_api_server) -> None:
    base, handler = bot_api_server
    handler.refuse = True
    (tmp_path / "bot.sqlite3").write_bytes(b"this is not a database" * 100)
    result = cli(tmp_path, "check", BOT_DATABASE="bot.sqlite3", TELEGRAM_BOT_TOKEN=TOKEN,
                 TELEGRAM_API_BASE_URL=base)
    assert result.returncode == 1
    failed = [line for line in result.stdout.splitlines() if line.startswith("FAIL")]
    assert any("database" in line for line in failed)
    assert any("telegram" in line and "Unauthorized" in line for line in failed)
    assert "Traceback" not in result.stderr


def test_check_refuses_a_database_from_a_newer_program(tmp_path: Path) -> None:
    assert cli(tmp_path, "migrate", BOT_DATABASE="bot.sqlite3").returncode == 0
    with sqlite3.connect(tmp_path / "bot.sqlite3") as conn:
        conn.execute("INSERT INTO schema_migrations VALUES (9999, '9999_future.sql', 'x')")
    result = cli(tmp_path, "check", BOT_DATABASE="bot.sqlite3")
    assert result.returncode == 1 and "newer than this program" in result.stdout


def test_check_warns_when_nobody_can_administer(tmp_path: Path) -> None:
    result = cli(tmp_path, "check", BOT_DATABASE="bot.sqlite3")
    assert result.returncode == 0  # it runs; but someone must be told
    [line] = [line for line in result.stdout.splitlines() if "admins" in line]
    assert line.startswith("warn") and "BOT_ADMIN_IDS" in line and "nobody" in line
    zalo_only = cli(tmp_path, "check", BOT_DATABASE="bot.sqlite3", ZALO_ADMIN_IDS="6ede9afa66b8")
    [line] = [line for line in zalo_only.stdout.splitlines() if "admins" in line]
    assert line.startswith("ok") and "1 on Zalo" in line


def test_run_against_an_unreachable_bot_api_says_so_in_one_line(tmp_path: Path) -> None:
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    result = cli(tmp_path, "run", BOT_DATABASE="bot.sqlite3", TELEGRAM_BOT_TOKEN=TOKEN,
                 TELEGRAM_API_BASE_URL=f"http://127.0.0.1:{port}/bot")
    assert result.returncode == 1
    assert "Traceback" not in result.stderr and "Unclosed" not in result.stderr
    last = result.stderr.strip().splitlines()[-1]
    assert last.startswith("Cannot start") and "cannot be reached" in last
    assert f"127.0.0.1:{port}" in last and TOKEN not in result.stderr
    zalo = cli(tmp_path, "run", BOT_DATABASE="bot.sqlite3", ZALO_BOT_TOKEN="12345:abcdefghijk",
               ZALO_API_BASE_URL=f"http://127.0.0.1:{port}/bot")
    assert zalo.returncode == 1 and "Traceback" not in zalo.stderr
    last = zalo.stderr.strip().splitlines()[-1]
    assert last.startswith("Cannot start: Zalo") and "ZALO_API_BASE_URL" in last


def test_units_list_into_a_closed_pipe_ends_without_a_traceback(tmp_path: Path) -> None:
    async def seed() -> None:
        db = await seeded(tmp_path / "bot.sqlite3")
        await db.close()

    asyncio.run(seed())
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "PYTHONPATH": str(REPO),
           "BOT_DATABASE": "bot.sqlite3"}
    proc = subprocess.Popen([sys.executable, "-m", "bot", "units", "list"], cwd=tmp_path,
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert proc.stdout is not None and proc.stderr is not None
    proc.stdout.close()  # as `| head` does once it has its lines: every write now fails
    stderr = proc.stderr.read().decode()
    assert proc.wait(timeout=30) == 1
    assert "Traceback" not in stderr and "BrokenPipe" not in stderr, stderr


# --- webhook settings ----------------------------------------------------------------------------


@pytest.mark.parametrize(("variable", "value"), [
    ("BOT_WEBHOOK_URL", "http://bot.example.org/hook"),
    ("BOT_WEBHOOK_SECRET", "has spaces"),
    ("BOT_WEBHOOK_SECRET", "x" * 257),
    ("BOT_WEBHOOK_SECRET", "tiếng-việt"),
    ("BOT_WEBHOOK_SECRET", "x" * 15),  # too short to resist guessing
    ("BOT_WEBHOOK_LISTEN", "localhost:80"),
    ("BOT_WEBHOOK_PORT", "70000"),
])
def test_bad_webhook_settings_name_the_variable(variable: str, value: str) -> None:
    with pytest.raises(SettingsError) as raised:
        Settings.from_env({variable: value}, env_file=None)
    assert raised.value.variable == variable


def test_webhook_settings_are_read() -> None:
    settings = Settings.from_env({
        "BOT_WEBHOOK_URL": "https://bot.example.org/tg", "BOT_WEBHOOK_SECRET": "a" * 256,
        "BOT_WEBHOOK_LISTEN": "0.0.0.0", "BOT_WEBHOOK_PORT": "8080"}, env_file=None)
    assert (settings.webhook_url, settings.webhook_listen, settings.webhook_port) == (
        "https://bot.example.org/tg", "0.0.0.0", 8080)
    assert Settings.from_env({}, env_file=None).webhook_port == 8443
    assert Settings.from_env({"BOT_WEBHOOK_SECRET": "b" * 16}, env_file=None).webhook_secret


def test_run_webhook_with_a_short_secret_exits_2_with_one_line(tmp_path: Path) -> None:
    result = cli(tmp_path, "run", "--webhook", TELEGRAM_BOT_TOKEN=TOKEN,
                 BOT_WEBHOOK_URL="https://bot.example.org/tg", BOT_WEBHOOK_SECRET="short_secret")
    assert result.returncode == 2
    [line] = result.stderr.splitlines()
    assert "BOT_WEBHOOK_SECRET" in line and "16" in line and "short_secret" not in line


def test_run_webhook_without_its_settings_exits_2_with_one_line(tmp_path: Path) -> None:
    result = cli(tmp_path, "run", "--webhook", TELEGRAM_BOT_TOKEN=TOKEN,
                 BOT_WEBHOOK_URL="https://bot.example.org/tg")
    assert result.returncode == 2
    assert len(result.stderr.splitlines()) == 1 and "BOT_WEBHOOK_SECRET" in result.stderr


# --- backup --------------------------------------------------------------------------------------


async def test_backup_while_the_bot_writes_is_consistent(tmp_path: Path) -> None:
    db = await seeded(tmp_path / "bot.sqlite3")
    chapter = await units.by_code(db, "HM-HL-02")
    assert chapter is not None
    stop = asyncio.Event()
    enough = asyncio.Event()
    written = 0

    async def writer() -> None:
        """Registrations, each a member row and a consent row in one transaction."""
        nonlocal written
        while not stop.is_set():
            if written == 200:
                enough.set()
            await members.register(db, NewMember(
                telegram_user_id=500_000 + written, chat_id=500_000 + written,
                full_name="Lê Thị Mai", phone=None, unit_id=chapter.id, locale="vi"),
                consent_purpose="membership", consent_version=1, consent_at="2026-01-01T00:00:00Z")
            written += 1
            if written >= 200:
                enough.set()
            await asyncio.sleep(0)

    task = asyncio.create_task(writer())
    await enough.wait()
    (tmp_path / "backups").mkdir()
    result = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", "backup", "backups", cwd=tmp_path,
        env={"PATH": os.environ.get("PATH", ""), "PYTHONPATH": str(REPO),
             "BOT_DATABASE": "bot.sqlite3"},
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    out, err = await result.communicate()  # the writer keeps going meanwhile
    stop.set()
    await task
    at_end = written
    await db.close()
    assert result.returncode == 0, err.decode()
    assert "backup written" in out.decode() and "integrity ok" in out.decode()
    [copy] = list((tmp_path / "backups").iterdir())
    assert copy.suffix == ".sqlite3" and not list(tmp_path.glob("backups/*.partial"))
    assert copy.stat().st_mode & 0o777 == 0o600, "a backup is readable by the owner only"
    with sqlite3.connect(copy) as conn:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "delete"
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        in_copy = conn.execute("SELECT count(*) FROM members").fetchone()[0]
        consents = conn.execute("SELECT count(*) FROM consents").fetchone()[0]
    assert 200 <= in_copy < at_end, "taken while writing"
    assert consents == in_copy, "whole transactions only: one consent per member"


def mode(path: Path) -> int:
    return path.stat().st_mode & 0o777


async def test_the_database_its_wal_and_shm_are_owner_only(tmp_path: Path) -> None:
    previous = os.umask(0o022)  # the usual umask: files 0644 unless we say otherwise
    try:
        path = tmp_path / "data" / "bot.sqlite3"
        db = await seeded(path, count=1)  # written: -wal and -shm exist now
        files = [path, path.with_name("bot.sqlite3-wal"), path.with_name("bot.sqlite3-shm")]
        assert [mode(f) for f in files] == [0o600] * 3
        assert mode(path.parent) == 0o700, "the folder we create is the owner's only"
        await db.close()
        os.chmod(path, 0o644)  # a file from an older version, or copied in by hand
        db = await Database.connect(path)
        await db.close()
        assert mode(path) == 0o600
    finally:
        os.umask(previous)


def test_backup_refuses_the_live_file_and_a_missing_database(tmp_path: Path) -> None:
    result = cli(tmp_path, "backup", "copy.sqlite3", BOT_DATABASE="nothing.sqlite3")
    assert result.returncode == 1 and "no database" in result.stderr
    assert cli(tmp_path, "migrate", BOT_DATABASE="bot.sqlite3").returncode == 0
    result = cli(tmp_path, "backup", "bot.sqlite3", BOT_DATABASE="bot.sqlite3")
    assert result.returncode == 1 and "live database" in result.stderr


# --- graceful stop -------------------------------------------------------------------------------

MEMBERS = 150


def start_child(database: Path, log: Path, rate: float) -> subprocess.Popen[str]:
    child = subprocess.Popen(
        [sys.executable, str(REPO / "tests" / "sigterm_child.py"), str(database), str(log),
         str(rate)],
        cwd=database.parent, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        env={"PATH": os.environ.get("PATH", ""), "PYTHONPATH": str(REPO)})
    assert child.stdout is not None
    assert child.stdout.readline().strip() == "ready", child.stderr.read() if child.stderr else ""
    return child


def wait_for(condition, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.02)


def broadcast_status(database: Path) -> str:
    with sqlite3.connect(database) as conn:
        return str(conn.execute("SELECT status FROM broadcasts").fetchone()[0])


def lines(path: Path) -> list[int]:
    return [int(x) for x in path.read_text().split()] if path.exists() else []


async def test_sigterm_during_a_broadcast_stops_within_10_s_and_resumes(tmp_path: Path) -> None:
    database = tmp_path / "bot.sqlite3"
    db = await seeded(database, MEMBERS)
    chapter = await units.by_code(db, "HM-HL-02")
    assert chapter is not None
    notice = await deliveries.create(db, NewBroadcast(
        draft_key="k", created_by=5000, sender_chat_id=5000, unit_id=chapter.id,
        audience="all", text_html="📢 <b>Họp chi hội</b> tối nay", photo_file_id=None,
        scheduled_at=to_iso(datetime.now(UTC))))
    assert notice is not None
    await db.close()

    first_log, second_log = tmp_path / "first.log", tmp_path / "second.log"
    child = start_child(database, first_log, rate=60)
    wait_for(lambda: len(lines(first_log)) >= 20)
    stopped_at = time.monotonic()
    child.send_signal(signal.SIGTERM)
    _out, err = child.communicate(timeout=15)
    took = time.monotonic() - stopped_at
    assert child.returncode == 0, err
    assert took < 10, f"stopped in {took:.1f} s"
    assert "stop signal received" in err and "Traceback" not in err
    with sqlite3.connect(database) as conn:
        status = dict(conn.execute("SELECT status, count(*) FROM deliveries GROUP BY status"))
        broadcast = conn.execute("SELECT status FROM broadcasts").fetchone()[0]
    sent_first = lines(first_log)
    assert status.get("sent", 0) == len(sent_first), "every message handed over was recorded"
    assert 0 < len(sent_first) < MEMBERS and status.get("pending", 0) > 0
    assert broadcast == "running"

    second = start_child(database, second_log, rate=500)
    try:
        wait_for(lambda: len(sent_first) + len(lines(second_log)) >= MEMBERS)
        wait_for(lambda: broadcast_status(database) == "done")  # no sleeping for "nothing more"
    finally:
        second.send_signal(signal.SIGINT)
        _out, err = second.communicate(timeout=15)
    assert second.returncode == 0, err
    received = Counter(sent_first + lines(second_log))
    assert received == Counter({100_000 + i: 1 for i in range(MEMBERS)}), "nothing sent twice"
    with sqlite3.connect(database) as conn:
        assert conn.execute("SELECT status FROM broadcasts").fetchone()[0] == "done"


# --- Zalo in check and run -------------------------------------------------------------------


class ZaloFront:
    """The strict fake Zalo Bot API (bot/channels/zalo/fake.py) over HTTP on 127.0.0.1, so a
    bot in a child process talks to it; getUpdates waits up to a second for an event, as
    Zalo's long poll does, instead of answering 408 in a busy loop."""

    def __init__(self, api: FakeZaloAPI) -> None:
        self.api = api
        self.arrived = asyncio.Event()  # an event was queued
        self.sent = asyncio.Event()  # the bot sent a message
        self._runner: web.AppRunner | None = None
        self.port = 0

    @property
    def base_url(self) -> str:
        """What ZALO_API_BASE_URL would be for this server."""
        return f"http://127.0.0.1:{self.port}/bot"

    def queue(self, event: dict[str, object]) -> None:
        """An event for the next getUpdates."""
        self.api.queue(event)
        self.arrived.set()

    async def start(self) -> None:
        app = web.Application()
        app.router.add_post("/{prefix}/{method}", self._handle)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        await web.TCPSite(self._runner, "127.0.0.1", 0).start()
        self.port = self._runner.addresses[0][1]

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    async def _handle(self, request: web.Request) -> web.Response:
        if request.match_info["method"] == "getUpdates" and not self.api.events:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.arrived.wait(), 1)
            self.arrived.clear()
        answer = await self.api.handle_async_request(httpx.Request(
            "POST", str(request.url), content=await request.read()))
        if self.api.calls and self.api.calls[-1].ok and \
                self.api.calls[-1].method == "sendMessage":
            self.sent.set()
        return web.Response(status=answer.status_code, body=answer.content,
                            content_type="application/json")


@pytest.fixture
async def zalo_front() -> AsyncIterator[ZaloFront]:
    front = ZaloFront(FakeZaloAPI())
    await front.start()
    yield front
    await front.stop()


async def child_cli(cwd: Path, *args: str, **env: str) -> asyncio.subprocess.Process:
    """`python -m bot ARGS` as a child the event loop (and the fakes it serves) keeps running
    beside; only PATH and PYTHONPATH from this environment."""
    clean = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "PYTHONPATH": str(REPO)}
    return await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", *args, cwd=cwd, env={**clean, **env},
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)


async def finished(child: asyncio.subprocess.Process) -> tuple[int, str, str]:
    out, err = await asyncio.wait_for(child.communicate(), 60)
    assert child.returncode is not None
    return child.returncode, out.decode(), err.decode()


async def test_check_calls_zalos_get_me_when_its_token_is_set(tmp_path: Path, zalo_front):
    code, out, _err = await finished(await child_cli(
        tmp_path, "check", BOT_DATABASE="bot.sqlite3", ZALO_BOT_TOKEN=ZALO_TOKEN,
        ZALO_API_BASE_URL=zalo_front.base_url))
    [line] = [line for line in out.splitlines() if " zalo: " in line]
    assert line.startswith("ok") and "token ok: Bot Hội viên" in line, out
    assert [c.method for c in zalo_front.api.calls] == ["getMe"]
    assert code == 0 and ZALO_TOKEN not in out

    code, out, err = await finished(await child_cli(
        tmp_path, "check", BOT_DATABASE="bot.sqlite3", ZALO_BOT_TOKEN="999:a-wrong-zalo-token",
        ZALO_API_BASE_URL=zalo_front.base_url))
    [line] = [line for line in out.splitlines() if " zalo: " in line]
    assert line.startswith("FAIL") and "401" in line and "ZALO_BOT_TOKEN" in line
    assert code == 1 and "Traceback" not in err and "a-wrong-zalo-token" not in out

    await zalo_front.stop()  # nobody listens there any more
    code, out, err = await finished(await child_cli(
        tmp_path, "check", BOT_DATABASE="bot.sqlite3", ZALO_BOT_TOKEN=ZALO_TOKEN,
        ZALO_API_BASE_URL=zalo_front.base_url))
    [line] = [line for line in out.splitlines() if " zalo: " in line]
    assert line.startswith("FAIL") and "cannot reach" in line and "127.0.0.1" in line
    assert code == 1 and "Traceback" not in err


async def test_run_with_both_tokens_serves_both_channels_in_one_process(tmp_path: Path,
                                                                       zalo_front):
    telegram = FakeApiServer()
    telegram_replied = asyncio.Event()
    await telegram.start()
    await telegram.use(FakeBotAPI(), on_message=lambda _chat: telegram_replied.set())
    child = await child_cli(
        tmp_path, "run", BOT_DATABASE="bot.sqlite3",
        TELEGRAM_BOT_TOKEN=TOKEN, TELEGRAM_API_BASE_URL=telegram.base_url,
        ZALO_BOT_TOKEN=ZALO_TOKEN, ZALO_API_BASE_URL=zalo_front.base_url)
    try:
        hoa = telegram.api.user(4201, first_name="Hoa")
        telegram.api.queue_update(telegram.api.message_update(hoa, "/start"))
        zalo_front.queue(zalo_front.api.event("7a10000000a1", text="start", name="Lan"))
        await asyncio.wait_for(asyncio.gather(telegram_replied.wait(), zalo_front.sent.wait()),
                               60)
    finally:
        child.send_signal(signal.SIGTERM)
        code, _out, err = await finished(child)
        await telegram.stop()
    assert code == 0 and "Traceback" not in err, err
    assert "starting Telegram and Zalo" in err
    # Each channel's own words: the consent speaks of her account on that platform.
    assert "tài khoản Telegram" in telegram.api.last_text(4201)
    [zalo_consent] = zalo_front.api.texts("7a10000000a1")[:1]
    assert "tài khoản Zalo" in zalo_consent and "<" not in zalo_consent
    # One database for both: a member of either channel is found by the same program.
    with sqlite3.connect(tmp_path / "bot.sqlite3") as conn:
        [(zalo_accounts,)] = conn.execute(
            "SELECT count(*) FROM channel_accounts WHERE channel = 'zalo'")
    assert zalo_accounts == 1
