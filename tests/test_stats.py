"""/stats: exact figures in the union's style, rounding, targets, scopes, privacy, indexes."""

from __future__ import annotations

import re
from datetime import date
from fractions import Fraction
from zoneinfo import ZoneInfo

import pytest

from bot import stats as figures_of
from bot.clock import ManualClock
from bot.i18n import translator
from bot.stats import METRIC_BY_CODE, percent
from storage import activities, admin, stats
from storage.stats import UnitCounts
from tests.conftest import ADMIN_ID
from tests.stats_data import DECEMBER, HEAD, WARD_ADMIN, seed, set_targets

VI, EN = translator("vi"), translator("en")


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(DECEMBER)


# --- numbers and wording -------------------------------------------------------------------------


def test_percentages_round_half_up_and_never_claim_all_or_nothing_falsely():
    assert percent(32_053, 33_740) == 95
    assert percent(190, 175) == 109  # 108.57…
    assert percent(1, 8) == 13  # 12.5 rounds up (not to the even 12)
    assert percent(5, 8) == 63  # 62.5
    assert percent(2, 3) == 67
    assert percent(999, 1000) == 99  # 99.9 is not "100%"
    assert percent(33_739, 33_740) == 99
    assert percent(1, 1000) == 1  # 0.1 is not "0%"
    assert percent(0, 7) == 0 and percent(7, 7) == 100
    assert percent(1001, 1000) == 100
    assert percent(3, 0) is None
    assert percent(Fraction(105, 1), Fraction(95, 1)) == 111


def test_the_union_style_in_vietnamese_and_english():
    assert figures_of.ratio(VI, 32_053, 33_740) == "32.053/33.740 (đạt 95%)"
    assert figures_of.ratio(EN, 32_053, 33_740) == "32,053/33,740 (95%)"
    assert figures_of.ratio(VI, 0, 0) == "0/0"
    households = METRIC_BY_CODE["households_recognised"]
    counts = UnitCounts(households_recognised=190)
    assert figures_of.figure(VI, households, counts, 175) == "190/175 hộ — đạt 109%, vượt chỉ tiêu"
    assert (figures_of.figure(EN, households, counts, 175)
            == "190/175 households — 109% of target, target exceeded")
    assert figures_of.figure(VI, households, UnitCounts(households_recognised=175), 175) == (
        "175/175 hộ — đạt 100% chỉ tiêu")
    assert figures_of.figure(VI, households, UnitCounts(households_recognised=150), 175) == (
        "150/175 hộ — đạt 86% chỉ tiêu, còn thiếu 25 hộ")
    assert figures_of.figure(VI, households, counts, None) == "190"
    achieved = METRIC_BY_CODE["standard_achieved"]
    headline = UnitCounts(members=33_740, standard_achieved=32_053)
    assert figures_of.figure(VI, achieved, headline, 90) == (
        "32.053/33.740 hội viên (95%) · chỉ tiêu 90%: vượt chỉ tiêu")
    assert figures_of.figure(VI, achieved, headline, 95) == (
        "32.053/33.740 hội viên (95%) · chỉ tiêu 95%: hoàn thành chỉ tiêu")
    short = figures_of.figure(VI, achieved, UnitCounts(members=100, standard_achieved=90), 92.5)
    assert short == ("90/100 hội viên (90%) · chỉ tiêu 92,5%: bằng 97% chỉ tiêu, "
                     "còn thiếu 3 hội viên")
    members = METRIC_BY_CODE["members"]
    assert figures_of.figure(VI, members, UnitCounts(members=13_671), 13_740) == (
        "13.671/13.740 hội viên — đạt 99% chỉ tiêu, còn thiếu 69 hội viên")
    assert figures_of.figure(EN, members, UnitCounts(members=174), 175) == (
        "174/175 members — 99% of target, 1 member short")
    assert figures_of.figure(EN, achieved, UnitCounts(members=100, standard_achieved=90), 92.5) == (
        "90/100 members (90%) · target 92.5%: 97% of the target, 3 members short")
    # Just above the target is exceeded even when it rounds to 100%.
    exceeded = figures_of.check(households, UnitCounts(households_recognised=1001), 1000)
    assert exceeded is not None and (exceeded.achievement, exceeded.status) == (100, "exceeded")
    # A rate target with no members has nothing to compare.
    assert figures_of.check(achieved, UnitCounts(), 90) is None


# --- /stats end to end ---------------------------------------------------------------------------


