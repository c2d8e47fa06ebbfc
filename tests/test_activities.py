"""/report and /myreports end to end through the strict fake, and what members type wrong."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from bot.catalog import CatalogError, check_stored_codes, default_path, parse
from bot.clock import ManualClock
from handlers.activities import parse_date, parse_quantity
from storage import activities, members, reminders, units
from storage.activities import NewReport
from tests.conftest import grant, register_member, start_application, stop_application

# Wednesday 1 April 2026, 10:00 in Hà Nội.
NOW = datetime(2026, 4, 1, 3, 0, tzinfo=UTC)
TODAY = date(2026, 4, 1)


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(NOW)


async def her_reports(db, user_id: int) -> list[activities.Report]:
    member = await members.by_user(db, user_id)
    assert member is not None
    return await activities.of_member(db, member.id, limit=100)


async def send_photo(person, caption: str | None = None) -> None:
    """A photo (with an optional caption) from `person`."""
    await person._feed(person.api.message_update(person.user, photo=True, caption=caption))


def test_dates_and_quantities_are_read_the_vietnamese_way():
    assert parse_date("hôm qua", TODAY) == date(2026, 3, 31)
    assert parse_date("Hôm nay", TODAY) == TODAY
    assert parse_date("29/3", TODAY) == date(2026, 3, 29)
    assert parse_date("28/12", TODAY) == date(2025, 12, 28), "December typed in spring"
    assert parse_date("5-1-2026", TODAY) == date(2026, 1, 5)
    assert parse_date("5/1/25", TODAY) == date(2025, 1, 5)
    for bad in ("31/02", "1/13", "00/3", "ngày mai", "2026-03-01"):
        with pytest.raises(ValueError):
            parse_date(bad, TODAY)
    assert parse_quantity("2,5") == parse_quantity("2.5") == parse_quantity("2,5 kg", "kg") == 2.5
    assert parse_quantity("1000") == 1000
    for bad in ("abc", "-3", "0", "1e9", "1001", "1.000", "2,555", ""):
        with pytest.raises(ValueError):
            parse_quantity(bad, "kg")


async def test_a_full_report_with_quantity_note_and_photo(person, db):
    await register_member(db, 4101, "HM-HL-02")
    hoa = person(4101)
    await hoa.send("📋 Báo cáo hoạt động")  # the main-menu button
    assert "Chị muốn báo cáo hoạt động nào?" in hoa.reply_text()
    labels = [b[1] for b in hoa.buttons()]
    assert labels[0] == "1. Môi trường Chủ nhật" and any("Biến rác" in x for x in labels)
    await hoa.press("Biến rác thành tiền")
    assert "Hoạt động diễn ra ngày nào?" in hoa.reply_text()
    await send_photo(hoa)  # a photo where a date is expected
    assert "ảnh có thể thêm ở bước cuối" in hoa.reply_text()
    for typed, answer in (("31/02", "không phải là một ngày có thật"),
                          ("1/13", "không phải là một ngày có thật"),
                          ("2/4/2026", "chưa tới"),
                          ("31/12/2024", "từ ngày 1/1/2025"),
                          ("ngày kia", "ngày/tháng")):
        await hoa.send(typed)
        assert answer in hoa.reply_text(), typed
    await hoa.send("hôm qua")
    assert "Được bao nhiêu kg?" in hoa.reply_text()
    for typed, answer in (("abc", "chỉ gõ một con số"), ("-3", "lớn hơn 0"),
                          ("1e9", "chỉ gõ một con số"), ("5000", "lớn hơn 1.000")):
        await hoa.send(typed)
        assert answer in hoa.reply_text(), typed
    await hoa.send("2,5")
    assert "thêm ghi chú" in hoa.reply_text()
    await hoa.send("x" * 501)
    assert "tối đa 500 ký tự" in hoa.reply_text()
    await hoa.send("Thu gom giấy, vỏ chai <tổ 5> & tổ 6")
    assert "gửi một ảnh" in hoa.reply_text()
    await hoa.send("chưa có ảnh")  # text where a photo is expected
    assert "Chị gửi một ảnh (không phải chữ)" in hoa.reply_text()
    await send_photo(hoa)
    summary = hoa.reply_text()
    assert "Chị kiểm tra lại báo cáo" in summary and "Số lượng: 2,5 kg" in summary
    assert "Ngày: 31/3/2026" in summary and "&lt;tổ 5&gt; &amp; tổ 6" in summary
    assert "Ảnh: 📷 có ảnh" in summary
    await hoa.press("Lưu")
    assert "Em đã lưu báo cáo: Biến rác thành tiền, ngày 31/3/2026" in hoa.reply_text()
    [report] = await her_reports(db, 4101)
    chapter = await units.by_code(db, "HM-HL-02")
    assert chapter is not None
    assert (report.activity_code, report.day, report.quantity, report.unit_id) == (
        "waste_to_money", "2026-03-31", 2.5, chapter.id)
    assert report.note == "Thu gom giấy, vỏ chai <tổ 5> & tổ 6"
    assert report.photo_file_id and report.photo_file_id.startswith("PHACAgFAKE")
    rejected = [c for c in hoa.api.calls if not c.ok and c.method != "setMyCommands"]
    assert rejected == [], "nothing the bot sent was refused by the strict fake"


async def test_a_huge_quantity_is_called_too_big_not_not_a_number(person, db):
    """99999999 kg is a number: she is told it is over the limit (in Vietnamese figures)."""
    await register_member(db, 4110, "HM-HL-02")
    hoa = person(4110)
    await hoa.send("/report")
    await hoa.press("Biến rác thành tiền")
    await hoa.send("hôm nay")
    await hoa.send("99999999")
    answer = hoa.reply_text()
    assert "lớn hơn 1.000" in answer and "chỉ gõ một con số" not in answer
    assert "Được bao nhiêu kg?" in answer, "the question is asked again"


async def test_an_empty_myreports_in_the_middle_leaves_the_typed_1_to_the_report(person, db):
    """/myreports with nothing saved asks nothing: her "1" still saves the report on screen."""
    await register_member(db, 4111, "HM-HL-02")
    hoa = person(4111)
    await hoa.send("/report")
    await hoa.press("Biến rác thành tiền")
    for typed in ("hôm nay", "2", "1", "1"):  # the day, 2 kg, no note, no photo
        await hoa.send(typed)
    assert "Chị kiểm tra lại báo cáo" in hoa.reply_text()
    await hoa.send("/myreports")
    assert "Chị chưa báo cáo hoạt động nào" in hoa.reply_text()
    await hoa.send("1")  # "1. ✅ Lưu" of the summary above
    assert "Em đã lưu báo cáo: Biến rác thành tiền" in hoa.reply_text()
    assert len(await her_reports(db, 4111)) == 1


async def test_a_bare_number_at_the_note_step_is_asked_back_not_saved(person, db):
    await register_member(db, 4112, "HM-HL-02")
    hoa = person(4112)
    await hoa.send("/report")
    await hoa.press("Biến rác thành tiền")
    for typed in ("hôm nay", "2"):  # the day, 2 kg
        await hoa.send(typed)
    await hoa.send("5")  # no button 5 at the note step: a slip, not a note
    asked = hoa.reply_text()
    assert "Chị muốn ghi “5” ạ?" in asked and "1. Bỏ qua" in asked
    assert "Hủy" in hoa.buttons()[-1][1]
    await hoa.send("1")  # skip
    assert "một ảnh" in hoa.reply_text(), "the photo step"
    await hoa.send("1")  # no photo
    await hoa.send("1")  # save
    [report] = await her_reports(db, 4112)
    assert report.note is None


async def test_typed_numbers_skip_buttons_and_a_photo_instead_of_a_note(person, db):
    await register_member(db, 4102, "HM-HL-02")
    hoa = person(4102)
    await hoa.send("/report")
    await hoa.send("1")  # Sunday environment day (no unit: no quantity asked)
    await hoa.send("2")  # yesterday
    assert "không phải ngày môi trường" in hoa.reply_text()  # 31/3 is a Tuesday
    await hoa.send("1")  # record it anyway
    assert "thêm ghi chú" in hoa.reply_text()
    await send_photo(hoa, caption="Cả tổ cùng dọn ngõ 12")  # a photo with a caption
    summary = hoa.reply_text()
    assert "em đã thêm ảnh" in summary and "Cả tổ cùng dọn ngõ 12" in summary
    await hoa.send("1")  # save
    [report] = await her_reports(db, 4102)
    assert (report.activity_code, report.day, report.note) == (
        "sunday_environment", "2026-03-31", "Cả tổ cùng dọn ngõ 12")
    assert report.quantity is None and report.photo_file_id is not None


async def test_a_report_half_entered_continues_after_a_restart(settings, api, person, db,
                                                                 clock):
    await register_member(db, 4109, "HM-HL-02")
    hoa = person(4109)
    await hoa.send("/report")
    await hoa.press("Biến rác thành tiền")
    for typed in ("hôm qua", "2,5"):  # the date, the quantity
        await hoa.send(typed)
    assert "thêm ghi chú" in hoa.reply_text()
    # A crash: no graceful shutdown, a new Application on the same file reads the draft back.
    fresh = await start_application(settings, api, clock)
    try:
        hoa.app = fresh
        await hoa.send("Thu gom giấy")
        assert "gửi một ảnh" in hoa.reply_text(), "the note step was where she left off"
        await hoa.send("1")  # no photo
        summary = hoa.reply_text()
        assert "Số lượng: 2,5 kg" in summary and "Ngày: 31/3/2026" in summary
        await hoa.send("1")  # save
        [report] = await her_reports(fresh.bot_data.db, 4109)
        assert (report.activity_code, report.day, report.quantity, report.note) == (
            "waste_to_money", "2026-03-31", 2.5, "Thu gom giấy")
    finally:
        await stop_application(fresh)


async def test_an_environment_day_off_the_schedules_weekday_is_asked_about(person, db, clock):
    await register_member(db, 4110, "HM-HL-02")
    hoa = person(4110)
    await hoa.send("/report")
    await hoa.send("1")  # Sunday environment day
    await hoa.press("Hôm nay")  # Wednesday 1/4/2026
    assert hoa.reply_text().endswith(
        "Ngày 1/4/2026 là Thứ Tư, không phải ngày môi trường (Chủ nhật). Chị vẫn ghi cho ngày này?")
    await hoa.press("Chọn ngày khác")
    assert hoa.reply_text().endswith("(gõ “hôm qua” cũng được).")
    await hoa.send("29/3")  # a Sunday: taken without asking
    assert "thêm ghi chú" in hoa.reply_text()
    await hoa.send("/cancel")
    await hoa.send("/report")
    await hoa.send("1")
    await hoa.press("Hôm nay")
    await hoa.press("Vẫn ghi")
    await hoa.press("Bỏ qua: không ghi chú")
    await hoa.press("Bỏ qua: không có ảnh")
    await hoa.press("Lưu")
    [report] = await her_reports(db, 4110)
    assert (report.activity_code, report.day) == ("sunday_environment", "2026-04-01")
    # The schedule moved to Wednesday: a Wednesday is the environment day, a Sunday is not.
    [schedule] = [s for s in await reminders.schedules(db) if s.kind == reminders.ENVIRONMENT]
    await reminders.set_when(db, schedule.id, weekday=2, local_time="06:30", by=1,
                             at="2026-04-01T00:00:00Z")
    await hoa.send("/report")
    await hoa.send("1")
    await hoa.send("29/3")
    assert "Ngày 29/3/2026 là Chủ nhật, không phải ngày môi trường (Thứ Tư)." in hoa.reply_text()


async def test_the_same_activity_twice_on_a_day_is_caught_at_the_date(person, db):
    await register_member(db, 4103, "HM-HL-02")
    hoa = person(4103)
    await hoa.send("/report")
    await hoa.press("Phân loại rác")
    await hoa.press("Hôm nay")
    await hoa.press("Bỏ qua: không ghi chú")
    await hoa.press("Bỏ qua: không có ảnh")
    await hoa.press("Lưu")
    await hoa.send("/report")
    await hoa.press("Phân loại rác")
    await hoa.press("Hôm nay")
    text = hoa.reply_text()
    assert "Chị đã báo cáo Phân loại rác tại nguồn ngày 1/4/2026 rồi" in text
    assert "ghi chú" not in text, "asked before the note, not after the photo"
    await hoa.press("Chọn ngày khác")
    await hoa.send("1/4")  # the same day typed: caught again
    assert "rồi" in hoa.reply_text()
    await hoa.send("2")  # another date, by number
    await hoa.send("30/3")
    await hoa.press("Bỏ qua: không ghi chú")
    await hoa.press("Bỏ qua: không có ảnh")
    await hoa.press("Lưu")
    assert "Em đã lưu báo cáo" in hoa.reply_text()
    assert sorted(r.day for r in await her_reports(db, 4103)) == ["2026-03-30", "2026-04-01"]


async def test_the_same_day_again_offers_to_change_that_report(person, db):
    await register_member(db, 4107, "HM-HL-02")
    hoa = person(4107)
    await hoa.send("/report")
    await hoa.press("Biến rác")
    await hoa.press("Hôm nay")
    await hoa.send("2")
    await hoa.press("Bỏ qua: không ghi chú")
    await hoa.press("Bỏ qua: không có ảnh")
    await hoa.press("Lưu")
    await hoa.send("/report")
    await hoa.press("Biến rác")
    await hoa.send("1/4/2026")
    assert "Được bao nhiêu kg?" not in hoa.reply_text()
    await hoa.press("Sửa báo cáo đó")
    assert "Chị kiểm tra lại báo cáo" in hoa.reply_text()
    await hoa.press("Đổi số lượng")
    await hoa.send("3,5")
    await hoa.press("Lưu")
    [report] = await her_reports(db, 4107)
    assert (report.day, report.quantity) == ("2026-04-01", 3.5), "changed, not doubled"
    await hoa.send("/myreports")  # editing that report keeps its own date without a question
    await hoa.send("1")
    await hoa.press("Sửa")
    await hoa.press("Đổi ngày")
    await hoa.press("Hôm nay")
    assert "rồi" not in hoa.reply_text() and "Lưu" in " ".join(b[1] for b in hoa.buttons())


async def test_cancel_stores_nothing_and_stale_buttons_are_told(person, db):
    await register_member(db, 4104, "HM-HL-02")
    hoa = person(4104)
    await hoa.send("/report")
    old_id, _text, old_data = hoa.buttons()[0]
    await hoa.send("/cancel")
    assert "Đã hủy; em chưa lưu gì." in hoa.reply_text()
    await hoa.press_data(old_id, old_data)
    assert "không còn hiệu lực" in hoa.reply_text()
    assert await her_reports(db, 4104) == []


async def test_a_member_without_a_chapter_is_told_what_to_do(person, db):
    member_id = await register_member(db, 4105, "HM-HL-02")
    await db.execute("UPDATE members SET unit_id = NULL WHERE id = ?", (member_id,))
    hoa = person(4105)
    await hoa.send("/report")
    assert "chưa có chi hội" in hoa.reply_text()
    await hoa.press_data(1, "env:20260329")  # the reminder's button
    assert "chưa có chi hội" in hoa.reply_text()
    stranger = person(4106)
    await stranger.send("/report")
    assert "đăng ký trước" in stranger.reply_text()


async def test_myreports_lists_pages_edits_and_deletes_within_seven_days(person, db, clock):
    member_id = await register_member(db, 4107, "HM-HL-02")
    chapter = await units.by_code(db, "HM-HL-02")
    assert chapter is not None
    for day in range(20, 27):  # seven reports, 20/3 … 26/3
        await activities.add(db, NewReport(member_id, chapter.id, "waste_sorting",
                                           f"2026-03-{day}"), at="2026-03-27T01:00:00Z")
    fresh = await activities.add(db, NewReport(member_id, chapter.id, "waste_to_money",
                                               "2026-03-31", quantity=3.0, note="Giấy"),
                                 at="2026-03-31T01:00:00Z")
    hoa = person(4107)
    await hoa.send("/myreports")
    listing = hoa.reply_text()
    assert "Trang 1/2" in listing
    assert listing.index("31/3/2026") < listing.index("26/3/2026"), "newest first"
    await hoa.press("▶")
    assert "Trang 2/2" in hoa.reply_text() and "20/3/2026" in hoa.reply_text()
    await hoa.press("◀")
    await hoa.send("1")  # the newest: 31/3, reported 31/3
    card = hoa.reply_text()
    assert "Số lượng: 3 kg" in card and "Chị có thể sửa hoặc xóa đến" in card
    await hoa.press("Sửa")
    assert "Chị kiểm tra lại báo cáo" in hoa.reply_text()
    await hoa.press("Đổi số lượng")
    await hoa.send("4.5")
    await hoa.press("Đổi ghi chú")
    await hoa.press("Xóa ghi chú")
    await hoa.press("Lưu")
    assert "Em đã cập nhật báo cáo" in hoa.reply_text()
    updated = await activities.get(db, fresh.id)
    assert updated is not None and (updated.quantity, updated.note) == (4.5, None)
    # Reported on 27/3: past the seven days on 4/4.
    clock.advance(3 * 86400)
    await hoa.send("/myreports")
    await hoa.press("2.")
    assert "không sửa được nữa" in hoa.reply_text()
    assert not any("Sửa" in b[1] for b in hoa.buttons())
    message_id = hoa.buttons()[0][0]
    old = (await her_reports(db, 4107))[1]
    await hoa.press_data(message_id, f"myr:c:{old.id}:o:delete")  # forged: still refused
    assert "không sửa được nữa" in hoa.reply_text()
    await hoa.send("/myreports")
    await hoa.press("1.")
    await hoa.press("Xóa")
    assert "Chị có muốn xóa báo cáo này không?" in hoa.reply_text()
    await hoa.press("Có, xóa")
    assert "Em đã xóa báo cáo" in hoa.reply_text()
    assert await activities.get(db, fresh.id) is None
    assert len(await her_reports(db, 4107)) == 7


async def test_someone_elses_report_cannot_be_opened_or_changed(person, db):
    owner = await register_member(db, 4108, "HM-HL-02")
    chapter = await units.by_code(db, "HM-HL-02")
    assert chapter is not None
    report = await activities.add(db, NewReport(owner, chapter.id, "other", "2026-03-31",
                                                note="Riêng tư"), at="2026-03-31T01:00:00Z")
    await register_member(db, 4109, "HM-HL-02", name="Lê Thị Mai")
    mai = person(4109)
    await mai.send("/myreports")
    for forged in (f"myr:o:{report.id}", f"myr:c:{report.id}:o:edit",
                   f"myr:c:{report.id}:o:delete", f"myr:d:{report.id}:o:yes",
                   f"actph:{report.id}"):
        await mai.press_data(1, forged)
        assert "Riêng tư" not in mai.reply_text()
    assert await activities.get(db, report.id) is not None


async def test_the_catalog_may_not_drop_an_activity_code_that_reports_use(db):
    member_id = await register_member(db, 4110, "HM-HL-02")
    chapter = await units.by_code(db, "HM-HL-02")
    assert chapter is not None
    await activities.add(db, NewReport(member_id, chapter.id, "flower_street", "2026-03-31"),
                         at="2026-03-31T01:00:00Z")
    shipped = default_path().read_text("utf-8")
    start = shipped.index('[[activities]]\ncode = "flower_street"')
    end = shipped.index("[[activities]]", start + 10)
    with pytest.raises(CatalogError, match=r"flower_street.*1 stored"):
        await check_stored_codes(db, parse(shipped[:start] + shipped[end:]))
    retired = shipped.replace('code = "flower_street"', 'code = "flower_street"\nretired = true')
    await check_stored_codes(db, parse(retired))


async def test_the_new_commands_are_in_the_menus_of_the_roles_that_may_use_them(api, db, person):
    for locale in ("vi", "en"):
        names = [c["command"] for c in api.commands(language_code=locale)]
        assert {"report", "myreports", "settings"} <= set(names)
        assert "chapter" not in names and "reminders" not in names
    vi = {c["command"]: c["description"] for c in api.commands(language_code="vi")}
    assert vi["report"] == "Báo cáo hoạt động (ví dụ Ngày môi trường Chủ nhật)"
    head = await register_member(db, 4190, "HM-HL-02")
    await grant(db, head, "chapter_head", "HM-HL-02")
    await person(4190).send("/start")
    scoped = [c["command"] for c in api.commands(scope={"type": "chat", "chat_id": 4190},
                                                 language_code="en")]
    assert "chapter" in scoped and "reminders" not in scoped
    admin = await register_member(db, 4191, "HM-HL-02")
    await grant(db, admin, "unit_admin", "HM-HL")
    await person(4191).send("/start")
    scoped = [c["command"] for c in api.commands(scope={"type": "chat", "chat_id": 4191},
                                                 language_code="vi")]
    assert {"chapter", "reminders", "report"} <= set(scoped)
