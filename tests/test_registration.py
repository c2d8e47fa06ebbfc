"""End-to-end registration through the real Application and the strict fake Bot API."""

from __future__ import annotations

import dataclasses
import unicodedata

import pytest

from storage import consents, members, units
from tests.conftest import start_application, stop_application


async def register(hoa, *, name: str = "Nguyễn Thị Hoa") -> None:
    """The happy path up to (not including) the confirmation."""
    await hoa.send("/start")
    await hoa.press("1.")
    await hoa.send(name)
    await hoa.share_contact("+84912345678")
    await hoa.press("Hoàng Liệt")
    await hoa.press("số 2")


async def test_full_registration_in_vietnamese(person, db):
    hoa = person(1001)
    await hoa.send("/start")
    assert "đồng ý" in hoa.reply_text().lower()
    await hoa.press("1.")
    assert "họ và tên" in hoa.reply_text().lower()
    await hoa.send("Nguyễn Thị Hoa")
    await hoa.share_contact("+84912345678")
    assert "0912 345 678" in hoa.reply_text()
    await hoa.press("Hoàng Liệt")
    await hoa.press("số 2")
    summary = hoa.reply_text()
    assert "Nguyễn Thị Hoa" in summary and "Phường Hoàng Liệt › Chi hội tổ dân phố số 2" in summary
    await hoa.press("1.")
    assert "hoàn tất" in hoa.reply_text().lower()
    menu = hoa.replies()[-1].params["reply_markup"]
    assert "keyboard" in menu, "a registered member gets the persistent main menu"
    member = await members.by_user(db, 1001)
    assert member is not None
    assert (member.full_name, member.phone, member.locale) == (
        "Nguyễn Thị Hoa", "+84912345678", "vi")
    unit = await units.get(db, member.unit_id or 0)
    assert unit is not None and unit.code == "HM-HL-02"
    [consent] = await consents.of_user(db, 1001)
    assert (consent.purpose, consent.version, consent.withdrawn_at) == ("membership", 1, None)


async def test_registration_in_english_after_switching(person, db):
    hoa = person(1002, language_code="en")
    await hoa.send("/start")
    await hoa.press("English")
    assert "Do you agree?" in hoa.reply_text()
    await hoa.press("I agree")
    assert "full name" in hoa.reply_text()
    await hoa.send("Le Thi Mai")
    await hoa.send("0987 654 321")
    await hoa.press("Hoàng Liệt")
    await hoa.press("số 2")
    await hoa.press("Confirm")
    assert "Registration complete" in hoa.reply_text()
    member = await members.by_user(db, 1002)
    assert member is not None and member.locale == "en" and member.phone == "+84987654321"


async def test_every_choice_also_works_as_a_typed_number(person, db):
    hoa = person(1003)
    await hoa.send("/start")
    await hoa.send("1")
    await hoa.send("Phạm Thị Thu")
    await hoa.send("0912345678")
    ward_buttons = [b[1] for b in hoa.buttons()]
    number = next(label.split(".")[0] for label in ward_buttons if "Hoàng Liệt" in label)
    await hoa.send(number)
    await hoa.send("1")  # the first chapter of the ward
    await hoa.send("1")  # confirm
    assert await members.by_user(db, 1003) is not None


async def test_decline_stores_nothing_and_says_how_to_come_back(person, db):
    hoa = person(1004)
    await hoa.send("/start")
    await hoa.press("2.")
    assert "/start" in hoa.reply_text()
    assert await members.by_user(db, 1004) is None
    assert await consents.of_user(db, 1004) == []
    rows = await db.fetchall("SELECT data FROM user_data WHERE user_id = 1004")
    assert rows == []


async def test_deep_link_preselects_the_chapter(person, db):
    hoa = person(1005)
    await hoa.send("/start HM-TM-04")
    await hoa.press("1.")
    await hoa.send("Đỗ Thị Hằng")
    await hoa.share_contact("+84912000111")
    assert "Tương Mai" in hoa.reply_text(), "goes straight to the summary"
    await hoa.press("1.")
    member = await members.by_user(db, 1005)
    unit = await units.get(db, member.unit_id) if member and member.unit_id else None
    assert unit is not None and unit.code == "HM-TM-04"


