"""`python -m bot demo --channel zalo`: exactly what a Zalo member sees (no buttons; she types
numbers and words), the real Zalo Application on the in-process Zalo fake.

Type as on Zalo: a number picks an option, menu shows the main menu, hủy cancels.
:member, :head (chị Hồng, head of the same chapter as the Telegram demo's head) and :admin (a
super-admin) switch persona; messages sent to the others wait in their inbox. :quit ends.
"""

from __future__ import annotations

import asyncio
import dataclasses
import sys
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import TextIO

import httpx
from telegram.ext import Application, ExtBot

from bot.app import OFFLINE_TOKEN
from bot.channels.telegram_fake import ApiCall
from bot.channels.zalo import CHANNEL
from bot.channels.zalo.client import ZaloClient
from bot.channels.zalo.fake import BASE_URL, TOKEN, FakeZaloAPI, ZaloCall
from bot.channels.zalo.service import build_zalo_application, with_zalo_admins
from bot.demo import DEMO_MEMBERS, HEAD_CHAPTER, DemoBotAPI, seed
from bot.demo import PERSONAS as TELEGRAM_PERSONAS
from bot.pacing import PacedRateLimiter
from bot.settings import Settings
from storage import channels, members, roles, units
from storage.db import Database
from storage.members import NewMember

PERSONAS = {"member": "demo0zalo0member", "head": "demo0zalo0head",
            "admin": "demo0zalo0admin"}
SEEDED_AT = "2026-01-05T02:00:00Z"


async def seed_zalo_head(db: Database) -> None:
    """A chapter head who uses only Zalo (some do), in the Telegram demo's chapter, so a head's
    screens can be walked as a Zalo head sees them (once)."""
    internal = await channels.internal_id(db, channel=CHANNEL, external_id=PERSONAS["head"],
                                          at=SEEDED_AT)
    chapter = await units.by_code(db, HEAD_CHAPTER)
    if chapter is None or await members.by_user(db, internal) is not None:
        return
    member = await members.register(
        db, NewMember(telegram_user_id=internal, chat_id=internal, full_name="Võ Thị Hồng",
                      phone="+84988111222", unit_id=chapter.id, locale="vi"),
        consent_purpose="membership", consent_version=1, consent_at=SEEDED_AT)
    await roles.grant(db, member.id, "chapter_head", chapter.id)


class DemoZaloAPI(FakeZaloAPI):
    """The strict Zalo fake, telling the console about each call as it is served (so
    deliveries show when they happen, not after the next input)."""

    listener: Callable[[ZaloCall], None] | None = None

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        """Serve the call, then show it."""
        before = len(self.calls)
        response = await super().handle_async_request(request)
        if self.listener is not None:
            for call in self.calls[before:]:
                self.listener(call)
        return response


class ZaloConsole:
    """Prints what the current persona receives; keeps the others' messages in their inbox."""

    def __init__(self, out: TextIO) -> None:
        self.out = out
        self.persona = "member"
        self.inboxes: dict[str, list[ZaloCall]] = {zalo_id: [] for zalo_id in PERSONAS.values()}

    def on_call(self, call: ZaloCall) -> None:
        """One served Zalo call: print it, or keep it for the persona it was sent to."""
        if not call.ok or call.method not in {"sendMessage", "sendPhoto"}:
            return
        chat = str(call.params.get("chat_id"))
        if chat == PERSONAS[self.persona]:
            self.show(call)
        elif chat in self.inboxes:
            self.inboxes[chat].append(call)
            key = next(k for k, v in PERSONAS.items() if v == chat)
            print(f"  ✉ a message for {key} (type :{key} to read it)", file=self.out, flush=True)

    def show(self, call: ZaloCall) -> None:
        """Print one message as Zalo shows it."""
        if call.method == "sendPhoto":
            text = f"[picture: {call.params['photo']}]\n{call.params.get('caption') or ''}"
        else:
            text = str(call.params["text"])
        print("\nbot: " + text.strip().replace("\n", "\n     "), file=self.out, flush=True)

    def switch(self, persona: str) -> None:
        """Become `persona`; what was sent to her meanwhile is shown first."""
        self.persona = persona
        waiting, self.inboxes[PERSONAS[persona]] = self.inboxes[PERSONAS[persona]], []
        if not waiting:
            print(f"You are now: {persona}. Type start.", file=self.out, flush=True)
            return
        print(f"You are now: {persona}. {len(waiting)} message(s) came while you were away:",
              file=self.out, flush=True)
        for call in waiting:
            self.show(call)


