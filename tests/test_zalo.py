"""Zalo end to end: the second Application on the bridge and the strict fake Zalo Bot API,
beside the Telegram one, sharing the database and the delivery outbox."""

from __future__ import annotations

import asyncio
import dataclasses
import io
import re
import socket
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
from babel.messages.pofile import read_po
from telegram.ext import Application

from bot import reminders
from bot.channels.zalo import render
from bot.channels.zalo.bridge import ZaloBridge
from bot.channels.zalo.client import ZaloClient, ZaloError
from bot.channels.zalo.demo import run_zalo_demo
from bot.channels.zalo.fake import BASE_URL, TOKEN, FakeZaloAPI
from bot.channels.zalo.files import FileLinks
from bot.channels.zalo.service import (
    build_zalo_application,
    poll,
    route_deliveries,
    with_zalo_admins,
)
from bot.channels.zalo.webhook import ZaloWebhookServer
from bot.clock import ManualClock
from bot.export import EXPORT_TASK
from bot.i18n import translator
from bot.settings import Settings, SettingsError
from handlers.kit.membership_consent import CONSENT_TEXT, CONSENT_VERSION
from storage import activities, campaigns, channels, members, units
from storage import privacy as privacy_store
from tests import stats_data
from tests.conftest import grant, register_member
from tests.stats_data import DECEMBER

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



async def test_paging_options_read_as_words_not_bare_arrows(zalo):
    lan = ZaloPerson(zalo, "6ede9afa66b88fe6d6a9")
    await lan.send("start")
    await lan.choose("tôi đồng ý")
    await lan.send("Trần Thị Lan")
    await lan.send("0912 345 678")
    wards = lan.reply()
    assert "Trang sau" in wards, wards
    assert not any(line.endswith(". ▶") for line in wards.splitlines())
    await lan.choose("trang sau")
    second = lan.reply()
    assert "Trang trước" in second and "Hoàng Liệt" not in second, second
    await lan.choose("trang trước")
    await lan.choose("Hoàng Liệt")
    assert "số 2" in lan.reply()


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
    await thu.choose("đăng ký hộ")
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


async def test_the_sunday_reminder_is_answered_by_typing(zalo, app, clock):
    thu = await zalo_member(zalo, "5a00000000d1")
    clock.advance((SUNDAY_0630 - clock.now()).total_seconds())
    thu.mark = len(zalo.api.calls)
    await reminders.tick(app.bot_data)
    await app.bot_data.delivery.run_until_idle()
    reminder = thu.reply()
    assert "Ngày môi trường" in reminder and "1. ✅ Tôi đã tham gia" in reminder
    await thu.choose("Tôi đã tham gia")
    assert "Đã ghi nhận" in thu.reply()
    member = await members.by_user(zalo.app.bot_data.db, await thu.internal_id())
    assert member is not None
    [report] = await activities.of_member(zalo.app.bot_data.db, member.id, limit=5)
    assert (report.activity_code, report.day) == ("sunday_environment", "2026-03-29")


async def notice_from_telegram_head(app, api, person, text: str) -> None:
    """A Telegram chapter head of HM-HL-02 sends `text` to all her chapter."""
    db = app.bot_data.db
    api.add_chat(3001)
    head = await register_member(db, 3001, "HM-HL-02", name="Trần Thị Lan")
    await grant(db, head, "chapter_head", "HM-HL-02")
    lan = person(3001)
    await lan.send("/broadcast")
    await lan.press("Tất cả hội viên")
    await lan.send(text)
    await lan.press("Gửi ngay")


async def test_a_chapter_notice_to_telegram_and_zalo_members_once_each(zalo, app, api, person):
    db = app.bot_data.db
    telegram_ids = [3101, 3102]
    for user_id in telegram_ids:
        api.add_chat(user_id)
        await register_member(db, user_id, "HM-HL-02")
    on_zalo = [await zalo_member(zalo, f"b0000000000{n}") for n in range(3)]
    await notice_from_telegram_head(
        app, api, person, "Tối thứ Sáu họp chi hội lúc 19:30 tại nhà văn hoá. Mang <sổ> & bút.")
    await app.bot_data.delivery.run_until_idle()
    for user_id in telegram_ids:
        notices = [c for c in api.sent(user_id) if "họp chi hội" in str(c.params.get("text"))]
        assert len(notices) == 1
    for her in on_zalo:
        [notice] = [t for t in zalo.api.texts(her.zalo_id) if "họp chi hội" in t]
        assert "Mang <sổ> & bút." in notice, "plain text on Zalo, entities unescaped"
    [report] = [c for c in api.sent(3001) if "✅" in str(c.params.get("text"))]
    assert "5/5" in str(report.params["text"]), "one final count for both channels"
    [row] = await db.fetchall("SELECT count(*), sum(status = 'sent') FROM deliveries")
    assert tuple(row) == (5, 5), "one delivery each, all sent"


async def test_a_zalo_admin_gets_statistics(zalo, app):
    for n in range(3):
        await zalo_member(zalo, f"5b00000000{n}")
    boss = ZaloPerson(zalo, zalo.api.user(ZALO_ADMIN))
    await boss.send("/stats")
    text = boss.reply()
    assert "2026" in text and "Hội viên trên trợ lý: 3" in text and "<b>" not in text