async def test_deep_link_with_unknown_code_still_registers(person, db):
    hoa = person(1006)
    await hoa.send("/start NO-SUCH-CODE")
    assert "không đúng" in hoa.reply_text()
    await hoa.press("1.")
    assert "họ và tên" in hoa.reply_text().lower()


async def test_registered_member_gets_the_menu_not_a_second_registration(person, db):
    hoa = person(1007)
    await register(hoa)
    await hoa.press("1.")
    await hoa.send("/start")
    text = hoa.reply_text()
    assert "chị Hoa quay lại" in text and "đồng ý" not in text.lower(), "greeted by given name"
    assert "Hội Liên hiệp Phụ nữ" not in text, "an unnamed union is not named by the default"


async def test_greetings_name_the_union_when_the_installation_names_it(person, settings, api,
                                                                      clock, db):
    named = dataclasses.replace(settings, org_name="Hội LHPN phường Hoàng Liệt")
    fresh = await start_application(named, api, clock)
    try:
        hoa = person(1031)
        hoa.app = fresh
        await register(hoa)
        await hoa.press("1.")
        assert ("Chào mừng chị Hoa đến với trợ lý của Hội LHPN phường Hoàng Liệt"
                in hoa.reply_text())
        await hoa.send("/start")
        assert ("Chào mừng chị Hoa quay lại với trợ lý của Hội LHPN phường Hoàng Liệt"
                in hoa.reply_text())
    finally:
        await stop_application(fresh)


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("   ", "họ tên"),
        ("x" * 5000, "5000"),
        ("🌸🌸🌸", "chữ cái"),
        ("12345", "chữ cái"),
        ("<b>Hoa</b>", "chữ cái"),
        ("\u200b\u200b\u200b", "gõ họ tên đầy đủ"),  # zero-width: no name, not a bad sign
        ("\u3164\u3164", "gõ họ tên đầy đủ"),  # Hangul fillers draw as nothing too
    ],
)
async def test_bad_names_are_refused_and_asked_again(person, db, name, expected):
    hoa = person(1010)
    await hoa.send("/start")
    await hoa.press("1.")
    await hoa.send(name)
    reply = hoa.reply_text()
    assert expected in reply.lower() or expected in reply
    assert "họ và tên" in reply.lower(), "the question is asked again"
    await hoa.send("Nguyễn Thị Hoa")
    assert "số điện thoại" in hoa.reply_text().lower()


async def test_a_lowercase_name_is_stored_as_vietnamese_writes_names(person, db):
    hoa = person(1012)
    await register(hoa, name="nguyễn thị  hoa")
    assert "Nguyễn Thị Hoa" in hoa.reply_text()
    await hoa.press("1.")
    member = await members.by_user(db, 1012)
    assert member is not None and member.full_name == "Nguyễn Thị Hoa"


async def test_decomposed_vietnamese_is_stored_as_nfc(person, db):
    hoa = person(1011)
    decomposed = unicodedata.normalize("NFD", "Nguyễn Thị Hoà")
    await register(hoa, name=decomposed)
    await hoa.press("1.")
    member = await members.by_user(db, 1011)
    assert member is not None and member.full_name == unicodedata.normalize("NFC", decomposed)


async def test_html_in_a_name_is_escaped_when_echoed(person, db):
    hoa = person(1012)
    await register(hoa, name="Hoa D'Lan")
    assert "Hoa D&#x27;Lan" in hoa.reply_text()
    assert hoa.errors() == [], "the strict fake accepted the HTML"


