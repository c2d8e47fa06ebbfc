"""The offline demo: the real Application on the in-process Bot API, driven from a terminal.

The bot's messages are printed with their buttons numbered; typing a number presses one,
`m1`, `m2` … press the main-menu buttons, `c` shares the persona's phone number, anything else
is sent as text. `:member`, `:head` and `:admin` switch persona; `:quit` (or end of input) stops.
"""

from __future__ import annotations

import asyncio
import html
import re
import sys
from dataclasses import dataclass, replace
from importlib import resources
from pathlib import Path
from typing import Any, TextIO

from telegram.ext import Application

from bot.app import build_application
from bot.channels.telegram_fake import FakeBotAPI
from bot.settings import Settings
from bot.unit_import import parse_csv
from storage import members, roles, units
from storage.db import Database
from storage.members import NewMember


@dataclass(frozen=True)
class Persona:
    """Someone to play in the demo."""

    key: str
    user_id: int
    first_name: str
    phone: str


PERSONAS = {
    "member": Persona("member", 1001, "Hoa", "+84912345678"),
    "head": Persona("head", 1002, "Lan", "+84987654321"),
    "admin": Persona("admin", 1003, "Mai", "+84903123456"),
}
HEAD_CHAPTER = "HM-HL-02"
# Members already in the head's chapter, so notices and the evaluation have someone to reach.
DEMO_MEMBERS = {
    2001: "Nguyễn Thị Hạnh", 2002: "Lê Thị Thu", 2003: "Phạm Thị Mai", 2004: "Hoàng Thị Yến",
    2005: "Vũ Thị Ngọc", 2006: "Đặng Thị Hương", 2007: "Bùi Thị Lý", 2008: "Đỗ Thị Nga",
    2009: "Ngô Thị Bích", 2010: "Dương Thị Loan", 2011: "Trịnh Thị Hoà", 2012: "Phan Thị Sen",
}


async def seed(db: Database) -> None:
    """Load the Hoàng Mai units and a registered chapter head (once)."""
    if await units.children(db, None):
        return
    csv_text = (resources.files("bot") / "data" / "hoang_mai_units.csv").read_text("utf-8")
    rows, _lines = parse_csv(csv_text)
    await units.upsert_many(db, rows)
    chapter = await units.by_code(db, HEAD_CHAPTER)
    assert chapter is not None
    head = PERSONAS["head"]
    member = await members.register(
        db,
        NewMember(
            telegram_user_id=head.user_id,
            chat_id=head.user_id,
            full_name="Trần Thị Lan",
            phone=head.phone,
            unit_id=chapter.id,
            locale="vi",
        ),
        consent_purpose="membership",
        consent_version=1,
        consent_at="2026-01-05T02:00:00Z",
    )
    await roles.grant(db, member.id, "chapter_head", chapter.id)
    for user_id, name in DEMO_MEMBERS.items():
        await members.register(
            db,
            NewMember(telegram_user_id=user_id, chat_id=user_id, full_name=name,
                      phone=f"+849120{user_id:05d}", unit_id=chapter.id, locale="vi"),
            consent_purpose="membership", consent_version=1, consent_at="2026-01-05T02:00:00Z",
        )


class Console:
    """Prints what the bot sent and turns typed lines into updates."""

    def __init__(self, api: FakeBotAPI, out: TextIO) -> None:
        self.api = api
        self.out = out
        self.seen = 0
        self.inline: list[tuple[int, str]] = []  # (message_id, callback_data) by number
        self.menu: list[str] = []
        self.wants_contact = False

    def show_new_calls(self, chat_id: int) -> None:
        """Print every message, edit and alert since the last call."""
        for call in self.api.calls[self.seen :]:
            if not call.ok or call.params.get("chat_id", chat_id) != chat_id:
                if call.method == "answerCallbackQuery" and call.ok and call.params.get("text"):
                    self._print(f"  (!) {call.params['text']}")
                continue
            if call.method in {"sendMessage", "editMessageText"}:
                self._show_message(call.method, call.params, call.result)
        self.seen = len(self.api.calls)

    def _show_message(self, method: str, params: dict[str, Any], result: Any) -> None:
        text = _plain(str(params.get("text", "")))
        prefix = "bot (edited)" if method == "editMessageText" else "bot"
        self._print(f"\n{prefix}: " + text.replace("\n", "\n     "))
        markup = params.get("reply_markup") or {}
        if "inline_keyboard" in markup:
            message_id = result["message_id"] if isinstance(result, dict) else 0
            self.inline = []
            for row in markup["inline_keyboard"]:
                cells = []
                for button in row:
                    self.inline.append((message_id, button["callback_data"]))
                    cells.append(f"[{len(self.inline)}] {button['text']}")
                self._print("     " + "   ".join(cells))
        elif "keyboard" in markup:
            labels = [b["text"] if isinstance(b, dict) else b for r in markup["keyboard"]
                      for b in r]
            self.wants_contact = any(
                isinstance(b, dict) and b.get("request_contact")
                for r in markup["keyboard"] for b in r
            )
            if self.wants_contact:
                self._print(f"     [c] {labels[0]}")
            else:
                self.menu = labels
                self._print("     menu: " + "   ".join(
                    f"[m{i}] {label}" for i, label in enumerate(labels, 1)))

    def _print(self, line: str) -> None:
        print(line, file=self.out, flush=True)


