"""Members' data rights end to end: /mydata, /deleteme, consent withdrawal and new versions."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from bot.clock import ManualClock
from handlers.kit import membership_consent
from storage import campaigns, consents, members, units
from tests.conftest import (
    Person,
    grant,
    register_member,
    start_application,
    stop_application,
)

JUNE_2026 = datetime(2026, 6, 15, 3, 0, tzinfo=UTC)
YEAR = 2026


@pytest.fixture
def clock() -> ManualClock:
    """Mid-June 2026."""
    return ManualClock(JUNE_2026)


async def member_with_history(db, user_id: int, *, locale: str = "en") -> int:
    """A member with a decided standard registration, a commitment and a household checklist."""
    member_id = await register_member(db, user_id, "HM-HL-02", name="Trần Thị Bích",
                                      locale=locale)
    chapter = await units.by_code(db, "HM-HL-02")
    assert chapter is not None
    reg, _ = await campaigns.register(db, campaigns.STANDARD, year=YEAR, member_id=member_id,
                                      unit_id=chapter.id, at="2026-02-01T01:00:00Z")
    await campaigns.set_commitment(db, reg.id, "sang_tao", "Học tiếng Anh mỗi tối",
                                   at="2026-02-01T01:00:00Z")
    await campaigns.decide(db, campaigns.STANDARD, reg.id, campaigns.ACHIEVED, by=9001,
                           at="2026-06-01T01:00:00Z")
    await campaigns.register(db, campaigns.FAMILY, year=YEAR, member_id=member_id,
                             unit_id=chapter.id, at="2026-02-01T01:00:00Z")
    return member_id


async def tick_all(app, db, member_id: int) -> None:
    """Her household meets every criterion of the catalog."""
    criteria = [c.code for c in app.bot_data.catalog.criteria]
    home = await campaigns.registration(db, campaigns.FAMILY, member_id, YEAR)
    assert home is not None
    for code in criteria:
        await campaigns.set_answer(db, home.id, code, True, live_codes=criteria,
                                   at="2026-02-02T01:00:00Z")


async def test_mydata_in_chat_and_as_a_json_file(app, person, db):
    member_id = await member_with_history(db, 7001)
    await tick_all(app, db, member_id)
    bich = person(7001, language_code="en")
    await bich.send("/mydata")
    text = bich.reply_text()
    assert "Everything the bot holds about you" in text
    assert "Trần Thị Bích" in text and "0912 345 678" in text
    assert "Chi hội tổ dân phố số 2" in text
    assert "Membership data" in text and "version 1" in text
    assert "Học tiếng Anh mỗi tối" in text and "achieved" in text
    assert text.count("✅") == len(app.bot_data.catalog.criteria)
    [document] = [c for c in bich.replies() if c.method == "sendDocument"]
    [upload] = document.files.values()
    assert upload.filename == "hoivien-mydata-2026-06-15.json"
    data = json.loads(upload.content)
    assert data["member"]["full_name"] == "Trần Thị Bích"
    assert data["member"]["phone"] == "+84912345678"
    assert data["member"]["unit_code"] == "HM-HL-02"
    assert data["consents"][0]["purpose"] == "membership"
    [standard] = data["womens_standard"]
    assert standard["result"] == "achieved"
    assert standard["commitments"][0]["text"] == "Học tiếng Anh mỗi tối"
    [household] = data["family_households"]
    assert household["meets_all"] is True and all(a["met"] for a in household["answers"])
    assert bich.errors() == []


async def test_mydata_names_her_telegram_account_as_she_knows_it(app, api, db):
    # Found on the walk: "Tài khoản Telegram: 1001" (the internal number) and "(JSON)".
    await register_member(db, 7011, "HM-HL-02", name="Nguyễn Thị Hoa")
    hoa = Person(app, api, api.user(7011, "Hoa", last_name="Nguyễn", username="hoa_ng"))
    await hoa.send("/mydata")
    text = hoa.reply_text()
    assert "Tài khoản Telegram: Hoa Nguyễn (@hoa_ng)" in text and "7011" not in text
    [document] = [c for c in hoa.replies() if c.method == "sendDocument"]
    assert document.params["caption"] == "Toàn bộ dữ liệu của chị trong một tệp."


async def test_mydata_for_someone_not_registered(person, db):
    lan = person(7002, language_code="en")
    await lan.send("/start")
    await lan.send("/mydata")
    assert "chưa đăng ký thông tin" in lan.reply_text()
    [document] = [c for c in lan.replies() if c.method == "sendDocument"]
    data = json.loads(next(iter(document.files.values())).content)
    assert data["member"] is None and data["consents"] == []
    assert data["unfinished_entries"]["reg"]["nonce"], "her half-finished registration is shown"


async def test_deleteme_erases_her_data_and_keeps_the_statistics(app, person, db, settings,
                                                                  api, clock):
    member_id = await member_with_history(db, 7003)
    await tick_all(app, db, member_id)
    await register_member(db, 7004, "HM-HL-02", name="Lê Thị Thu")  # someone else, untouched
    ward = await units.by_code(db, "HM-HL")
    assert ward is not None
    before = await campaigns.counts(db, YEAR, ward.id)
    assert (before.standard_registered, before.standard_achieved,
            before.households_meeting_all) == (1, 1, 1)

    bich = person(7003, language_code="en")
    await bich.send("/deleteme")
    question = bich.reply_text()
    assert "Delete your data?" in question and "Kept without your name" in question
    assert await members.by_user(db, 7003) is not None, "nothing happens before confirming"
    await bich.press("Yes, delete my data")
    told = bich.reply_text()
    assert "has been deleted" in told
    assert "1 campaign registration" not in told and "2 campaign registrations" in told
    assert "withdrew your consent" in told

    assert await members.by_user(db, 7003) is None
    row = await db.fetchone("SELECT telegram_user_id, chat_id, full_name, phone, status "
                            "FROM members WHERE id = ?", (member_id,))
    assert tuple(row) == (-member_id, 0, "", None, "deleted")
    assert await db.fetchall("SELECT * FROM standard_commitments") == []
    assert await db.fetchall("SELECT * FROM household_answers") == []
    [record] = await consents.of_user(db, 7003)
    assert record.purpose == "membership" and record.withdrawn_at is not None
    assert await campaigns.counts(db, YEAR, ward.id) == before, "statistics stay correct"
    assert await members.by_user(db, 7004) is not None

    # A restart recomputes households' status from answers: hers keeps its counted status.
    await stop_application(app)
    again = await start_application(settings, api, clock)
    try:
        assert await campaigns.counts(again.bot_data.db, YEAR, ward.id) == before
    finally:
        await stop_application(again)
    await app.initialize()  # the fixture shuts it down once more
    await app.bot_data.db.open()


async def test_registering_again_after_deletion_starts_fresh(person, db):
    member_id = await member_with_history(db, 7005)
    bich = person(7005, language_code="en")
    await bich.send("/deleteme")
    await bich.send("1")  # the confirmation answered by typing its number
    assert "has been deleted" in bich.reply_text()
    await bich.send("/start")
    assert "đồng ý" in bich.reply_text(), "a new registration, consent first (nothing kept, "
    "not even her language)"
    await bich.press("English")
    await bich.press("I agree")
    await bich.send("Trần Thị Bích")
    await bich.send("0912 000 111")
    await bich.press("Hoàng Liệt")
    await bich.press("số 2")
    await bich.press("Confirm")
    fresh = await members.by_user(db, 7005)
    assert fresh is not None and fresh.id != member_id and fresh.phone == "+84912000111"
    assert await campaigns.registration(db, campaigns.STANDARD, fresh.id, YEAR) is None
    history = await consents.of_user(db, 7005)
    assert [(c.withdrawn_at is None) for c in history] == [False, True]


async def test_deleteme_without_history_says_no_zero_counts(person, db):
    """Nothing kept is not said as "0 records kept"."""
    await register_member(db, 7010, "HM-HL-02")
    hoa = person(7010)
    await hoa.send("/deleteme")
    await hoa.press("Có, xóa")
    told = hoa.reply_text()
    assert "Thông tin cá nhân của chị đã được xóa" in told
    assert ": 0 " not in told and "Cũng được giữ lại" not in told


async def test_deleteme_can_be_declined(person, db):
    await register_member(db, 7006, "HM-HL-02", locale="en")
    hoa = person(7006, language_code="en")
    await hoa.send("/deleteme")
    message_id, _text, data = next(b for b in hoa.buttons() if "Yes" in b[1])
    await hoa.press("No, keep my data")
    assert "Nothing was deleted" in hoa.reply_text()
    assert await members.by_user(db, 7006) is not None
    await hoa.press_data(message_id, data)  # the old confirmation pressed again: stale
    assert "no longer active" in hoa.reply_text()
    assert await members.by_user(db, 7006) is not None


async def test_someone_not_registered_loses_her_unfinished_entries(person, db):
    lan = person(7007, language_code="en")
    await lan.send("/start")
    await lan.press("English")
    await lan.press("I agree")
    await lan.send("Lê Thị Lan")
    await lan.send("/deleteme")
    assert "unfinished entries have been deleted" in lan.reply_text()
    await lan.send("0912345678")  # the registration flow is over: not taken as her phone
    assert "/start" in lan.reply_text() and "0912" not in lan.reply_text()
    await lan.send("/start")
    assert "đồng ý" in lan.reply_text()


async def test_deleting_in_the_middle_of_editing_her_profile_ends_the_flow(person, db):
    await register_member(db, 7008, "HM-HL-02", locale="en")
    hoa = person(7008, language_code="en")
    await hoa.send("/me")
    await hoa.press("Edit my details")
    await hoa.press("Change name")
    await hoa.send("/deleteme")
    await hoa.press("Yes, delete my data")
    await hoa.send("Nguyễn Văn Nam")
    assert "Xin chào" in hoa.reply_text(), "no longer in the registration flow"
    assert await members.by_user(db, 7008) is None
    rows = await db.fetchall("SELECT name FROM conversations")
    assert rows == []


async def test_a_chapter_head_who_leaves_loses_her_role_and_menu(app, person, db, api):
    head_id = await register_member(db, 7009, "HM-HL-02", locale="en")
    await grant(db, head_id, "chapter_head", "HM-HL-02")
    lan = person(7009, language_code="en")
    await lan.send("/help")
    assert "broadcast" in {c["command"] for c in api.commands(scope={"type": "chat",
                                                                       "chat_id": 7009})}
    await lan.send("/deleteme")
    await lan.press("Yes, delete my data")
    assert await db.fetchall("SELECT * FROM roles") == []
    assert api.commands(scope={"type": "chat", "chat_id": 7009}) == []
    await lan.send("/broadcast")
    assert "không có quyền" in lan.reply_text()


async def test_withdrawing_the_membership_consent_means_deletion(person, db):
    await register_member(db, 7010, "HM-HL-02", locale="en")
    hoa = person(7010, language_code="en")
    await hoa.send("/mydata")
    await hoa.press("Withdraw:")
    assert "withdrawing it means deleting" in hoa.reply_text()
    await hoa.press("Yes, delete my data")
    assert await members.by_user(db, 7010) is None
    [erasure] = await db.fetchall("SELECT reason FROM erasures")
    assert erasure[0] == "withdrawal"


async def test_a_new_consent_version_is_asked_at_her_next_interaction(
    app, person, db, settings, api, clock, monkeypatch
):
    await register_member(db, 7011, "HM-HL-02", locale="en")
    await register_member(db, 7012, "HM-HL-02", locale="vi")
    await stop_application(app)
    monkeypatch.setattr(membership_consent, "CONSENT_VERSION", 2)
    bumped = await start_application(settings, api, clock)
    try:
        db2 = bumped.bot_data.db
        hoa = person(7011, language_code="en")
        hoa.app = bumped
        await hoa.send("/mydata")  # her rights do not wait for an answer
        assert "Everything the bot holds about you" in hoa.reply_text()
        await hoa.send("/help")
        asked = hoa.reply_text()
        assert "version 2" in asked and "Do you agree?" in asked
        assert "/standard" not in asked, "asked before anything else"
        await hoa.press("I agree")
        assert "continue" in hoa.reply_text()
        latest = (await consents.of_user(db2, 7011))[-1]
        assert (latest.version, latest.withdrawn_at) == (2, None)
        await hoa.send("/help")
        assert "/mydata" in hoa.reply_text(), "answered normally now"

        mai = person(7012)
        mai.app = bumped
        message_id, _text, _data = mai.buttons()[0] if mai.buttons() else (0, "", "")
        await mai.send("/standard")
        assert "phiên bản 2" in mai.reply_text() or "version 2" in mai.reply_text()
        await mai.press_data(message_id or 1, "std:2026:o:reg")  # another button: refused
        assert await campaigns.registration(
            db2, campaigns.STANDARD, (await members.by_user(db2, 7012)).id, YEAR) is None
        await mai.send("2")  # typed: she does not agree
        assert "/deleteme" in mai.reply_text()
        assert [c.version for c in await consents.of_user(db2, 7012)] == [1]
    finally:
        await stop_application(bumped)
    await app.initialize()
    await app.bot_data.db.open()


async def test_withdrawing_consent_from_settings(person, db):
    await register_member(db, 7013, "HM-HL-02", locale="en")
    hoa = person(7013, language_code="en")
    await hoa.send("/settings")
    assert "↩ Withdraw: membership" in [b[1] for b in hoa.buttons()]
    await hoa.press("Withdraw: membership")
    assert "withdrawing it means deleting" in hoa.reply_text()
    await hoa.send("2")  # typed: she keeps her data after all
    assert await members.by_user(db, 7013) is not None
    await hoa.send("/settings")
    await hoa.press("Withdraw: membership")
    await hoa.press("Yes, delete my data")
    assert await members.by_user(db, 7013) is None