@pytest.mark.parametrize(
    ("phone", "expected"),
    [("abc", "chữ số"), ("+1 202 555 0123", "Việt Nam"), ("0123", "không phải")],
)
async def test_bad_phones_are_refused_and_the_name_is_kept(person, db, phone, expected):
    hoa = person(1013)
    await hoa.send("/start")
    await hoa.press("1.")
    await hoa.send("Nguyễn Thị Hoa")
    await hoa.send(phone)
    assert expected in hoa.reply_text()
    await hoa.send("0912345678")
    await hoa.press("Hoàng Liệt")
    await hoa.press("số 2")
    assert "Nguyễn Thị Hoa" in hoa.reply_text(), "what she entered before is kept"


async def test_someone_elses_contact_is_refused(person, db):
    hoa = person(1014)
    await hoa.send("/start")
    await hoa.press("1.")
    await hoa.send("Nguyễn Thị Hoa")
    await hoa.share_contact("+84912345678", owner=999)
    assert "người khác" in hoa.reply_text()
    await hoa.share_contact("+84912345678")
    assert "0912 345 678" in hoa.reply_text()


async def test_a_photo_where_text_is_expected_gets_an_explanation(person, db):
    hoa = person(1015)
    await hoa.send("/start")
    await hoa.press("1.")
    await hoa.send_photo()
    assert "/cancel" in hoa.reply_text()
    await hoa.send("Nguyễn Thị Hoa")
    assert "số điện thoại" in hoa.reply_text().lower()


async def test_wards_are_paginated_and_back_works(person, db):
    hoa = person(1016)
    await hoa.send("/start")
    await hoa.press("1.")
    await hoa.send("Nguyễn Thị Hoa")
    await hoa.send("0912345678")
    first_page = [b[1] for b in hoa.buttons()]
    assert len(first_page) < 14 and "▶" in first_page
    await hoa.press("▶")
    assert any("Yên Sở" in b[1] for b in hoa.buttons())
    await hoa.press("Yên Sở")
    await hoa.press("Quay lại")
    assert any("Giáp Bát" in b[1] or "Yên Sở" in b[1] for b in hoa.buttons())


async def test_a_missing_number_is_named_and_quay_lai_typed_goes_back(person, db):
    # Found on the walk: "99" got the general hint; typed "quay lại" did nothing.
    hoa = person(1031)
    await hoa.send("/start")
    await hoa.press("1.")
    await hoa.send("Nguyễn Thị Hoa")
    await hoa.send("0912345678")
    await hoa.send("99")
    answer = hoa.reply_text()
    assert "Không có lựa chọn số 99" in answer and "\n1. " in answer
    assert "▶" in [b[1] for b in hoa.buttons()], "the list is shown again"
    await hoa.press("▶")
    await hoa.press("Yên Sở")
    assert any("Quay lại" in b[1] for b in hoa.buttons())
    await hoa.send("quay lại")
    assert any("Giáp Bát" in b[1] or "Yên Sở" in b[1] for b in hoa.buttons())
    assert not any("Quay lại" in b[1] for b in hoa.buttons()), "back at the wards"
    assert hoa.errors() == []


async def test_me_while_registering_says_she_is_halfway_and_the_answer_goes_on(person, db):
    # Found on the walk: /me halfway said "Chị chưa đăng ký… gửi /start".
    hoa = person(1032)
    await hoa.send("/start")
    await hoa.press("1.")
    await hoa.send("/me")
    answer = hoa.reply_text()
    assert "Chị đang đăng ký dở" in answer and "/start" in answer
    assert "chưa đăng ký" not in answer
    await hoa.send("Nguyễn Thị Hoa")
    assert "số điện thoại" in hoa.reply_text(), "her answer still goes to the name question"


async def test_edit_at_the_summary_returns_to_the_summary(person, db):
    hoa = person(1017)
    await register(hoa)
    await hoa.press("Sửa họ tên")
    await hoa.send("Trần Thị Bình")
    assert "Trần Thị Bình" in hoa.reply_text()
    await hoa.press("1.")
    member = await members.by_user(db, 1017)
    assert member is not None and member.full_name == "Trần Thị Bình"