async def test_exact_figures_at_district_ward_and_chapter_scope(person, db):
    ids = await seed(db)
    await set_targets(db, ids)
    boss = person(ADMIN_ID)
    await boss.send("/stats")
    text = boss.reply_text()
    assert "📊 <b>Thống kê năm 2026</b>\n<b>Quận Hoàng Mai</b>" in text
    # Found on the walk: "Hội viên: 13" beside an official 1.234 read as the whole membership.
    assert "👥 <b>Hội viên trên trợ lý</b>: 20" in text
    assert "• Đăng ký phấn đấu: 12/20 hội viên (60%)" in text
    assert "• Đạt chuẩn: 9/20 hội viên (45%)" in text

    lan = person(WARD_ADMIN)
    await lan.send("/stats")
    text = lan.reply_text()
    assert "<b>Phường Hoàng Liệt</b>" in text and "Yên Sở" not in text
    assert "👥 <b>Hội viên trên trợ lý</b>: 17" in text
    assert "• Đang nhận tin: 15 · tạm dừng: 1 · không liên lạc được: 1" in text
    # 00:30 on 1/1/2026 in Hà Nội counts, 2027 not
    assert "• Mới đăng ký trên trợ lý năm 2026: 3" in text
    assert "• Đăng ký phấn đấu: 9/17 hội viên (53%) · chỉ tiêu 50%: vượt chỉ tiêu" in text
    assert ("• Đạt chuẩn: 6/17 hội viên (35%) · chỉ tiêu 40%: bằng 88% chỉ tiêu, "
            "còn thiếu 1 hội viên") in text
    assert "• Chưa đạt: 1 · chưa bình xét: 2" in text
    assert "• Hộ đăng ký: 8" in text and "• Tự đánh giá đạt đủ tiêu chí: 2" in text
    # "đạt" means one thing per line: the label's "Đạt chuẩn", never also "reached x%".
    assert all(len(re.findall(r"\bđạt\b", line, re.IGNORECASE)) <= 1
               for line in text.splitlines()), text

    hoa = person(HEAD)
    await hoa.send("/stats")
    text = hoa.reply_text()
    assert "Phường Hoàng Liệt › Chi hội tổ dân phố số 2" in text
    assert "👥 <b>Hội viên trên trợ lý</b>: 11" in text
    assert "• Đăng ký phấn đấu: 8/11 hội viên (73%)" in text
    assert "• Đạt chuẩn: 6/11 hội viên (55%)" in text
    assert "• Được công nhận: 2/2 hộ — đạt 100% chỉ tiêu" in text
    assert "Đơn vị trực thuộc" not in str(hoa.buttons()), "a chapter has no units below"
    for who in (boss, lan, hoa):
        assert who.errors() == []


async def test_children_sorted_lowest_registration_first_drill_down_and_typed_numbers(
        person, db):
    ids = await seed(db)
    lan = person(WARD_ADMIN)
    await lan.send("/stats")
    await lan.press("Trực thuộc (3)")
    table = lan.reply_text()
    lines = [line for line in table.splitlines() if line[:2] in ("1.", "2.", "3.")]
    assert lines == [
        "1. <b>Chi hội tổ dân phố số 12</b>: 1 HV · đăng ký 0% · đạt chuẩn 0% · "
        "chưa có hộ đăng ký",
        "2. <b>Chi hội tổ dân phố số 7</b>: 5 HV · đăng ký 20% · đạt chuẩn 0% · "
        "chưa có hộ đăng ký",
        "3. <b>Chi hội tổ dân phố số 2</b>: 11 HV · đăng ký 73% · đạt chuẩn 55% · "
        "2/8 hộ được công nhận",
    ]
    await lan.press("Theo tên")
    names = [line.split("</b>")[0] for line in lan.reply_text().splitlines() if "<b>Chi" in line]
    assert names == ["1. <b>Chi hội tổ dân phố số 2", "2. <b>Chi hội tổ dân phố số 7",
                     "3. <b>Chi hội tổ dân phố số 12"]
    await lan.send("2")  # typed: the second unit in this order
    assert "Phường Hoàng Liệt › Chi hội tổ dân phố số 7" in lan.reply_text()
    assert "👥 <b>Hội viên trên trợ lý</b>: 5" in lan.reply_text()
    await lan.press("⬆")
    assert "👥 <b>Hội viên trên trợ lý</b>: 17" in lan.reply_text()
    assert "⬆" not in str(lan.buttons()), "nothing above her ward is hers"
    await lan.press("Năm 2025")
    assert "Chưa có đăng ký nào của năm 2025 ở đây." in lan.reply_text()
    assert ids and lan.errors() == []


