"""Zalo end to end: the second Application on the bridge and the strict fake Zalo Bot API,
beside the Telegram one, sharing the database and the delivery outbox."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

import pytest
from telegram.ext import Application

from bot.channels.zalo.bridge import ZaloBridge
from bot.channels.zalo.client import ZaloClient
from bot.channels.zalo.fake import BASE_URL, TOKEN, FakeZaloAPI
from bot.channels.zalo.service import build_zalo_application, route_deliveries, with_zalo_admins
from bot.clock import ManualClock
from bot.settings import Settings
from storage import activities, campaigns, channels, members, units
from tests.conftest import register_member

ZALO_ADMIN = "ad9a1e5b0c"
SATURDAY_EVENING = datetime(2026, 3, 28, 12, 0, tzinfo=UTC)  # 19:00 in Hà Nội
SUNDAY_0630 = datetime(2026, 3, 28, 23, 30, tzinfo=UTC)


@pytest.fixture
def clock() -> ManualClock:
    """Saturday evening in Hà Nội, the day before an environment day."""
    return ManualClock(SATURDAY_EVENING)


@pytest.fixture
def zalo_api() -> FakeZaloAPI:
    """The strict fake Zalo Bot API."""
    return FakeZaloAPI()


@dataclass
class Zalo:
    """The Zalo side of the running bot."""

    app: Application
    bridge: ZaloBridge
    api: FakeZaloAPI


@pytest.fixture
async def zalo(app: Application, settings: Settings, zalo_api: FakeZaloAPI,
               clock: ManualClock) -> AsyncIterator[Zalo]:
    """The Zalo Application beside `app`; the Telegram engine sends the whole outbox."""
    zalo_settings = await with_zalo_admins(
        dataclasses.replace(settings, zalo_admin_ids=frozenset({ZALO_ADMIN}), zalo_send_rate=0))
    app.bot_data.delivery.admin_ids |= zalo_settings.admin_ids
    client = ZaloClient(token=TOKEN, base_url=BASE_URL, transport=zalo_api)
    zapp, bridge = build_zalo_application(zalo_settings, client=client, clock=clock,
                                          background=False)
    route_deliveries(app, zapp)
    await zapp.initialize()
    await zapp.post_init(zapp)  # type: ignore[misc]
    yield Zalo(zapp, bridge, zalo_api)
    await zapp.shutdown()
    await zapp.post_shutdown(zapp)  # type: ignore[misc]
    await client.close()
    assert zalo_api.rejected() == [], "the bot made calls Zalo would refuse"


@dataclass
class ZaloPerson:
    """Somebody writing to the bot on Zalo."""

    zalo: Zalo
    zalo_id: str
    mark: int = field(default=0)

    async def send(self, text: str, *, message_id: str | None = None) -> None:
        """Type a message."""
        await self.event("text", text=text, message_id=message_id)

    async def event(self, kind: str, *, text: str | None = None,
                    message_id: str | None = None) -> None:
        """Any event (text, image, sticker, voice, unsupported)."""
        self.mark = len(self.zalo.api.calls)
        await self.zalo.bridge.handle_event(
            self.zalo.api.event(self.zalo_id, kind, text=text, message_id=message_id))

    def reply(self) -> str:
        """What the bot sent her since her last message."""
        return "\n".join(str(c.params.get("text") or c.params.get("caption") or "")
                         for c in self.zalo.api.calls[self.mark:]
                         if c.ok and c.params.get("chat_id") == self.zalo_id)

    def option(self, words: str) -> str:
        """The number of the latest shown option containing `words`."""
        for line in reversed(self.reply().splitlines()):
            number, dot, label = line.partition(". ")
            if dot and number.isdigit() and words.lower() in label.lower():
                return number
        raise AssertionError(f"no option {words!r} in {self.reply()!r}")

    async def choose(self, words: str) -> None:
        """Type the number of an option."""
        await self.send(self.option(words))

    async def internal_id(self) -> int:
        return await channels.internal_id(self.zalo.app.bot_data.db, channel="zalo",
                                          external_id=self.zalo_id, at="2026-01-01T00:00:00Z")


async def register(lan: ZaloPerson, *, name: str = "Trần Thị Lan") -> None:
    """Registration by typed numbers only."""
    await lan.send("start")
    await lan.choose("tôi đồng ý")
    await lan.send(name)
    await lan.send("0912 345 678")
    await lan.choose("Hoàng Liệt")
    await lan.choose("số 2")
    await lan.choose("xác nhận")


async def test_full_registration_by_typed_numbers(zalo):
    lan = ZaloPerson(zalo, "6ede9afa66b88fe6d6a9")
    await lan.send("start")
    first = lan.reply()
    assert "đồng ý" in first.lower() and "<b>" not in first and "&amp;" not in first
    await lan.choose("tôi đồng ý")
    assert "họ và tên" in lan.reply().lower()
    await lan.send("Trần Thị Lan")
    await lan.send("0912 345 678")
    assert "0912 345 678" in lan.reply()
    await lan.choose("Hoàng Liệt")
    await lan.choose("số 2")
    assert "Trần Thị Lan" in lan.reply()
    await lan.choose("xác nhận")
    assert "hoàn tất" in lan.reply().lower()
    member = await members.by_user(zalo.app.bot_data.db, await lan.internal_id())
    assert member is not None and member.phone == "+84912345678"
    assert member.telegram_user_id >= channels.CHANNEL_ID_BASE
    unit = await units.get(zalo.app.bot_data.db, member.unit_id or 0)
    assert unit is not None and unit.code == "HM-HL-02"



async def zalo_member(zalo: Zalo, zalo_id: str, code: str = "HM-HL-02", *,
                      name: str = "Phạm Thị Thu") -> ZaloPerson:
    """A Zalo member registered directly (for what comes after registration)."""
    her = ZaloPerson(zalo, zalo.api.user(zalo_id))
    await register_member(zalo.app.bot_data.db, await her.internal_id(), code, name=name)
    return her


async def test_a_typed_chapter_code_preselects_the_chapter(zalo):
    lan = ZaloPerson(zalo, "c0de00000001")
    await lan.send("start HM-HL-02")
    await lan.choose("tôi đồng ý")
    await lan.send("Lê Thị Mai")
    await lan.send("0987654321")
    assert "Chi hội tổ dân phố số 2" in lan.reply()
    await lan.choose("xác nhận")
    member = await members.by_user(zalo.app.bot_data.db, await lan.internal_id())
    assert member is not None
    unit = await units.get(zalo.app.bot_data.db, member.unit_id or 0)
    assert unit is not None and unit.code == "HM-HL-02"


async def test_standard_and_family_with_its_own_consent(zalo):
    thu = await zalo_member(zalo, "f00000000001")
    db = zalo.app.bot_data.db
    member = await members.by_user(db, await thu.internal_id())
    assert member is not None
    await thu.send("/standard")
    await thu.choose("đăng ký năm")
    assert await campaigns.registration(db, campaigns.STANDARD, member.id, 2026) is not None
    await thu.send("menu")
    await thu.choose("5 không, 3 sạch")
    await thu.choose("đăng ký gia đình")
    assert "đồng ý" in thu.reply().lower(), "the self-check consent is asked first"
    await thu.choose("tôi đồng ý")
    assert "0/8" in thu.reply()
    await thu.choose("Sạch nhà")
    assert "1/8" in thu.reply()
    await thu.choose("Xong")
    reg = await campaigns.registration(db, campaigns.FAMILY, member.id, 2026)
    assert reg is not None
    assert await campaigns.answers(db, reg.id) == {"clean_house": True}


async def test_a_report_with_a_quantity(zalo):
    thu = await zalo_member(zalo, "a0000000000r")
    await thu.send("menu")
    await thu.choose("Báo cáo hoạt động")
    await thu.choose("Biến rác thành tiền")
    await thu.send("hôm qua")
    assert "kg" in thu.reply()
    await thu.send("3")  # kilograms, not option 3: the latest question asks for free text
    assert "ghi chú" in thu.reply().lower()
    await thu.choose("Bỏ qua")
    if "ảnh" in thu.reply():
        await thu.choose("Bỏ qua")
    assert "3 kg" in thu.reply()
    await thu.choose("Lưu")
    member = await members.by_user(zalo.app.bot_data.db, await thu.internal_id())
    assert member is not None
    [report] = await activities.of_member(zalo.app.bot_data.db, member.id, limit=5)
    assert (report.activity_code, report.quantity) == ("waste_to_money", 3)