async def test_cancel_anywhere_stores_nothing(person, db):
    hoa = person(1018)
    await hoa.send("/start")
    await hoa.press("1.")
    await hoa.send("Nguyễn Thị Hoa")
    await hoa.send("/cancel")
    assert "hủy" in hoa.reply_text().lower()
    await hoa.send("Nguyễn Thị Hoa")
    assert "/start" in hoa.reply_text(), "outside the flow, text gets a hint"
    assert await members.by_user(db, 1018) is None


async def test_the_phone_step_has_a_cancel_button_that_stops_registration(person, db, api):
    """The phone prompt's keyboard is a reply keyboard (the share button), so its "✖ Hủy" is
    a reply button too: pressing it sends its words, which leave registration."""
    hoa = person(1019)
    await hoa.send("/start")
    await hoa.press("1.")
    await hoa.send("Nguyễn Thị Hoa")
    [prompt] = [c.params for c in hoa.replies() if c.method == "sendMessage"]
    assert "gửi số điện thoại" in prompt["text"]
    labels = [b["text"] for row in prompt["reply_markup"]["keyboard"] for b in row]
    assert labels == ["📱 Gửi số điện thoại của tôi", "✖ Hủy"]
    await hoa.send("✖ Hủy")  # what the reply button sends
    assert "Khi nào muốn đăng ký, chị gửi /start nhé." in hoa.reply_text()
    await hoa.send("0912345678")
    assert "Cảm ơn chị, em đã ghi nhận số" not in hoa.reply_text()
    assert await members.by_user(db, 1019) is None


async def test_stale_and_forged_presses_change_nothing(person, db, api):
    hoa = person(1019)
    await hoa.send("/start")
    consent_message, _label, agree = hoa.buttons()[0]
    await hoa.press("1.")
    await hoa.press_data(consent_message, agree)  # the same button again
    assert "không còn" in hoa.reply_text()
    nonce = agree.split(":")[1]
    for forged in [f"reg:{nonce}:u:o:99999", "reg:zzz:c:o:yes", "reg", "x" * 64,
                   "units:p:1", f"reg:{nonce}:k:o:ok"]:
        await hoa.press_data(consent_message, forged)
        assert hoa.reply_text(), f"press {forged!r} must be answered"
    await hoa.send("Nguyễn Thị Hoa")
    assert "số điện thoại" in hoa.reply_text().lower(), "still at the right step"
    assert await members.by_user(db, 1019) is None


async def test_restart_in_the_middle_of_registration_continues(settings, api, app, person, clock):
    hoa = person(1020)
    await hoa.send("/start")
    await hoa.press("1.")
    await hoa.send("Nguyễn Thị Hoa")
    # Simulate a crash: no graceful shutdown, just a new Application on the same file.
    fresh = await start_application(settings, api, clock)
    try:
        hoa.app = fresh
        await hoa.send("0912345678")
        await hoa.press("Hoàng Liệt")
        await hoa.press("số 2")
        assert "Nguyễn Thị Hoa" in hoa.reply_text()
        await hoa.press("1.")
        assert await members.by_user(fresh.bot_data.db, 1020) is not None
    finally:
        await stop_application(fresh)


async def test_profile_shows_and_edits(person, db):
    hoa = person(1021)
    await register(hoa)
    await hoa.press("1.")
    await hoa.send("/me")
    text = hoa.reply_text()
    assert "0912 345 678" in text and "Chi hội tổ dân phố số 2" in text
    assert "Ngày đăng ký trên trợ lý: " in text, "the day she signed up here, not joined the union"
    await hoa.press("Sửa")
    await hoa.press("Đổi chi hội")
    await hoa.press("số 7")
    await hoa.press("Lưu")
    member = await members.by_user(db, 1021)
    unit = await units.get(db, member.unit_id) if member and member.unit_id else None
    assert unit is not None and unit.code == "HM-HL-07"
    assert "cập nhật" in hoa.reply_text()


