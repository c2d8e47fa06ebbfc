"""Fixtures: the real Application on the strict in-process Bot API, a real SQLite file."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from importlib import resources
from pathlib import Path
from typing import Any

import pytest
from telegram.ext import Application

from bot.app import build_application
from bot.channels.telegram_fake import ApiCall, FakeBotAPI
from bot.channels.telegram_fake.server import take_created
from bot.clock import ManualClock
from bot.settings import Settings
from bot.unit_import import parse_csv
from storage import members, roles, units
from storage.db import Database
from storage.members import NewMember

ADMIN_ID = 9001


@pytest.fixture(autouse=True)
def narrow_phone(request: pytest.FixtureRequest) -> Iterator[None]:
    """Every keyboard any test makes the bot send fits a narrow phone (bot/buttons.py)."""
    take_created()
    yield
    faults = [fault for fake in take_created() for fault in fake.narrow_faults]
    if faults:
        pytest.fail(f"{request.node.nodeid}: buttons too wide for a narrow phone "
                    "(alone <= 24, two <= 12, three or more <= 8; see bot/buttons.py):\n"
                    + "\n".join(dict.fromkeys(faults)), pytrace=False)


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    """Settings for a test: temp database, one super-admin, no outgoing pacing."""
    return Settings(database=tmp_path / "bot.sqlite3", admin_ids=frozenset({ADMIN_ID}),
                    send_rate=0)


@pytest.fixture
def api() -> FakeBotAPI:
    """The strict fake Bot API that the application talks to."""
    return FakeBotAPI()


@pytest.fixture
def clock() -> ManualClock:
    """The application's clock: starts now, moves only when a test moves it."""
    return ManualClock(datetime.now(UTC))


async def start_application(
    settings: Settings, api: FakeBotAPI, clock: ManualClock | None = None
) -> Application:
    """Build and initialise the application as `run_polling` would, without polling.

    The delivery engine does not run in the background: tests drive it with
    `app.bot_data.delivery.run_until_idle()`.
    """
    application = build_application(settings, request=api, clock=clock, background=False)
    await application.initialize()
    await application.post_init(application)  # type: ignore[misc]
    return application


async def stop_application(application: Application) -> None:
    """Shut down like a graceful stop (persistence flushed, database closed)."""
    await application.shutdown()
    await application.post_shutdown(application)  # type: ignore[misc]


@pytest.fixture
async def app(
    settings: Settings, api: FakeBotAPI, clock: ManualClock
) -> AsyncIterator[Application]:
    """A running application with the demo's organisation tree loaded."""
    db = await Database.connect(settings.database)
    csv_text = (resources.files("bot") / "data" / "hoang_mai_units.csv").read_text("utf-8")
    rows, _lines = parse_csv(csv_text)
    await units.upsert_many(db, rows)
    await db.close()
    application = await start_application(settings, api, clock)
    yield application
    await stop_application(application)
    assert api.unanswered_callback_queries() == [], "every button press must be answered"


@pytest.fixture
def db(app: Application) -> Database:
    """The application's open database."""
    return app.bot_data.db


@dataclass
class Person:
    """Somebody chatting with the bot in her private chat."""

    app: Application
    api: FakeBotAPI
    user: dict[str, Any]
    mark: int = field(default=0)

    @property
    def id(self) -> int:
        return int(self.user["id"])

    async def _feed(self, data: dict[str, Any]) -> None:
        self.mark = len(self.api.calls)
        await self.app.process_update(self.api.to_update(data, self.app.bot))

    async def send(self, text: str) -> None:
        """Type a message (a command when it starts with /)."""
        if text.startswith("/") and " " not in text.strip():
            await self._feed(self.api.command_update(self.user, text))
        elif text.startswith("/"):
            command, _, args = text.partition(" ")
            await self._feed(self.api.command_update(self.user, command, args))
        else:
            await self._feed(self.api.message_update(self.user, text))

    async def share_contact(self, phone: str, *, owner: int | None = None) -> None:
        """Share a contact card (her own unless `owner` says otherwise)."""
        owner = self.id if owner is None else owner
        await self._feed(self.api.contact_update(self.user, phone, contact_user_id=owner))

    async def send_photo(self) -> None:
        """Send a photo."""
        await self._feed(self.api.message_update(self.user, photo=True))

    def buttons(self) -> list[tuple[int, str, str]]:
        """(message_id, text, callback_data) of the newest message with inline buttons."""
        for message in reversed(self.api.messages(self.id)):
            keyboard = (message.get("reply_markup") or {}).get("inline_keyboard")
            if keyboard:
                return [(message["message_id"], b["text"], b["callback_data"])
                        for row in keyboard for b in row]
        return []

    async def press(self, label: str) -> None:
        """Press the newest inline button whose text contains `label`."""
        matches = [b for b in self.buttons() if label in b[1]]
        assert matches, f"no button {label!r} in {[b[1] for b in self.buttons()]}"
        message_id, _text, data = matches[0]
        await self.press_data(message_id, data)

    async def press_data(self, message_id: int, data: str) -> None:
        """Press a button with arbitrary (possibly forged) callback data."""
        await self._feed(self.api.callback_update(self.user, message_id, data))

    def replies(self) -> list[ApiCall]:
        """Successful calls the bot made since her last action."""
        return [c for c in self.api.calls[self.mark:] if c.ok]

    def reply_text(self) -> str:
        """Everything the bot said to her since her last action (messages, edits, alerts)."""
        parts = []
        for call in self.replies():
            if call.method in {"sendMessage", "editMessageText"}:
                parts.append(str(call.params.get("text", "")))
            elif call.method == "answerCallbackQuery" and call.params.get("text"):
                parts.append(str(call.params["text"]))
        return "\n".join(parts)

    def errors(self) -> list[ApiCall]:
        """Calls Telegram would have rejected since her last action."""
        return [c for c in self.api.calls[self.mark:] if not c.ok]


@pytest.fixture
def person(app: Application, api: FakeBotAPI) -> Callable[..., Person]:
    """Make people: `hoa = person(1001, "Hoa")`."""

    def make(user_id: int, first_name: str = "Hoa", language_code: str = "vi") -> Person:
        return Person(app, api, api.user(user_id, first_name=first_name,
                                         language_code=language_code))

    return make


async def register_member(
    db: Database, user_id: int, unit_code: str, *, name: str = "Nguyễn Thị Hoa", locale: str = "vi"
) -> int:
    """Store a registered member directly (for tests about what comes after registration)."""
    unit = await units.by_code(db, unit_code)
    assert unit is not None
    member = await members.register(
        db,
        NewMember(telegram_user_id=user_id, chat_id=user_id, full_name=name,
                  phone="+84912345678", unit_id=unit.id, locale=locale),
        consent_purpose="membership", consent_version=1, consent_at="2026-01-01T00:00:00Z",
    )
    return member.id


async def grant(db: Database, member_id: int, role: str, unit_code: str) -> None:
    """Give a stored member a role."""
    unit = await units.by_code(db, unit_code)
    assert unit is not None
    await roles.grant(db, member_id, role, unit.id)
