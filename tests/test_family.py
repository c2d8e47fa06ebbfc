"""/family end to end: household registration, the checklist, privacy, years, locks."""

from __future__ import annotations

import html
from datetime import UTC, datetime

import pytest

from bot.catalog import load
from bot.clock import ManualClock
from storage import campaigns, members, units
from tests.conftest import ADMIN_ID, grant, register_member

JUNE_2026 = datetime(2026, 6, 15, 3, 0, tzinfo=UTC)
CATALOG = load()
CRITERION_WORDS = {w for c in CATALOG.entries["criteria"] for w in (c.label("vi"), c.label("en"),
                                                                     c.button("vi"), c.button("en"),
                                                                     c.code)}


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(JUNE_2026)


async def household(db, user_id: int, year: int = 2026):
    member = await members.by_user(db, user_id)
    assert member is not None
    return await campaigns.registration(db, campaigns.FAMILY, member.id, year)


async def test_register_and_self_assess_with_one_message_edited_in_place(person, db, api):
    await register_member(db, 5001, "HM-HL-02")
    hoa = person(5001)
    await hoa.send("🏡 5 không, 3 sạch")
    intro = hoa.reply_text()
    assert "Gia đình 5 không, 3 sạch năm 2026" in intro and "chỉ chị xem được" in intro
    assert all(c.label("vi") in intro for c in CATALOG.criteria)
    # The eight criteria are listed once: not again as buttons or in a second message.
    assert all(intro.count(f"<b>{html.escape(c.label('vi'))}</b>") == 1 for c in CATALOG.criteria)
    assert not {b[1] for b in hoa.buttons()} & {c.button("vi") for c in CATALOG.criteria}
    await hoa.press("Đăng ký hộ")
    await hoa.press("Tôi đồng ý")  # the self-check consent, asked first
    checklist_id = hoa.buttons()[0][0]
    assert "Đã đạt: 0/8 tiêu chí" in hoa.reply_text()
    for label in ("Không đói nghèo", "Sạch nhà", "Sạch bếp", "Sạch nhà"):  # the last unticks
        await hoa.press(label)
        assert [c.method for c in hoa.replies()] == ["answerCallbackQuery", "editMessageText"]
        assert hoa.replies()[1].params["message_id"] == checklist_id
    assert "Đã đạt: 2/8 tiêu chí" in hoa.reply_text()
    labels = [b[1] for b in hoa.buttons()]
    assert "✅ Không đói nghèo" in labels and "⬜ Sạch nhà" in labels
    assert "1. ✅ Không đói nghèo" in hoa.reply_text() and "6. ⬜ Sạch nhà" in hoa.reply_text()
    assert labels[-1] == "✔ Xong" and "9. ✔ Xong" in hoa.reply_text()
    reg = await household(db, 5001)
    assert reg is not None and not reg.meets_all
    assert await campaigns.answers(db, reg.id) == {
        "no_poverty": True, "clean_house": False, "clean_kitchen": True}
    chapter = await units.by_code(db, "HM-HL-02")
    assert chapter is not None and reg.unit_id == chapter.id
    await hoa.press("Xong")
    status = hoa.reply_text()
    assert "Đã lưu phần tự đánh giá" in status and "✅ Không đói nghèo" in status
    assert hoa.errors() == []


async def test_typed_numbers_toggle_and_only_the_newest_checklist_has_buttons(person, db, api):
    await register_member(db, 5002, "HM-HL-02", name="Le Thi Mai", locale="en")
    mai = person(5002, language_code="en")
    await mai.send("/family")
    await mai.send("1")  # "I agree" to the self-check consent
    await mai.send("1")
    assert "Met: 0 of 8 criteria" in mai.reply_text()
    for number in range(1, 9):
        await mai.send(str(number))
    assert "Met: 8 of 8 criteria" in mai.reply_text()
    old_checklists = [m for m in api.messages(5002) if "Met: " in m.get("text", "")]
    assert sum(1 for m in old_checklists if m.get("reply_markup")) == 1
    await mai.send("9")  # Done
    assert "self-assessment is saved" in mai.reply_text()
    reg = await household(db, 5002)
    assert reg is not None and reg.meets_all
    await mai.send("12")
    assert "There is no option 12" in mai.reply_text()  # and the options again
    assert "1. ✏️ Update self-check" in mai.reply_text()


async def test_update_during_the_year_until_the_chapter_decides(person, db):
    await register_member(db, 5003, "HM-HL-02")
    hoa = person(5003)
    await hoa.send("/family")
    await hoa.press("Đăng ký")
    await hoa.press("Tôi đồng ý")  # the self-check consent, asked first
    for criterion in CATALOG.criteria:
        await hoa.press(criterion.button("vi"))
    checklist = hoa.buttons()
    await hoa.press("Xong")
    await hoa.send("/family")
    await hoa.press("Sửa tự đánh giá")
    await hoa.press("Sạch ngõ")
    reg = await household(db, 5003)
    assert reg is not None and not reg.meets_all
    await hoa.press("Sạch ngõ")
    reg = await household(db, 5003)
    assert reg is not None and reg.meets_all
    await campaigns.decide(db, campaigns.FAMILY, reg.id, campaigns.RECOGNISED, by=ADMIN_ID,
                           at="2026-12-20T03:00:00Z")
    message_id, _label, untick = next(b for b in checklist if "Sạch ngõ" in b[1])
    await hoa.press_data(message_id, untick)
    assert "không còn hiệu lực" in hoa.reply_text()
    reg = await household(db, 5003)
    assert reg is not None and reg.meets_all, "locked after the decision"
    await hoa.send("/family")
    assert "🎉 được công nhận gia đình “5 không, 3 sạch”" in hoa.reply_text()
    assert "reply_markup" not in hoa.replies()[-1].params