async def test_deleteme_on_zalo(zalo):
    thu = await zalo_member(zalo, "de1e7e000001")
    db = zalo.app.bot_data.db
    internal = await thu.internal_id()
    await thu.send("/deleteme")
    assert await members.by_user(db, internal) is not None
    await thu.choose("xóa")
    assert await members.by_user(db, internal) is None
    assert await channels.external_id(db, internal) is None, "her Zalo id is erased too"
    assert await channels.latest_prompt(db, internal) is None, "and the last list she saw"


async def test_a_redelivered_event_is_answered_once(zalo):
    thu = await zalo_member(zalo, "4ed000000001")
    await thu.send("menu", message_id="same-message")
    assert "Báo cáo hoạt động" in thu.reply()
    await thu.send("menu", message_id="same-message")
    assert thu.reply() == "", "Zalo delivered it twice; the bot answers once"


async def test_a_quota_storm_delays_but_loses_and_doubles_nothing(zalo, app, api, person, clock):
    on_zalo = [await zalo_member(zalo, f"9e0000000{n}") for n in range(3)]
    zalo.api.quota_storm(4)
    await notice_from_telegram_head(app, api, person, "Chủ nhật này dọn ngõ lúc 6 giờ.")
    for _ in range(20):
        await app.bot_data.delivery.run_until_idle()
        clock.advance(30)
    throttled = [c for c in zalo.api.calls if c.error_code == 429]
    assert len(throttled) == 4
    for her in on_zalo:
        assert len([t for t in zalo.api.texts(her.zalo_id) if "dọn ngõ" in t]) == 1
    [row] = await app.bot_data.db.fetchall("SELECT count(*), sum(status = 'sent') FROM deliveries")
    assert tuple(row) == (3, 3)


async def test_stickers_images_voice_and_unsupported_get_a_hint(zalo):
    thu = await zalo_member(zalo, "57c000000001")
    for kind in ("sticker", "image", "voice", "unsupported"):
        await thu.event(kind)
        assert "menu" in thu.reply(), kind


async def test_numbers_matching_no_option_and_old_menus(zalo):
    lan = ZaloPerson(zalo, "0b0000000001")
    await lan.send("start")
    await lan.send("9")  # the consent offers 1-4
    hint = lan.reply()
    assert "1. ✅ Tôi đồng ý" in hint and "họ và tên" not in hint.lower()
    await lan.choose("tôi đồng ý")
    await lan.send("3")  # option 3 of the consent, which is no longer the latest question
    assert "Đọc đầy đủ" not in lan.reply() and "📖" not in lan.reply()
    assert await members.by_user(zalo.app.bot_data.db, await lan.internal_id()) is None
    await lan.send("Trần Thị Lan " * 300)  # a very long text
    assert lan.reply(), "answered, not silence"


async def test_ids_that_look_like_telegrams_stay_apart(zalo, app, person):
    await register_member(app.bot_data.db, 1001, "HM-YS-03", name="Telegram Hoa")
    lookalike = ZaloPerson(zalo, zalo.api.user("1001"))
    internal = await lookalike.internal_id()
    assert internal >= channels.CHANNEL_ID_BASE and internal != 1001
    await lookalike.send("menu")
    assert "Telegram Hoa" not in lookalike.reply(), "the Telegram member's data is not hers"
    telegram = await members.by_user(app.bot_data.db, 1001)
    assert telegram is not None and telegram.full_name == "Telegram Hoa"


def test_long_texts_are_split_between_lines_and_lists_stay_whole():
    intro = "\n\n".join(f"Đoạn {n}: " + "chữ " * 120 for n in range(4))
    listed = "\n".join(f"{n}. Chi hội tổ dân phố số {n}" for n in range(1, 40))
    pieces = render.split(f"{intro}\n\n{listed}")
    assert all(1 <= len(p) <= render.MAX_TEXT for p in pieces) and len(pieces) > 1
    assert any(listed == p or p.endswith(listed) for p in pieces), "the list is not cut"
    words = " ".join(pieces).split()
    assert all(w in {"chữ", "Đoạn", "Chi", "hội", "tổ", "dân", "phố", "số"} or w[0].isdigit()
               for w in words), "no word is cut in half"
    assert render.plain("<b>Chào</b> chị &amp; <i>em</i> &lt;3") == "Chào chị & em <3"


async def test_the_client_backs_off_nothing_itself_and_reads_408_as_nothing_yet(zalo_api):
    client = ZaloClient(token=TOKEN, base_url=BASE_URL, transport=zalo_api)
    assert await client.get_update(wait_s=1) is None
    zalo_api.queue(zalo_api.event("abc", text="hi"))
    event = await client.get_update(wait_s=1)
    assert event is not None and event["message"]["text"] == "hi"
    assert await client.get_update(wait_s=1) is None, "each event is handed out once"
    with pytest.raises(ZaloError) as refused:
        await client.call("sendMessage", {"chat_id": "abc", "text": "x", "reply_markup": {}})
    assert refused.value.code == 400
    with pytest.raises(ZaloError) as unknown:
        await client.call("editMessageText", {"chat_id": "abc", "text": "x"})
    assert unknown.value.code == 404
    await client.close()


