"""Webhook mode for real (PTB's server on 127.0.0.1, httpx) and idempotent update handling."""

from __future__ import annotations

import asyncio
import contextlib
import json
import socket
from dataclasses import replace
from importlib import resources

import httpx
import pytest

from bot.app import build_application
from bot.channels.telegram_fake import FakeBotAPI
from bot.ops import serve
from bot.settings import Settings
from bot.unit_import import parse_csv
from storage import members, units
from storage.db import Database
from tests.conftest import register_member, start_application, stop_application

SECRET = "s3cr3t_Token-for-tests"
HEADER = "X-Telegram-Bot-Api-Secret-Token"


def free_port() -> int:
    """A TCP port nobody listens on now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
async def webhook(settings: Settings, api: FakeBotAPI):
    """The bot served by `bot.ops.serve(webhook=True)` in this event loop; yields its URL."""
    db = await Database.connect(settings.database)
    rows, _ = parse_csv((resources.files("bot") / "data" / "hoang_mai_units.csv")
                        .read_text("utf-8"))
    await units.upsert_many(db, rows)
    await register_member(db, 6001, "HM-HL-02")
    await db.close()
    port = free_port()
    settings = replace(settings, webhook_url="https://bot.example.org/tg/hook",
                       webhook_secret=SECRET, webhook_listen="127.0.0.1", webhook_port=port)
    application = build_application(settings, request=api)
    ready, stop = asyncio.Event(), asyncio.Event()
    task = asyncio.create_task(serve(application, settings, webhook=True, stop_signals=(),
                                     on_ready=ready.set, stop_event=stop))
    await asyncio.wait_for(ready.wait(), 10)
    yield f"http://127.0.0.1:{port}/tg/hook", application
    stop.set()
    await asyncio.wait_for(task, 10)


async def test_the_webhook_is_set_with_the_secret_and_checks_it(webhook, api):
    url, application = webhook
    [setup] = [c for c in api.calls if c.method == "setWebhook"]
    assert setup.params["url"] == "https://bot.example.org/tg/hook"
    assert setup.params["secret_token"] == SECRET
    hoa = api.user(6001, first_name="Hoa")
    body = json.dumps(api.command_update(hoa, "/help"))
    async with httpx.AsyncClient(timeout=5) as client:
        statuses = [(await client.post(url, content=body, headers={
            "Content-Type": "application/json", **({HEADER: guess} if guess else {})})).status_code
            for guess in (None, "", SECRET + "x", SECRET[:-1], SECRET[:-1] + "X", SECRET.upper())]
        assert statuses == [403] * 6
        right = await client.post(url, content=body, headers={
            "Content-Type": "application/json", HEADER: SECRET})
        assert right.status_code == 200
        again = await client.post(url, content=body, headers={  # Telegram retries
            "Content-Type": "application/json", HEADER: SECRET})
        assert again.status_code == 200
        wrong_path = await client.post(url + "x", content=body, headers={HEADER: SECRET})
        assert wrong_path.status_code == 404
    await asyncio.wait_for(application.update_queue.join(), 10)  # every accepted update done
    assert len(api.sent(6001)) == 1, "refused requests are not processed; a redelivery once"
    assert "/standard" in api.sent(6001)[0].params["text"]


async def raw_request(url: str, head: str, chunks: list[bytes] = ()) -> bytes:
    """Send `head`, then `chunks` one by one, on a plain socket while reading the answer."""
    parts = httpx.URL(url)
    reader, writer = await asyncio.open_connection(parts.host, parts.port)

    async def send() -> None:
        with contextlib.suppress(ConnectionError):
            writer.write(head.encode())
            for chunk in chunks:
                await writer.drain()
                writer.write(chunk)
            await writer.drain()

    sending = asyncio.create_task(send())
    try:
        return await asyncio.wait_for(reader.readuntil(b"\r\n"), 5)  # the status line
    finally:
        await sending
        writer.close()


async def test_a_body_over_the_limit_is_refused_before_it_is_read(webhook, api):
    url, application = webhook
    path = httpx.URL(url).path
    # Ten megabytes announced, none sent: the answer comes from the headers alone.
    answer = await raw_request(url, f"POST {path} HTTP/1.1\r\nHost: x\r\n{HEADER}: {SECRET}\r\n"
                               "Content-Type: application/json\r\nContent-Length: 10000000\r\n\r\n")
    assert answer.startswith(b"HTTP/1.1 413")
    # Without the secret, the size is not even looked at.
    answer = await raw_request(url, f"POST {path} HTTP/1.1\r\nHost: x\r\n"
                               "Content-Length: 10000000\r\n\r\n")
    assert answer.startswith(b"HTTP/1.1 403")
    # A chunked body has no declared size: refused once it passes the limit.
    chunk = b"x" * 65536
    chunks = [b"%x\r\n%s\r\n" % (len(chunk), chunk) for _ in range(20)] + [b"0\r\n\r\n"]
    answer = await raw_request(url, f"POST {path} HTTP/1.1\r\nHost: x\r\n{HEADER}: {SECRET}\r\n"
                               "Transfer-Encoding: chunked\r\n\r\n", chunks)  # 1.25 MB
    assert answer.startswith(b"HTTP/1.1 413")
    # Not JSON: a clear 400, nothing queued.
    async with httpx.AsyncClient(timeout=5) as client:
        bad = await client.post(url, content=b"{not json", headers={HEADER: SECRET})
        assert bad.status_code == 400
        # A real update sent chunked and under the limit goes through.
        hoa = api.user(6001, first_name="Hoa")
        body = json.dumps(api.command_update(hoa, "/help")).encode()

        async def stream():
            yield body[:10]
            yield body[10:]

        ok = await client.post(url, content=stream(), headers={HEADER: SECRET})
        assert ok.status_code == 200
    await asyncio.wait_for(application.update_queue.join(), 10)
    assert len(api.sent(6001)) == 1


async def test_a_redelivered_update_is_processed_once(app, api, db):
    await register_member(db, 6002, "HM-HL-02")
    hoa = api.user(6002, first_name="Hoa")
    data = api.command_update(hoa, "/stop")
    await app.process_update(api.to_update(data, app.bot))
    await members.set_status(db, (await members.by_user(db, 6002)).id, "active")
    await app.process_update(api.to_update(data, app.bot))  # the same update_id again
    assert len(api.sent(6002)) == 1
    member = await members.by_user(db, 6002)
    assert member is not None and member.status == "active", "not applied a second time"


async def test_after_a_crash_polling_redelivers_but_nothing_runs_twice(settings, api, clock):
    """No graceful stop: a new process gets the unconfirmed updates again from getUpdates."""
    first = await start_application(settings, api, clock)
    db = first.bot_data.db
    rows, _ = parse_csv((resources.files("bot") / "data" / "hoang_mai_units.csv")
                        .read_text("utf-8"))
    await units.upsert_many(db, rows)
    lan = api.user(6003, first_name="Lan")
    batch = [api.command_update(lan, "/start"), api.message_update(lan, "1")]
    for data in batch:
        api.queue_update(data)
    for update in await first.bot.get_updates(timeout=0):  # fetched, not yet confirmed
        await first.process_update(update)
    replies = len(api.sent(6003))
    assert replies == 2
    await db.close()  # the crash: nothing else of a shutdown happens

    second = await start_application(settings, api, clock)
    try:
        redelivered = await second.bot.get_updates(timeout=0)
        assert [u.update_id for u in redelivered] == [d["update_id"] for d in batch]
        for update in redelivered:
            await second.process_update(update)
        assert len(api.sent(6003)) == replies, "no answer twice"
        fresh = api.message_update(lan, "Nguyễn Thị Lan")  # a new update goes on as usual
        await second.process_update(api.to_update(fresh, second.bot))
        assert "số điện thoại" in api.last_text(6003).lower()
    finally:
        await stop_application(second)
