"""The Sunday environment-day reminders: scheduling on a controlled clock, exactly once,
catch-up within the grace window, pauses, opt-outs, texts per unit, the one-tap button, the
heads' summaries and /reminders — end to end through the strict fake."""

from __future__ import annotations

import asyncio
import logging
import time
from collections import Counter
from datetime import UTC, date, datetime, timedelta

import pytest

from bot import reminders as scheduler
from bot.clock import ManualClock
from storage import activities, deliveries, members, reminders, units
from storage.activities import NewReport
from tests.conftest import ADMIN_ID, grant, register_member, start_application, stop_application

# Saturday 28 March 2026, 19:00 in Hà Nội (12:00 UTC). The next morning is a Sunday.
SATURDAY_EVENING = datetime(2026, 3, 28, 12, 0, tzinfo=UTC)
SUNDAY = date(2026, 3, 29)
SUNDAY_0630 = datetime(2026, 3, 28, 23, 30, tzinfo=UTC)  # 06:30 on Sunday in Hà Nội
GREETING = "Hôm nay, Chủ nhật ngày 29/3/2026, là Ngày môi trường!"


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(SATURDAY_EVENING)


@pytest.fixture
def machine_in_los_angeles(monkeypatch):
    """Run the test with the machine's local time zone far from Hà Nội."""
    monkeypatch.setenv("TZ", "America/Los_Angeles")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


async def seed(db, api, codes_and_ids, locale: str = "vi") -> dict[int, int]:
    """Registered members with chats the fake knows: user id → member id."""
    found = {}
    for code, user_id in codes_and_ids:
        api.add_chat(user_id)
        found[user_id] = await register_member(db, user_id, code, name=f"Nguyễn Thị {user_id}",
                                               locale=locale)
    return found


def reminders_to(api, text: str = "là Ngày môi trường!") -> Counter[int]:
    """How many reminder messages each chat got."""
    return Counter(int(c.params["chat_id"]) for c in api.calls
                   if c.ok and c.method == "sendMessage" and text in str(c.params.get("text")))


def move_to(clock: ManualClock, instant: datetime) -> None:
    clock.advance((instant - clock.now()).total_seconds())


async def tick_and_send(app) -> list[scheduler.Outcome]:
    outcomes = await scheduler.tick(app.bot_data)
    await app.bot_data.delivery.run_until_idle()
    return outcomes


def of(outcomes: list[scheduler.Outcome], code: str) -> scheduler.Outcome:
    """The one outcome of a schedule (a week-long jump also misses that day's summary)."""
    [found] = [o for o in outcomes if o.schedule_code == code]
    return found


async def test_the_reminder_fires_on_sunday_in_hanoi_whatever_the_machine_zone(
    app, db, api, clock, person, machine_in_los_angeles
):
    await seed(db, api, [("HM-HL-02", 5001), ("HM-YS-03", 5002)])
    move_to(clock, SUNDAY_0630 - timedelta(minutes=1))
    assert await tick_and_send(app) == [], "not yet: 06:29 in Hà Nội"
    move_to(clock, SUNDAY_0630)
    # The machine (Los Angeles) and UTC still say Saturday; Hà Nội says Sunday.
    assert time.localtime(clock.now().timestamp()).tm_wday == 5
    assert clock.now().weekday() == 5
    [outcome] = await tick_and_send(app)
    assert outcome.schedule_code == "sunday" and outcome.day == SUNDAY
    assert scheduler.WEEKDAYS[outcome.day.weekday()] == "Sunday"
    assert (outcome.status, outcome.recipients) == ("sent", 2)
    assert reminders_to(api, GREETING) == Counter({5001: 1, 5002: 1})
    message = api.messages(5001)[-1]
    [[button]] = message["reply_markup"]["inline_keyboard"]
    assert (button["text"], button["callback_data"]) == ("✅ Tôi đã tham gia", "env:20260329")

    # One tap records the environment day for that Sunday; a second tap keeps one report.
    hoa = person(5001)
    await hoa.press("Tôi đã tham gia")
    assert "Đã ghi nhận" in hoa.reply_text()
    edited = api.message(5001, message["message_id"])
    assert "chị đã tham gia Ngày môi trường Chủ nhật ngày 29/3/2026" in edited["text"]
    assert edited["reply_markup"]["inline_keyboard"][0][0]["text"] == "📷 Thêm ảnh"
    await hoa.press_data(message["message_id"], "env:20260329")
    assert "Em đã ghi nhận từ trước rồi" in hoa.reply_text()
    member = await members.by_user(db, 5001)
    assert member is not None
    [report] = await activities.of_member(db, member.id, limit=10)
    assert (report.activity_code, report.day, report.source) == (
        "sunday_environment", "2026-03-29", "button")
    # … and offers to add a photo, which only its file_id keeps.
    await hoa.press("Thêm ảnh")
    assert "Chị gửi ảnh ngay bây giờ" in hoa.reply_text()
    await hoa.send("đây ạ")
    assert "không phải chữ" in hoa.reply_text()
    await hoa.send_photo()
    assert "Em đã thêm ảnh vào báo cáo ngày 29/3/2026" in hoa.reply_text()
    with_photo = await activities.get(db, report.id)
    assert with_photo is not None and with_photo.photo_file_id is not None
    assert hoa.errors() == []