async def test_a_head_sees_only_her_chapter_even_with_forged_buttons(person, db, api):
    ids = await seed(db)
    hoa = person(HEAD)
    await hoa.send("/stats HM-YS-03")
    assert "không có quyền" in hoa.reply_text()
    await hoa.send("/stats HM-HL")
    assert "không có quyền" in hoa.reply_text()
    await hoa.send("/stats")
    message_id = hoa.buttons()[0][0]
    before = api.message(HEAD, message_id)["text"]
    for forged in (f"st:s:{ids['HM-YS-03']}:2026:o:kids", f"st:c:{ids['HM-HL']}:2026:o:back",
                   f"st:t:{ids['HM-HL']}:2026:r:o:{ids['HM-HL-07']}", "st:s:0:2026:o:up"):
        await hoa.press_data(message_id, forged)
        assert "không có quyền" in hoa.reply_text()
        assert [c.method for c in hoa.replies()] == ["answerCallbackQuery"]
    await hoa.press_data(message_id, f"st:s:{ids['HM-HL-02']}:2031:o:kids")
    assert "không còn hiệu lực" in hoa.reply_text()
    assert api.message(HEAD, message_id)["text"] == before, "nothing changed"
    # A ward admin drilling into a chapter of another ward by a forged id is refused too.
    lan = person(WARD_ADMIN)
    await lan.send("/stats")
    await lan.press_data(lan.buttons()[0][0], f"st:t:{ids['HM-HL']}:2026:r:o:{ids['HM-YS-03']}")
    assert "không còn hiệu lực" in lan.reply_text()
    assert "Yên Sở" not in lan.reply_text()


async def test_years_and_codes_that_make_no_sense_get_clear_answers(person, db):
    await seed(db)
    lan = person(WARD_ADMIN)
    await lan.send("/stats 2999")
    assert "Năm 2999 chưa đến. Chị vui lòng ghi năm từ 2000 đến 2026" in lan.reply_text()
    await lan.send("/stats 1999")
    assert "năm từ 2000 đến 2026, ví dụ /stats 2026" in lan.reply_text()
    await lan.send("/stats 99999999")
    assert "Chị vui lòng ghi năm từ 2000 đến 2026" in lan.reply_text()
    await lan.send("/stats HM-XX-99")
    assert "Không có đơn vị nào có mã HM-XX-99." in lan.reply_text()
    await lan.send("/stats HM-HL-07 2024")
    text = lan.reply_text()
    assert "Thống kê năm 2024" in text and "Chưa có đăng ký nào của năm 2024 ở đây." in text
    assert "👥 <b>Hội viên trên trợ lý</b>: 0" in text, (
        "they joined in 2025: no members yet in 2024")
    # Found on the walk: a year (or unit) without members read "Đăng ký phấn đấu: 0/0".
    assert "0/0" not in text
    assert "• Đăng ký phấn đấu: chưa có hội viên nào ở đây đăng ký trên trợ lý" in text
    member = person(5022)
    await member.send("/stats")
    assert "không có quyền" in member.reply_text()


async def test_sundays_before_the_first_sign_up_are_one_line_and_no_chart_point(person, db,
                                                                                clock):
    await seed(db)
    # Found on the walk: on a fresh install every past Sunday read "chưa có hội viên nào đăng
    # ký", as if nobody had taken part in anything. Here everybody signed up on 10/12.
    await db.execute("UPDATE members SET created_at = '2026-12-10T00:00:00Z'"
                     " WHERE created_at < '2026-12-10'")
    lan = person(WARD_ADMIN)
    await lan.send("/stats")
    text = lan.reply_text()
    sundays = [line for line in text.splitlines() if line.startswith("• ") and "/2026: " in line]
    assert sundays == ["• 20/12/2026: 2/17 hội viên (12%)", "• 13/12/2026: 7/17 hội viên (41%)"]
    assert text.count("Các Chủ nhật trước ngày hội viên đầu tiên ở đây đăng ký trên trợ lý "
                      "chưa tính.") == 1
    assert "chưa có hội viên nào đăng ký trên trợ lý" not in text
    # The chart is drawn from the same Sundays: the empty ones are left out, not drawn as 0%.
    last = date(2026, 12, 20)
    tz = ZoneInfo("Asia/Ho_Chi_Minh")
    charted = figures_of.counted_sundays(await figures_of.sundays(
        db, None, last, figures_of.SUNDAYS_CHARTED, tz))
    assert [(s.day, s.participants, s.members) for s in charted] == [
        (date(2026, 12, 13), 7, 20), (date(2026, 12, 20), 2, 20)]
    # Before anyone signed up at all, /chart says so in words instead of a line of zeros.
    clock.advance(3 * 86_400)  # Wednesday 23/12; everybody signed up on Tuesday
    await db.execute("UPDATE members SET created_at = '2026-12-22T01:00:00Z'"
                     " WHERE created_at < '2026-12-23'")
    await lan.send("/chart")
    photos = [c for c in lan.api.calls[lan.mark:] if c.method == "sendPhoto"]
    assert len(photos) == 1, "the rates chart only"
    assert ("🌳 Ngày môi trường Chủ nhật ở Phường Hoàng Liệt: chưa có Chủ nhật nào để hiển thị."
            in lan.reply_text())
    assert lan.errors() == []


