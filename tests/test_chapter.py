"""/chapter end to end: a head's week and month, totals per type, doubt marks with a reason
that the member is told, and refusals for anyone outside the chapter."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from bot.clock import ManualClock
from handlers.chapter import MONTH, WEEK, period_bounds
from storage import activities, members, units
from storage.activities import NewReport
from tests.conftest import ADMIN_ID, grant, register_member

# Friday 27 March 2026, 10:00 in Hà Nội: this week is 23/3–29/3, this month March.
NOW = datetime(2026, 3, 27, 3, 0, tzinfo=UTC)
HEAD = 6001


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(NOW)


async def chapter_with_reports(db, api) -> dict[str, int]:
    """A head of HM-HL-02, three members there and their reports; name → report id."""
    api.add_chat(HEAD)
    head = await register_member(db, HEAD, "HM-HL-02", name="Trần Thị Lan")
    await grant(db, head, "chapter_head", "HM-HL-02")
    chapter = await units.by_code(db, "HM-HL-02")
    assert chapter is not None
    sent = api.message_update(api.user(6003, first_name="Mai"), photo=True)
    photo = sent["message"]["photo"][-1]["file_id"]  # a photo Telegram knows
    ids = {}
    for user_id, name, locale in ((6002, "Nguyễn Thị Hoa", "vi"), (6003, "Lê Thị Mai", "vi"),
                                  (6004, "Đỗ Thị Anh", "en"), (6005, "Vũ Thị Hằng", "vi")):
        api.add_chat(user_id)
        ids[name] = await register_member(db, user_id, "HM-HL-02", name=name, locale=locale)
    at = "2026-03-26T01:00:00Z"
    found = {}
    for key, new in (
        ("hoa_sunday", NewReport(ids["Nguyễn Thị Hoa"], chapter.id, "sunday_environment",
                                 "2026-03-22")),
        ("hoa_kg", NewReport(ids["Nguyễn Thị Hoa"], chapter.id, "waste_to_money", "2026-03-25",
                             quantity=2.5, note="Giấy & vỏ chai")),
        ("mai_kg", NewReport(ids["Lê Thị Mai"], chapter.id, "waste_to_money", "2026-03-26",
                             quantity=5.0, photo_file_id=photo)),
        ("anh_kg", NewReport(ids["Đỗ Thị Anh"], chapter.id, "waste_to_money", "2026-03-24",
                             quantity=100.0)),
        ("mai_flowers", NewReport(ids["Lê Thị Mai"], chapter.id, "flower_street",
                                  "2026-03-02")),
    ):
        found[key] = (await activities.add(db, new, at=at)).id
    return found


def test_weeks_run_monday_to_sunday_and_months_are_calendar_months():
    today = NOW.date()
    assert [d.isoformat() for d in period_bounds(WEEK, today)] == ["2026-03-23", "2026-03-29"]
    assert [d.isoformat() for d in period_bounds(MONTH, today)] == ["2026-03-01", "2026-03-31"]
    assert period_bounds(MONTH, today.replace(month=12, day=31))[1].isoformat() == "2026-12-31"


async def test_a_head_sees_the_week_and_the_month(person, db, api):
    await chapter_with_reports(db, api)
    lan = person(HEAD)
    await lan.send("/chapter")
    week = lan.reply_text()
    assert "Phường Hoàng Liệt › Chi hội tổ dân phố số 2" in week
    assert "📅 Tuần này: 23/3/2026 – 29/3/2026" in week
    assert "Hội viên: 5 · đã báo cáo: 3" in week
    assert "• Biến rác thành tiền: 3 hội viên, 3 lượt báo cáo, 107,5 kg" in week
    assert "Ngày môi trường" not in week, "22/3 was last week"
    assert "26/3/2026 · Lê Thị Mai · Biến rác thành tiền · 5 kg 📷" in week
    assert week.index("26/3/2026") < week.index("25/3/2026"), "newest first"
    await lan.press("Tháng này")
    month = lan.reply_text()
    assert "📅 Tháng này: 1/3/2026 – 31/3/2026" in month
    assert "• Ngày môi trường Chủ nhật: 1 hội viên, 1 lượt báo cáo" in month
    assert "Tuyến phố nở hoa" in month
    await lan.send("/chapter")
    await lan.send("4")  # the first action after the three reports: this month
    assert "📅 Tháng này" in lan.reply_text()
    assert lan.errors() == []


async def test_marking_a_report_doubtful_tells_the_member_in_her_language(app, person, db, api):
    reports = await chapter_with_reports(db, api)
    lan = person(HEAD)
    await lan.send("/chapter")
    await lan.press("Anh · ")
    card = lan.reply_text()
    assert "Số lượng: 100 kg" in card
    assert lan.buttons()[0][1] == "1. ⚠️ Cần xem lại"
    await lan.press("Cần xem lại")
    assert "Vì sao báo cáo này cần xem lại?" in lan.reply_text()
    await lan.send_photo()
    assert "Chị gõ lý do bằng chữ" in lan.reply_text()
    await lan.send("ừ")
    assert "từ 3 đến 200 ký tự" in lan.reply_text()
    await lan.send("100 kg trong một ngày <quá nhiều>, chị kiểm tra lại nhé")
    assert "Đã đánh dấu cần xem lại; em sẽ báo cho hội viên ngay" in lan.reply_text()
    await app.bot_data.delivery.run_until_idle()  # she is told through the outbox
    told = api.last_text(6004)
    assert told.startswith("⚠️ Your chapter head marked one of your reports as doubtful: "
                           "Recyclables for charity, Mar 24, 2026.")
    assert "<quá nhiều>" in told
    flagged = await activities.get(db, reports["anh_kg"])
    assert flagged is not None and flagged.flagged_by == HEAD
    assert flagged.flag_reason == "100 kg trong một ngày <quá nhiều>, chị kiểm tra lại nhé"
    # She sees it in /myreports; the head's list marks it; the mark can be taken off.
    anh = person(6004, language_code="en")
    await anh.send("/myreports")
    await anh.press("Recycling")
    assert "Your chapter head marked this report as doubtful" in anh.reply_text()
    await lan.send("/chapter")
    assert "Đỗ Thị Anh · Biến rác thành tiền · 100 kg ⚠️" in lan.reply_text()
    assert "⚠️ 1 báo cáo được đánh dấu cần xem lại" in lan.reply_text()
    await lan.press("Anh · ")
    await lan.press("Bỏ “cần xem lại”")
    assert "Đã bỏ đánh dấu cần xem lại" in lan.reply_text()
    unflagged = await activities.get(db, reports["anh_kg"])
    assert unflagged is not None and unflagged.flagged_at is None
    await lan.press("Về danh sách")
    await lan.press("Mai · ")
    await lan.press("Xem ảnh")
    assert [c.method for c in lan.replies()] == ["sendPhoto", "answerCallbackQuery"]
    assert lan.errors() == []


async def test_cancel_leaves_the_report_unmarked(person, db, api):
    reports = await chapter_with_reports(db, api)
    lan = person(HEAD)
    await lan.send("/chapter")
    await lan.press("Hoa · ")
    await lan.press("Cần xem lại")
    await lan.send("/cancel")
    assert "Đã hủy; không có gì thay đổi." in lan.reply_text()
    report = await activities.get(db, reports["hoa_kg"])
    assert report is not None and report.flagged_at is None


async def test_outsiders_cannot_see_or_mark_a_chapters_reports(person, db, api):
    reports = await chapter_with_reports(db, api)
    other = await register_member(db, 6100, "HM-HL-07", name="Phạm Thị Thu")
    await grant(db, other, "chapter_head", "HM-HL-07")
    thu = person(6100)
    await thu.send("/chapter")
    assert "Chi hội tổ dân phố số 7" in thu.reply_text()
    assert "Giấy" not in thu.reply_text()
    chapter = await units.by_code(db, "HM-HL-02")
    assert chapter is not None
    message_id = thu.buttons()[0][0]
    for forged in (f"ch:v:{chapter.id}:w:o:r{reports['hoa_kg']}",
                   f"ch:c:{reports['hoa_kg']}:o:flag", f"ch:c:{reports['hoa_kg']}:o:photo",
                   f"ch:v:{chapter.id}:m:p:0", f"ch:n:{chapter.id}:o:v{chapter.id}",
                   "ch:c:99999999999999999999:o:flag"):
        await thu.press_data(message_id, forged)
        text = thu.reply_text()
        assert "không có quyền" in text or "không còn hiệu lực" in text, forged
        assert "Giấy" not in text
    await thu.send("/chapter HM-HL-02")
    assert "không có quyền" in thu.reply_text()
    member = person(6002)
    await member.send("/chapter")
    assert "không có quyền" in member.reply_text()
    report = await activities.get(db, reports["hoa_kg"])
    assert report is not None and report.flagged_at is None


async def test_a_ward_admin_chooses_the_chapter_and_a_super_admin_can_see_a_ward(
    person, db, api
):
    await chapter_with_reports(db, api)
    admin = await register_member(db, 6200, "HM-HL-07", name="Lê Thị Lan")
    await grant(db, admin, "unit_admin", "HM-HL")
    lan = person(6200)
    await lan.send("/chapter")
    labels = [b[1] for b in lan.buttons()]
    assert labels[0] == "1. 📊 Cả P. Hoàng Liệt"
    assert not any("Yên Sở" in label for label in labels)
    await lan.press("số 2")
    assert "đã báo cáo: 3" in lan.reply_text()
    await lan.press("Đơn vị khác")
    boss = person(ADMIN_ID)
    await boss.send("/chapter")
    await boss.press("Hoàng Liệt")
    await boss.press("Cả P. Hoàng Liệt")
    assert "Hội viên: 6 · đã báo cáo: 3" in boss.reply_text()


async def test_two_reports_of_one_member_on_one_day_get_buttons_told_apart(person, db, api):
    """Two buttons "Hoa · 25/3" once looked the same; numbering runs 1., 2., … once."""
    await chapter_with_reports(db, api)
    hoa = await members.by_user(db, 6002)
    chapter = await units.by_code(db, "HM-HL-02")
    assert chapter is not None
    assert hoa is not None
    await activities.add(db, NewReport(hoa.id, chapter.id, "flower_street", "2026-03-25"),
                         at="2026-03-26T02:00:00Z")
    lan = person(HEAD)
    await lan.send("/chapter")
    labels = [b[1] for b in lan.buttons()]
    reports = [label for label in labels if "Hoa" in label]
    assert reports == ["2. Hoa · 25/3", "3. Hoa · 25/3 (2)"], reports
    numbered = [label.split(".")[0] for label in labels if label[:1].isdigit()]
    assert numbered == [str(n) for n in range(1, len(numbered) + 1)] and len(numbered) == 4
    assert lan.errors() == []