async def test_a_press_a_week_later_counts_for_its_sunday_then_the_window_closes(
    app, db, api, clock, person
):
    await seed(db, api, [("HM-HL-02", 5011), ("HM-HL-02", 5012)])
    move_to(clock, SUNDAY_0630)
    await tick_and_send(app)
    move_to(clock, SUNDAY_0630 + timedelta(days=7, hours=1))  # the next Sunday, 07:30
    late = person(5011)
    await late.press("Tôi đã tham gia")
    assert "Đã ghi nhận" in late.reply_text()
    member = await members.by_user(db, 5011)
    assert member is not None
    [report] = await activities.of_member(db, member.id, limit=10)
    assert report.day == "2026-03-29", "recorded for the Sunday the reminder belongs to"
    clock.advance(86400)  # Monday 6/4: that week's window has closed
    too_late = person(5012)
    await too_late.press("Tôi đã tham gia")
    assert "đã quá một tuần nên nút không ghi nhận nữa" in too_late.reply_text()
    other = await members.by_user(db, 5012)
    assert other is not None and await activities.of_member(db, other.id, limit=10) == []
    await too_late.press_data(1, "env:20260401")  # forged: a future date
    await too_late.press_data(1, "env:20261399")  # forged: not a date
    assert "không còn hiệu lực" in too_late.reply_text()


async def test_exactly_once_across_a_restart_and_concurrent_ticks(settings, api, clock):
    first = await start_application(settings, api, clock)
    db = first.bot_data.db
    from importlib import resources

    from bot.unit_import import parse_csv

    rows, _ = parse_csv((resources.files("bot") / "data" / "hoang_mai_units.csv")
                        .read_text("utf-8"))
    await units.upsert_many(db, rows)
    ids = await seed(db, api, [("HM-HL-02", 5100 + i) for i in range(30)])
    move_to(clock, SUNDAY_0630 + timedelta(minutes=5))
    outcomes = await asyncio.gather(scheduler.tick(first.bot_data),
                                    scheduler.tick(first.bot_data))
    made = [o for both in outcomes for o in both if o.broadcast_id]
    assert len(made) == 1 and made[0].recipients == 30
    await stop_application(first)  # stopped before sending anything

    again = await start_application(settings, api, clock)
    try:
        clock.advance(60)
        assert [o.broadcast_id for o in await scheduler.tick(again.bot_data)] == []
        await again.bot_data.delivery.run_until_idle()
        assert reminders_to(api, GREETING) == Counter({user_id: 1 for user_id in ids})
        clock.advance(3600)
        assert await tick_and_send(again) == []
        assert sum(reminders_to(api, GREETING).values()) == 30
    finally:
        await stop_application(again)


async def test_grace_window_catches_up_and_skips_after_it(app, db, api, clock, caplog):
    await seed(db, api, [("HM-HL-02", 5201)])
    move_to(clock, SUNDAY_0630 + timedelta(hours=2, minutes=59))  # back at 09:29
    [outcome] = await tick_and_send(app)
    assert outcome.status == "sent" and reminders_to(api, GREETING) == Counter({5201: 1})

    move_to(clock, SUNDAY_0630 + timedelta(days=7, hours=3, minutes=5))  # 09:35 a week later
    with caplog.at_level(logging.WARNING, logger="bot.reminders"):
        outcomes = await tick_and_send(app)
    # Down all week: that Sunday's summary and this Sunday's reminder were missed.
    assert {(o.schedule_code, o.day, o.status) for o in outcomes} == {
        ("sunday_summary", SUNDAY, "skipped"), ("sunday", date(2026, 4, 5), "skipped")}
    assert "reminder sunday of 2026-04-05 skipped" in caplog.text
    assert reminders_to(api, "Ngày môi trường Chủ nhật (5/4/2026)") == Counter()
    caplog.clear()
    clock.advance(600)
    assert await tick_and_send(app) == [], "recorded once, logged once"
    runs = await reminders.runs_since(db, "2026-04-05")
    assert [(r.day, r.status, r.broadcast_id) for r in runs.values()] == [
        ("2026-04-05", "skipped", None)]


