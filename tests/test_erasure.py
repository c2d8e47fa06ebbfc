"""Erasure that erases: after /deleteme nothing in the database names her (issue 10 §2).

A member with a rich history (registered in chat, the standard with a commitment, a household
checklist, reports with notes and a photo, a doubt mark naming her, a head who sends and
schedules notices, in the heads' summary, decisions, a target, reminder edits, an export, audit
entries about her) erases her data; then EVERY table and column of the database, read from
sqlite_master, is searched for her name, phone, Telegram id and the free texts she wrote or
that were written about her. A new table is covered without touching this test.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import UTC, datetime, timedelta

import pytest

from bot import reminders as scheduler
from bot.clock import ManualClock
from storage import (
    activities,
    admin,
    audit,
    campaigns,
    deliveries,
    exports,
    figures,
    reminders,
    roles,
    support,
    targets,
    units,
)
from storage.activities import NewReport
from storage.db import Database, to_iso
from storage.figures import Figure
from storage.targets import TargetRow
from tests.conftest import ADMIN_ID, grant, register_member

# Sunday 29 March 2026, 20:00 in Hà Nội: the heads' summary of that environment day is due.
SUNDAY_EVENING = datetime(2026, 3, 29, 13, 0, tzinfo=UTC)
YEAR = 2026
TG = 5_550_123_987  # her Telegram id: distinctive, so a hit is never a coincidence
NAME = "Phạm Thị Ngọc Diệp"
PHONE_TYPED = "0987 654 321"
HEAD, OTHER = 6101, 6102
COMMITMENT = "Tôi sẽ học vi tính cùng cháu ngoại mỗi tối"
NOTE = "Nhặt rác ở ngõ 12 cùng tổ 3, rất vui"
NOTE_KG = "Vỏ chai và giấy báo cũ của cả dãy trọ"
FLAG_ABOUT_HER = "Chị Diệp báo 40 kg trong một buổi, cần xem lại giúp em"
HER_NOTICE = "Tối thứ Sáu họp chi hội bàn việc trồng hoa ở ngõ 12"
HER_SCHEDULED = "Chủ nhật tổng vệ sinh ngõ 34, mang chổi và găng tay"
NOTICE_ABOUT_HER = f"Chúc mừng chị {NAME} ({PHONE_TYPED}) được khen thưởng"
HER_REQUEST = "Chồng tôi hay quát mắng con, tôi cần người hòa giải"
HER_ANSWER = "Tối thứ Ba tôi ở nhà, mời cán bộ đến"

# What the README ("Members' data rights") names as kept with her Telegram id, and why: the
# record that she withdrew her consent, the union's proof that it honoured her wish.
KEPT = {("consents", "telegram_user_id")}


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(SUNDAY_EVENING)


def _needles() -> dict[str, list[str]]:
    """What identifies her in a text, by kind (compared case-insensitively)."""
    nfc = unicodedata.normalize("NFC", NAME)
    return {
        "name": [nfc, unicodedata.normalize("NFD", NAME)],
        "phone": ["+84987654321", "0987654321", "84987654321"],
        "telegram id": [str(TG)],
        "free text": [COMMITMENT, NOTE, NOTE_KG, FLAG_ABOUT_HER, HER_NOTICE, HER_SCHEDULED,
                      NOTICE_ABOUT_HER, HER_REQUEST, HER_ANSWER],
    }


def _hit(value: object) -> str | None:
    """Which kind of her data a stored value holds, if any."""
    if isinstance(value, int) and not isinstance(value, bool):
        return "telegram id" if value == TG else None
    if not isinstance(value, str):
        return None
    folded = value.casefold()
    squeezed = re.sub(r"[\s.\-()]", "", folded)  # "0987 654 321", "0987.654.321"
    for kind, needles in _needles().items():
        for needle in needles:
            if needle.casefold() in folded or (kind == "phone" and needle in squeezed):
                return kind
    return None


async def scan(db: Database) -> dict[str, set[str]]:
    """table.column → the kinds of her data found there, over every table of the database."""
    found: dict[str, set[str]] = {}
    tables = [r[0] for r in await db.fetchall(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'")]
    assert len(tables) >= 25, tables  # the schema really is read, not a fixed list
    for table in tables:
        columns = [r[1] for r in await db.fetchall(f"PRAGMA table_info({table})")]
        for row in await db.fetchall(f"SELECT * FROM {table}"):
            for column, value in zip(columns, tuple(row), strict=True):
                kind = _hit(value)
                if kind is not None:
                    found.setdefault(f"{table}.{column}", set()).add(kind)
    return found


async def rich_history(app, db, api, person, clock) -> dict[str, int]:
    """Build her history, mostly through the chat; returns ids the checks need."""
    chapter = await units.by_code(db, "HM-HL-02")
    ward = await units.by_code(db, "HM-HL")
    assert chapter is not None and ward is not None
    for user_id in (TG, HEAD, OTHER, ADMIN_ID):
        api.add_chat(user_id)
    head = await register_member(db, HEAD, "HM-HL-02", name="Trần Thị Lan")
    await grant(db, head, "chapter_head", "HM-HL-02")
    other = await register_member(db, OTHER, "HM-HL-02", name="Lê Thị Mai")

    # She registers in chat, typing her phone as people do.
    diep = person(TG, language_code="vi")
    await diep.send("/start")
    await diep.press("Tôi đồng ý")
    await diep.send(NAME)
    await diep.send(PHONE_TYPED)
    await diep.press("Hoàng Liệt")
    await diep.press("số 2")
    await diep.press("Xác nhận")
    row = await db.fetchone("SELECT id FROM members WHERE telegram_user_id = ?", (TG,))
    assert row is not None, diep.reply_text()
    me = int(row[0])

    # Campaigns: a commitment, a household checklist; reports with notes and a photo.
    reg, _ = await campaigns.register(db, campaigns.STANDARD, year=YEAR, member_id=me,
                                      unit_id=chapter.id, at="2026-02-01T01:00:00Z")
    await campaigns.set_commitment(db, reg.id, "sang_tao", COMMITMENT, at="2026-02-01T01:00:00Z")
    home, _ = await campaigns.register(db, campaigns.FAMILY, year=YEAR, member_id=me,
                                       unit_id=chapter.id, at="2026-02-01T01:00:00Z")
    codes = [c.code for c in app.bot_data.catalog.criteria]
    for code in codes:
        await campaigns.set_answer(db, home.id, code, code != codes[2], live_codes=codes,
                                   at="2026-02-02T01:00:00Z")
    sent = api.message_update(api.user(TG), photo=True)
    photo = sent["message"]["photo"][-1]["file_id"]
    await activities.add(db, NewReport(me, chapter.id, "sunday_environment", "2026-03-29",
                                       note=NOTE, photo_file_id=photo), at=to_iso(clock.now()))
    await activities.add(db, NewReport(me, chapter.id, "waste_to_money", "2026-03-28",
                                       quantity=40.0, note=NOTE_KG), at=to_iso(clock.now()))
    others = await activities.add(db, NewReport(other, chapter.id, "waste_to_money",
                                                "2026-03-27", quantity=3.0),
                                  at=to_iso(clock.now()))

    # Her head marks her report as doubtful, with a reason that names her.
    lan = person(HEAD)
    await lan.send("/chapter")
    await lan.press(NAME.split()[-1] + " · ")
    await lan.press("Cần xem lại")
    await lan.send(FLAG_ABOUT_HER)
    assert "Đã đánh dấu cần xem lại" in lan.reply_text()

    # She becomes a chapter head and, for a while, a ward officer (audited, about her).
    at = to_iso(clock.now())
    assert await admin.grant(db, me, "chapter_head", chapter.id, by=ADMIN_ID, at=at)
    assert await admin.grant(db, me, "unit_admin", ward.id, by=ADMIN_ID, at=at)
    await audit.log(db, at=at, actor_id=ADMIN_ID, action="member.note", unit_id=chapter.id,
                    member_id=me, details={"name": NAME, "phone": "+84987654321", "user": TG})
    # As an officer she set a target, edited a reminder, decided, marked, closed a year and
    # asked for an export.
    await targets.set_many(db, [TargetRow(ward.id, YEAR, "standard_achieved", 90)], by=TG,
                           at=at, source="chat")
    # … and entered and corrected a unit figure (issue 13: the figure stays, her id does not).
    await figures.enter(db, Figure(ward.id, "2026-03", "works", 3), by=TG, at=at)
    await figures.enter(db, Figure(ward.id, "2026-03", "works", 4), by=TG, at=at)
    [sunday] = [s for s in await reminders.schedules(db) if s.code == "sunday"]
    await reminders.set_text(db, sunday.id, ward.id, "Chủ nhật này phường ra quân lúc 6 giờ",
                             by=TG, at=at)
    await reminders.set_enabled(db, sunday.id, True, by=TG, at=at)
    await reminders.add_pause(db, sunday.id, "2027-02-14", "2027-02-22", by=TG, at=at)
    lan_reg, _ = await campaigns.register(db, campaigns.STANDARD, year=YEAR, member_id=head,
                                          unit_id=chapter.id, at="2026-02-01T01:00:00Z")
    await campaigns.decide(db, campaigns.STANDARD, lan_reg.id, campaigns.ACHIEVED, by=TG, at=at)
    await activities.flag(db, others.id, by=TG, reason="Ảnh chụp lại của tuần trước", at=at)
    await campaigns.close_year(db, 2025, chapter.id, by=TG, at=at)
    await exports.create(db, requested_by=TG, chat_id=TG, locale="vi", unit_id=ward.id,
                         year=YEAR, format="xlsx", at=at)
    assert await admin.revoke(db, me, "unit_admin", ward.id, by=ADMIN_ID, at=at)

    # As a head she sends a notice now and schedules another.
    await diep.send("/broadcast")
    await diep.press("Tất cả hội viên")
    await diep.send(HER_NOTICE)
    await diep.press("Gửi ngay")
    await diep.send("/broadcast")
    await diep.press("Tất cả hội viên")
    await diep.send(HER_SCHEDULED)
    await diep.press("Hẹn giờ")
    later = clock.now().astimezone(app.bot_data.settings.timezone) + timedelta(days=2)
    await diep.send(f"{later.day}/{later.month}/{later.year} 07:30")
    assert "Đã hẹn gửi" in diep.reply_text()
    # Her head's notice names her (and her phone).
    await lan.send("/broadcast")
    await lan.press("Tất cả hội viên")
    await lan.send(NOTICE_ABOUT_HER)
    await lan.press("Gửi ngay")
    await app.bot_data.delivery.run_until_idle()
    # The heads' summary of today's environment day lists her among those who took part.
    outcomes = await scheduler.tick(app.bot_data)
    assert [o.schedule_code for o in outcomes if o.recipients] == ["sunday_summary"]
    await app.bot_data.delivery.run_until_idle()
    assert NAME in api.last_text(HEAD)
    # She asks the union for help (words, a photo, a thread whose officer names her); as a
    # request handler she closed another member's request with a note that names her.
    at = to_iso(clock.now())
    asked = await support.open_request(db, member_id=me, unit_id=chapter.id,
                                       category="family_conflict", audience="handlers",
                                       body=HER_REQUEST, photo_file_id=photo, at=at)
    await support.add_message(db, request_id=asked, author="officer", officer_id=HEAD,
                              body=f"Chị {NAME} ơi, tối thứ Ba em đến được không?", at=at)
    await support.add_message(db, request_id=asked, author="member", officer_id=None,
                              body=HER_ANSWER, at=at)
    theirs = await support.open_request(db, member_id=other, unit_id=chapter.id,
                                        category="livelihood", audience="handlers",
                                        body="Nhà em cần vay vốn", photo_file_id=None, at=at)
    await support.add_message(db, request_id=theirs, author="officer", officer_id=TG,
                              body="Em sẽ đến nhà chị", at=at)
    assert await support.set_status(db, theirs, status="resolved", by=TG, at=at,
                                    note=f"Chị {NAME} đã giới thiệu vay vốn")
    await app.update_persistence()
    return {"me": me, "chapter": chapter.id}


async def test_after_deleteme_no_table_holds_her_name_phone_id_or_words(
    app, db, api, person, clock
):
    ids = await rich_history(app, db, api, person, clock)
    before = await scan(db)
    for where in ("members.full_name", "members.phone", "members.telegram_user_id",
                  "standard_commitments.text", "activity_reports.note",
                  "activity_reports.flag_reason", "broadcasts.text_html",
                  "broadcast_variants.text_html", "broadcasts.created_by",
                  "broadcasts.draft_key", "audit_log.details", "targets.set_by",
                  "reminder_texts.updated_by", "reminder_pauses.created_by",
                  "standard_registrations.decided_by", "evaluation_decisions.decided_by",
                  "activity_reports.flagged_by", "closed_years.closed_by",
                  "exports.requested_by", "exports.chat_id", "consents.telegram_user_id",
                  "support_requests.body", "support_requests.closing_note",
                  "support_requests.closed_by", "support_messages.body",
                  "support_messages.officer_id"):
        assert where in before, f"the history should put her data in {where}"

    diep = person(TG)
    await diep.send("/deleteme")
    assert "không thu hồi được" in diep.reply_text(), "told before she confirms"
    await diep.press("Có, xóa thông tin")
    told = diep.reply_text()
    assert "không thu hồi được" in told and "chưa gửi đi được hủy" in told
    await app.bot_data.delivery.run_until_idle()
    await app.update_persistence()

    left = {where: kinds for where, kinds in (await scan(db)).items() if where not in
            {f"{t}.{c}" for t, c in KEPT}}
    assert left == {}, f"her data is still in {left}"
    [(kept,)] = await db.fetchall("SELECT telegram_user_id FROM consents WHERE"
                                  " telegram_user_id = ? AND withdrawn_at IS NOT NULL", (TG,))
    assert kept == TG

    # Her scheduled notice never goes out; it shows as cancelled, with the reason.
    notices = await deliveries.recent_in_units(db, [ids["chapter"]])
    mine = [b for b in notices if b.created_by == -ids["me"]]
    assert sorted(b.status for b in mine) == ["cancelled", "done"]
    assert {b.cancel_reason for b in mine} == {None, "erased"}
    lan = person(HEAD)
    await lan.send("/broadcasts")
    assert "đã hủy: người gửi đã xóa dữ liệu của mình" in lan.reply_text()
    clock.advance(3 * 24 * 3600)
    await app.bot_data.delivery.run_until_idle()
    assert not any("tổng vệ sinh ngõ 34" in str(c.params.get("text")) for c in api.calls
                   if c.method == "sendMessage" and int(c.params["chat_id"]) != TG)
    # The summary's stored text keeps the count and the others' names, not hers.
    summary = await db.fetchone(
        "SELECT v.text_html FROM broadcast_variants v JOIN broadcasts b ON b.id = v.broadcast_id"
        " WHERE b.kind = 'summary'")
    assert summary is not None and f"[#{ids['me']}]" in summary[0]

    # Where she acted, she is a pseudonym that names nobody.
    boss = person(ADMIN_ID)
    await boss.send("/audit")
    assert f"hội viên đã xóa dữ liệu #{ids['me']}" in boss.reply_text()
    assert NAME not in boss.reply_text()
    await lan.send("/evaluate")
    await lan.press("Trần Thị Lan")
    assert f"hội viên đã xóa dữ liệu #{ids['me']}" in lan.reply_text(), "who decided"

    # A table a later feature adds is searched too, without a word changed here.
    await db.execute("CREATE TABLE later_feature (asked_by INTEGER, question TEXT)")
    await db.execute("INSERT INTO later_feature VALUES (?, ?)", (TG, f"{NAME} hỏi"))
    assert set(await scan(db)) - {f"{t}.{c}" for t, c in KEPT} == {
        "later_feature.asked_by", "later_feature.question"}


async def test_a_notice_stops_when_its_sender_loses_the_role(app, db, api, person, clock):
    ids = await head_and_member(db, api)
    lan = person(HEAD)
    await lan.send("/broadcast")
    await lan.press("Tất cả hội viên")
    await lan.send("Họp chi hội tối thứ Bảy")
    await lan.press("Hẹn giờ")
    later = clock.now().astimezone(app.bot_data.settings.timezone) + timedelta(days=1)
    await lan.send(f"{later.day}/{later.month}/{later.year} 07:30")
    # Taken away outside the chat (`roles revoke` on the command line, another process).
    assert await roles.revoke(db, ids["head"], "chapter_head", ids["chapter"])
    clock.advance(2 * 24 * 3600)
    await app.bot_data.delivery.run_until_idle()
    [notice] = await deliveries.recent_in_units(db, [ids["chapter"]])
    assert (notice.status, notice.cancel_reason) == ("cancelled", "permission")
    assert (await deliveries.progress(db, notice.id)).sent == 0
    assert not any("thứ Bảy" in str(c.params.get("text")) for c in api.calls
                   if c.method == "sendMessage" and int(c.params["chat_id"]) == OTHER)


async def test_revoking_in_chat_cancels_her_scheduled_notice_at_once(app, db, api, person,
                                                                    clock):
    await head_and_member(db, api)
    admin_id = await register_member(db, 6200, "HM-HL", name="Đỗ Thị Hạnh")
    await grant(db, admin_id, "unit_admin", "HM-HL")
    api.add_chat(6200)
    # A ward officer's own notice to her ward, and the head's to her chapter.
    officer = person(6200)
    await officer.send("/broadcast")
    await officer.press("Hoàng Liệt")
    await officer.press("Tất cả hội viên")
    await officer.send("Hội nghị phường sáng thứ Hai")
    await officer.press("Hẹn giờ")
    later = clock.now().astimezone(app.bot_data.settings.timezone) + timedelta(days=1)
    await officer.send(f"{later.day}/{later.month}/{later.year} 07:30")
    lan = person(HEAD)
    await lan.send("/broadcast")
    await lan.press("Tất cả hội viên")
    await lan.send("Họp chi hội tối thứ Bảy")
    await lan.press("Hẹn giờ")
    await lan.send(f"{later.day}/{later.month}/{later.year} 07:30")
    await officer.send("/revoke Trần Thị Lan")
    await officer.press("Trần Thị Lan")
    await officer.press("Chi hội TDP số 2")
    await officer.press("Đồng ý thu hồi")
    assert "không còn là" in officer.reply_text()
    by_text = {b.text_html: b for b in await deliveries.recent_in_units(db, None)}
    head_notice = next(b for t, b in by_text.items() if "thứ Bảy" in t)
    ward_notice = next(b for t, b in by_text.items() if "thứ Hai" in t)
    assert (head_notice.status, head_notice.cancel_reason) == ("cancelled", "permission")
    assert ward_notice.status == "scheduled", "the officer keeps her rights"
    await officer.send("/broadcasts")
    assert "đã hủy: người gửi không còn quyền gửi cho đơn vị này" in officer.reply_text()


async def head_and_member(db, api) -> dict[str, int]:
    """A head of HM-HL-02 and one member there."""
    chapter = await units.by_code(db, "HM-HL-02")
    assert chapter is not None
    for user_id in (HEAD, OTHER):
        api.add_chat(user_id)
    head = await register_member(db, HEAD, "HM-HL-02", name="Trần Thị Lan")
    await grant(db, head, "chapter_head", "HM-HL-02")
    await register_member(db, OTHER, "HM-HL-02", name="Lê Thị Mai")
    return {"head": head, "chapter": chapter.id}


# Tables that stay small (a row per notice, poll, meeting, unit, export, schedule …): reading
# them whole for one member costs nothing. Every other table grows with members or their acts.
SMALL_TABLES = {
    "broadcasts", "broadcast_variants", "polls", "events", "exports", "units", "unit_aliases",
    "closed_years", "criteria_sets", "roles", "reminder_schedules", "reminder_texts",
    "reminder_pauses", "reminder_runs", "targets", "figure_reminders", "schema_migrations",
    "poll_pending",  # anonymous answers waiting for their batch: released within days
    "support_requests", "support_messages",  # ~13,000 requests in five years at district scale
}
# Read whole on purpose: her name, phone or id may stand in ANY audit entry's details (JSON),
# so erasure reads them all once; /deleteme is rare, /mydata does not do this.
WHOLE_ON_PURPOSE = {"SELECT id, details FROM audit_log"}


async def test_deleteme_and_mydata_read_her_rows_through_indexes(app, db, api, person, clock):
    """Erasure and /mydata look up one member's rows in tables of millions (deliveries of
    every notice, audit entries, poll answers): each statement they run is planned with an
    index there, never a scan of the whole table."""
    await rich_history(app, db, api, person, clock)
    statements: list[str] = []
    connection = db.conn._connection  # aiosqlite's sqlite3 connection, traced in its thread
    await db.conn._execute(lambda: connection.set_trace_callback(statements.append))
    diep = person(TG)
    await diep.send("/mydata")
    await diep.send("/deleteme")
    await diep.press("Có, xóa thông tin")
    await app.bot_data.delivery.run_until_idle()
    await db.conn._execute(lambda: connection.set_trace_callback(None))
    tables = {row[0] for row in await db.fetchall(
        "SELECT name FROM sqlite_master WHERE type = 'table'")}
    scans = set()
    for sql in statements:
        if not re.match(r"(?is)\s*(with|select|update|delete)\b", sql) or sql in WHOLE_ON_PURPOSE:
            continue
        for *_ids, detail in await db.fetchall("EXPLAIN QUERY PLAN " + sql):
            found = re.fullmatch(r"SCAN (\w+)(?: AS \w+)?", detail)
            if found and found[1] in tables and found[1] not in SMALL_TABLES:
                scans.add(f"{found[1]}: {' '.join(sql.split())[:120]}")
    assert not scans, "\n".join(sorted(scans))