async def test_the_zalo_demo_shows_numbered_lists_and_no_markup(tmp_path, settings):
    typed = io.StringIO("start\n1\nTrần Thị Lan\n0912345678\n4\n1\n1\n:quit\n")
    out = io.StringIO()
    assert await run_zalo_demo(settings, database=tmp_path / "demo.sqlite3", stdin=typed,
                               out=out) == 0
    shown = out.getvalue()
    assert "1. ✅ Tôi đồng ý" in shown and "hoàn tất" in shown
    assert "<b>" not in shown and "[1]" not in shown, "no tags, no buttons"


async def test_the_zalo_demo_has_a_chapter_head_to_walk_her_screens(tmp_path, settings):
    """Some chapter heads use only Zalo: the demo seeds one (chị Hồng) in the Telegram demo's
    chapter, so her notices reach its members."""
    typed = io.StringIO(":head\nstart\n/broadcast\n1\nHọp chi hội tối thứ Sáu.\n1\n:quit\n")
    out = io.StringIO()
    assert await run_zalo_demo(settings, database=tmp_path / "demo.sqlite3", stdin=typed,
                               out=out) == 0
    shown = out.getvalue()
    assert "Chào chị Hồng — Chi hội trưởng Chi hội tổ dân phố số 2" in shown
    assert shown.count("(Telegram)") == 13  # the head on Telegram and the 12 members


async def test_the_zalo_demo_keeps_an_inbox_and_reaches_telegram_members(tmp_path, settings):
    typed = io.StringIO("start\n1\nTrần Thị Lan\n0912345678\n4\n1\n1\n:admin\n/broadcast\n"
                        "1\n1\nHọp toàn quận sáng thứ Hai.\n1\n:member\n:quit\n")
    out = io.StringIO()
    assert await run_zalo_demo(settings, database=tmp_path / "demo.sqlite3", stdin=typed,
                               out=out) == 0
    shown = out.getvalue()
    assert "delete this file to start afresh" in shown and "`" not in shown
    assert shown.count("(Telegram)") == 13  # the seeded chapter: head and 12 members
    assert "✉ a message for member" in shown
    inbox = shown.split("You are now: member.", 1)[1]
    assert "1 message(s) came while you were away" in inbox
    assert "Họp toàn quận sáng thứ Hai." in inbox


async def test_the_webhook_checks_the_secret_before_the_body_and_answers_at_once(zalo):
    secret = "zalo-webhook-secret-123"
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = ZaloWebhookServer(zalo.bridge, path="/zalo", secret=secret, listen="127.0.0.1",
                               port=port)
    server.start()
    event = zalo.api.event("3eb000000001", text="start")
    try:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as http:
            wrong = await http.post("/zalo", json={"ok": True, "result": event},
                                    headers={"X-Bot-Api-Secret-Token": "guess-guess"})
            assert wrong.status_code == 403
            await server.drain()
            assert zalo.api.texts("3eb000000001") == [], "nothing processed without the secret"
            bad = await http.post("/zalo", content=b"not json",
                                  headers={"X-Bot-Api-Secret-Token": secret})
            assert bad.status_code == 400
            ok = await http.post("/zalo", json={"ok": True, "result": event},
                                 headers={"X-Bot-Api-Secret-Token": secret})
            assert ok.status_code == 200
            await server.drain()
            assert any("đồng ý" in t for t in zalo.api.texts("3eb000000001"))
    finally:
        await server.stop()


async def test_long_polling_takes_each_event_and_treats_408_as_nothing_yet(zalo):
    first = zalo.api.event("9011000001", text="start", message_id="poll-1")
    zalo.api.queue(first)
    zalo.api.queue(first)  # Zalo redelivers it
    stop = asyncio.Event()
    task = asyncio.create_task(poll(zalo.bridge, zalo.bridge.client, stop))
    for _ in range(10_000):
        if sum(1 for c in zalo.api.calls if c.error_code == 408) >= 2:
            break
        await asyncio.sleep(0)
    stop.set()
    await task
    welcomes = [t for t in zalo.api.texts("9011000001") if "đồng ý" in t]
    assert len(welcomes) == 1


async def test_typed_words_cancel_and_call_the_menu(zalo):
    lan = ZaloPerson(zalo, "0c0000000001")
    await lan.send("start")
    await lan.choose("tôi đồng ý")
    await lan.send("Hủy")
    assert "họ và tên" not in lan.reply().lower() and lan.reply()
    await lan.send("Trần Thị Lan")  # no longer a name: registration was cancelled
    assert await members.by_user(zalo.app.bot_data.db, await lan.internal_id()) is None
    thu = await zalo_member(zalo, "0c0000000002")
    await thu.send("0")
    assert "1. 👤" in thu.reply() and "Báo cáo hoạt động" in thu.reply()


