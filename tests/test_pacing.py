"""Outgoing pacing (bot/pacing.py): only what Telegram limits, and replies before the outbox.

Everything runs on the test's ManualClock through the real Application and the strict fake,
which enforces the Bot FAQ's limits (30 new messages a second overall, one a second per chat
with short bursts) and answers 429 beyond them.
"""

from __future__ import annotations

import asyncio
from dataclasses import replace
from typing import Any

import pytest

from bot.channels.telegram_fake import FakeBotAPI, RateLimits
from bot.clock import ManualClock
from bot.pacing import PER_CHAT_BURST
from bot.settings import Settings
from tests.conftest import register_member, start_application, stop_application
from tests.test_delivery import HEAD_ID, queue_broadcast, received, seed_members

RATE = 25


class StampedAPI(FakeBotAPI):
    """The strict fake, noting when (on the test clock) it served each successful call."""

    def __init__(self, clock: ManualClock) -> None:
        super().__init__(clock=clock.monotonic, rate_limits=RateLimits())
        self.stamps: list[tuple[float, str, int]] = []
        self._mono = clock.monotonic

    async def do_request(self, *args: Any, **kwargs: Any) -> tuple[int, bytes]:
        """Serve the call, then stamp it (method, chat) if it succeeded."""
        result = await super().do_request(*args, **kwargs)
        call = self.calls[-1]
        if call.ok:
            self.stamps.append((self._mono(), call.method, int(call.params.get("chat_id", 0))))
        return result

    def sends(self) -> list[float]:
        """When each new message went out."""
        return [at for at, method, _chat in self.stamps if method.startswith("send")]


@pytest.fixture
def stamped(clock: ManualClock) -> StampedAPI:
    api = StampedAPI(clock)
    api.add_chat(HEAD_ID)
    return api


async def paced(settings: Settings, api: FakeBotAPI, clock: ManualClock):
    from importlib import resources

    from bot.unit_import import parse_csv
    from storage import units
    from storage.db import Database

    db = await Database.connect(settings.database)
    rows, _ = parse_csv((resources.files("bot") / "data" / "hoang_mai_units.csv")
                        .read_text("utf-8"))
    await units.upsert_many(db, rows)
    await db.close()
    return await start_application(replace(settings, send_rate=RATE), api, clock)


def most_in_one_second(stamps: list[float]) -> int:
    """The largest number of stamps in any one-second window."""
    stamps = sorted(stamps)
    best, first = 0, 0
    for last, at in enumerate(stamps):
        while at - stamps[first] >= 1.0:
            first += 1
        best = max(best, last - first + 1)
    return best


async def test_a_reply_is_not_queued_behind_a_broadcast_backlog(settings, stamped, clock):
    app = await paced(settings, stamped, clock)
    try:
        db = app.bot_data.db
        await seed_members(db, stamped, 300)
        readers = range(5_000, 5_005)
        for reader in readers:
            stamped.add_chat(reader)
        await queue_broadcast(db, clock)
        engine = asyncio.create_task(app.bot_data.delivery.run_until_idle())
        for _ in range(100_000):  # until the broadcast is at full speed
            if len(received(stamped)) >= 100:
                break
            await asyncio.sleep(0)
        waits = []
        for n, reader in enumerate(readers):
            asked = clock.monotonic()
            await app.bot.send_message(reader, f"Trả lời {n}")
            waits.append(clock.monotonic() - asked)
            await app.bot.edit_message_text(f"Sửa {n}", chat_id=reader,
                                            message_id=stamped.messages(reader)[-1]["message_id"])
        backlog = 300 - len(received(stamped))
        await engine
        assert backlog > 100, "the replies went out while most of the broadcast waited"
        assert max(waits) <= 2.0 / RATE + 1e-9, "at most the slot in flight before a reply"
        assert received(stamped) == {i: 1 for i in range(100_000, 100_300)}
        assert stamped.rate_limited_count == 0
    finally:
        await stop_application(app)