async def test_pause_dates_are_honoured(app, db, api, clock):
    await seed(db, api, [("HM-HL-02", 5301)])
    [sunday] = [s for s in await reminders.schedules(db) if s.code == "sunday"]
    await reminders.add_pause(db, sunday.id, "2026-03-29", "2026-03-29", by=ADMIN_ID,
                              at="2026-03-01T00:00:00Z")
    move_to(clock, SUNDAY_0630)
    [outcome] = await tick_and_send(app)
    assert outcome.status == "paused" and reminders_to(api) == Counter()
    move_to(clock, SUNDAY_0630 + timedelta(days=7))
    outcome = of(await tick_and_send(app), "sunday")
    assert outcome.status == "sent" and reminders_to(api) == Counter({5301: 1})


async def test_opted_out_stopped_and_chapterless_members_get_nothing(app, db, api, clock,
                                                                     person):
    ids = await seed(db, api, [("HM-HL-02", 5401), ("HM-HL-02", 5402), ("HM-HL-02", 5403),
                               ("HM-HL-02", 5404)])
    await seed(db, api, [("HM-YS-03", 5405)], locale="en")
    out = person(5402)
    await out.send("/settings")
    labels = [b[1] for b in out.buttons()]
    assert labels[:2] == ["🇻🇳 Tiếng Việt · Ngôn ngữ", "🔔 Bật · Nhắc môi trường"]
    await out.press("Nhắc môi trường")
    assert "Chị sẽ không nhận lời nhắc Ngày môi trường nữa" in out.reply_text()
    assert "Tắt ·" in out.buttons()[1][1]
    await person(5403).send("/stop")
    await db.execute("UPDATE members SET unit_id = NULL WHERE id = ?", (ids[5404],))
    move_to(clock, SUNDAY_0630)
    await tick_and_send(app)
    assert reminders_to(api) == Counter({5401: 1})
    english = api.messages(5405)[-1]
    assert "Today, Sunday Mar 29, 2026, is environment day!" in english["text"]
    assert english["reply_markup"]["inline_keyboard"][0][0]["text"] == "✅ I took part"

    await out.send("/settings")
    await out.send("2")  # the reminders, by number: back on
    assert "đã được bật lại" in out.reply_text()
    move_to(clock, SUNDAY_0630 + timedelta(days=7))
    await tick_and_send(app)
    assert reminders_to(api) == Counter({5401: 2, 5402: 1})


async def test_a_ward_text_overrides_the_text_for_everyone(app, db, api, clock):
    await seed(db, api, [("HM-HL-02", 5501), ("HM-HL-07", 5502), ("HM-YS-03", 5503)])
    [sunday] = [s for s in await reminders.schedules(db) if s.code == "sunday"]
    ward = await units.by_code(db, "HM-HL")
    assert ward is not None
    await reminders.set_text(db, sunday.id, None, "🌿 Cả quận ra quân dọn vệ sinh!",
                             by=ADMIN_ID, at="2026-03-01T00:00:00Z")
    await reminders.set_text(db, sunday.id, ward.id, "🌿 Hoàng Liệt tập trung ở nhà văn hoá",
                             by=ADMIN_ID, at="2026-03-01T00:00:00Z")
    move_to(clock, SUNDAY_0630)
    await tick_and_send(app)
    assert reminders_to(api, "Hoàng Liệt tập trung") == Counter({5501: 1, 5502: 1})
    assert reminders_to(api, "Cả quận ra quân") == Counter({5503: 1})
    assert api.messages(5503)[-1]["reply_markup"]["inline_keyboard"][0][0]["callback_data"] \
        == "env:20260329"