def test_zalo_settings_are_checked_with_one_clear_line():
    good = Settings.from_env({"ZALO_BOT_TOKEN": "12345:abcdefghijk", "ZALO_ADMIN_IDS":
                              "6ede9afa66b88fe6d6a9, 1001", "ZALO_SEND_RATE": "2"}, env_file=None)
    assert good.zalo_admin_ids == frozenset({"6ede9afa66b88fe6d6a9", "1001"})
    assert good.zalo_send_rate == 2 and good.zalo_api_base_url.endswith("zaloplatforms.com/bot")
    for variable, value in (("ZALO_WEBHOOK_SECRET", "short"), ("ZALO_ADMIN_IDS", "a b;c"),
                            ("ZALO_SEND_RATE", "fast"), ("ZALO_WEBHOOK_URL", "http://x.org/z"),
                            ("ZALO_BOT_TOKEN", "no-colon")):
        with pytest.raises(SettingsError) as refused:
            Settings.from_env({variable: value}, env_file=None)
        assert refused.value.variable == variable


async def test_help_on_zalo_lists_the_typed_words_not_buttons(zalo):
    thu = await zalo_member(zalo, "0c0000000003")
    await thu.send("help")
    text = thu.reply()
    assert "“menu”" in text and "“hủy”" in text and "nút" not in text


async def test_a_zalo_head_types_help_chapter_without_the_slash(zalo):
    """Found on the head's walk: "help" was understood without its slash, "help chapter" was
    not (nor "help admin")."""
    db = zalo.app.bot_data.db
    lan = await zalo_member(zalo, "4ead00000001", name="Trần Thị Lan")
    head = await members.by_user(db, await lan.internal_id())
    assert head is not None
    await grant(db, head.id, "chapter_head", "HM-HL-02")
    await lan.send("/help_chapter")
    section = lan.reply()
    assert "/broadcast" in section, section
    for typed in ("help chapter", "Help chapter", "help  chapter"):
        await lan.send(typed)
        assert lan.reply() == section, typed
    await lan.send("help admin")
    assert "/broadcast" not in lan.reply(), "her refusal or the admins' section, not hers"


# --- charts and exports, Telegram's words, the latest list across a restart -----------------


async def background_exports() -> None:
    """Wait for the exports running in the background."""
    await asyncio.gather(*[t for t in asyncio.all_tasks() if t.get_name() == EXPORT_TASK])


async def test_charts_and_exports_by_an_expiring_link_in_webhook_mode(zalo, clock, tmp_path):
    links = FileLinks(folder=tmp_path / "zalo-files", base_url="https://bot.example.org/zalo",
                      minutes=60, clock=clock)
    zalo.bridge.files = links  # what build_zalo_application sets in webhook mode
    for n in range(3):
        await zalo_member(zalo, f"f11e0000000{n}")
    boss = ZaloPerson(zalo, zalo.api.user(ZALO_ADMIN))
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = ZaloWebhookServer(zalo.bridge, path="/zalo", secret="zalo-webhook-secret-123",
                               listen="127.0.0.1", port=port)
    server.start()
    try:
        await boss.send("/chart HM-HL-02")
        photos = [c for c in zalo.api.calls[boss.mark:] if c.ok and c.method == "sendPhoto"]
        assert photos, boss.reply()
        url = photos[0].params["photo"]
        assert url.startswith("https://bot.example.org/zalo/files/")
        token = url.split("/files/", 1)[1].split("/", 1)[0]
        local = url.replace("https://bot.example.org", f"http://127.0.0.1:{port}")
        await boss.send("/export HM-HL-02")
        await background_exports()
        assert "https://bot.example.org/zalo/files/" in boss.reply()
        assert "Chị tải tệp tại đây" in boss.reply() and "Telegram" not in boss.reply()
        async with httpx.AsyncClient() as http:
            got = await http.get(local)
            assert got.status_code == 200 and got.content.startswith(b"\x89PNG")
            assert got.headers["content-type"] == "image/png"
            guessed = await http.get(local.replace(token, "0" * 32))
            assert guessed.status_code == 404
            clock.advance(61 * 60)
            expired = await http.get(local)
            assert expired.status_code == 404
    finally:
        await server.stop()
    assert list(links.folder.iterdir()) == [], "every file is deleted at its expiry"


