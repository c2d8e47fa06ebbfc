"""Consent and notices (issue 10 §3): layered notice, self-check consent, /mydata, retention."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot import consent, ops, retention
from bot.clock import ManualClock
from bot.i18n import translator
from bot.settings import Settings, SettingsError
from handlers.kit import membership_consent
from storage import activities, campaigns, consents, deliveries, members, privacy, units
from storage.activities import NewReport
from storage.db import to_iso
from storage.deliveries import NewBroadcast, Variant
from tests.conftest import ADMIN_ID, register_member, start_application, stop_application

JUNE_2026 = datetime(2026, 6, 15, 3, 0, tzinfo=UTC)
ORG = "Hội LHPN phường Hoàng Liệt"
CONTACT = "Chị Hạnh, văn phòng Hội, 024 3864 1234"


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    """An installation that names its union and how to reach it."""
    return Settings(database=tmp_path / "bot.sqlite3", admin_ids=frozenset({ADMIN_ID}),
                    send_rate=0, org_name=ORG, org_contact=CONTACT)


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(JUNE_2026)


def texts(person) -> list[str]:
    return [str(c.params["text"]) for c in person.replies() if c.method == "sendMessage"]


# --- the notice ------------------------------------------------------------------------------


async def test_privacy_names_the_controller_the_contact_and_every_right(person, db, api):
    lan = person(6001)
    await lan.send("/privacy")
    pages = texts(lan)
    notice = "\n".join(pages)
    assert ORG in notice and CONTACT in notice
    for right in ("/mydata", "/me", "/settings", "/stop", "/deleteme", "Khiếu nại", "Bộ Công an"):
        assert right in notice, right
    for promise in ("2 ngày làm việc", "15 ngày", "180 ngày", "5 năm", "Telegram",
                    "dữ liệu cá nhân nhạy cảm", "không ảnh hưởng đến tư cách hội viên",
                    "Excel", "báo cáo hoạt động", "Im lặng không bao giờ được coi là đồng ý"):
        assert promise in notice, promise
    assert all(len(page) <= 4096 for page in pages) and lan.errors() == []

    await register_member(db, 6002, "HM-HL-02", locale="en")
    hoa = person(6002, language_code="en")
    await hoa.send("/help")
    assert "/privacy" in hoa.reply_text()
    await hoa.send("/start")
    keyboard = hoa.replies()[-1].params["reply_markup"]["keyboard"]
    assert ["🌐 Language", "❓ Help", "🔒 Privacy"] in [[b["text"] for b in r] for r in keyboard]
    await hoa.send("🔒 Privacy")
    assert "Your rights" in hoa.reply_text() and ORG in hoa.reply_text()


def test_without_a_contact_the_notice_says_ask_your_chapter_head() -> None:
    pages = consent.notice_pages(translator("vi"), Settings())
    assert "Hội Liên hiệp Phụ nữ" in pages[0] and "hỏi chi hội trưởng" in pages[0]


async def test_check_warns_until_the_union_is_named(tmp_path: Path) -> None:
    [finding] = [f for f in await ops.check(Settings(database=tmp_path / "x.sqlite3"))
                 if f.what == "privacy notice"]
    assert finding.ok and finding.warning and "BOT_ORG_NAME" in finding.detail
    named = Settings(database=tmp_path / "x.sqlite3", org_name=ORG, org_contact=CONTACT)
    [finding] = [f for f in await ops.check(named) if f.what == "privacy notice"]
    assert not finding.warning and ORG in finding.detail


async def test_the_short_screen_links_to_the_full_notice(person, db):
    mai = person(6003)
    await mai.send("/start")
    screen = mai.reply_text()
    assert ORG in screen and "không ảnh hưởng đến tư cách hội viên" in screen
    assert [b[1] for b in mai.buttons()] == [
        "1. ✅ Tôi đồng ý", "2. ✖ Tôi không đồng ý", "📖 Đọc đầy đủ", "🇬🇧 English"]
    await mai.press("Đọc đầy đủ")
    assert CONTACT in mai.reply_text() and "Quyền của chị" in mai.reply_text()
    assert texts(mai)[-1].startswith("<b>Chào mừng"), "then the question again"
    await mai.press("Tôi đồng ý")
    assert "họ tên" in mai.reply_text()
    assert await consents.of_user(db, 6003) == [], "nothing stored before she confirms"


# --- the family self-check consent --------------------------------------------------------


async def family_consents(db, user_id: int) -> list[consents.Consent]:
    return [c for c in await consents.of_user(db, user_id)
            if c.purpose == consent.FAMILY_PURPOSE]


async def test_consent_is_asked_before_the_first_self_check_and_no_is_respected(
        person, db, clock):
    member_id = await register_member(db, 6010, "HM-HL-02")
    hoa = person(6010)
    await hoa.send("/family")
    await hoa.press("Đăng ký hộ")
    asked = hoa.reply_text()
    assert "dữ liệu cá nhân nhạy cảm" in asked and "bạo lực gia đình" in asked
    assert "chỉ chị" in asked and "rút lại" in asked
    assert [b[1] for b in hoa.buttons()] == ["1. ✅ Tôi đồng ý", "2. ✖ Tôi không đồng ý"]
    await hoa.press("Tôi không đồng ý")
    assert "không có câu trả lời tự đánh giá nào được lưu" in hoa.reply_text()
    reg = await campaigns.registration(db, campaigns.FAMILY, member_id, 2026)
    assert reg is not None, "her household stays registered"
    # A checklist press (old or forged) without the consent stores nothing: she is asked.
    await hoa.press_data(hoa.api.messages(6010)[-1]["message_id"], "fam:2026:c:o:no_poverty")
    assert await campaigns.answers(db, reg.id) == {}
    assert "dữ liệu cá nhân nhạy cảm" in hoa.reply_text()
    assert await family_consents(db, 6010) == [], "declining, or silence, is never consent"

    await hoa.send("/family")
    await hoa.press("Sửa tự đánh giá")
    assert "dữ liệu cá nhân nhạy cảm" in hoa.reply_text(), "asked again, nothing assumed"
    clock.advance(90)
    await hoa.send("1")  # typed: she agrees
    [given] = await family_consents(db, 6010)
    assert (given.version, given.given_at, given.withdrawn_at) == (
        consent.FAMILY_VERSION, to_iso(clock.now()), None)
    assert "Đã đạt: 0/8 tiêu chí" in hoa.reply_text()
    await hoa.press("Sạch nhà")
    assert await campaigns.answers(db, reg.id) == {"clean_house": True}
    await hoa.send("/family")
    await hoa.press("Sửa tự đánh giá")
    assert "Đã đạt: 1/8 tiêu chí" in hoa.reply_text(), "asked once, not every time"
    assert hoa.errors() == []


async def household_with_answers(app, db, member_id: int, user_id: int, year: int) -> int:
    chapter = await units.by_code(db, "HM-HL-02")
    assert chapter is not None
    reg, _ = await campaigns.register(db, campaigns.FAMILY, year=year, member_id=member_id,
                                      unit_id=chapter.id, at=f"{year}-02-01T01:00:00Z")
    codes = [c.code for c in app.bot_data.catalog.criteria]
    for code in codes:
        await campaigns.set_answer(db, reg.id, code, True, live_codes=codes,
                                   at=f"{year}-02-02T01:00:00Z")
    return reg.id


async def test_withdrawing_the_self_check_consent_erases_the_answers_only(app, person, db,
                                                                          clock):
    hoa_id = await register_member(db, 6020, "HM-HL-02")
    lan_id = await register_member(db, 6021, "HM-HL-02", name="Lê Thị Lan")
    for user_id in (6020, 6021):
        await privacy.give_consent(db, user_id, consent.FAMILY_PURPOSE, 1,
                                   "2025-02-01T00:00:00Z")
    old = await household_with_answers(app, db, hoa_id, 6020, 2025)
    await campaigns.decide(db, campaigns.FAMILY, old, campaigns.RECOGNISED, by=ADMIN_ID,
                           at="2025-12-01T00:00:00Z")
    this = await household_with_answers(app, db, hoa_id, 6020, 2026)
    hers = await household_with_answers(app, db, lan_id, 6021, 2026)
    chapter = await units.by_code(db, "HM-HL-02")
    assert chapter is not None
    reg, _ = await campaigns.register(db, campaigns.STANDARD, year=2026, member_id=hoa_id,
                                      unit_id=chapter.id, at="2026-02-01T01:00:00Z")
    await campaigns.set_commitment(db, reg.id, "sang_tao", "Học tin học",
                                   at="2026-02-01T01:00:00Z")

    hoa = person(6020)
    await hoa.send("/settings")
    await hoa.press("Rút đồng ý · Gia đình")
    assert "tất cả các năm sẽ bị xóa" in hoa.reply_text()
    await hoa.press("Không, giữ")
    assert len(await campaigns.answers(db, this)) == 8, "kept when she says no"
    await hoa.send("/settings")
    await hoa.press("Rút đồng ý · Gia đình")
    await hoa.press("Có, rút và xóa")
    assert "xóa 16 câu trả lời" in hoa.reply_text()

    assert await campaigns.answers(db, old) == {} and await campaigns.answers(db, this) == {}
    assert len(await campaigns.answers(db, hers)) == 8, "nobody else's answers"
    decided = await campaigns.registration(db, campaigns.FAMILY, hoa_id, 2025)
    current = await campaigns.registration(db, campaigns.FAMILY, hoa_id, 2026)
    assert decided is not None and decided.result == campaigns.RECOGNISED and decided.meets_all
    assert current is not None and not current.meets_all, "no longer self-assessed"
    assert await campaigns.commitments(db, reg.id) == {"sang_tao": "Học tin học"}
    assert (await members.by_user(db, 6020)) is not None, "still a member"
    [record] = await family_consents(db, 6020)
    assert record.withdrawn_at == to_iso(clock.now())
    assert [c.purpose for c in await consents.of_user(db, 6020)] == [
        "membership", consent.FAMILY_PURPOSE]

    await hoa.send("/mydata")
    withdraw = [b[1] for b in hoa.buttons()]
    assert withdraw == ["↩ Rút đồng ý · Hội viên"], "only consents she still gives can be withdrawn"
    await hoa.send("/family")
    await hoa.press("Sửa tự đánh giá")
    assert "dữ liệu cá nhân nhạy cảm" in hoa.reply_text(), "asked again before a new check"


async def test_the_self_check_consent_is_withdrawn_under_mydata(app, person, db):
    hoa_id = await register_member(db, 6025, "HM-HL-02", locale="en")
    await privacy.give_consent(db, 6025, consent.FAMILY_PURPOSE, 1, "2026-02-01T00:00:00Z")
    home = await household_with_answers(app, db, hoa_id, 6025, 2026)
    hoa = person(6025, language_code="en")
    await hoa.send("/mydata")
    await hoa.press("Withdraw: family check")
    await hoa.send("1")  # typed: yes
    assert "8 answers were deleted" in hoa.reply_text()
    assert await campaigns.answers(db, home) == {}


async def test_a_new_self_check_version_is_asked_only_at_the_self_check(
        app, person, db, monkeypatch):
    hoa_id = await register_member(db, 6030, "HM-HL-02")
    await privacy.give_consent(db, 6030, consent.FAMILY_PURPOSE, 1, "2026-02-01T00:00:00Z")
    home = await household_with_answers(app, db, hoa_id, 6030, 2026)
    monkeypatch.setattr(consent, "FAMILY_VERSION", 2)
    hoa = person(6030)
    await hoa.send("/help")
    assert "/family" in hoa.reply_text(), "nothing else is blocked"
    await hoa.send("/family")
    assert "Đã đạt: 8/8 tiêu chí" in hoa.reply_text(), "she still sees her answers"
    await hoa.press("Sửa tự đánh giá")
    assert "dữ liệu cá nhân nhạy cảm" in hoa.reply_text()
    await hoa.press("Tôi đồng ý")
    assert [c.version for c in await family_consents(db, 6030)] == [1, 2]
    assert len(await campaigns.answers(db, home)) == 8


# --- /mydata ---------------------------------------------------------------------------------


async def test_mydata_shows_reports_notes_photos_and_the_consent_texts(app, person, db):
    member_id = await register_member(db, 6040, "HM-HL-02")
    await privacy.give_consent(db, 6040, consent.FAMILY_PURPOSE, 1, "2026-03-01T00:00:00Z")
    chapter = await units.by_code(db, "HM-HL-02")
    assert chapter is not None
    first = await activities.add(db, NewReport(
        member_id=member_id, unit_id=chapter.id, activity_code="sunday_environment",
        day="2026-06-07", note="Quét ngõ 12 & trồng hoa <đẹp>", photo_file_id="AgACphoto"),
        at="2026-06-07T02:00:00Z")
    await activities.flag(db, first.id, by=ADMIN_ID, reason="Ảnh không rõ",
                          at="2026-06-08T00:00:00Z")
    for day in range(1, 31):  # enough notes to need several messages
        await activities.add(db, NewReport(
            member_id=member_id, unit_id=chapter.id, activity_code="waste_to_money",
            day=f"2026-05-{day:02d}", quantity=2.5, note=f"Ngày {day}: " + "gom giấy " * 50),
            at=f"2026-05-{day:02d}T02:00:00Z")
    await deliveries.create(db, NewBroadcast(
        draft_key="hers", created_by=6040, sender_chat_id=6040, unit_id=chapter.id,
        audience="all", text_html="Họp chi hội", photo_file_id=None,
        scheduled_at="2026-06-20T00:00:00Z"))
    hoa = person(6040)
    await hoa.send("/mydata")
    pages = texts(hoa)
    shown = "\n".join(pages)
    assert len(pages) >= 3 and all(len(page) <= 4096 for page in pages)
    assert "Quét ngõ 12 &amp; trồng hoa &lt;đẹp&gt;" in shown and "📷 có ảnh" in shown
    assert "Ảnh không rõ" in shown and "Ngày 30: gom giấy" in shown and "2,5" in shown
    assert shown.count("Nội dung chị đã đồng ý") == 2
    assert "Trước khi bắt đầu, em cần chị đồng ý" in shown, "the membership text she agreed to"
    assert "dữ liệu cá nhân nhạy cảm" in shown, "the self-check text she agreed to"
    assert hoa.errors() == []
    [document] = [c for c in hoa.replies() if c.method == "sendDocument"]
    data = json.loads(next(iter(document.files.values())).content)
    reports = data["activity_reports"]
    assert len(reports) == 31 and reports[-1]["note"].startswith("Quét ngõ")
    assert reports[-1]["photo"] is True and reports[-1]["flag_reason"] == "Ảnh không rõ"
    assert all("flagged_by" not in r and "photo_file_id" not in r for r in reports)
    assert {c["purpose"] for c in data["consents"]} == {"membership", consent.FAMILY_PURPOSE}
    assert [n["unit_code"] for n in data["notices_sent"]] == ["HM-HL-02"]
    assert "Số thông báo chị đã gửi với vai trò cán bộ: 1" in shown


# --- retention -------------------------------------------------------------------------------


async def finished_notice(db, unit_id: int, recipients: list[int], *, key: str,
                          finished: str | None) -> int:
    """A notice with a variant per recipient, sent, finished at `finished` (None: running)."""
    async with db.transaction() as conn:
        notice = await deliveries.insert_running(conn, NewBroadcast(
            draft_key=key, created_by=ADMIN_ID, sender_chat_id=ADMIN_ID, unit_id=unit_id,
            audience="all", text_html="Tóm tắt: Nguyễn Thị Hoa", photo_file_id=None,
            scheduled_at="2025-01-01T00:00:00Z", kind="summary"),
            [Variant(n, f"Chị {n}") for n in range(len(recipients))], "2025-01-01T00:00:00Z")
        assert notice is not None
        await conn.executemany(
            "INSERT INTO deliveries (broadcast_id, member_id, status, variant)"
            " VALUES (?, ?, 'sent', ?)",
            [(notice, member, n) for n, member in enumerate(recipients)])
        await deliveries.set_total(conn, notice)
    if finished is not None:
        assert await deliveries.finish(db, notice, finished)
    return notice


async def test_retention_removes_exactly_the_old_rows(app, db, clock):
    chapter = await units.by_code(db, "HM-HL-02")
    assert chapter is not None
    stopped = await register_member(db, 6050, "HM-HL-02", name="Đã dừng")
    gone = await register_member(db, 6051, "HM-HL-02", name="Đã chặn")
    busy = await register_member(db, 6052, "HM-HL-02", name="Dừng nhưng vẫn báo cáo")
    active = await register_member(db, 6053, "HM-HL-02", name="Vẫn hoạt động")
    await members.set_status(db, stopped, "stopped")
    await members.set_status(db, gone, "unreachable")
    await members.set_status(db, busy, "stopped")
    clock.advance(timedelta(days=6 * 366).total_seconds())  # six years later
    now = clock.now()
    await activities.add(db, NewReport(member_id=busy, unit_id=chapter.id,
                                       activity_code="sunday_environment", day="2032-05-02"),
                         at=to_iso(now - timedelta(days=300)))
    everyone = [stopped, gone, busy, active]
    old = await finished_notice(db, chapter.id, everyone, key="old",
                                finished=to_iso(now - timedelta(days=181)))
    recent = await finished_notice(db, chapter.id, everyone, key="recent",
                                   finished=to_iso(now - timedelta(days=179)))
    running = await finished_notice(db, chapter.id, everyone, key="running", finished=None)

    done = await retention.apply(app)
    assert (done.deliveries, done.variants, done.members_erased) == (4, 4, 2)
    rows = await db.fetchall("SELECT broadcast_id, count(*) FROM deliveries GROUP BY 1")
    assert {tuple(r) for r in rows} == {(recent, 4), (running, 4)}
    variants = await db.fetchall("SELECT DISTINCT broadcast_id FROM broadcast_variants")
    assert {r[0] for r in variants} == {recent, running}
    assert await deliveries.get(db, old) is not None, "the notice itself stays"
    statuses = {r[0]: r[1] for r in await db.fetchall("SELECT id, status FROM members")}
    assert statuses == {stopped: "deleted", gone: "deleted", busy: "stopped", active: "active"}
    erased = await db.fetchall("SELECT member_id, reason FROM erasures ORDER BY member_id")
    assert [tuple(r) for r in erased] == [(stopped, "retention"), (gone, "retention")]
    names = {r[0] for r in await db.fetchall("SELECT full_name FROM members")}
    assert "Đã dừng" not in names and "Đã chặn" not in names

    again = await retention.apply(app)
    assert (again.deliveries, again.variants, again.members_erased) == (0, 0, 0)


async def test_the_notice_can_be_read_before_agreeing_to_a_new_version(
        app, person, db, settings, api, clock, monkeypatch):
    await register_member(db, 6060, "HM-HL-02")
    await stop_application(app)
    monkeypatch.setattr(membership_consent, "CONSENT_VERSION", 2)
    bumped = await start_application(settings, api, clock)
    try:
        hoa = person(6060)
        hoa.app = bumped
        for asking in ("/privacy", "🔒 Quyền riêng tư"):
            await hoa.send(asking)
            assert CONTACT in hoa.reply_text() and "phiên bản 2" not in hoa.reply_text()
        await hoa.send("/family")
        assert "phiên bản 2" in hoa.reply_text(), "anything else waits for her answer"
    finally:
        await stop_application(bumped)
    await app.initialize()
    await app.bot_data.db.open()


@pytest.mark.parametrize(("variable", "value"), [
    ("BOT_RETAIN_DELIVERIES_DAYS", "0"), ("BOT_RETAIN_DELIVERIES_DAYS", "half a year"),
    ("BOT_RETAIN_LEFT_MEMBERS_YEARS", "51"), ("BOT_ORG_NAME", "x" * 201),
    ("BOT_ORG_CONTACT", "line one\nline two"),
])
def test_bad_privacy_settings_name_the_variable(variable: str, value: str) -> None:
    with pytest.raises(SettingsError) as raised:
        Settings.from_env({variable: value}, env_file=None)
    assert raised.value.variable == variable


def test_privacy_settings_are_read() -> None:
    settings = Settings.from_env({"BOT_ORG_NAME": ORG, "BOT_ORG_CONTACT": CONTACT,
                                  "BOT_RETAIN_DELIVERIES_DAYS": "90",
                                  "BOT_RETAIN_LEFT_MEMBERS_YEARS": "3"}, env_file=None)
    assert (settings.org_name, settings.org_contact) == (ORG, CONTACT)
    assert (settings.retain_deliveries_days, settings.retain_left_members_years) == (90, 3)
    assert Settings.from_env({}, env_file=None) == Settings()