async def test_heads_get_a_summary_with_names_pages_and_the_change_from_last_week(
    app, db, api, clock, person
):
    api.add_chat(5600)
    head = await register_member(db, 5600, "HM-HL-02", name="Trần Thị Lan")
    await grant(db, head, "chapter_head", "HM-HL-02")
    ids = await seed(db, api, [("HM-HL-02", 5601 + i) for i in range(5)])
    api.add_chat(5700)
    big_head = await register_member(db, 5700, "HM-HL-07", name="Phạm Thị Thu")
    await grant(db, big_head, "chapter_head", "HM-HL-07")
    crowd = await seed(db, api, [("HM-HL-07", 5701 + i) for i in range(45)])
    small = await units.by_code(db, "HM-HL-02")
    big = await units.by_code(db, "HM-HL-07")
    assert small is not None and big is not None
    await activities.add(db, NewReport(ids[5601], small.id, "sunday_environment",
                                       "2026-03-22"), at="2026-03-22T01:00:00Z")
    for member_id in crowd.values():
        await activities.add(db, NewReport(member_id, big.id, "sunday_environment",
                                           "2026-03-29"), at="2026-03-29T01:00:00Z")
    move_to(clock, SUNDAY_0630)
    await tick_and_send(app)
    for user_id in (5601, 5602, 5603):
        await person(user_id).press("Tôi đã tham gia")
    move_to(clock, datetime(2026, 3, 29, 13, 0, tzinfo=UTC))  # 20:00 in Hà Nội
    [outcome] = await tick_and_send(app)
    assert outcome.schedule_code == "sunday_summary" and outcome.recipients == 2
    summary = api.last_text(5600)
    assert "Ngày môi trường Chủ nhật, ngày 29/3/2026" in summary
    assert "Chi hội tổ dân phố số 2: 3/6 hội viên đã tham gia." in summary
    assert "Nhiều hơn tuần trước 2 người (ngày 22/3/2026: 1)" in summary
    assert all(f"Nguyễn Thị {user_id}" in summary for user_id in (5601, 5602, 5603))
    assert "Nguyễn Thị 5604" not in summary
    crowded = api.messages(5700)[-1]
    assert "45/46 hội viên" in crowded["text"] and "Trang 1/2" in crowded["text"]
    assert "30. " in crowded["text"] and "31. " not in crowded["text"]
    thu = person(5700)
    await thu.press("▶")
    page_two = api.message(5700, crowded["message_id"])["text"]
    assert "Trang 2/2" in page_two and "45. " in page_two and "\n1. " not in page_two
    lan = person(5600)
    await lan.press_data(1, f"ens:{big.id}:20260329:1")  # another chapter's summary: refused
    assert "không có quyền" in lan.reply_text()
    member = person(5601)
    await member.press_data(1, f"ens:{small.id}:20260329:0")  # a member: refused
    assert "không có quyền" in member.reply_text()


async def test_the_saturday_heads_up_is_off_by_default_and_has_no_button(app, db, api, clock):
    await seed(db, api, [("HM-HL-02", 5801)])
    saturday_1930 = datetime(2026, 3, 28, 12, 30, tzinfo=UTC)
    move_to(clock, saturday_1930)
    assert await tick_and_send(app) == []
    [heads_up] = [s for s in await reminders.schedules(db) if s.code == "saturday_heads_up"]
    await reminders.set_enabled(db, heads_up.id, True, by=ADMIN_ID, at="2026-03-28T12:31:00Z")
    clock.advance(120)
    assert await tick_and_send(app) == [], "switching on takes effect from the next time"
    move_to(clock, saturday_1930 + timedelta(days=7))
    outcome = of(await tick_and_send(app), "saturday_heads_up")
    assert outcome.schedule_code == "saturday_heads_up" and outcome.day == date(2026, 4, 4)
    message = api.messages(5801)[-1]
    assert "Ngày mai, Chủ nhật ngày 5/4/2026, là Ngày môi trường" in message["text"]
    assert "reply_markup" not in message
    broadcast = await deliveries.get(db, outcome.broadcast_id or 0)
    assert broadcast is not None and broadcast.kind == "reminder"
    assert await deliveries.recent_in_units(db, None) == [], "not listed with the notices"