async def test_without_a_public_address_charts_come_as_a_table_of_their_figures(zalo, clock):
    assert zalo.bridge.files is None  # long polling: no web address to serve a file from
    db = zalo.app.bot_data.db
    clock.advance((DECEMBER - clock.now()).total_seconds())
    ids = await stats_data.seed(db)
    await stats_data.set_targets(db, ids)
    boss = ZaloPerson(zalo, zalo.api.user(ZALO_ADMIN))
    await boss.send("/chart HM")
    said = boss.reply()
    assert not [c for c in zalo.api.calls[boss.mark:] if c.method == "sendPhoto"]
    lines = said.splitlines()
    # The rates chart's bars, lowest registration first: Hoàng Liệt 9/17 and 6/17 against
    # its targets, then Yên Sở 3/3 without targets (tests/stats_data.py).
    [hl] = [n for n, line in enumerate(lines) if "Hoàng Liệt" in line and "53%" in line]
    [ys] = [n for n, line in enumerate(lines) if "Yên Sở" in line and "100%" in line]
    assert hl < ys
    assert "(chỉ tiêu 50%)" in lines[hl] and "35% (chỉ tiêu 40%)" in lines[hl]
    assert "chỉ tiêu" not in lines[ys]
    # The Sunday chart's points: how many took part on 13/12 and on 20/12.
    assert [line for line in lines if line.startswith("• 13/12: 7 ")]
    assert [line for line in lines if line.startswith("• 20/12: 2 ")]
    assert "Telegram" in said and "cán bộ Hội phường" in said  # where the picture is
    assert "<" not in said
    await boss.send("/export HM-HL-02")
    await background_exports()
    assert "Telegram" in boss.reply()  # where the file is, instead of a dead end


async def test_a_long_chart_table_comes_in_parts_within_zalos_limit(zalo):
    db = zalo.app.bot_data.db
    await units.upsert_many(db, [units.UnitRow(
        f"HM-HL-{50 + n}", f"Chi hội tổ dân phố số {50 + n} khu đô thị mới Hoàng Liệt",
        "chapter", "HM-HL") for n in range(27)])  # 30 with its own 3: a full chart
    boss = ZaloPerson(zalo, zalo.api.user(ZALO_ADMIN))
    await boss.send("/chart HM-HL")
    parts = [str(c.params["text"]) for c in zalo.api.calls[boss.mark:]
             if c.ok and c.method == "sendMessage"]
    assert all(len(part) <= render.MAX_TEXT for part in parts)
    assert len(parts) > 2, "the rates table alone needs two parts"
    rows = [line for part in parts for line in part.splitlines() if ": đăng ký " in line]
    assert len(rows) == 30 and all(row.endswith(("—", "%")) for row in rows), "none cut"


async def test_a_photo_sent_on_telegram_is_told_in_words_to_a_zalo_officer(zalo, api, clock,
                                                                             tmp_path):
    db = zalo.app.bot_data.db
    lan = await zalo_member(zalo, "4ead00000001", name="Trần Thị Lan")
    head = await members.by_user(db, await lan.internal_id())
    assert head is not None
    await grant(db, head.id, "chapter_head", "HM-HL-02")
    sent = api.message_update(api.user(6003, first_name="Mai"), photo=True)
    photo = sent["message"]["photo"][-1]["file_id"]  # a photo Telegram knows
    mai = await register_member(db, 6003, "HM-HL-02", name="Lê Thị Mai")
    chapter = await units.by_code(db, "HM-HL-02")
    assert chapter is not None
    await activities.add(db, activities.NewReport(mai, chapter.id, "waste_to_money", "2026-03-26",
                                                  quantity=5.0, photo_file_id=photo),
                         at="2026-03-26T01:00:00Z")
    zalo.bridge.files = FileLinks(folder=tmp_path / "zalo-files",
                                  base_url="https://bot.example.org/zalo", minutes=60, clock=clock)
    await lan.send("/chapter")
    await lan.choose("Lê Thị Mai")
    await lan.choose("Xem ảnh")
    # Even with a public address: photos are never downloaded (only file ids are kept).
    assert not [c for c in zalo.api.calls[lan.mark:] if c.method == "sendPhoto"]
    assert [c for c in api.calls if c.method == "getFile"] == []
    said = lan.reply()
    assert "có ảnh gửi trên Telegram" in said and "Zalo chưa hiện được" in said
    await lan.send("menu")  # no dead end: the menu answers after it
    assert "1." in lan.reply()


async def test_a_picture_without_a_public_address_says_where_it_is_not_which_figures(zalo):
    thu = await zalo_member(zalo, "9c0de0000001")
    thu.mark = len(zalo.api.calls)
    qr = b"\x89PNG\r\n\x1a\n" + b"\0" * 64  # a QR code to show at a meeting, say
    await zalo.app.bot.send_photo(await thu.internal_id(), qr, caption="Quét để điểm danh")
    said = thu.reply()
    assert not [c for c in zalo.api.calls[thu.mark:] if c.method == "sendPhoto"]
    assert said.startswith("Quét để điểm danh") and "Telegram" in said
    assert "/stats" not in said and "số liệu" not in said, "a QR code has no figures"


def test_webhook_settings_give_the_bridge_file_links(settings, tmp_path):
    webhook = dataclasses.replace(settings, zalo_webhook_url="https://bot.example.org/zalo",
                                  zalo_webhook_secret="zalo-webhook-secret-123")
    client = ZaloClient(token=TOKEN, base_url=BASE_URL, transport=FakeZaloAPI())
    _app, bridge = build_zalo_application(webhook, client=client, background=False)
    assert bridge.files is not None and bridge.files.lifetime.total_seconds() == 60 * 60
    assert bridge.files.folder == settings.database.parent / "zalo-files"
    assert Settings.from_env({"ZALO_FILE_LINK_MINUTES": "15"},
                             env_file=None).zalo_file_link_minutes == 15
    with pytest.raises(SettingsError) as bad:
        Settings.from_env({"ZALO_FILE_LINK_MINUTES": "0"}, env_file=None)
    assert bad.value.variable == "ZALO_FILE_LINK_MINUTES"