async def run_zalo_demo(settings: Settings, *, database: Path | None = None,
                        stdin: TextIO | None = None, out: TextIO | None = None) -> int:
    """Run the console until `:quit` or end of input."""
    stdin, out = stdin or sys.stdin, out or sys.stdout
    path = database or Path("data/demo.sqlite3")
    settings = dataclasses.replace(settings, database=path, token=None, zalo_token=None,
                                   send_rate=0, zalo_send_rate=0,
                                   zalo_admin_ids=frozenset({PERSONAS["admin"]}))
    db = await Database.connect(path)
    await seed(db)
    await seed_zalo_head(db)
    await db.close()
    settings = await with_zalo_admins(settings)
    api = DemoZaloAPI()
    for zalo_id in PERSONAS.values():  # all wrote to the bot before (a database kept from
        api.user(zalo_id)              # an earlier run): a notice reaches her at once
    console = ZaloConsole(out)
    api.listener = console.on_call
    client = ZaloClient(token=TOKEN, base_url=BASE_URL, transport=api)
    application, bridge = build_zalo_application(settings, client=client, background=False)
    await application.initialize()
    await application.post_init(application)  # type: ignore[misc]
    telegram = await _telegram_side(application, console)
    print(__doc__.split("\n\n", 1)[1].strip(), file=out)
    print(f"Database: {path} (delete this file to start afresh).", file=out)
    print("\nYou are: member (on Zalo). Type start to begin.", file=out, flush=True)
    loop = asyncio.get_running_loop()
    try:
        while True:
            print(f"\n{console.persona}> ", end="", file=out, flush=True)
            line = await loop.run_in_executor(None, stdin.readline)
            if not line or line.strip() == ":quit":
                break
            if line.strip()[1:] in PERSONAS and line.startswith(":"):
                console.switch(line.strip()[1:])
                continue
            zalo_id = PERSONAS[console.persona]
            # A fresh id per line: the fake counts from 1 each run, and the database keeps the
            # ids it has seen, so a second run on the same file would drop her first lines.
            event = api.event(zalo_id, text=line.rstrip("\n") or " ",
                              message_id=f"demo-{uuid.uuid4().hex}")
            await bridge.handle_event(event)
            await application.bot_data.delivery.run_until_idle()
    finally:
        await telegram.shutdown()
        await application.shutdown()
        await application.post_shutdown(application)  # type: ignore[misc]
        await client.close()
    print("\nBye.", file=out)
    return 0


async def _telegram_side(application: Application, console: ZaloConsole) -> ExtBot:
    """The seeded members are on Telegram: the outbox reaches them there (an in-process
    Telegram), as in a real mixed chapter, and each delivery is printed."""
    api = DemoBotAPI()
    for user_id in (*DEMO_MEMBERS, TELEGRAM_PERSONAS["head"].user_id):
        api.add_chat(user_id)

    def delivered(call: ApiCall) -> None:
        name = DEMO_MEMBERS.get(int(call.params.get("chat_id", 0)), "Trần Thị Lan")
        if call.ok and call.method.startswith("send"):
            print(f"  ✉ → {name} (Telegram)", file=console.out, flush=True)

    api.listener = delivered
    bot: ExtBot = ExtBot(OFFLINE_TOKEN, request=api, rate_limiter=PacedRateLimiter(0))
    await bot.initialize()
    application.bot_data.delivery.bot = bot
    return bot
