"""Updates of different people run at once; one person's updates run in the order she sent them.

These tests feed updates the way polling and the webhook do (through `update_queue` of the
started application), so they go through `bot.processing.PerChatProcessor`.
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest
from telegram.ext import Application

from bot.channels.telegram_fake import FakeBotAPI
from bot.processing import PerChatProcessor
from storage import members
from tests.conftest import register_member

WAIT_SECONDS = 20.0  # an upper bound for a condition that holds within milliseconds


async def wait_until(condition: Callable[[], bool], what: str) -> None:
    """Let the application work until `condition` holds (fails after WAIT_SECONDS)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + WAIT_SECONDS
    while not condition():
        assert loop.time() < deadline, f"timed out waiting for {what}"
        await asyncio.sleep(0.002)


def idle(app: Application) -> bool:
    """Nothing queued, nothing running."""
    processor = app.update_processor
    return (app.update_queue.empty() and getattr(processor, "busy_keys", 0) == 0
            and processor.current_concurrent_updates == 0)


@pytest.fixture
async def running(app: Application) -> AsyncIterator[Application]:
    """The application taking updates from its queue, as under polling or the webhook."""
    await app.start()
    yield app
    await wait_until(lambda: idle(app), "the last updates")
    await app.stop()


def texts_to(api: FakeBotAPI, chat_id: int) -> list[str]:
    """The texts of the messages the bot sent to one chat, in order."""
    return [str(c.params.get("text", "")) for c in api.calls
            if c.ok and c.method == "sendMessage" and c.params.get("chat_id") == chat_id]


def registration_burst(api: FakeBotAPI, user: dict[str, Any], name: str) -> list[Any]:
    """A whole registration typed in one go: every choice answered by its number."""
    return [api.command_update(user, "/start"), api.message_update(user, "1"),
            api.message_update(user, name), api.message_update(user, "0912345678"),
            api.message_update(user, "1"), api.message_update(user, "1"),
            api.message_update(user, "1")]


async def test_the_application_uses_the_per_person_processor(app, settings):
    assert isinstance(app.update_processor, PerChatProcessor)
    assert app.update_processor.max_concurrent_updates == settings.concurrency > 1


async def test_two_newcomers_interleaved_both_register_correctly(running, api, db):
    lan, mai = api.user(3101, first_name="Lan"), api.user(3102, first_name="Mai")
    start = len(api.calls)
    bursts = [registration_burst(api, lan, "Nguyễn Thị Lan"),
              registration_burst(api, mai, "Trần Thị Mai")]
    for pair in zip(*bursts, strict=True):
        for data in pair:
            await running.update_queue.put(api.to_update(data, running.bot))
    await wait_until(lambda: idle(running), "both registrations")

    for user_id, name in ((3101, "Nguyễn Thị Lan"), (3102, "Trần Thị Mai")):
        member = await members.by_user(db, user_id)
        assert member is not None and member.full_name == name
        assert member.phone == "+84912345678"
    assert [c.method for c in api.calls[start:] if not c.ok] == []


async def test_one_members_burst_is_answered_in_order(running, api, db):
    await register_member(db, 3201, "HM-HL-02")
    hoa = api.user(3201)
    commands = ["/help", "/me", "/help", "/standard", "/help", "/me"]
    for command in commands:
        await running.update_queue.put(api.to_update(api.command_update(hoa, command),
                                                     running.bot))
    await wait_until(lambda: idle(running), "her burst")

    replies = texts_to(api, 3201)
    assert len(replies) == len(commands)
    help_replies = [i for i, text in enumerate(replies) if "/cancel" in text]
    assert help_replies == [0, 2, 4]


async def test_a_member_waiting_on_a_locked_database_does_not_delay_another(
    running, api, db, settings
):
    await register_member(db, 3301, "HM-HL-02", name="Lê Thị Hạnh")
    await register_member(db, 3302, "HM-HL-02", name="Phạm Thị Thu")
    hanh, thu = api.user(3301), api.user(3302)
    await running.update_queue.put(api.to_update(api.command_update(thu, "/help"), running.bot))
    await running.update_queue.put(api.to_update(api.command_update(hanh, "/help"),
                                                 running.bot))
    await wait_until(lambda: idle(running), "the first answers")

    # Another process (a CLI import, a backup restore …) holds the write lock.
    other = sqlite3.connect(settings.database, isolation_level=None)
    other.execute("BEGIN IMMEDIATE")
    try:
        before = len(texts_to(api, 3301))
        await running.update_queue.put(api.to_update(api.command_update(hanh, "/stop"),
                                                     running.bot))
        await running.update_queue.put(api.to_update(api.command_update(thu, "/help"),
                                                     running.bot))
        await wait_until(lambda: len(texts_to(api, 3302)) == 2, "Thu's answer")
        assert len(texts_to(api, 3301)) == before, "Hạnh's /stop is still waiting"
    finally:
        other.execute("ROLLBACK")
        other.close()
    await wait_until(lambda: len(texts_to(api, 3301)) == before + 1, "Hạnh's answer")
    member = await members.by_user(db, 3301)
    assert member is not None and member.status == "stopped"
