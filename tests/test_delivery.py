"""The delivery engine through the strict fake Bot API with its flood limits on."""

from __future__ import annotations

import asyncio
from collections import Counter
from dataclasses import replace
from datetime import timedelta
from typing import Any

import httpx
import pytest
from telegram.error import NetworkError, TimedOut

from bot.channels.telegram_fake import FakeBotAPI, RateLimits
from bot.clock import ManualClock
from bot.delivery import MAYBE_LINE
from bot.i18n import translator
from bot.settings import Settings
from storage import deliveries, members, units
from storage.db import Database, to_iso
from storage.deliveries import NewBroadcast
from tests.conftest import ADMIN_ID, register_member, start_application, stop_application

HEAD_ID = ADMIN_ID  # a super-admin: the engine checks a sender's right when sending


async def seed_members(db: Database, api: FakeBotAPI, count: int, unit_code: str = "HM-HL-02",
                       first_id: int = 100_000) -> list[int]:
    """`count` registered members in one chapter, with chats the fake knows."""
    ids = []
    for user_id in range(first_id, first_id + count):
        api.add_chat(user_id)
        await register_member(db, user_id, unit_code, name="Nguyễn Thị Hoa")
        ids.append(user_id)
    return ids


async def queue_broadcast(db: Database, clock: ManualClock, unit_code: str = "HM-HL-02",
                          *, key: str = "k1", text: str = "📢 <b>Họp chi hội</b> tối nay",
                          at: timedelta = timedelta(0)) -> int:
    unit = await units.by_code(db, unit_code)
    assert unit is not None
    broadcast = await deliveries.create(db, NewBroadcast(
        draft_key=key, created_by=HEAD_ID, sender_chat_id=HEAD_ID, unit_id=unit.id,
        audience="all", text_html=text, photo_file_id=None,
        scheduled_at=to_iso(clock.now() + at)))
    assert broadcast is not None
    return broadcast.id


def timed_out(cause: Exception) -> TimedOut:
    """PTB's TimedOut as its HTTPXRequest raises it: `raise TimedOut from <httpx error>`."""
    error = TimedOut()
    error.__cause__ = cause
    return error


def received(api: FakeBotAPI, text: str = "Họp chi hội") -> Counter[int]:
    """How many copies of the notice each chat got."""
    return Counter(
        int(c.params["chat_id"]) for c in api.calls
        if c.ok and c.method in ("sendMessage", "sendPhoto") and text in str(c.params.get("text"))
    )


@pytest.fixture
def paced_api(clock: ManualClock) -> FakeBotAPI:
    """A fake that enforces Telegram's flood limits on the test clock."""
    api = FakeBotAPI(clock=clock.monotonic, rate_limits=RateLimits())
    api.add_chat(HEAD_ID)
    return api


async def paced_app(settings: Settings, api: FakeBotAPI, clock: ManualClock, rate: float = 25):
    from importlib import resources

    from bot.unit_import import parse_csv

    db = await Database.connect(settings.database)
    if not await units.children(db, None):
        rows, _ = parse_csv((resources.files("bot") / "data" / "hoang_mai_units.csv")
                            .read_text("utf-8"))
        await units.upsert_many(db, rows)
    await db.close()
    return await start_application(replace(settings, send_rate=rate), api, clock)


async def test_a_broadcast_to_hundreds_respects_the_flood_limits(settings, paced_api, clock):
    app = await paced_app(settings, paced_api, clock)
    try:
        db = app.bot_data.db
        ids = await seed_members(db, paced_api, 300)
        broadcast_id = await queue_broadcast(db, clock)
        started = clock.monotonic()
        await app.bot_data.delivery.run_until_idle()
        elapsed = clock.monotonic() - started
        assert paced_api.rate_limited_count == 0, "our pacing alone keeps under the limits"
        assert received(paced_api) == Counter({i: 1 for i in ids})
        assert 300 / 25 - 1 <= elapsed <= 300 / 25 + 2, "sends at the configured 25/s"
        counts = await deliveries.progress(db, broadcast_id)
        assert (counts.sent, counts.pending, counts.total) == (300, 0, 300)
        broadcast = await deliveries.get(db, broadcast_id)
        assert broadcast is not None and broadcast.status == "done"
        report = paced_api.last_text(HEAD_ID)
        assert f"#{broadcast_id}" in report and "300/300" in report
    finally:
        await stop_application(app)


