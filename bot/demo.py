"""The offline demo: the real Application on the in-process Bot API, driven from a terminal.

It is how a union decides whether to adopt the assistant, so it hides nothing the bot does:
every message, edit and pop-up is printed the moment the bot sends it (background deliveries
too); pictures and files are saved under the demo's folder and their path printed; a message
for another persona waits in her inbox and is shown when you switch to her. Buttons print
with the number typed to press them, the same number the button itself shows.
"""

from __future__ import annotations

import asyncio
import contextlib
import html
import re
import sys
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from importlib import resources
from pathlib import Path
from typing import Any, TextIO

from telegram.ext import Application

from bot.app import build_application
from bot.channels.telegram_fake import ApiCall, FakeBotAPI
from bot.channels.zalo.render import PAGE_COUNTER, numbered
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
PUMP_EVERY = 1.0  # seconds between looks for scheduled notices coming due
BANNER = """Offline demo of the Women's Union assistant (the real bot, no network).
Database: {database} (delete this file to start afresh). Pictures and files: {files}/
Type a number to press the button with that number; m1, m2 … press the main-menu buttons;
c shares the persona's phone number; anything else is sent as text.
:member, :head (a chapter head) and :admin (a super-admin) switch persona; messages sent to
the others wait in their inbox. :quit (or end of input) stops."""


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


class DemoBotAPI(FakeBotAPI):
    """The strict fake Bot API, telling the console about each call as it is served (so
    background work shows when it happens, not after the next input)."""

    listener: Callable[[ApiCall], None] | None = None

    async def do_request(self, *args: Any, **kwargs: Any) -> tuple[int, bytes]:
        """Serve the call (FakeBotAPI.do_request), then show it."""
        before = len(self.calls)
        answer = await super().do_request(*args, **kwargs)
        if self.listener is not None:
            for call in self.calls[before:]:
                self.listener(call)
        return answer


@dataclass
class Screen:
    """What one persona has on her phone: the buttons a typed number presses, her inbox."""

    inline: dict[int, tuple[int, str]] = field(default_factory=dict)  # number → (msg, data)
    menu: list[str] = field(default_factory=list)
    wants_contact: bool = False
    inbox: list[ApiCall] = field(default_factory=list)


_SHOWN = {"sendMessage", "editMessageText", "editMessageCaption", "editMessageReplyMarkup",
          "sendPhoto", "sendDocument"}