async def test_a_super_admin_edits_the_schedule_in_chat(app, db, api, clock, person):
    await seed(db, api, [("HM-YS-03", 5901)])
    boss = person(ADMIN_ID)
    await boss.send("/reminders")
    listing = boss.reply_text()
    assert "1. <b>Nhắc Ngày môi trường</b> — Chủ nhật hằng tuần lúc 06:30 — ✅ đang bật" in listing
    assert "<b>Nhắc trước một ngày</b> — Thứ Bảy hằng tuần lúc 19:30 — ⏸ đang tắt" in listing
    await boss.press("1.")
    assert "Lần tới: lúc 06:30 ngày 29/3/2026" in boss.reply_text()
    await boss.press("Đổi giờ")
    await boss.send("25:00")
    assert "Chị gõ giờ theo dạng 06:30" in boss.reply_text()
    await boss.send("7h")
    assert "Đã lưu: Chủ nhật hằng tuần lúc 07:00" in boss.reply_text()
    await boss.press("Đổi ngày")
    await boss.press("Thứ Bảy")
    assert "Đã lưu: Thứ Bảy hằng tuần lúc 07:00" in boss.reply_text()
    await boss.press("Đổi ngày")
    await boss.send("7")  # Sunday, by number
    assert "Đã lưu: Chủ nhật hằng tuần lúc 07:00" in boss.reply_text()
    [sunday] = [s for s in await reminders.schedules(db) if s.code == "sunday"]
    assert (sunday.weekday, sunday.local_time, sunday.updated_by) == (6, "07:00", ADMIN_ID)

    await boss.press("Ngày tạm dừng")
    await boss.press("Thêm ngày tạm dừng")
    await boss.send("30/2/2027")
    assert "không phải là một ngày có thật" in boss.reply_text()
    await boss.send("1/1/2020")
    assert "từ hôm nay trở đi" in boss.reply_text()
    await boss.send("14/2/2027 – 22/2/2027")
    assert "Đã tạm dừng: 14/2/2027–22/2/2027" in boss.reply_text()
    [pause] = await reminders.pauses(db, from_day="2026-01-01", schedule_id=sunday.id)
    assert (pause.first_day, pause.last_day) == ("2027-02-14", "2027-02-22")
    await boss.press("Xóa 14/2/2027")
    assert "Đã xóa ngày tạm dừng" in boss.reply_text()
    assert await reminders.pauses(db, from_day="2026-01-01") == []

    await boss.press("Quay lại")
    await boss.press("Nội dung")
    assert "Nội dung mặc định" in boss.reply_text()
    await boss.press("Nội dung cho tất cả")
    await boss.send_photo()
    assert "Chị trả lời bằng chữ" in boss.reply_text()
    await boss.send("Mời chị em ra quân lúc 7 giờ & mang chổi <tre>")
    assert "Đã lưu nội dung cho tất cả hội viên" in boss.reply_text()
    move_to(clock, SUNDAY_0630 + timedelta(minutes=30))
    await tick_and_send(app)
    received = api.messages(5901)[-1]
    assert received["text"].startswith("Mời chị em ra quân lúc 7 giờ & mang chổi <tre>\n\n")
    assert "Ngày môi trường là gì?" in received["text"], "her first: introduced"
    assert received["reply_markup"]["inline_keyboard"][0][0]["text"] == "✅ Tôi đã tham gia"
    await boss.send("/audit")
    audit_text = boss.reply_text()
    assert "đổi lời nhắc “Nhắc Ngày môi trường” sang Chủ nhật lúc 07:00" in audit_text
    assert "tạm dừng lời nhắc “Nhắc Ngày môi trường” từ 14/2/2027 đến 22/2/2027" in audit_text
    assert "bỏ một lần tạm dừng lời nhắc" in audit_text
    assert "sửa nội dung lời nhắc “Nhắc Ngày môi trường” cho —" in audit_text
    assert "mang chổi" not in audit_text, "no reminder texts in the audit log"

    await boss.send("/reminders")
    await boss.send("1")
    assert "29/3/2026: đã gửi 1/1" in boss.reply_text()
    await boss.press("Tắt")
    assert "Đã tắt." in boss.reply_text()
    assert not (await reminders.get(db, sunday.id)).enabled  # type: ignore[union-attr]
    assert boss.errors() == []


