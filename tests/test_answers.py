"""The typed-answer router (handlers/kit/answers.py): the latest question owns a typed answer."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest

from bot.clock import ManualClock
from tests.conftest import register_member

# Wednesday 1 April 2026, 10:00 in Hà Nội.
NOW = datetime(2026, 4, 1, 3, 0, tzinfo=UTC)


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(NOW)


async def test_a_typed_number_at_the_quantity_is_a_quantity_not_an_older_button(person, db):
    await register_member(db, 4301, "HM-HL-02")
    hoa = person(4301)
    await hoa.send("/settings")  # an older numbered menu: its 4th item would withdraw a consent
    assert len(hoa.buttons()) >= 4
    await hoa.send("/report")
    await hoa.press("Biến rác thành tiền")
    await hoa.send("hôm qua")
    assert "Được bao nhiêu kg?" in hoa.reply_text()
    await hoa.send("4")
    assert "thêm ghi chú" in hoa.reply_text(), "the 4 was taken as 4 kg"
    assert "rút lại" not in hoa.reply_text().casefold(), "no consent withdrawal was started"


async def test_the_latest_question_takes_the_number_again_after_the_flow_ends(person, db):
    await register_member(db, 4302, "HM-HL-02")
    hoa = person(4302)
    await hoa.send("/report")
    await hoa.send("/cancel")
    await hoa.send("/settings")
    await hoa.send("1")  # the settings menu is the latest question: 1 is the language
    assert "ngôn ngữ" in hoa.reply_text().casefold()


async def test_a_number_that_matches_no_option_gets_the_options_again(person, db):
    await register_member(db, 4303, "HM-HL-02")
    hoa = person(4303)
    await hoa.send("/settings")
    shown = [re.sub(r"^\d+\. ", "", label) for _, label, _ in hoa.buttons()]
    await hoa.send("9")
    answer = hoa.reply_text()
    assert "Không có lựa chọn số 9" in answer
    listed = [line for line in answer.splitlines()[1:] if line[:1].isdigit()]
    assert len(listed) == len(shown) and listed[0] == f"1. {shown[0]}", (shown, answer)
    await hoa.send("2")  # the menu is still the latest question: 2 is the reminders
    assert "lời nhắc" in hoa.reply_text().casefold()


async def test_text_that_is_no_number_still_gets_the_usual_hint(person, db):
    await register_member(db, 4304, "HM-HL-02")
    hoa = person(4304)
    await hoa.send("/language")
    await hoa.send("xin chào")
    assert "Không có lựa chọn" not in hoa.reply_text()
    await hoa.send("7")
    assert "Không có lựa chọn số 7" in hoa.reply_text() and "Tiếng Việt" in hoa.reply_text()


@pytest.mark.parametrize("command", ["/standard", "/family"])
async def test_a_number_beyond_a_members_screen_lists_its_options(person, db, command):
    await register_member(db, 4311, "HM-HL-02")
    hoa = person(4311)
    await hoa.send(command)
    shown = [re.sub(r"^\d+\. ", "", label) for _, label, _ in hoa.buttons()]
    await hoa.send("9")
    answer = hoa.reply_text()
    assert "Không có lựa chọn số 9" in answer
    assert f"1. {shown[0]}" in answer.splitlines(), (shown, answer)


async def test_a_number_beyond_an_officers_screen_lists_its_options(person, db):
    from tests.conftest import ADMIN_ID

    boss = person(ADMIN_ID)
    await boss.send("/stats")
    shown = [label.split(". ", 1)[1] for _, label, _ in boss.buttons() if ". " in label]
    await boss.send("99")
    answer = boss.reply_text()
    assert "Không có lựa chọn số 99" in answer
    assert f"1. {shown[0]}" in answer.splitlines(), (shown, answer)


async def test_a_flow_left_open_does_not_take_the_answer_to_a_later_flows_question(person, db):
    from tests.conftest import grant

    lan_id = await register_member(db, 4321, "HM-HL-02", name="Trần Thị Lan")
    await grant(db, lan_id, "chapter_head", "HM-HL-02")
    lan = person(4321)
    await lan.send("/broadcast")  # left open at "who receives it"
    await lan.press("Tất cả hội viên")  # now it waits for the notice's text
    await lan.send("/report")
    await lan.press("Biến rác thành tiền")
    await lan.send("hôm qua")
    assert "Được bao nhiêu kg?" in lan.reply_text()
    await lan.send("4")
    assert "thêm ghi chú" in lan.reply_text(), "the 4 was taken as 4 kg"


async def test_typing_the_word_of_the_cancel_button_cancels_like_it(person, db):
    """On Telegram she reads "✖ Hủy" and types "hủy": the step is left, not taken as her note
    (or answered with "tap a button")."""
    await register_member(db, 4310, "HM-HL-02")
    hoa = person(4310)
    await hoa.send("/report")
    await hoa.send("hủy")  # at the list of activities
    assert "Đã hủy" in hoa.reply_text() and "bấm một nút" not in hoa.reply_text()
    await hoa.send("/report")
    await hoa.press("Biến rác thành tiền")
    for typed in ("hôm qua", "2"):
        await hoa.send(typed)
    assert "thêm ghi chú" in hoa.reply_text()
    await hoa.send("Huỷ")  # at the note, with the other spelling
    assert "Đã hủy; em chưa lưu gì." in hoa.reply_text()
    await hoa.send("1")  # no report draft takes it any more
    assert "Chị kiểm tra lại báo cáo" not in hoa.reply_text()
    await hoa.send("/support")
    await hoa.send("5")  # "Khác": the free-text description follows
    await hoa.send("✖ Hủy")
    assert "Đã hủy; chưa gửi gì." in hoa.reply_text()
    newcomer = person(4311)
    await newcomer.send("/start")
    await newcomer.send("1")  # agrees; the name is asked
    await newcomer.send("hủy")
    assert "Khi nào muốn đăng ký, chị gửi /start nhé." in newcomer.reply_text()