async def test_429_403_400_and_timeouts_end_with_exactly_one_message_each(
    settings, paced_api, clock
):
    app = await paced_app(settings, paced_api, clock, rate=0)
    try:
        db = app.bot_data.db
        ids = await seed_members(db, paced_api, 60)
        blocked = ids[:3]
        for user_id in blocked:
            paced_api.block(user_id)
        ghost = 999_999  # registered, but the chat no longer exists
        await register_member(db, ghost, "HM-HL-02")
        paced_api.fail_next("sendMessage", error_code=429, description="Too Many Requests: "
                            "retry after 7", retry_after=7, times=2)
        # Nothing reached Telegram: no connection, or none came free in time. Retried.
        paced_api.raise_next("sendMessage", NetworkError("httpx.ConnectError: refused"), times=2)
        paced_api.raise_next("sendMessage", timed_out(httpx.ConnectTimeout("connect")), times=2)
        broadcast_id = await queue_broadcast(db, clock)
        engine = app.bot_data.delivery
        for _ in range(10):
            await engine.run_until_idle()
            if not await deliveries.has_pending(db, broadcast_id):
                break
            clock.advance(60)  # let retries with backoff come due
        got = received(paced_api)
        assert got == Counter({i: 1 for i in ids if i not in blocked})
        counts = await deliveries.progress(db, broadcast_id)
        assert (counts.sent, counts.blocked, counts.failed, counts.pending) == (57, 3, 1, 0)
        for user_id in blocked:
            member = await members.by_user(db, user_id)
            assert member is not None and member.status == "unreachable"
        # A second broadcast skips the unreachable members without trying them.
        paced_api.clear_calls()
        await queue_broadcast(db, clock, key="k2", text="📢 Lần hai")
        await engine.run_until_idle()
        second = received(paced_api, "Lần hai")
        assert not set(second) & set(blocked) and len(second) == 57
    finally:
        await stop_application(app)


class CrashingAPI(FakeBotAPI):
    """Cancels the engine's task after `crash_after` delivered notices."""

    crash_after = 0
    task: asyncio.Task[Any] | None = None

    async def do_request(self, url: str, method: str, *args: Any, **kwargs: Any) -> Any:
        await asyncio.sleep(0)  # the request is on its way: a crash here loses nothing
        result = await super().do_request(url, method, *args, **kwargs)
        if url.endswith("/sendMessage") and self.task is not None:
            self.crash_after -= 1
            if self.crash_after == 0:
                self.task.cancel()
        return result


async def test_a_crash_in_the_middle_resumes_without_sending_twice(settings, clock):
    api = CrashingAPI(clock=clock.monotonic)
    api.add_chat(HEAD_ID)
    app = await paced_app(settings, api, clock, rate=0)
    db = app.bot_data.db
    await seed_members(db, api, 250)
    broadcast_id = await queue_broadcast(db, clock)
    api.crash_after = 120
    api.task = asyncio.create_task(app.bot_data.delivery.run_until_idle())
    with pytest.raises(asyncio.CancelledError):
        await api.task
    api.task = None
    await app.bot_data.delivery.drain()
    assert 0 < sum(received(api).values()) < 250, "the crash happened in the middle"
    # No graceful shutdown: a new Application on the same database picks up the rest.
    fresh = await start_application(replace(settings, send_rate=0), api, clock)
    try:
        await fresh.bot_data.delivery.run_until_idle()
        got = received(api)
        assert set(got.values()) == {1}, "nobody got it twice"
        counts = await deliveries.progress(fresh.bot_data.db, broadcast_id)
        # The sends cut off by the crash are not retried: perhaps they arrived.
        assert counts.sent + counts.maybe_sent == 250 and counts.pending == 0
        assert 250 - len(got) <= counts.maybe_sent <= fresh.bot_data.delivery.concurrency
    finally:
        await stop_application(fresh)
        await app.bot_data.db.close()