async def test_family_criteria_hide_small_zero_and_all_failing_counts(person, db):
    await seed(db)
    lan = person(WARD_ADMIN)
    await lan.send("/stats HM-HL-02")
    await lan.press("Tiêu chí gia đình")
    text = lan.reply_text()
    assert "Số hộ được tính: 8 · chưa đạt đủ mọi tiêu chí: 6." in text
    # 6 of the 6 failing households fail "no poverty" (it would say what each of them failed),
    # 2 fail "no domestic violence" (too few), the rest are zeros: nothing can be shown.
    assert "Chưa đủ số hộ để hiển thị số liệu theo từng tiêu chí mà vẫn bảo vệ được" in text
    assert not [line for line in text.splitlines() if line.startswith("• ")]
    assert "Hội viên 50" not in text and "Nguyễn Thị Hoa" not in text, "nobody is named"
    await lan.press("Về trang tổng hợp")
    assert "👥 <b>Hội viên trên trợ lý</b>: 11" in lan.reply_text()
    assert lan.errors() == []


async def test_activities_this_week_month_and_year_and_the_last_sundays(person, db):
    await seed(db)
    lan = person(WARD_ADMIN)
    await lan.send("/stats")
    text = lan.reply_text()
    assert "🌿 <b>Hoạt động</b> (không tính báo cáo bị đánh dấu cần xem lại)" in text
    assert ("• Ngày môi trường Chủ nhật — tuần này: 2 lượt/2 HV · tháng này: 12 lượt/7 HV · "
            "năm 2026: 13 lượt/7 HV") in text, "the doubtful report is left out"
    assert ("• Biến rác thành tiền — tuần này: 1 lượt/1 HV/12,5 kg · tháng này: 2 lượt/2 HV/"
            "15,5 kg · năm 2026: 3 lượt/3 HV/35,5 kg") in text
    assert ("• Tuyến phố nở hoa — tuần này: 0 lượt/0 HV · tháng này: 0 lượt/0 HV · "
            "năm 2026: 2 lượt/1 HV") in text, "one member reporting in two units is one member"
    assert "Phân loại rác" not in text, "types nobody reported are left out"
    sundays = [line for line in text.splitlines() if line.startswith("• ") and "/2026: " in line]
    assert ("🌳 <b>Ngày môi trường Chủ nhật</b>: số hội viên tham gia / số hội viên đã đăng ký "
            "trên trợ lý đến ngày đó") in text
    assert sundays == ["• 20/12/2026: 2/17 hội viên (12%)", "• 13/12/2026: 7/17 hội viên (41%)",
                       "• 6/12/2026: 3/17 hội viên (18%)", "• 29/11/2026: 0/17 hội viên (0%)"]
    assert "chưa tính" not in text, "every Sunday shown had members"
    hoa = person(HEAD)
    await hoa.send("/stats")
    text = hoa.reply_text()
    assert "• 13/12/2026: 6/11 hội viên (55%)" in text
    assert "• Tuyến phố nở hoa — tuần này: 0 lượt/0 HV · tháng này: 0 lượt/0 HV · năm 2026: " \
           "1 lượt/1 HV" in text
    await hoa.send("/stats 2025")
    text = hoa.reply_text()
    assert "• Ngày môi trường Chủ nhật — năm 2025: 1 lượt/1 HV" in text
    assert "tuần này" not in text and "• 28/12/2025: 0/8 hội viên (0%)" in text
    assert len(text) < 4096