async def test_withdraw_and_stale_buttons_from_last_year(person, db, clock):
    await register_member(db, 5004, "HM-HL-02")
    hoa = person(5004)
    clock.advance((datetime(2026, 12, 31, 16, 59, tzinfo=UTC) - JUNE_2026).total_seconds())
    await hoa.send("/family")
    await hoa.press("Đăng ký")
    old = hoa.buttons()
    clock.advance(60)  # 1/1/2027 00:00 in Hà Nội
    message_id, _label, toggle = old[0]
    await hoa.press_data(message_id, toggle)
    assert "Nút này thuộc năm 2026" in hoa.reply_text()
    reg = await household(db, 5004, 2026)
    assert reg is not None and await campaigns.answers(db, reg.id) == {}
    await hoa.send("/family")
    assert "Gia đình 5 không, 3 sạch năm 2027" in hoa.reply_text()
    await hoa.press("Đăng ký hộ 2027")
    await hoa.send("/family")
    await hoa.press("Rút đăng ký")
    assert "Em đã rút đăng ký năm 2027" in hoa.reply_text()
    assert await household(db, 5004, 2027) is None
    assert await household(db, 5004, 2026) is not None


async def test_a_closed_year_refuses_changes(person, db):
    await register_member(db, 5005, "HM-HL-02")
    hoa = person(5005)
    await hoa.send("/family")
    await hoa.press("Đăng ký")
    await hoa.press("Tôi đồng ý")  # the self-check consent, asked first
    await campaigns.close_year(db, 2026, None, by=ADMIN_ID, at="2026-06-15T04:00:00Z")
    await hoa.press("Sạch bếp")
    assert "không còn hiệu lực" in hoa.reply_text() or "khóa sổ" in hoa.reply_text()
    reg = await household(db, 5005)
    assert reg is not None and await campaigns.answers(db, reg.id) == {}
    await hoa.send("/family")
    assert "đã khóa sổ" in hoa.reply_text()


async def test_heads_and_admins_never_see_criterion_answers(person, db, api):
    """Privacy: no message to a head or an admin ever carries a criterion answer."""
    head_id = await register_member(db, 5100, "HM-HL-02", name="Trần Thị Lan")
    await grant(db, head_id, "chapter_head", "HM-HL-02")
    ward_admin = await register_member(db, 5101, "HM-HL-07", name="Phạm Thị Thu")
    await grant(db, ward_admin, "unit_admin", "HM-HL")
    for user_id, ticks in ((5010, 8), (5011, 5)):
        await register_member(db, user_id, "HM-HL-02", name=f"Hội viên {user_id}")
        hoa = person(user_id)
        await hoa.send("/family")
        await hoa.press("Đăng ký")
        await hoa.press("Tôi đồng ý")  # the self-check consent, asked first
        for criterion in CATALOG.criteria[:ticks]:
            await hoa.press(criterion.button("vi"))
        await hoa.press("Xong")
        assert "Sạch nhà" in hoa.reply_text(), "she sees her own answers"
    await register_member(db, 5012, "HM-HL-02", name="Hội viên 5012")  # standard only
    heads = (5100, 5101, ADMIN_ID)
    seen = []

    async def step(who, action: str, arg: str) -> None:
        await getattr(who, action)(arg)
        seen.extend(c for c in who.replies() if c.params.get("chat_id") in heads
                    or c.method == "answerCallbackQuery")

    lan, thu, boss = person(5100), person(5101), person(ADMIN_ID)
    await step(lan, "send", "/evaluate")
    listing = lan.reply_text()
    assert "tự đánh giá đạt đủ tiêu chí, chưa bình xét" in listing
    assert "tự đánh giá chưa đạt đủ tiêu chí" in listing
    await step(lan, "press", "Hội viên 5011")
    assert "Tự đánh giá đạt đủ các tiêu chí: không" in lan.reply_text()
    await step(lan, "press", "Về danh sách")
    await step(lan, "press", "Hội viên 5010")
    assert "Tự đánh giá đạt đủ các tiêu chí: có" in lan.reply_text()
    await step(lan, "press", "Hộ: công nhận")
    await step(thu, "send", "/evaluate")
    await step(thu, "press", "số 2")
    await step(thu, "press", "Hội viên 5011")
    await step(boss, "send", "/evaluate HM-HL-02")
    await step(boss, "press", "Hội viên 5010")
    await step(boss, "send", "/year close 2026 HM-HL-02")
    await step(boss, "press", "Khóa sổ")
    texts = [str(c.params.get("text", "")) for c in seen] + [
        b.get("text", "") for c in seen
        for row in (c.params.get("reply_markup") or {}).get("inline_keyboard", []) for b in row]
    assert len(texts) > 20 and any("Hội viên 5010" in text for text in texts)
    leaked = {word for word in CRITERION_WORDS for text in texts if word in text}
    assert leaked == set(), f"criterion answers shown to a head or admin: {leaked}"