async def test_consent_and_phone_prompt_speak_of_zalo_not_telegram(zalo):
    lan = ZaloPerson(zalo, "c4a000000001")
    await lan.send("start")
    consent = lan.reply()
    assert "tài khoản Zalo" in consent and "Telegram" not in consent
    await lan.choose("tôi đồng ý")
    await lan.send("Trần Thị Lan")
    phone = lan.reply().lower()
    assert "gõ số điện thoại" in phone and "bấm nút" not in phone
    assert "1. ✖ hủy" not in phone, "the reply keyboard's ✖ Hủy is said as a word, not listed"
    await lan.send("0912 345 678")
    assert "Bấm nút" not in lan.reply() and "gõ số thứ tự" in lan.reply().lower()


# Texts no Zalo member is shown: /help's Telegram branch and a shared contact (no contact
# sharing on Zalo; handlers/help.py and handlers/registration.py).
TELEGRAM_ONLY = {
    "Use the menu buttons at the bottom of the screen, or these commands:",
    "Every choice can be made with a button or by typing its number. /cancel (or typing "
    "“hủy”) stops what you are doing.",
    "That is someone else's contact. Please share your own number with the button, or type it.",
}
BUTTON_WORDS = {"vi": re.compile(r"(?i)\bbấm\b|\bnút\b|\bchạm\b"),
                "en": re.compile(r"(?i)\b(tap|press|button)")}


@pytest.mark.parametrize("locale", ["vi", "en"])
def test_no_text_a_zalo_member_meets_asks_her_to_tap_a_button(zalo, locale):
    """Every catalog entry as the bridge sends it: typed numbers, never buttons to tap."""
    path = Path(__file__).resolve().parent.parent / "locales" / locale / "LC_MESSAGES"
    with (path / "messages.po").open("rb") as handle:
        catalog = read_po(handle, locale=locale)
    wrong = []
    for message in catalog:
        ids = message.id if isinstance(message.id, tuple) else (message.id,)
        texts = message.string if isinstance(message.string, tuple) else (message.string,)
        if not ids[0] or ids[0] in TELEGRAM_ONLY:
            continue
        for text in texts:
            shown = zalo.bridge.zalo_words(text or ids[0])
            if BUTTON_WORDS[locale].search(shown):
                wrong.append(shown)
    assert wrong == []


def test_telegram_members_keep_the_consent_text_they_agreed_to():
    """The Zalo words are the bridge's: the Telegram text (and its version) are unchanged."""
    text = translator("vi")._(CONSENT_TEXT)
    assert "tài khoản Telegram" in text and CONSENT_VERSION == 1


async def test_the_latest_list_survives_a_restart(zalo, clock):
    lan = ZaloPerson(zalo, "4e5000000001")
    await lan.send("start")
    agree = lan.option("tôi đồng ý")
    # A restart: a new bridge (empty memory) on the same database.
    fresh = ZaloBridge(zalo.bridge.client, clock=clock)
    fresh.attach(zalo.app)
    zalo.bridge = fresh
    await lan.send(agree)
    assert "họ và tên" in lan.reply().lower(), "the typed number still presses “agree”"
    internal = await lan.internal_id()
    exported = await privacy_store.export(zalo.app.bot_data.db, internal)
    assert exported["channel_latest_list"] is not None  # shown in /mydata


# ---- a fresh-eyes walk as a Zalo member (what she would trip over) -------------------------

async def test_a_free_text_prompt_says_the_word_that_stops_it(zalo):
    lan = ZaloPerson(zalo, "7a1c00000001")
    await lan.send("start")
    await lan.choose("tôi đồng ý")
    assert "họ và tên" in lan.reply().lower()
    assert "gõ “hủy”" in lan.reply(), "the ✖ Hủy button is not listed: its word is said"
    await lan.send("hủy")
    assert "đã hủy" in lan.reply().lower()
    assert await members.by_user(zalo.app.bot_data.db, await lan.internal_id()) is None


def _lines_with(reply: str, words: str) -> list[str]:
    return [line for line in reply.splitlines() if words in line]


async def test_the_family_screens_number_each_thing_once(zalo):
    thu = await zalo_member(zalo, "7a1c00000002")
    await thu.send("/family")
    intro = thu.reply()
    assert "Không đói nghèo" in intro
    numbered = [line for line in intro.splitlines() if re.match(r"\d+\. ", line)]
    assert [line.split(".")[0] for line in numbered] == ["1", "2"], intro  # the options only
    await thu.choose("đăng ký hộ")
    await thu.choose("tôi đồng ý")
    checklist = thu.reply()
    assert len(_lines_with(checklist, "Không đói nghèo")) == 1, checklist
    assert "2. ⬜ Không vi phạm pháp luật và tệ nạn xã hội" in checklist  # the full words
    await thu.send("2")
    assert len(_lines_with(thu.reply(), "vi phạm pháp luật")) == 1, thu.reply()
    member = await members.by_user(zalo.app.bot_data.db, await thu.internal_id())
    assert member is not None
    reg = await campaigns.registration(zalo.app.bot_data.db, campaigns.FAMILY, member.id, 2026)
    assert reg is not None
    assert await campaigns.answers(zalo.app.bot_data.db, reg.id) == {"no_law_violation": True}