async def test_long_tables_are_paginated_under_telegram_limits(person, db, api):
    await seed(db)
    boss = person(ADMIN_ID)
    await boss.send("/stats")
    await boss.press("Trực thuộc (14)")
    first = boss.replies()[-1].params["text"]
    assert "Trang 1/2." in first and len(first) < 4096
    assert first.index("Phường Đại Kim") > first.index("Phường Hoàng Liệt"), "0 members last"
    await boss.press("▶")
    assert "Trang 2/2." in boss.reply_text()
    assert all(len(data.encode()) <= 64 for _m, _t, data in boss.buttons())
    assert boss.errors() == []


async def test_scoped_queries_read_indexes_only(db):
    ids = await seed(db)
    params = {"unit": ids["HM-HL"], "year": 2026, "start": "2025-12-31T17:00:00Z",
              "end": "2026-12-31T17:00:00Z", "first": "2026-01-01", "last": "2026-12-20",
              "month": "2026-12-01", "week": "2026-12-14", "days": '["2026-12-13"]',
              "code": "sunday_environment"}
    expected = {
        stats.members_sql: "USING COVERING INDEX members_by_unit_joined (unit_id=?)",
        stats.standard_sql: "USING COVERING INDEX standard_by_year_unit (year=? AND unit_id=?)",
        stats.households_sql:
            "USING COVERING INDEX households_by_year_unit (year=? AND unit_id=?)",
        stats.activity_recent_sql:
            "USING COVERING INDEX activity_reports_for_stats (unit_id=? AND day>? AND day<?)",
        stats.activity_year_sql: "SEARCH t USING PRIMARY KEY (unit_id=? AND year=?)",
        stats.activity_members_sql: "SEARCH p USING PRIMARY KEY (unit_id=? AND year=?)",
        stats.participation_sql: "USING COVERING INDEX activity_reports_for_stats "
                                 "(unit_id=? AND day=? AND activity_code=?)",
    }
    for build, index in expected.items():
        plan = await stats.explain(db, build(ids["HM-HL"]), params)
        assert any(index in step for step in plan), (build.__name__, plan)
        fact_scans = [s for s in plan if s.startswith("SCAN") and s not in (
            "SCAN sub", "SCAN CONSTANT ROW", "SCAN json_each VIRTUAL TABLE INDEX 1:")]
        assert fact_scans == [], (build.__name__, plan)
    plan = await stats.explain(
        db, "SELECT unit_id, metric, value FROM targets WHERE year = :year AND unit_id IN "
        "(SELECT value FROM json_each('[1,2]'))", params)
    assert any("targets_by_year_unit" in step or "PRIMARY KEY" in step for step in plan), plan


async def test_figures_roll_up_per_unit_with_one_query_per_figure_set(db):
    ids = await seed(db)
    own = await figures_of.per_unit(db, ids["HM"], 2026, ZoneInfo("Asia/Ho_Chi_Minh"))
    assert own[ids["HM-HL-02"]].standard_registered == 8
    assert ids["HM-HL"] not in own, "nothing is recorded in the ward itself"
    assert sum(c.members for c in own.values()) == 20


async def _kept_and_recounted(db) -> tuple[list[tuple], list[tuple]]:
    kept = await db.fetchall(
        """SELECT t.unit_id, t.year, t.activity_code, t.reports, round(t.quantity, 3),
                  (SELECT count(*) FROM activity_participation p WHERE p.unit_id = t.unit_id
                   AND p.year = t.year AND p.activity_code = t.activity_code),
                  (SELECT count(*) FROM activity_year_members y WHERE y.year = t.year
                   AND y.activity_code = t.activity_code)
           FROM activity_totals t ORDER BY 1, 2, 3""")
    recounted = await db.fetchall(
        """SELECT unit_id, CAST(substr(day, 1, 4) AS INTEGER) AS y, activity_code, count(*),
                  round(total(quantity), 3), count(DISTINCT member_id),
                  (SELECT count(DISTINCT r2.member_id) FROM activity_reports r2
                   WHERE r2.flagged_at IS NULL AND r2.activity_code = r.activity_code
                   AND substr(r2.day, 1, 4) = substr(r.day, 1, 4))
           FROM activity_reports r WHERE flagged_at IS NULL GROUP BY 1, 2, 3 ORDER BY 1, 2, 3""")
    return [tuple(r) for r in kept], [tuple(r) for r in recounted]