class Console:
    """Prints what the bot sent and turns typed lines into updates."""

    def __init__(self, api: FakeBotAPI, out: TextIO, *, files: Path) -> None:
        self.api = api
        self.out = out
        self.files = files
        self.screens = {p.user_id: Screen() for p in PERSONAS.values()}
        self.persona = PERSONAS["member"]
        self.at_prompt = False  # the prompt is showing: background output starts a new line
        self.waiting = False  # for the next line; the prompt is shown again after output
        self._saved: dict[str, Path] = {}  # file_id → where its content was saved

    @property
    def screen(self) -> Screen:
        """The current persona's."""
        return self.screens[self.persona.user_id]

    def on_call(self, call: ApiCall) -> None:
        """One served Bot API call: print it, or keep it for the persona it was sent to."""
        if not call.ok:
            return
        if call.method == "answerCallbackQuery":
            if call.params.get("text"):
                self._print(f"  (!) {call.params['text']}")
            return
        if call.method not in _SHOWN:
            return
        chat_id = int(call.params.get("chat_id", 0))
        self._remember_files(call)
        if chat_id == self.persona.user_id:
            self.show(call)
        elif chat_id in self.screens:
            self.screens[chat_id].inbox.append(call)
            key = next(p.key for p in PERSONAS.values() if p.user_id == chat_id)
            self._print(f"  ✉ a message for {key} (type :{key} to read it)")
        elif chat_id in DEMO_MEMBERS and call.method.startswith("send"):
            text = _plain(str(call.params.get("text") or call.params.get("caption") or ""))
            first = text.strip().splitlines()[0][:60] if text.strip() else ""
            self._print(f"  ✉ → {DEMO_MEMBERS[chat_id]}: {first}")

    def switch(self, persona: Persona) -> None:
        """Become `persona`; what was sent to her meanwhile is shown first."""
        self.persona = persona
        waiting, self.screen.inbox = self.screen.inbox, []
        if not waiting:
            self._print(f"You are now: {persona.key}. Type /start.")
            return
        self._print(f"You are now: {persona.key}. {len(waiting)} message(s) came while you were "
                    "away:")
        for call in waiting:
            self.show(call)

    def show(self, call: ApiCall) -> None:
        """Print one message (or edit) of the current persona, with its buttons."""
        params = call.params
        edited = call.method.startswith("edit")
        lines = []
        if call.method in {"sendPhoto", "sendDocument"}:
            kind = "picture" if call.method == "sendPhoto" else "file"
            where = self._saved_path(call)
            lines.append(f"[{kind} saved: {where}]" if where else f"[{kind}]")
        text = params.get("text", params.get("caption"))
        if text:
            lines.append(_plain(str(text)))
        if call.method == "editMessageReplyMarkup":
            lines.append("(buttons changed)")
        prefix = "bot (edited)" if edited else "bot"
        self._print(f"\n{prefix}: " + "\n".join(lines).replace("\n", "\n     "))
        self._show_markup(params.get("reply_markup"), call)

    def _show_markup(self, markup: Any, call: ApiCall) -> None:
        markup = markup or {}
        screen = self.screen
        if "inline_keyboard" in markup:
            message_id = _message_id(call)
            buttons = [b for row in markup["inline_keyboard"] for b in row]
            numbers = iter(numbered([b["text"] for b in buttons
                                     if not PAGE_COUNTER.fullmatch(b["text"])]))
            screen.inline = {}
            for row in markup["inline_keyboard"]:
                cells = []
                for button in row:
                    if PAGE_COUNTER.fullmatch(button["text"]):
                        cells.append(f"({button['text'].strip()})")
                        continue
                    number, label = next(numbers)
                    if "callback_data" in button:
                        screen.inline[number] = (message_id, button["callback_data"])
                    cells.append(f"[{number}] {label}")
                self._print("     " + "   ".join(cells))
        elif call.method.startswith("edit") and _message_id(call) in {
                m for m, _data in screen.inline.values()}:
            screen.inline = {}  # the message's buttons went away
        elif "keyboard" in markup:
            labels = [b["text"] if isinstance(b, dict) else b for r in markup["keyboard"]
                      for b in r]
            screen.wants_contact = any(
                isinstance(b, dict) and b.get("request_contact")
                for r in markup["keyboard"] for b in r
            )
            if screen.wants_contact:  # its other buttons (✖ Hủy) replace the menu's, as on a phone
                screen.menu = labels
                others = "".join(f"   [m{i}] {label}" for i, label in enumerate(labels, 1)
                                 if i > 1)
                self._print(f"     [c] {labels[0]}{others}")
            else:
                screen.menu = labels
                self._print("     menu: " + "   ".join(
                    f"[m{i}] {label}" for i, label in enumerate(labels, 1)))

    def _remember_files(self, call: ApiCall) -> None:
        """Save an uploaded picture or file under `files` (once, whoever it was sent to)."""
        if not call.files or not isinstance(call.result, dict):
            return
        for upload in call.files.values():
            self.files.mkdir(parents=True, exist_ok=True)
            name = _file_name(upload.filename, upload.content, call.method)
            path = self.files / f"{len(list(self.files.iterdir())) + 1:03d}-{name}"
            path.write_bytes(upload.content)
            for file_id in _file_ids(call.result):
                self._saved[file_id] = path

    def _saved_path(self, call: ApiCall) -> Path | None:
        return next((self._saved[f] for f in _file_ids(call.result) if f in self._saved), None)

    def _print(self, line: str) -> None:
        if self.at_prompt:
            self.at_prompt = False
            line = "\n" + line.lstrip("\n")
        print(line, file=self.out, flush=True)

    def prompt(self) -> None:
        """Show the prompt; output that comes while it waits starts on a new line."""
        print(f"\n{self.persona.key}> ", end="", file=self.out, flush=True)
        self.at_prompt = True


def _message_id(call: ApiCall) -> int:
    result = call.result
    if isinstance(result, dict):
        return int(result.get("message_id", 0))
    return int(call.params.get("message_id", 0))