async def test_the_edit_button_under_me_answers_a_typed_number(person, db):
    hoa = person(1024)
    await register(hoa)
    await hoa.press("1.")
    await hoa.send("/me")
    await hoa.send("2")  # the profile offers one option only
    assert "Không có lựa chọn số 2" in hoa.reply_text() and "1. " in hoa.reply_text()
    await hoa.send("1")
    assert "kiểm tra" in hoa.reply_text().casefold(), "the typed 1 opened the summary"
    await hoa.send("4")  # the summary is now the latest question: 4 changes the chapter
    await hoa.press("số 7")
    await hoa.press("Lưu")
    member = await members.by_user(db, 1024)
    unit = await units.get(db, member.unit_id) if member and member.unit_id else None
    assert unit is not None and unit.code == "HM-HL-07"


async def test_unknown_command_and_free_text_get_hints(person, db):
    hoa = person(1022)
    await hoa.send("/nonsense")
    assert "/help" in hoa.reply_text()
    await hoa.send("xin chào")
    assert "/start" in hoa.reply_text()


async def test_language_switch_by_number(person, db):
    hoa = person(1023)
    await register(hoa)
    await hoa.press("1.")
    await hoa.send("/language")
    await hoa.send("2")
    assert "English" in hoa.reply_text()
    member = await members.by_user(db, 1023)
    assert member is not None and member.locale == "en"
    await hoa.send("/help")
    assert "/me" in hoa.reply_text() and "profile" in hoa.reply_text()


async def test_the_language_and_a_setting_by_their_words(person, db):
    hoa = person(1030)
    await register(hoa)
    await hoa.press("1.")
    await hoa.send("/language")
    await hoa.send("tiếng anh")
    assert "Language changed to 🇬🇧 English" in hoa.reply_text()
    await hoa.send("/language")
    await hoa.send("Tiếng Việt")
    assert "Đã chuyển ngôn ngữ sang 🇻🇳 Tiếng Việt" in hoa.reply_text()
    await hoa.send("/settings")
    await hoa.send("nhắc môi trường")  # the reminders' words, without the state or emoji
    assert "không nhận lời nhắc" in hoa.reply_text().lower(), hoa.reply_text()
    member = await members.by_user(db, 1030)
    assert member is not None and member.locale == "vi"


async def test_start_in_the_middle_of_registering_says_so_and_does_not_restart(person, db):
    hoa = person(1031)
    await hoa.send("/start HM-HL-02")
    welcome = hoa.reply_text()
    await hoa.send("/start")  # at the consent step: not the whole welcome again
    again = hoa.reply_text()
    assert "đang đăng ký" in again and "/cancel" in again, again
    assert len(again) < len(welcome) / 2
    await hoa.press("1.")
    await hoa.send("Nguyễn Thị Hoa")
    await hoa.send("/start")  # later: the step's question again, her answers kept
    assert "đang đăng ký" in hoa.reply_text() and "điện thoại" in hoa.reply_text()
    await hoa.send("0912345678")
    assert "Chi hội tổ dân phố số 2" in hoa.reply_text(), "the deep link's chapter is kept"


async def test_an_unexpected_failure_is_logged_and_apologised_for(person, db, api, caplog):
    from telegram.error import NetworkError

    hoa = person(1030)
    await hoa.send("/start")
    await hoa.press("1.")
    api.raise_next("sendMessage", NetworkError("connection reset"))
    await hoa.send("Nguyễn Thị Hoa")
    assert "Xin lỗi" in hoa.reply_text()
    assert any("update" in r.getMessage() and r.levelname == "ERROR" for r in caplog.records)
    assert "Nguyễn Thị Hoa" not in caplog.text, "no message texts in the logs"
    await hoa.send("Nguyễn Thị Hoa")  # "please try again"
    assert "số điện thoại" in hoa.reply_text().lower(), "the bot kept running; the flow goes on"


async def test_cancel_outside_a_flow_says_so(person, db):
    hoa = person(1031)
    await hoa.send("/cancel")
    assert "không có việc gì" in hoa.reply_text()
