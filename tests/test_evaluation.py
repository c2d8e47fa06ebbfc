"""/evaluate and /year close end to end: decisions, sending the results through the outbox,
bulk, permissions, closed years."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from bot.catalog import load
from bot.clock import ManualClock
from storage import campaigns, deliveries, members, units
from tests.conftest import ADMIN_ID, grant, register_member, start_application, stop_application

JUNE_2026 = datetime(2026, 6, 15, 3, 0, tzinfo=UTC)
CATALOG = load()
DECEMBER = datetime(2026, 12, 20, 2, 0, tzinfo=UTC)  # 9:00 on 20/12/2026 in Hà Nội


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(DECEMBER)


async def send_results(app, head_person, labels: tuple[str, str] = ("Gửi kết quả", "📨 Gửi")
                       ) -> None:
    """The head presses "Gửi kết quả" and confirms; then the outbox sends."""
    await head_person.press(labels[0])
    await head_person.press(labels[1])
    await app.bot_data.delivery.run_until_idle()


def texts_to(api, chat_id: int) -> list[str]:
    """Every message the bot sent to this chat."""
    return [str(c.params["text"]) for c in api.calls
            if c.ok and c.method == "sendMessage" and c.params.get("chat_id") == chat_id]


async def enrol(db, api, user_id: int, unit_code: str = "HM-HL-02", *, name: str = "Nguyễn Thị Hoa",
                locale: str = "vi", standard: bool = True, household: bool | None = None) -> int:
    """A member registered for 2026 (household: None = not registered, else meets all or not)."""
    member_id = await register_member(db, user_id, unit_code, name=name, locale=locale)
    api.user(user_id, language_code=locale)  # she has a chat with the bot
    member = await members.get(db, member_id)
    assert member is not None and member.unit_id is not None
    if standard:
        await campaigns.register(db, campaigns.STANDARD, year=2026, member_id=member_id,
                                 unit_id=member.unit_id, at="2026-01-10T02:00:00Z")
    if household is not None:
        reg, _ = await campaigns.register(db, campaigns.FAMILY, year=2026, member_id=member_id,
                                          unit_id=member.unit_id, at="2026-01-10T02:00:00Z")
        codes = [c.code for c in CATALOG.criteria]
        for code in codes if household else codes[:1]:
            await campaigns.set_answer(db, reg.id, code, True, live_codes=codes,
                                       at="2026-01-10T02:00:00Z")
    return member_id


async def head(db, user_id: int = 6000, unit_code: str = "HM-HL-02",
               name: str = "Trần Thị Lan") -> int:
    member_id = await register_member(db, user_id, unit_code, name=name)
    await grant(db, member_id, "chapter_head", unit_code)
    return member_id


async def result(db, member_id: int, campaign: str = campaigns.STANDARD) -> str | None:
    reg = await campaigns.registration(db, campaign, member_id, 2026)
    assert reg is not None
    return reg.result


async def test_a_head_evaluates_her_chapter_in_vietnamese(app, person, db, api):
    await head(db)
    hoa = await enrol(db, api, 6001, name="Nguyễn Thị Hoa", household=True)
    mai = await enrol(db, api, 6002, name="Le Thi Mai", locale="en")
    await enrol(db, api, 6003, "HM-HL-07", name="Chi hội khác")  # another chapter
    lan = person(6000)
    await lan.send("/evaluate")
    listing = lan.reply_text()
    assert "Bình xét năm 2026" in listing and "Chi hội tổ dân phố số 2" in listing
    assert "⭐ Chuẩn mực phụ nữ: 2 đăng ký, 0 đạt, 0 chưa đạt, 2 chưa bình xét." in listing
    assert "Chi hội khác" not in listing
    # Ordered by given name: Hoa before Mai.
    assert listing.index("Nguyễn Thị Hoa") < listing.index("Le Thi Mai")
    await lan.press("Nguyễn Thị Hoa")
    assert "Tự đánh giá đạt đủ các tiêu chí: có" in lan.reply_text()
    # "Not met" is not drawn as ✖, the sign of every "✖ Hủy" she has learnt to stop with.
    assert any(label.endswith("❌ Chuẩn mực: Chưa đạt") for _, label, _ in lan.buttons())
    await lan.press("Chuẩn mực: Đạt")
    card = lan.reply_text()
    assert "Đã lưu: ⭐ đạt chuẩn" in card
    assert "Kết quả: ⭐ đạt chuẩn — do Trần Thị Lan ghi lúc 09:00 ngày 20/12/2026" in card
    await lan.press("Hộ: công nhận")
    assert "Chưa gửi cho chị ấy" in lan.reply_text()
    await lan.press("Về danh sách")
    await lan.press("Le Thi Mai")
    await lan.press("Chưa đạt")
    await lan.press("Về danh sách")
    assert "📨 2 kết quả chưa gửi" in lan.reply_text()
    await app.bot_data.delivery.run_until_idle()
    assert texts_to(api, 6001) == [] and texts_to(api, 6002) == [], "nothing before 'Gửi'"
    await lan.press("Gửi kết quả (2)")
    confirm = lan.reply_text()
    assert "Gửi kết quả bình xét năm 2026 của Phường Hoàng Liệt › Chi hội tổ dân phố số 2 " \
        "cho 2 hội viên?" in confirm
    assert "⭐ Chuẩn mực phụ nữ: 1 đạt, 1 chưa đạt." in confirm
    assert "🏡 Hộ gia đình: 1 được công nhận, 0 chưa được công nhận." in confirm
    await lan.press("📨 Gửi")
    assert "Em đang gửi kết quả cho 2 hội viên" in lan.reply_text()
    assert "chưa gửi" not in lan.reply_text(), "the list no longer counts them"
    await app.bot_data.delivery.run_until_idle()
    told = texts_to(api, 6001)
    assert len(told) == 1, "one message with both of her results"
    assert told[0].startswith("🎉 Chúc mừng chị! Chi hội đã bình xét chuẩn mực phụ nữ năm 2026")
    assert "được công nhận là gia đình “5 không, 3 sạch” năm 2026" in told[0]
    assert "tiêu chí" not in told[0], "never which criterion"
    assert len(texts_to(api, 6002)) == 1
    assert "not achieved this time" in texts_to(api, 6002)[0], "told in her own language"
    assert "Đã gửi tới: 2/2 hội viên" in api.last_text(6000), "the engine's delivery report"
    assert await result(db, hoa) == campaigns.ACHIEVED
    assert await result(db, hoa, campaigns.FAMILY) == campaigns.RECOGNISED
    assert await result(db, mai) == campaigns.NOT_ACHIEVED
    reg = await campaigns.registration(db, campaigns.STANDARD, hoa, 2026)
    assert reg is not None and (reg.decided_by, reg.decided_at) == (6000, "2026-12-20T02:00:00Z")
    assert lan.errors() == []


async def test_an_admin_in_english_changes_a_decision_and_corrects_it_after_sending(
        app, person, db, api, clock):
    ward_admin = await register_member(db, 6100, "HM-HL-07", name="Pham Thi Thu", locale="en")
    await grant(db, ward_admin, "unit_admin", "HM-HL")
    hoa = await enrol(db, api, 6101, name="Nguyễn Thị Hoa")
    thu = person(6100, language_code="en")
    await thu.send("/evaluate")
    assert "Which chapter?" in thu.reply_text()
    assert "Yên Sở" not in str(thu.buttons()), "only her ward's chapters"
    await thu.press("số 2")
    await thu.press("Nguyễn Thị Hoa")
    await thu.press("Standard: achieved")
    assert "by Pham Thi Thu" in thu.reply_text()
    clock.advance(3600)
    await thu.press("Standard: not met")
    assert "Saved: ⭐ not achieved" in thu.reply_text()
    await thu.press("Standard: not met")  # the same again: no change
    history = await campaigns.decisions(db, campaigns.STANDARD, (
        await campaigns.registration(db, campaigns.STANDARD, hoa, 2026)).id)  # type: ignore[union-attr]
    assert [(r["result"], r["decided_at"]) for r in history] == [
        ("achieved", "2026-12-20T02:00:00Z"), ("not_achieved", "2026-12-20T03:00:00Z")]
    await thu.press("Back to the list")
    await send_results(app, thu, ("Send results", "📨 Send"))
    told = texts_to(api, 6101)
    assert len(told) == 1 and "lần này chị chưa đạt" in told[0], "only the final decision"
    # A correction after sending is unsent again, and says it is a correction.
    await thu.press("Nguyễn Thị Hoa")
    assert "Standard: not decided yet" not in str(thu.buttons()), "sent: correct, not undo"
    await thu.press("Standard: achieved")
    await thu.press("Back to the list")
    assert "📨 1 member's results are not sent yet" in thu.reply_text()
    await thu.press("Send results (1)")
    assert "1 result corrects one sent before" in thu.reply_text()
    await thu.press("📨 Send")
    await app.bot_data.delivery.run_until_idle()
    told = texts_to(api, 6101)
    assert len(told) == 2 and "đã điều chỉnh kết quả bình xét năm 2026" in told[1]
    assert "đã đạt chuẩn" in told[1] and "chưa đạt" not in told[1]
    unit = (await units.by_code(db, "HM-HL-02")).id  # type: ignore[union-attr]
    await thu.press_data(thu.buttons()[0][0], f"ev:l:{unit}:2026:o:send")  # stale: nothing new
    assert "nothing new to send" in thu.reply_text()
    await thu.press("Back to the list")
    await thu.press("Another chapter")
    assert "Which chapter?" in thu.reply_text()
    assert len(texts_to(api, 6101)) == 2


async def test_mark_all_remaining_then_send_one_message_each_for_a_big_chapter(app, person,
                                                                              db, api):
    """~200 members: pages stay under the limits, nothing leaves before "Gửi", then one
    message each through the outbox; a member who blocked the bot does not stop the others."""
    await head(db)
    ids = [await enrol(db, api, 7000 + i, name=f"Hội Viên Số {i:03d}") for i in range(200)]
    decided = ids[5]
    await campaigns.decide(db, campaigns.STANDARD, (await campaigns.registration(
        db, campaigns.STANDARD, decided, 2026)).id, campaigns.NOT_ACHIEVED, by=ADMIN_ID,  # type: ignore[union-attr]
        at="2026-12-19T02:00:00Z")
    api.block(7007)
    lan = person(6000)
    await lan.send("/evaluate")
    first = lan.replies()[-1].params
    assert len(first["text"]) < 4096 and "Trang 1/25." in first["text"]
    assert len(first["reply_markup"]["inline_keyboard"]) < 15
    await lan.press("▶")
    assert "Trang 2/25." in lan.reply_text()
    await lan.send("202")  # typed: "mark all" comes after the 200 members and "Gửi kết quả"
    assert "199 hội viên" in lan.reply_text() and "khi chị gửi kết quả" in lan.reply_text()
    await lan.press("Đồng ý")
    assert "✅ Đã đánh dấu 199 hội viên đạt chuẩn." in lan.reply_text()
    assert "📨 200 kết quả chưa gửi" in lan.reply_text()
    member_chats = set(range(7000, 7200))
    await app.bot_data.delivery.run_until_idle()
    assert not [c for c in api.calls if c.params.get("chat_id") in member_chats]
    await lan.press("Gửi kết quả (200)")
    assert "⭐ Chuẩn mực phụ nữ: 199 đạt, 1 chưa đạt." in lan.reply_text()
    await lan.press("📨 Gửi")
    await app.bot_data.delivery.run_until_idle()
    told = [c.params["chat_id"] for c in api.calls if c.ok and c.method == "sendMessage"
            and c.params.get("chat_id") in member_chats]
    assert sorted(told) == sorted(member_chats - {7007}), "one message each"
    assert "chị đã đạt chuẩn" in texts_to(api, 7001)[0]
    assert "lần này chị chưa đạt" in texts_to(api, 7005)[0]
    report = api.last_text(6000)
    assert "Đã gửi tới: 199/200 hội viên" in report and "chặn" in report
    counts = await campaigns.counts(db, 2026, (await units.by_code(db, "HM-HL-02")).id)  # type: ignore[union-attr]
    assert (counts.standard_achieved, counts.standard_not_achieved) == (199, 1)
    assert await result(db, decided) == campaigns.NOT_ACHIEVED, "a decision is not overwritten"


async def test_households_are_recognised_only_when_they_meet_every_criterion(person, db, api):
    await head(db)
    eligible = await enrol(db, api, 6201, name="Đỗ Thị An", household=True)
    other = await enrol(db, api, 6202, name="Vũ Thị Bình", household=False)
    lan = person(6000)
    await lan.send("/evaluate")
    await lan.press("Vũ Thị Bình")
    assert not any("Hộ: công nhận" in b[1] for b in lan.buttons())
    message_id = lan.buttons()[0][0]
    unit = (await units.by_code(db, "HM-HL-02")).id  # type: ignore[union-attr]
    await lan.press_data(message_id, f"ev:c:{unit}:2026:0:{other}:o:fr")  # forged
    assert "chưa tự đánh giá đạt đủ" in lan.reply_text()
    assert await result(db, other, campaigns.FAMILY) is None
    await lan.press("Về danh sách")
    await lan.press("Công nhận hộ đủ")
    await lan.press("Đồng ý")
    assert "Đã công nhận 1 hộ" in lan.reply_text()
    assert await result(db, eligible, campaigns.FAMILY) == campaigns.RECOGNISED


async def test_every_press_is_authorised(person, db, api):
    head_a = await head(db, 6300, "HM-HL-02")
    await head(db, 6301, "HM-HL-07", name="Head B")
    in_b = await enrol(db, api, 6302, "HM-HL-07", name="Member In B")
    member = await enrol(db, api, 6303, "HM-HL-02", name="Plain Member")
    unit_a = (await units.by_code(db, "HM-HL-02")).id  # type: ignore[union-attr]
    unit_b = (await units.by_code(db, "HM-HL-07")).id  # type: ignore[union-attr]
    a = person(6300)
    await a.send("/evaluate HM-HL-07")
    assert "không có quyền" in a.reply_text()
    for forged in (f"ev:l:{unit_b}:2026:o:{in_b}", f"ev:c:{unit_b}:2026:0:{in_b}:o:sa",
                   f"ev:k:{unit_b}:2026:s:o:yes", f"ev:n:2026:{unit_b}:o:{unit_b}"):
        await a.press_data(1, forged)
        assert "không có quyền" in a.reply_text(), forged
    # Her own chapter in the data, another chapter's member: not on her list.
    await a.press_data(1, f"ev:c:{unit_a}:2026:0:{in_b}:o:sa")
    assert "không có trong danh sách" in a.reply_text()
    for forged in ("ev:c:x:2026:0:1:o:sa", "ev:l:1", f"ev:l:{unit_a}:2099:o:alls", "ev"):
        await a.press_data(1, forged)
        assert "không còn hiệu lực" in a.reply_text(), forged
    plain = person(6303)
    await plain.press_data(1, f"ev:c:{unit_a}:2026:0:{member}:o:sa")
    assert "không có quyền" in plain.reply_text()
    await plain.send("/evaluate")
    assert "không có quyền" in plain.reply_text()
    await plain.send("/year close 2026")
    assert "không có quyền" in plain.reply_text()
    assert await result(db, in_b) is None and await result(db, member) is None
    assert head_a


async def test_two_heads_last_decision_wins_and_both_see_the_current_state(person, db, api):
    await head(db, 6400, "HM-HL-02", name="Trần Thị Lan")
    admin = await register_member(db, 6401, "HM-HL-07", name="Phạm Thị Thu")
    await grant(db, admin, "unit_admin", "HM-HL")
    hoa = await enrol(db, api, 6402, name="Nguyễn Thị Hoa")
    lan, thu = person(6400), person(6401)
    await lan.send("/evaluate")
    await lan.press("Nguyễn Thị Hoa")
    await thu.send("/evaluate HM-HL-02")
    await thu.press("Nguyễn Thị Hoa")
    await lan.press("Chuẩn mực: Đạt")
    await thu.press("Chuẩn mực: Chưa đạt")  # on a card that still showed "not decided"
    assert "do Phạm Thị Thu ghi" in thu.reply_text()
    assert await result(db, hoa) == campaigns.NOT_ACHIEVED
    await lan.press("Chuẩn mực: Chưa đạt")  # the same as now: no change, the current state
    assert "⭐ chưa đạt — do Phạm Thị Thu ghi" in lan.reply_text()
    history = await campaigns.decisions(db, campaigns.STANDARD, (
        await campaigns.registration(db, campaigns.STANDARD, hoa, 2026)).id)  # type: ignore[union-attr]
    assert [r["decided_by"] for r in history] == [6400, 6401]


async def test_a_unit_admin_closes_a_year_for_her_ward(app, person, db, api):
    await head(db)
    admin = await register_member(db, 6501, "HM-HL-07", name="Phạm Thị Thu")
    await grant(db, admin, "unit_admin", "HM-HL")
    hoa = await enrol(db, api, 6502, name="Nguyễn Thị Hoa", household=True)
    elsewhere = await enrol(db, api, 6503, "HM-YS-03", name="Yên Sở Member")
    lan, thu = person(6000), person(6501)
    await lan.send("/evaluate")
    await lan.press("Nguyễn Thị Hoa")
    await lan.press("Hộ: chưa công nhận")  # decided, not sent
    card = lan.buttons()
    await lan.send("/year close 2026")
    assert "không có quyền" in lan.reply_text(), "chapter heads cannot close a year"
    await thu.send("/year")
    assert "/year close" in thu.reply_text()
    assert "Chưa khóa sổ năm nào; các năm 2026 · 2025 vẫn đang mở." in thu.reply_text(), (
        "found on the walk: 'Chưa có: 2026 · 2025 đang mở.' read as 'none: 2026'")
    await thu.send("/year close 2027")
    assert "từ 2000 đến 2026" in thu.reply_text()
    await thu.send("/year close 2026 HM-YS")
    assert "không có quyền" in thu.reply_text()
    await thu.send("/year close 2026")
    assert "Khóa sổ năm 2026 cho Phường Hoàng Liệt?" in thu.reply_text()
    assert "chưa kết thúc" in thu.reply_text()
    assert "Còn 1 hội viên chưa được gửi kết quả" in thu.reply_text()
    await thu.send("1")  # typed confirmation
    assert "Đã khóa sổ năm 2026 cho Phường Hoàng Liệt" in thu.reply_text()
    await thu.send("/year close 2026")
    assert "đã được khóa sổ" in thu.reply_text()
    # Read-only: a stale card button, the bulk action, the member's own changes.
    message_id, _label, achieved = next(b for b in card if "Đạt" in b[1])
    await lan.press_data(message_id, achieved)
    assert "đã khóa sổ" in lan.reply_text()
    assert await result(db, hoa) is None
    unit = (await units.by_code(db, "HM-HL-02")).id  # type: ignore[union-attr]
    await lan.press_data(message_id, f"ev:k:{unit}:2026:s:o:yes")
    assert "đã khóa sổ" in lan.reply_text() and await result(db, hoa) is None
    await lan.send("/evaluate")
    assert "đã khóa sổ" in lan.reply_text() and "Đánh dấu tất cả" not in lan.reply_text()
    assert "Gửi kết quả" not in str(lan.buttons()), "a closed year's results are never sent"
    await lan.press_data(message_id, f"ev:g:{unit}:2026:o:yes")  # a forged send
    await app.bot_data.delivery.run_until_idle()
    assert texts_to(api, 6502) == []
    member = person(6502)
    await member.send("/standard")
    assert "đã khóa sổ" in member.reply_text()
    # Another ward is still open; a super-admin can evaluate it.
    boss = person(ADMIN_ID)
    await boss.send("/evaluate HM-YS-03")
    await boss.press("Yên Sở Member")
    await boss.press("Chuẩn mực: Đạt")
    assert await result(db, elsewhere) == campaigns.ACHIEVED
    assert "cán bộ Hội" in boss.reply_text(), "a super-admin without membership"
    await boss.send("/year close 2026")
    assert "toàn bộ các đơn vị" in boss.reply_text()
    await boss.press("Hủy")
    assert "vẫn mở" in boss.reply_text()
    assert await campaigns.is_closed(db, 2026, (await units.by_code(db, "HM-YS-03")).id) is False  # type: ignore[union-attr]


async def test_last_years_evaluation_in_january(person, db, api, clock):
    await head(db)
    hoa = await enrol(db, api, 6601, name="Nguyễn Thị Hoa")
    clock.advance((datetime(2026, 12, 31, 17, 5, tzinfo=UTC) - DECEMBER).total_seconds())
    lan = person(6000)
    await lan.send("/evaluate")
    assert "Bình xét năm 2027" in lan.reply_text()
    assert "Chưa có hội viên nào" in lan.reply_text()
    await lan.press("Bình xét năm 2026")
    await lan.press("Nguyễn Thị Hoa")
    await lan.press("Chuẩn mực: Đạt")
    assert await result(db, hoa) == campaigns.ACHIEVED
    await lan.send("/evaluate 2026")
    assert "Bình xét năm 2026" in lan.reply_text() and "1 đạt" in lan.reply_text()
    await lan.send("/evaluate 2031")
    assert "từ 2000 đến 2027" in lan.reply_text()


async def test_command_menus_by_role(person, db, api):
    for locale in ("vi", "en"):
        names = [c["command"] for c in api.commands(language_code=locale)]
        assert "standard" in names and "family" in names and "evaluate" not in names
    await head(db)
    lan = person(6000)
    await lan.send("/start")
    scoped = api.commands(scope={"type": "chat", "chat_id": 6000}, language_code="vi")
    names = [c["command"] for c in scoped]
    assert "evaluate" in names and "year" not in names
    keyboard = lan.replies()[-1].params["reply_markup"]["keyboard"]
    labels = [b["text"] if isinstance(b, dict) else b for row in keyboard for b in row]
    assert "⭐ Chuẩn mực phụ nữ" in labels and "🏡 5 không, 3 sạch" in labels
    await person(ADMIN_ID).send("/start")
    admin = {c["command"]: c["description"] for c in api.commands(
        scope={"type": "chat", "chat_id": ADMIN_ID}, language_code="en")}
    assert admin["year"].startswith("Close a year")


async def test_per_chapter_per_year_counts_use_the_indexes(db):
    for table, index in (("standard_registrations", "standard_by_year_unit"),
                         ("household_registrations", "households_by_year_unit")):
        plan = " ".join(str(tuple(r)) for r in await db.fetchall(
            f"EXPLAIN QUERY PLAN SELECT unit_id, count(*) FROM {table}"
            " WHERE year = 2026 AND unit_id IN (3, 4, 5) GROUP BY unit_id"))
        assert f"COVERING INDEX {index}" in plan, plan


async def test_a_slip_corrected_before_sending_never_reaches_her(app, person, db, api):
    await head(db)
    hoa = await enrol(db, api, 6701, name="Nguyễn Thị Hoa")
    binh = await enrol(db, api, 6702, name="Vũ Thị Bình", household=True)
    lan = person(6000)
    await lan.send("/evaluate")
    await lan.press("Nguyễn Thị Hoa")
    await lan.press("Chuẩn mực: Chưa đạt")  # the slip
    await lan.press("Chuẩn mực: Đạt")  # corrected at once
    await lan.press("Về danh sách")
    await lan.press("Vũ Thị Bình")
    await lan.press("Chuẩn mực: Chưa đạt")
    await lan.press("Hộ: công nhận")
    await lan.press("Hủy ghi chuẩn mực")  # taken back: undecided again
    assert "Đã hủy ghi" in lan.reply_text() and "Kết quả: ⏳ chưa bình xét" in lan.reply_text()
    assert await result(db, binh) is None
    await app.bot_data.delivery.run_until_idle()
    assert texts_to(api, 6701) == [] and texts_to(api, 6702) == []
    await lan.press("Về danh sách")
    await send_results(app, lan)
    assert len(texts_to(api, 6701)) == 1 and "đã đạt chuẩn" in texts_to(api, 6701)[0]
    assert "chưa đạt" not in texts_to(api, 6701)[0], "the slip never reached her"
    told = texts_to(api, 6702)
    assert len(told) == 1 and "được công nhận" in told[0] and "chuẩn mực" not in told[0], \
        "a taken-back decision sends nothing"
    history = await campaigns.decisions(db, campaigns.STANDARD, (
        await campaigns.registration(db, campaigns.STANDARD, binh, 2026)).id)  # type: ignore[union-attr]
    assert [r["result"] for r in history] == ["not_achieved", "undecided"], "logged"
    assert hoa


async def test_a_restart_between_confirming_and_sending_sends_exactly_once(
        app, settings, person, db, api, clock):
    await head(db)
    await enrol(db, api, 6801, name="Nguyễn Thị Hoa")
    await enrol(db, api, 6802, name="Le Thi Mai", locale="en")
    lan = person(6000)
    await lan.send("/evaluate")
    await lan.press("Còn lại đạt")
    await lan.press("Đồng ý")
    await lan.press("Gửi kết quả (2)")
    message_id, _label, send = next(b for b in lan.buttons() if "📨 Gửi" in b[1])
    await lan.press_data(message_id, send)
    await lan.press_data(message_id, send)  # a double tap
    assert "Em chưa gửi gì" in lan.reply_text()
    # The process dies before its outbox sent anything; a new one starts on the same database.
    fresh = await start_application(settings, api, clock)
    try:
        await fresh.bot_data.delivery.run_until_idle()
        await fresh.bot_data.delivery.run_until_idle()
    finally:
        await stop_application(fresh)
    await app.bot_data.delivery.run_until_idle()  # the old one, had it survived: nothing more
    assert len(texts_to(api, 6801)) == 1 and "đã đạt chuẩn" in texts_to(api, 6801)[0]
    assert len(texts_to(api, 6802)) == 1 and "you achieved it" in texts_to(api, 6802)[0]


async def test_a_forged_send_by_another_wards_head_is_refused(app, person, db, api):
    await head(db, 6900, "HM-HL-02")
    await head(db, 6901, "HM-YS-03", name="Head Yên Sở")
    hoa = await enrol(db, api, 6902, name="Nguyễn Thị Hoa")
    await campaigns.decide(db, campaigns.STANDARD, (await campaigns.registration(
        db, campaigns.STANDARD, hoa, 2026)).id, campaigns.NOT_ACHIEVED, by=6900,  # type: ignore[union-attr]
        at="2026-12-20T02:00:00Z")
    unit = (await units.by_code(db, "HM-HL-02")).id  # type: ignore[union-attr]
    other = person(6901)
    for forged in (f"ev:l:{unit}:2026:o:send", f"ev:g:{unit}:2026:o:yes"):
        await other.press_data(1, forged)
        assert "không có quyền" in other.reply_text(), forged
    await app.bot_data.delivery.run_until_idle()
    assert texts_to(api, 6902) == []
    assert len(await campaigns.unsent(db, 2026, unit)) == 1, "still waiting for her own head"


async def test_stopped_and_erased_members(app, person, db, api):
    """A stopped member's delivery is skipped by the outbox; an erased one is never sent to."""
    await head(db)
    stopped = await enrol(db, api, 7301, name="Đỗ Thị An")
    erased = await enrol(db, api, 7302, name="Vũ Thị Bình")
    await enrol(db, api, 7303, name="Nguyễn Thị Hoa")
    lan = person(6000)
    await lan.send("/evaluate")
    await lan.press("Còn lại đạt")
    await lan.press("Đồng ý")
    await members.set_status(db, stopped, "stopped")
    bich = person(7302)
    await bich.send("/deleteme")
    await bich.send("1")  # confirmed by typing
    assert (await members.get(db, erased)).status == "deleted"  # type: ignore[union-attr]
    her_chat = len(texts_to(api, 7302))
    await lan.send("/evaluate")
    assert "📨 2 kết quả chưa gửi" in lan.reply_text(), "the erased member is not counted"
    await send_results(app, lan)
    assert texts_to(api, 7301) == [] and len(texts_to(api, 7302)) == her_chat
    assert len(texts_to(api, 7303)) == 1
    found = await deliveries.recent_in_units(db, None)
    assert all(b.kind == "notice" for b in found), "results are not listed in /broadcasts"
    report = api.last_text(6000)
    assert "Đã gửi tới: 1/2 hội viên" in report and "Bỏ qua (đã tắt thông báo): 1" in report