class LosingAPI(FakeBotAPI):
    """Delivers the notice to the chats in `lose` and then loses the answer (a read timeout)."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.lose: set[int] = set()

    async def do_request(self, url: str, method: str, *args: Any, **kwargs: Any) -> Any:
        result = await super().do_request(url, method, *args, **kwargs)
        request_data = args[0] if args else kwargs.get("request_data")
        chat = request_data.parameters.get("chat_id") if request_data else None
        if url.endswith("/sendMessage") and chat in self.lose:
            raise timed_out(httpx.ReadTimeout("read"))
        return result


async def test_a_lost_answer_is_maybe_delivered_and_never_sent_twice(settings, clock):
    api = LosingAPI(clock=clock.monotonic)
    api.add_chat(HEAD_ID)
    app = await paced_app(settings, api, clock, rate=0)
    try:
        db = app.bot_data.db
        ids = await seed_members(db, api, 20)
        api.lose = {ids[3], ids[11]}
        broadcast_id = await queue_broadcast(db, clock)
        engine = app.bot_data.delivery
        for _ in range(3):  # later passes (and retry times) change nothing
            await engine.run_until_idle()
            clock.advance(600)
        assert received(api) == Counter({i: 1 for i in ids}), "delivered once, lost answer or not"
        counts = await deliveries.progress(db, broadcast_id)
        assert (counts.sent, counts.maybe_sent, counts.pending) == (18, 2, 0)
        broadcast = await deliveries.get(db, broadcast_id)
        assert broadcast is not None and broadcast.status == "done"
        report = api.last_text(HEAD_ID)
        assert translator("vi")._(MAYBE_LINE, n="2") in report, "the sender is told"
    finally:
        await stop_application(app)


async def test_scheduled_broadcasts_survive_a_restart_and_can_be_cancelled(settings, api, clock):
    api.add_chat(HEAD_ID)
    app = await paced_app(settings, api, clock, rate=0)
    db = app.bot_data.db
    ids = await seed_members(db, api, 5)
    later = await queue_broadcast(db, clock, key="later", at=timedelta(hours=1))
    dropped = await queue_broadcast(db, clock, key="dropped", text="📢 Hủy",
                                    at=timedelta(hours=1))
    await app.bot_data.delivery.run_until_idle()
    assert received(api) == Counter()
    assert await deliveries.cancel(db, dropped, to_iso(clock.now()))
    await stop_application(app)

    fresh = await start_application(replace(settings, send_rate=0), api, clock)
    try:
        clock.advance(3600)
        await fresh.bot_data.delivery.run_until_idle()
        assert received(api) == Counter({i: 1 for i in ids})
        assert received(api, "Hủy") == Counter()
        broadcast = await deliveries.get(fresh.bot_data.db, later)
        assert broadcast is not None and broadcast.status == "done"
        assert broadcast.progress_message_id is not None, "the sender got a status message"
    finally:
        await stop_application(fresh)


async def test_interactive_replies_do_not_wait_behind_a_broadcast(settings, paced_api, clock,
                                                                  person):
    app = await paced_app(settings, paced_api, clock)
    try:
        db = app.bot_data.db
        await seed_members(db, paced_api, 200)
        await queue_broadcast(db, clock)
        engine_task = asyncio.create_task(app.bot_data.delivery.run_until_idle())
        for _ in range(50):
            await asyncio.sleep(0)
        hoa = paced_api.user(42, first_name="Hoa")
        started = clock.monotonic()
        await app.process_update(paced_api.to_update(paced_api.command_update(hoa, "/help"),
                                                     app.bot))
        waited = clock.monotonic() - started
        assert not engine_task.done(), "the broadcast was still running"
        assert waited < 0.2, f"/help waited {waited:.2f} s (virtual) behind the broadcast"
        await engine_task
        assert paced_api.rate_limited_count == 0
    finally:
        await stop_application(app)