def _plain(text: str) -> str:
    return html.unescape(re.sub(r"</?[a-z][^>]*>", "", text))


async def run_demo(settings: Settings, *, database: Path | None = None,
                   stdin: TextIO | None = None, out: TextIO | None = None) -> int:
    """Run the console until `:quit` or end of input."""
    stdin = stdin or sys.stdin
    out = out or sys.stdout
    path = database or Path("data/demo.sqlite3")
    settings = replace(settings, database=path, token=None, send_rate=0,
                       admin_ids=settings.admin_ids | {PERSONAS["admin"].user_id})
    api = FakeBotAPI()
    application = build_application(settings, request=api, background=False)
    await application.initialize()
    assert application.bot_data.db is not None
    await application.bot_data.db.open()
    await seed(application.bot_data.db)
    for p in PERSONAS.values():
        api.user(p.user_id, first_name=p.first_name, language_code="vi")
    for user_id in DEMO_MEMBERS:
        api.add_chat(user_id)
    await application.post_init(application)  # type: ignore[misc]
    console = Console(api, out)
    persona = PERSONAS["member"]
    user = api.user(persona.user_id, first_name=persona.first_name, language_code="vi")
    console.seen = len(api.calls)
    print(__doc__.split("\n\n", 1)[1].strip(), file=out)
    print(f"\nYou are: {persona.key}. Type /start to begin.", file=out, flush=True)
    loop = asyncio.get_running_loop()
    try:
        while True:
            print(f"\n{persona.key}> ", end="", file=out, flush=True)
            line = await loop.run_in_executor(None, stdin.readline)
            if not line or line.strip() == ":quit":
                break
            line = line.rstrip("\n")
            if line.startswith(":") and line[1:] in PERSONAS:
                persona = PERSONAS[line[1:]]
                user = api.user(persona.user_id, first_name=persona.first_name,
                                language_code="vi")
                print(f"You are now: {persona.key}. Type /start.", file=out)
                continue
            data = _to_update(api, console, user, persona, line)
            await _process(application, api, data)
            console.show_new_calls(persona.user_id)
    finally:
        await application.shutdown()
        await application.post_shutdown(application)  # type: ignore[misc]
    print("\nBye.", file=out)
    return 0


def _to_update(api: FakeBotAPI, console: Console, user: dict[str, Any], persona: Persona,
               line: str) -> dict[str, Any]:
    text = line.strip()
    if text.isdigit() and 1 <= int(text) <= len(console.inline):
        message_id, data = console.inline[int(text) - 1]
        return api.callback_update(user, message_id, data)
    if re.fullmatch(r"m\d+", text) and 1 <= int(text[1:]) <= len(console.menu):
        return api.message_update(user, console.menu[int(text[1:]) - 1])
    if text == "c" and console.wants_contact:
        return api.contact_update(user, persona.phone, contact_user_id=persona.user_id)
    if text.startswith("/"):
        command, _, args = text.partition(" ")
        return api.command_update(user, command, args)
    return api.message_update(user, line)


async def _process(application: Application, api: FakeBotAPI, data: dict[str, Any]) -> None:
    await application.process_update(api.to_update(data, application.bot))
    await application.bot_data.delivery.run_until_idle()  # broadcasts go out at once
