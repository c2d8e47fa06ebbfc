"""/standard end to end: register in two taps, commitments, withdraw, years, closed years."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from bot.clock import ManualClock
from storage import campaigns, members, units
from tests.conftest import ADMIN_ID, register_member

JUNE_2026 = datetime(2026, 6, 15, 3, 0, tzinfo=UTC)


@pytest.fixture
def clock() -> ManualClock:
    """Mid-June 2026 (the year in Asia/Ho_Chi_Minh is what counts)."""
    return ManualClock(JUNE_2026)


async def registration(db, user_id: int, year: int = 2026):
    member = await members.by_user(db, user_id)
    assert member is not None
    return await campaigns.registration(db, campaigns.STANDARD, member.id, year)


async def test_register_in_two_taps_and_write_commitments_vi(person, db):
    await register_member(db, 4001, "HM-HL-02")
    hoa = person(4001)
    await hoa.send("⭐ Chuẩn mực phụ nữ")  # tap 1: the main-menu button
    intro = hoa.reply_text()
    assert "Chuẩn mực phụ nữ năm 2026" in intro
    assert all(q in intro for q in ("Trung hậu", "Sáng tạo", "Đảm đang", "Thanh lịch"))
    intro_id = hoa.buttons()[0][0]
    await hoa.press("Đăng ký năm 2026")  # tap 2
    status = hoa.reply_text()
    assert "Chị đã đăng ký phấn đấu năm 2026" in status and "15/6/2026" in status
    assert "chưa bình xét" in status
    reg = await registration(db, 4001)
    chapter = await units.by_code(db, "HM-HL-02")
    assert reg is not None and chapter is not None and reg.unit_id == chapter.id
    assert [c.method for c in hoa.replies()].count("sendMessage") == 0, "edited in place"
    assert "Chị đã đăng ký ngày" in hoa.api.message(4001, intro_id)["text"]

    await hoa.press("Sáng tạo")
    assert "cam kết cho phẩm chất <b>Sáng tạo</b>" in hoa.reply_text()
    await hoa.send("Học tin học văn phòng & tiếng Anh <cơ bản>")
    saved = hoa.reply_text()
    assert "Đã lưu cam kết" in saved
    assert "Học tin học văn phòng &amp; tiếng Anh &lt;cơ bản&gt;" in saved
    assert hoa.errors() == []
    assert await campaigns.commitments(db, reg.id) == {
        "sang_tao": "Học tin học văn phòng & tiếng Anh <cơ bản>"}

    await hoa.send("/standard")  # registering twice is harmless and shows the status
    assert "Chị đã đăng ký ngày 15/6/2026" in hoa.reply_text()
    assert len(await campaigns.evaluation_rows(db, 2026, chapter.id)) == 1


async def test_english_by_typed_numbers_and_the_cancel_and_clear_paths(person, db):
    await register_member(db, 4002, "HM-HL-02", name="Le Thi Mai", locale="en")
    mai = person(4002, language_code="en")
    await mai.send("/standard")
    assert "Women's standard 2026" in mai.reply_text()
    await mai.send("1")
    assert "You are registered for 2026" in mai.reply_text()
    await mai.send("3")  # the third quality: Đảm đang
    assert "Đảm đang (capable)" in mai.reply_text()
    await mai.send("x" * 501)
    assert "501 characters" in mai.reply_text() and "500" in mai.reply_text()
    await mai.send("Share the housework fairly")
    assert "Commitment saved" in mai.reply_text()
    await mai.send("3")
    await mai.send("/cancel")
    assert "commitment is unchanged" in mai.reply_text()
    await mai.send("3")
    await mai.send("-")
    assert "Commitment removed" in mai.reply_text()
    reg = await registration(db, 4002)
    assert reg is not None and await campaigns.commitments(db, reg.id) == {}
    await mai.send("9")
    assert "There is no option 9" in mai.reply_text()  # and the options again
    assert "5. ↩ Withdraw my registration" in mai.reply_text()


async def test_withdraw_before_the_evaluation_only(person, db):
    await register_member(db, 4003, "HM-HL-02")
    hoa = person(4003)
    await hoa.send("/standard")
    await hoa.press("Đăng ký")
    withdraw_button = next(b for b in hoa.buttons() if "Rút đăng ký" in b[1])
    await hoa.press("Rút đăng ký")
    assert "Em đã rút đăng ký năm 2026" in hoa.reply_text()
    assert await registration(db, 4003) is None
    await hoa.press("Đăng ký")
    reg = await registration(db, 4003)
    assert reg is not None
    await campaigns.decide(db, campaigns.STANDARD, reg.id, campaigns.ACHIEVED, by=ADMIN_ID,
                           at="2026-12-20T03:00:00Z")
    await hoa.press_data(withdraw_button[0], withdraw_button[2])  # an old "withdraw" button
    assert "không còn hiệu lực" in hoa.reply_text()
    assert await registration(db, 4003) is not None, "nothing changed"
    await hoa.send("/standard")
    text = hoa.reply_text()
    assert "🎉 chị đã đạt chuẩn mực (bình xét ngày 20/12/2026)" in text
    assert not any("Rút đăng ký" in b[1] for b in hoa.buttons())


async def test_the_year_turns_at_local_midnight(person, db, clock):
    await register_member(db, 4004, "HM-HL-02")
    hoa = person(4004)
    clock.advance((datetime(2026, 12, 31, 16, 59, tzinfo=UTC) - JUNE_2026).total_seconds())
    await hoa.send("/standard")  # 23:59 on 31/12/2026 in Hà Nội
    assert "năm 2026" in hoa.reply_text()
    [(message_id, _label, register_2026)] = [b for b in hoa.buttons() if "Đăng ký" in b[1]]
    await hoa.press("Đăng ký năm 2026")
    assert await registration(db, 4004, 2026) is not None
    clock.advance(60)  # 00:00 on 1/1/2027 in Hà Nội (still 31/12 in UTC)
    await hoa.send("/standard")
    assert "Chuẩn mực phụ nữ năm 2027" in hoa.reply_text()
    assert "Đăng ký năm 2027" in hoa.buttons()[0][1]
    await hoa.press_data(message_id, register_2026)  # last year's button
    assert "Nút này thuộc năm 2026" in hoa.reply_text()
    assert await registration(db, 4004, 2027) is None
    await hoa.send("1")
    assert await registration(db, 4004, 2027) is not None


async def test_a_closed_year_is_read_only(person, db):
    await register_member(db, 4005, "HM-HL-02")
    hoa = person(4005)
    await hoa.send("/standard")
    await hoa.press("Đăng ký")
    await hoa.press("Trung hậu")
    ward = await units.by_code(db, "HM-HL")
    assert ward is not None
    await campaigns.close_year(db, 2026, ward.id, by=ADMIN_ID, at="2026-06-15T04:00:00Z")
    await hoa.send("Sống nghĩa tình với hàng xóm")
    assert "đã khóa sổ" in hoa.reply_text()
    reg = await registration(db, 4005)
    assert reg is not None and await campaigns.commitments(db, reg.id) == {}
    await hoa.send("/standard")
    assert "đã khóa sổ" in hoa.reply_text()
    assert "reply_markup" not in hoa.replies()[-1].params, "read-only: no buttons"
    other = person(4006)
    await register_member(db, 4006, "HM-HL-07")
    await other.send("/standard")
    assert "không thể đăng ký nữa" in other.reply_text()
    assert await registration(db, 4006) is None


async def test_people_who_are_not_members(person, db):
    visitor = person(4010)
    await visitor.send("/standard")
    assert "/start" in visitor.reply_text()
    await visitor.press_data(1, "std:2026:o:reg")
    assert "/start" in visitor.reply_text()
    await register_member(db, 4011, "HM-HL-02")
    hoa = person(4011)
    for forged in ("std:2026:o:nonsense", "std:abc:o:reg", "std", "std:2026:o:q.nonsense"):
        await hoa.press_data(1, forged)
        assert hoa.reply_text()
    assert await registration(db, 4011) is None


async def test_a_bare_number_at_the_commitment_prompt_is_not_saved_as_the_commitment(person, db):
    await register_member(db, 4010, "HM-HL-02")
    hoa = person(4010)
    await hoa.send("/standard")
    await hoa.press("Đăng ký năm 2026")
    await hoa.press("Trung hậu")
    await hoa.send("3")  # the number of “✍️ Đảm đang” on the screen above: she meant it
    assert "cam kết cho phẩm chất <b>Đảm đang</b>" in hoa.reply_text()
    await hoa.send("42")  # names nothing: asked back, with the options
    asked = hoa.reply_text()
    assert "“42”" in asked and "3. ✍️ Đảm đang" in asked
    assert any("Hủy" in b[1] for b in hoa.buttons())
    reg = await registration(db, 4010)
    assert reg is not None and await campaigns.commitments(db, reg.id) == {}
    await hoa.send("Chia sẻ việc nhà")  # the prompt still waits for Đảm đang
    assert "Đã lưu cam kết" in hoa.reply_text()
    assert await campaigns.commitments(db, reg.id) == {"dam_dang": "Chia sẻ việc nhà"}
    assert hoa.errors() == []