async def test_edits_and_callback_answers_are_not_paced(settings, stamped, clock):
    app = await paced(settings, stamped, clock)
    try:
        chats = list(range(7_000, 7_060))
        for chat in chats:
            stamped.add_chat(chat)
        first = [await app.bot.send_message(chat, "Menu") for chat in chats[:3]]
        started = clock.monotonic()
        for n in range(60):  # 60 edits, more than a second's worth of new messages
            message = first[n % 3]
            await app.bot.edit_message_text(f"Menu {n}", chat_id=message.chat_id,
                                            message_id=message.message_id)
        assert clock.monotonic() == started, "edits wait for nothing"
        assert stamped.rate_limited_count == 0
    finally:
        await stop_application(app)


async def test_replies_and_broadcast_together_never_exceed_the_overall_rate(
    settings, stamped, clock
):
    app = await paced(settings, stamped, clock)
    try:
        db = app.bot_data.db
        await seed_members(db, stamped, 200)
        for chat in range(8_000, 8_080):
            stamped.add_chat(chat)
        await queue_broadcast(db, clock)

        async def replies() -> None:
            for chat in range(8_000, 8_080):
                await app.bot.send_message(chat, "Dạ, em gửi chị.")
                await asyncio.sleep(0)

        await asyncio.gather(app.bot_data.delivery.run_until_idle(), replies())
        sends = stamped.sends()
        assert len(sends) >= 280
        assert most_in_one_second(sends) <= RATE + 1, "bulk and replies share the rate"
        assert stamped.rate_limited_count == 0
        assert received(stamped) == {i: 1 for i in range(100_000, 100_200)}
    finally:
        await stop_application(app)


async def test_one_chat_gets_at_most_one_message_a_second_after_a_short_burst(
    settings, stamped, clock
):
    app = await paced(settings, stamped, clock)
    try:
        chat = 9_100
        stamped.add_chat(chat)
        await register_member(app.bot_data.db, chat, "HM-HL-02")
        started = clock.monotonic()
        for n in range(10):
            await app.bot.send_message(chat, f"Tin {n}")
        sends = [at - started for at in stamped.sends()]
        assert len(sends) == 10 and stamped.rate_limited_count == 0
        assert sends[PER_CHAT_BURST - 1] < 1.0, "a short burst goes at once"
        assert sends[-1] >= 10 - PER_CHAT_BURST - 1e-9, "then one a second"
        assert all(b - a >= 1.0 - 1e-9 for a, b in zip(sends[PER_CHAT_BURST:], sends[
            PER_CHAT_BURST + 1:], strict=False))
    finally:
        await stop_application(app)


async def test_a_chat_message_held_for_its_slot_does_not_crowd_the_next(settings, stamped, clock):
    """Counted when it goes out: a reply that waited 2 s for an overall slot, then three more to
    the same chat at once, stay within Telegram's bucket (counted at the wait's start, the
    bucket refilled past its size while the message waited, and the fourth was refused)."""
    app = await paced(settings, stamped, clock)
    try:
        crowd = list(range(9_200, 9_250))  # 50 replies ahead: two seconds of overall slots
        chat = 9_300
        for other in [*crowd, chat]:
            stamped.add_chat(other)

        async def four_to_one_chat() -> None:
            for n in range(PER_CHAT_BURST + 1):
                await app.bot.send_message(chat, f"Tin {n}")

        await asyncio.gather(*(app.bot.send_message(c, "Dạ") for c in crowd), four_to_one_chat())
        mine = [at for at, method, to in stamped.stamps if to == chat and method == "sendMessage"]
        assert len(mine) == PER_CHAT_BURST + 1
        assert mine[0] >= 1.9, "the first one waited behind the crowd"
        assert stamped.rate_limited_count == 0
        assert mine[-1] - mine[0] >= 1.0 - 1e-9, "the fourth waited for the bucket"
    finally:
        await stop_application(app)