async def test_a_ward_admin_may_only_set_texts_for_her_ward(app, db, api, clock, person):
    admin = await register_member(db, 5951, "HM-HL-02", name="Lê Thị Lan")
    await grant(db, admin, "unit_admin", "HM-HL")
    [sunday] = [s for s in await reminders.schedules(db) if s.code == "sunday"]
    other_ward = await units.by_code(db, "HM-YS")
    ward = await units.by_code(db, "HM-HL")
    assert other_ward is not None and ward is not None
    lan = person(5951)
    await lan.send("/reminders")
    await lan.press("1.")
    labels = [b[1] for b in lan.buttons()]
    assert labels == ["1. ✏️ Nội dung", "2. ⬅ Tất cả lịch nhắc"]
    message_id = lan.buttons()[0][0]
    for forged in (f"rem:c:{sunday.id}:0:o:toggle", f"rem:d:{sunday.id}:0:o:5",
                   f"rem:p:{sunday.id}:0:o:add", f"rem:u:{sunday.id}:0:o:s{other_ward.id}",
                   f"rem:t:{sunday.id}:0:o:all"):
        await lan.press_data(message_id, forged)
        assert "không còn hiệu lực" in lan.reply_text() or "không có quyền" in lan.reply_text()
    fresh = await reminders.get(db, sunday.id)
    assert fresh is not None and fresh.enabled and fresh.weekday == 6
    await lan.press("Nội dung")
    await lan.press("Riêng một đơn vị")
    await lan.press("Phường Hoàng Liệt")
    await lan.press("✏️ Phường Hoàng Liệt")
    await lan.send("Hoàng Liệt tập trung ở nhà văn hoá lúc 6 giờ 45")
    assert "Đã lưu nội dung cho Phường Hoàng Liệt" in lan.reply_text()
    [text] = await reminders.texts(db, sunday.id)
    assert (text.unit_id, text.updated_by) == (ward.id, 5951)
    member = person(5952)
    await register_member(db, 5952, "HM-HL-02")
    await member.send("/reminders")
    assert "không có quyền" in member.reply_text()


async def test_the_tick_is_scheduled_every_minute_when_running_in_the_background(settings, api,
                                                                               clock):
    from bot.app import build_application

    application = build_application(settings, request=api, clock=clock, background=True)
    await application.initialize()
    await application.post_init(application)  # type: ignore[misc]
    try:
        [job] = application.job_queue.get_jobs_by_name("reminders")  # type: ignore[union-attr]
        assert job.job.trigger.interval == timedelta(minutes=1)
    finally:
        await application.bot_data.delivery.stop()
        await application.shutdown()
        await application.post_shutdown(application)  # type: ignore[misc]


def test_names_sort_the_vietnamese_way_quickly():
    from bot.i18n import sort_key

    names = ["Nguyễn Thị Hoa", "Đỗ Thị Ánh", "Lê Thị Mai", "Vũ Thị Hằng", "Trần Thị Ân",
             "Tổ 12 Hoa", "Straße 2"]
    assert [scheduler.name_key(n) for n in names] == [sort_key(n) for n in names]
    ordered = sorted(names[:5], key=scheduler._given_name_key)
    assert ordered == ["Đỗ Thị Ánh", "Trần Thị Ân", "Vũ Thị Hằng", "Nguyễn Thị Hoa",
                       "Lê Thị Mai"]


async def test_the_standard_text_names_the_day_the_schedule_is_on(db, api, person):
    await seed(db, api, [("HM-YS-03", 5951)])
    boss = person(ADMIN_ID)
    await boss.send("/reminders")
    await boss.press("1.")
    await boss.press("Đổi ngày")
    await boss.press("Thứ Tư")
    await boss.press("Nội dung")
    text = boss.reply_text()
    assert "Hôm nay, Thứ Tư ngày 1/4/2026, là Ngày môi trường!" in text
    assert "Chủ nhật" not in text.split("Nội dung mặc định", 1)[-1], "moved: never “Sunday”"


async def test_a_member_s_first_environment_reminder_says_what_the_day_is(app, db, api, clock,
                                                                           person):
    await seed(db, api, [("HM-HL-02", 6101)])
    about = "Ngày môi trường là gì?"
    what = "làm sạch đường phố, ngõ xóm"  # the catalog's description, not a fixed text
    move_to(clock, SUNDAY_0630)
    await tick_and_send(app)
    first = api.messages(6101)[-1]["text"]
    assert GREETING in first and about in first and what in first
    await seed(db, api, [("HM-HL-02", 6102)])  # registers during the week
    move_to(clock, SUNDAY_0630 + timedelta(days=7))
    await tick_and_send(app)
    second = api.messages(6101)[-1]["text"]
    assert "là Ngày môi trường!" in second and about not in second, "said once, not weekly"
    assert about in api.messages(6102)[-1]["text"], "the newcomer's first one explains it"
    boss = person(ADMIN_ID)
    await boss.send("/reminders")
    await boss.press("1.")
    await boss.press("Nội dung")
    texts = boss.reply_text()
    assert "lời nhắc đầu tiên" in texts and what in texts, "officers see what members are told"