async def test_the_kept_activity_totals_always_equal_a_recount(db):
    ids = await seed(db)
    kept, recounted = await _kept_and_recounted(db)
    assert kept == recounted and len(kept) == 6
    reports = await activities.of_member(db, ids["5001"], limit=50)
    money = next(r for r in reports if r.activity_code == "waste_to_money")
    sunday = next(r for r in reports if r.day == "2026-12-13")
    # Edited quantity and day (into another year), a doubt mark set and taken off, deleted.
    await activities.update(db, money.id, ids["5001"], activity_code="waste_to_money",
                            day="2025-12-28", quantity=7.25, note=None, photo_file_id=None,
                            at="2026-12-20T02:00:00Z")
    await activities.flag(db, sunday.id, by=HEAD, reason="?", at="2026-12-20T02:00:00Z")
    doubtful = (await db.fetchone("SELECT id FROM activity_reports WHERE member_id = ?"
                                  " AND flagged_at IS NOT NULL AND id != ?",
                                  (ids["5007"], sunday.id)))
    assert doubtful is not None
    await activities.unflag(db, doubtful[0])
    await activities.delete(db, next(r.id for r in reports if r.day == "2025-06-01"),
                            ids["5001"])
    kept, recounted = await _kept_and_recounted(db)
    assert kept == recounted
    assert (ids["HM-HL-02"], 2025, "waste_to_money", 1, 7.25, 1, 1) in kept
    assert not any(row[1] == 2025 and row[2] == "sunday_environment" for row in kept)
    lan_figures = await figures_of.activity_figures(db, ids["HM-HL"], 2026, date(2026, 12, 20),
                                                    ZoneInfo("Asia/Ho_Chi_Minh"))
    env = lan_figures.by_type["sunday_environment"]
    assert (env[0].reports, env[0].members) == (13, 8), "5001 one less, 5007 counted again"
    assert lan_figures.by_type["waste_to_money"][0].quantity == 23.0


async def test_someone_with_two_separate_units_chooses_one(person, db):
    ids = await seed(db)
    await admin.grant(db, ids[str(HEAD)], "chapter_head", ids["HM-YS-03"], by=ADMIN_ID,
                      at="2026-12-20T02:00:00Z")
    hoa = person(HEAD)
    await hoa.send("/stats")
    assert "Chị xem đơn vị nào?" in hoa.reply_text()
    assert [b[1] for b in hoa.buttons()] == ["1. Chi hội TDP số 2", "2. Chi hội TDP số 3"]
    await hoa.send("2")
    assert "Phường Yên Sở › Chi hội tổ dân phố số 3" in hoa.reply_text()
    assert "• Đăng ký phấn đấu: 3/3 hội viên (100%)" in hoa.reply_text()
    await hoa.press("Đơn vị khác của tôi")
    await hoa.press("số 2")
    assert "👥 <b>Hội viên trên trợ lý</b>: 11" in hoa.reply_text()
    # A grant inside another of hers adds nothing to choose from.
    lan_member = ids[str(WARD_ADMIN)]
    await admin.grant(db, lan_member, "chapter_head", ids["HM-HL-12"], by=ADMIN_ID,
                      at="2026-12-20T02:00:00Z")
    lan = person(WARD_ADMIN)
    await lan.send("/stats")
    assert "<b>Phường Hoàng Liệt</b>" in lan.reply_text()
    assert hoa.errors() == [] and lan.errors() == []


async def test_a_paged_table_numbers_its_units_once_and_leaves_the_sort_buttons_unnumbered(
        person, db):
    """The 14 wards of the district: "1."-"10." then "11."-"14." on page 2; "↕ …" never
    numbered (it once read "15. ↕ Sắp xếp…" after "10.")."""
    await seed(db)
    boss = person(ADMIN_ID)
    await boss.send("/stats")
    await boss.press("Trực thuộc (14)")

    def numbers() -> list[int]:
        return [int(m.group(1)) for b in boss.buttons() if (m := re.match(r"(\d+)\. ", b[1]))]

    assert numbers() == list(range(1, 11))
    assert [b[1] for b in boss.buttons() if "↕" in b[1]] and all(
        not re.match(r"\d", b[1]) for b in boss.buttons() if "↕" in b[1])
    await boss.press("▶")
    assert numbers() == list(range(11, 15))
    assert boss.errors() == []