def _file_ids(result: Any) -> list[str]:
    if not isinstance(result, dict):
        return []
    found = [size["file_id"] for size in result.get("photo") or []]
    if document := result.get("document"):
        found.append(document["file_id"])
    return found


def _file_name(filename: str | None, content: bytes, method: str) -> str:
    """A readable name with the right extension (a chart arrives as nameless PNG bytes)."""
    name = re.sub(r"[^\w.\-]+", "_", Path(filename or "").name).strip("._")
    suffix = ".png" if content.startswith(b"\x89PNG") else (
        ".jpg" if content.startswith(b"\xff\xd8") else "")
    if not name or (suffix and not name.lower().endswith(suffix)):
        name = ("picture" if method == "sendPhoto" else "file") + (suffix or ".bin")
    return name


def _plain(text: str) -> str:
    return html.unescape(re.sub(r"</?[a-z][^>]*>", "", text))


async def run_demo(settings: Settings, *, database: Path | None = None,
                   stdin: TextIO | None = None, out: TextIO | None = None) -> int:
    """Run the console until `:quit` or end of input."""
    stdin = stdin or sys.stdin
    out = out or sys.stdout
    path = database or Path("data/demo.sqlite3")
    files = path.parent / "demo-files"
    settings = replace(settings, database=path, token=None, send_rate=0,
                       admin_ids=settings.admin_ids | {PERSONAS["admin"].user_id})
    api = DemoBotAPI()
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
    console = Console(api, out, files=files)
    api.listener = console.on_call
    print(BANNER.format(database=path, files=files), file=out)
    print("\nYou are: member. Type /start to begin.", file=out, flush=True)
    busy = asyncio.Lock()  # one input (or one look for due notices) at a time
    pump = asyncio.create_task(_pump(application, busy, console))
    loop = asyncio.get_running_loop()
    try:
        while True:
            console.prompt()
            console.waiting = True
            line = await loop.run_in_executor(None, stdin.readline)
            console.waiting = console.at_prompt = False
            if not line or line.strip() == ":quit":
                break
            line = line.rstrip("\n")
            if line.startswith(":") and line[1:].strip() in PERSONAS:
                console.switch(PERSONAS[line[1:].strip()])
                continue
            async with busy:
                await _process(application, api, _to_update(api, console, line))
    finally:
        async with busy:  # not in the middle of a send
            pump.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await pump
        await application.shutdown()
        await application.post_shutdown(application)  # type: ignore[misc]
    print("\nBye.", file=out)
    return 0


def _to_update(api: FakeBotAPI, console: Console, line: str) -> dict[str, Any]:
    persona, screen = console.persona, console.screen
    user = api.user(persona.user_id, first_name=persona.first_name, language_code="vi")
    text = line.strip()
    if text.isdigit() and int(text) in screen.inline:
        message_id, data = screen.inline[int(text)]
        return api.callback_update(user, message_id, data)
    if re.fullmatch(r"m\d+", text) and 1 <= int(text[1:]) <= len(screen.menu):
        return api.message_update(user, screen.menu[int(text[1:]) - 1])
    if text == "c" and screen.wants_contact:
        return api.contact_update(user, persona.phone, contact_user_id=persona.user_id)
    if text.startswith("/"):
        command, _, args = text.partition(" ")
        return api.command_update(user, command, args)
    return api.message_update(user, line)


async def _process(application: Application, api: FakeBotAPI, data: dict[str, Any]) -> None:
    """One update, then what it set going: its notices, and tasks such as an export."""
    before = asyncio.all_tasks()
    await application.process_update(api.to_update(data, application.bot))
    await application.bot_data.delivery.run_until_idle()  # broadcasts go out at once
    started = asyncio.all_tasks() - before - {asyncio.current_task()}
    if started:
        await asyncio.wait(started, timeout=60)
    await application.bot_data.delivery.run_until_idle()


async def _pump(application: Application, busy: asyncio.Lock, console: Console) -> None:
    """Send scheduled notices when they come due, while the console waits for input."""
    while True:
        await asyncio.sleep(PUMP_EVERY)
        async with busy:
            await application.bot_data.delivery.run_until_idle()
        if console.waiting and not console.at_prompt:  # something was printed meanwhile
            console.prompt()