async def test_the_zalo_demo_run_again_on_its_database_hears_every_line(tmp_path, settings):
    database = tmp_path / "demo.sqlite3"
    first = io.StringIO("start\n1\nTrần Thị Lan\n0912345678\n4\n1\n1\n:quit\n")
    assert await run_zalo_demo(settings, database=database, stdin=first, out=io.StringIO()) == 0
    out = io.StringIO()
    again = io.StringIO("menu\n1\n:quit\n")
    assert await run_zalo_demo(settings, database=database, stdin=again, out=out) == 0
    shown = out.getvalue()
    assert "quay lại" in shown and "Trần Thị Lan" in shown, shown


async def test_a_recorded_reminder_says_it_once_and_offers_no_photo_zalo_cannot_send(
        zalo, app, clock):
    thu = await zalo_member(zalo, "5a00000000d9")
    clock.advance((SUNDAY_0630 - clock.now()).total_seconds())
    thu.mark = len(zalo.api.calls)
    await reminders.tick(app.bot_data)
    await app.bot_data.delivery.run_until_idle()
    await thu.choose("Tôi đã tham gia")
    recorded = thu.reply()
    assert recorded.count("Đã ghi nhận") == 1, recorded  # not the toast, then the same again
    assert "ảnh" not in recorded, "Zalo passes no photo to the bot: no “📷 Thêm ảnh”"
    await thu.event("image")
    assert "ảnh" in thu.reply() and "menu" in thu.reply()


async def test_the_report_photo_step_on_zalo_says_to_skip(zalo):
    thu = await zalo_member(zalo, "a0000000001p")
    await thu.send("/report")
    await thu.choose("Phân loại rác")
    await thu.choose("Hôm nay")
    await thu.choose("Bỏ qua")
    photo_step = thu.reply()
    assert "Zalo" in photo_step and "Bỏ qua" in photo_step, photo_step
    assert "gửi một ảnh" not in photo_step
    await thu.choose("Bỏ qua")
    assert "Lưu" in thu.reply()


async def test_my_reports_are_listed_once_in_full_words(zalo):
    thu = await zalo_member(zalo, "a0000000002r")
    db = zalo.app.bot_data.db
    member = await members.by_user(db, await thu.internal_id())
    assert member is not None and member.unit_id is not None
    for day, code, quantity in (("2026-03-26", "waste_to_money", 2.5),
                                ("2026-03-27", "help_poor_household", None)):
        await activities.add_once(db, activities.NewReport(
            member_id=member.id, unit_id=member.unit_id, activity_code=code, day=day,
            quantity=quantity), at="2026-03-28T10:00:00Z")
        await thu.send("/myreports")
        listed = thu.reply()
        assert "…" not in listed, listed  # one report as much as two
    assert len(_lines_with(listed, "Biến rác")) == 1, listed
    assert "1. 27/3/2026 · Giúp đỡ hộ nghèo" in listed and "…" not in listed, listed
    await thu.send("2")
    assert "Biến rác thành tiền" in thu.reply() and "2,5 kg" in thu.reply()


async def test_support_on_zalo_does_not_ask_for_a_photo_she_cannot_send(zalo):
    thu = await zalo_member(zalo, "5e0000000001")
    await thu.send("/support")
    await thu.choose("Tư vấn pháp luật")
    words = thu.reply()
    assert "ảnh" in words and "chưa gửi kèm ảnh" in words, words
    await thu.send(" ")
    assert "ảnh" not in thu.reply(), thu.reply()
    await thu.send("Em cần hỏi về thủ tục ly hôn.")
    assert "Bỏ qua" in thu.reply() and "chọn “Bỏ qua”" in thu.reply(), thu.reply()


async def test_my_data_on_zalo_shows_her_zalo_account_and_no_file_below(zalo):
    thu = await zalo_member(zalo, "6d0000000001")
    await thu.send("/mydata")
    shown = thu.reply()
    assert "Tài khoản Zalo: 6d0000000001" in shown, shown
    assert str(await thu.internal_id()) not in shown
    assert "ở bên dưới" not in shown and "toàn bộ thông tin trợ lý lưu về chị" in shown


async def test_a_list_turned_over_asks_its_question_again_and_a_wrong_answer_lists_it(zalo):
    lan = ZaloPerson(zalo, "7a1c00000003")
    await lan.send("start")
    await lan.choose("tôi đồng ý")
    await lan.send("Trần Thị Lan")
    await lan.send("0912 345 678")
    await lan.choose("trang sau")
    assert "phường/xã" in lan.reply(), "a bare list says not what it is for"
    assert int(lan.option("Trang trước")) > int(lan.option("Yên Sở")), "no “1.” above “9.”"
    await lan.send("😀")
    again = lan.reply()
    assert "Trang trước" in again, again  # the options she may type, under the hint
    await lan.choose("trang trước")
    await lan.choose("Hoàng Liệt")
    assert "số 2" in lan.reply()


async def test_the_zalo_demo_run_again_reaches_the_member_before_she_types(tmp_path, settings):
    database = tmp_path / "demo.sqlite3"
    first = io.StringIO("start\n1\nTrần Thị Lan\n0912345678\n4\n1\n1\n:quit\n")
    assert await run_zalo_demo(settings, database=database, stdin=first, out=io.StringIO()) == 0
    out = io.StringIO()
    again = io.StringIO(":admin\n/broadcast\n1\n1\nHọp toàn quận sáng thứ Hai.\n1\n:member\n"
                        ":quit\n")
    assert await run_zalo_demo(settings, database=database, stdin=again, out=out) == 0
    inbox = out.getvalue().split("You are now: member.", 1)[1]
    assert "Họp toàn quận sáng thứ Hai." in inbox, out.getvalue()[-3000:]


async def test_an_option_never_takes_a_number_the_text_lists_for_something_else(zalo):
    boss = ZaloPerson(zalo, zalo.api.user(ZALO_ADMIN))
    await boss.send("/poll")
    await boss.send("Chị muốn sinh hoạt chi hội vào buổi nào?")
    await boss.send("Buổi sáng\nBuổi tối")
    shown = boss.reply()
    assert "1. Buổi sáng" in shown and "2. Buổi tối" in shown, shown
    done = boss.option("Xong các lựa chọn")
    assert done not in {"1", "2"}, shown  # typing “1” must not finish the list
    await boss.send("Buổi chiều")
    assert "3. Buổi chiều" in boss.reply(), boss.reply()
    await boss.send(boss.option("Xong các lựa chọn"))
    assert "một hay nhiều" in boss.reply(), "the three options are kept, the next step asks"


async def test_a_wrong_answer_shows_the_options_once(zalo):
    lan = ZaloPerson(zalo, "7a1c00000004")
    await lan.send("start")
    await lan.choose("tôi đồng ý")
    await lan.send("Trần Thị Lan")
    await lan.send("0912 345 678")
    await lan.send("😀")  # the ward list asks again itself: its options are listed once
    assert lan.reply().count("Phường Đại Kim") == 1, lan.reply()
    assert "gõ số" in lan.reply().lower()


async def test_a_wrong_answer_alone_lists_the_options_under_the_hint(zalo):
    boss = ZaloPerson(zalo, zalo.api.user(ZALO_ADMIN))
    await boss.send("/meeting")
    await boss.send("Sinh hoạt chi hội tháng 12")
    await boss.send("xyz")  # the kind step says only “gõ số thứ tự”: the bridge lists them
    hint = boss.reply()
    assert "gõ số thứ tự" in hint and hint.count("Tập huấn") == 1, hint
    await boss.choose("Tập huấn")
    assert "lúc nào" in boss.reply(), boss.reply()


async def test_privacy_headings_on_zalo_do_not_look_like_options(zalo):
    """Found on the walk: "1. Những thông tin được lưu" read as an option she could type."""
    thu = await zalo_member(zalo, "a11ce0000042")
    await thu.send("/privacy")
    notice = thu.reply()
    assert "NHỮNG THÔNG TIN ĐƯỢC LƯU" in notice and "QUYỀN CỦA CHỊ" in notice, notice
    assert not re.search(r"^\d+\. ", notice, re.MULTILINE), "no line reads as an option"
    assert render.plain("<b>2. A &amp; B</b>\n<b>bold</b> 3. x") == "A & B\nbold 3. x"


async def test_menu_while_registering_on_zalo_says_where_she_is(zalo):
    lan = ZaloPerson(zalo, "6ede9afa66b88fe6d6a9")
    await lan.send("start")
    welcome = lan.reply()
    await lan.send("0")
    again = lan.reply()
    assert "đang đăng ký" in again and len(again) < len(welcome) / 2, again
    await lan.choose("tôi đồng ý")  # the consent's options are there to go on
    assert "họ và tên" in lan.reply().lower()
    await lan.send("menu")
    assert "đang đăng ký" in lan.reply() and "họ và tên" in lan.reply().lower()


async def test_a_zalo_head_is_asked_for_the_notice_text_not_a_photo(zalo):
    """Zalo passes no photo to the assistant: "hoặc một ảnh kèm chú thích" would send her
    looking for a way to attach one."""
    hong = ZaloPerson(zalo, zalo.api.user("4ead00000001"))
    db = zalo.app.bot_data.db
    await grant(db, await register_member(db, await hong.internal_id(), "HM-HL-02",
                                          name="Võ Thị Hồng"), "chapter_head", "HM-HL-02")
    await hong.send("/broadcast")
    await hong.choose("Tất cả hội viên")
    asked = hong.reply()
    assert "nội dung thông báo" in asked and "kèm chú thích" not in asked, asked
    assert "chưa gửi được ảnh" in asked and "/cancel" not in asked, asked
