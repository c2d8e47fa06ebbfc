"""Unit indicators (issue 13 §2): /figures entry and corrections, typed numbers, scope, and the
monthly deadline with its one reminder through the outbox."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest

from bot import figure_deadline
from bot import indicators as catalog_of
from bot.catalog import CatalogError
from bot.clock import ManualClock
from storage import audit, figures, units
from tests.conftest import grant, register_member

NOVEMBER = datetime(2026, 11, 10, 3, 0, tzinfo=UTC)  # 10:00 on 10/11/2026 in Hà Nội
LAN, HOA, MAI = 7101, 7102, 7103  # ward officer of HM-HL; heads of HM-HL-02 and HM-HL-07
CATALOG = catalog_of.load()


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(NOVEMBER)


async def _people(db) -> dict[str, int]:
    lan = await register_member(db, LAN, "HM-HL-12", name="Trần Thị Lan")
    hoa = await register_member(db, HOA, "HM-HL-02", name="Nguyễn Thị Hoa")
    mai = await register_member(db, MAI, "HM-HL-07", name="Lê Thị Mai")
    await grant(db, lan, "unit_admin", "HM-HL")
    await grant(db, hoa, "chapter_head", "HM-HL-02")
    await grant(db, mai, "chapter_head", "HM-HL-07")
    found = {}
    for code in ("HM-HL", "HM-HL-02", "HM-HL-07"):
        unit = await units.by_code(db, code)
        assert unit is not None
        found[code] = unit.id
    return found


def _number(code: str) -> str:
    """The number of an indicator on the /figures screen."""
    return str([i.code for i in CATALOG.live].index(code) + 1)


def test_numbers_typed_the_vietnamese_way():
    count, money = CATALOG.find("new_members"), CATALOG.find("disabled_support")
    kg = CATALOG.find("recycling_kg")
    assert count and money and kg
    assert catalog_of.parse_number("1.500", count).value == 1500
    assert catalog_of.parse_number(" 33 740 ", count).value == 33740
    assert catalog_of.parse_number("1,5", kg).value == Decimal("1.5")
    assert catalog_of.parse_number("1.234,75", kg).value == Decimal("1234.75")
    assert catalog_of.parse_number("1,5", count).error == "decimal"  # people are whole
    assert catalog_of.parse_number("1,5", money).error == "decimal"
    assert catalog_of.parse_number("2,0", count).value == 2
    assert catalog_of.parse_number("-3", count).error == "negative"
    assert catalog_of.parse_number("10.000.001", count).error == "huge"
    assert catalog_of.parse_number("78.000.000", money).value == 78_000_000
    assert catalog_of.parse_number("1.000.000.000.000", money).value == 10**12
    assert catalog_of.parse_number("1.000.000.000.001", money).error == "huge"
    for bad in ("1.5", "12.34", "abc", "", "1,2,3", "1.5000"):
        assert catalog_of.parse_number(bad, count).error == "format", bad


def test_periods_as_officers_write_them():
    def parse(text: str) -> tuple[str, str, str] | None:
        found = catalog_of.parse_period(text, term_start=2021, this_year=2026)
        return (found.kind, found.first, found.last) if found else None

    assert parse("11/2026") == ("month", "2026-11", "2026-11")
    assert parse("Q3/2026") == parse("quý 3/2026") == ("quarter", "2026-07", "2026-09")
    assert parse("6t/2026") == ("half", "2026-01", "2026-06")
    assert parse("6t2/2026") == ("half", "2026-07", "2026-12")
    assert parse("2026") == ("year", "2026-01", "2026-12")
    assert parse("nhiệm kỳ") == parse("2021-2026") == ("term", "2021-01", "2026-12")
    assert parse("nhiệm kỳ 2016-2021") == ("term", "2016-01", "2021-12")
    for bad in ("13/2026", "Q5/2026", "2026-2021", "soon"):
        assert parse(bad) is None, bad
    assert catalog_of.current_term(2022, 2021) == (2021, 2026)
    assert catalog_of.current_term(2027, 2021) == (2026, 2031)


def test_a_broken_indicator_catalog_is_one_clear_line():
    with pytest.raises(CatalogError, match="official_members"):
        catalog_of.parse('[[indicators]]\ncode = "works"\nlabel = { vi = "a", en = "a" }\n'
                         'unit = { vi = "b", en = "b" }\nreport = { vi = "{figure}", '
                         'en = "{figure}" }\n')
    with pytest.raises(CatalogError, match="kind must be"):
        catalog_of.parse('[[indicators]]\ncode = "works"\nkind = "float"\n')


async def test_an_officer_enters_and_corrects_figures_with_history(person, db):
    ids = await _people(db)
    lan = person(LAN, "Lan")
    await lan.send("/figures HM-HL-02")
    text = lan.reply_text()
    assert "📊 <b>Số liệu tháng 11/2026</b>" in text and "Chi hội tổ dân phố số 2" in text
    assert f"{_number('new_members')}. Hội viên mới kết nạp: —" in text
    assert "Hạn báo cáo: ngày 20/11/2026" in text
    # Found on the head's walk: row 5 read "Đăng ký 5 không 3 sạch" without the union's quotes.
    assert "Đăng ký “5 không, 3 sạch” (trên giấy)" in text and "5 không 3 sạch" not in text
    await lan.press(_number("new_members"))
    assert "Hội viên mới kết nạp" in lan.reply_text()
    assert any("Hủy" in label for _m, label, _d in lan.buttons())
    await lan.send("1.500")
    assert "✅ Đã lưu: Hội viên mới kết nạp 1.500 người." in lan.reply_text()
    # A correction keeps the first figure, who typed each and when.
    await lan.press(_number("new_members"))
    asked = lan.reply_text()
    assert "Hiện nay: 1.500 người" in asked
    assert "Trần Thị Lan nhập lúc 10:00 ngày 10/11/2026" in asked
    await lan.send("1.493")
    assert "✅ Đã sửa: Hội viên mới kết nạp 1.500 người → 1.493 người" in lan.reply_text()
    assert await figures.of_unit(db, ids["HM-HL-02"], "2026-11") == {"new_members": 1493}
    changes = await figures.history(db, ids["HM-HL-02"], "2026-11", "new_members")
    assert [(c.old, c.new, c.by) for c in changes] == [(None, 1500, LAN), (1500, 1493, LAN)]
    entries = [e for e in await audit.recent(db, None, limit=10) if e.action == "figure.set"]
    assert len(entries) == 2 and entries[0].details["new"] == 1493
    # Found on the walk: /audit showed the raw action "figure.set".
    await lan.send("/audit")
    log = lan.reply_text()
    assert "figure.set" not in log
    assert ("nhập số liệu “Hội viên mới kết nạp” của Chi hội tổ dân phố số 2 tháng 11/2026: "
            "1.493 người") in log
    # Decimals only where the unit of measure allows them.
    await lan.press(_number("recycling_kg"))
    await lan.send("1,5")
    assert "✅ Đã lưu: Phế liệu thu gom “Biến rác thành tiền” 1,5 kg." in lan.reply_text()
    await lan.press(_number("jobs_found"))
    await lan.send("1,5")
    assert "được tính bằng số nguyên" in lan.reply_text()
    await lan.send("-4")
    assert "không thể là số âm" in lan.reply_text()
    await lan.send("20.000.000")
    assert "lớn hơn 10.000.000 người" in lan.reply_text()
    await lan.send("mười")
    assert "Em chưa đọc được số chị gõ" in lan.reply_text()
    await lan.send("12")  # the question stays open until a good answer (or ✖ Hủy)
    assert "✅ Đã lưu: Lao động được giới thiệu việc làm 12 người." in lan.reply_text()
    assert (await figures.of_unit(db, ids["HM-HL-02"], "2026-11"))["recycling_kg"] == 1.5
    # ✖ Hủy leaves the question; the figure stays.
    await lan.press(_number("jobs_found"))
    await lan.press("Hủy")
    assert "số liệu vẫn giữ như cũ" in lan.reply_text()
    await lan.send("99")
    assert (await figures.of_unit(db, ids["HM-HL-02"], "2026-11"))["jobs_found"] == 12
    # /mydata lists what she typed.
    exported = await figures.entered_by(db, LAN)
    assert len(exported) == 4 and exported[0]["unit_code"] == "HM-HL-02"


async def test_the_ward_screen_walks_to_its_chapters_and_months(person, db):
    await _people(db)
    lan = person(LAN, "Lan")
    await lan.send("/figures")
    assert "Phường Hoàng Liệt" in lan.reply_text()
    await lan.press("Đơn vị trực thuộc")
    text = lan.reply_text()
    assert "Chi hội tổ dân phố số 7" in text
    kids = text.split("\n")
    number = next(line.split(".")[0] for line in kids if "số 7" in line)
    await lan.send(number)
    assert "Chi hội tổ dân phố số 7" in lan.reply_text()
    await lan.press("◀ 10/2026")
    assert "Số liệu tháng 10/2026" in lan.reply_text()
    assert not any("12/2026" in label for _m, label, _d in lan.buttons())
    await lan.send("/figures HM-HL 12/2026")
    assert "tháng đã bắt đầu" in lan.reply_text()


async def test_entering_outside_her_scope_is_refused(person, db, api):
    ids = await _people(db)
    hoa = person(HOA, "Hoa")
    await hoa.send("/figures HM-HL-07")
    assert "không có quyền" in hoa.reply_text()
    await hoa.send("/figures")
    assert "Chi hội tổ dân phố số 2" in hoa.reply_text()
    message_id = hoa.buttons()[0][0]
    await hoa.press_data(message_id, f"fg:m:{ids['HM-HL-07']}:202611:o:n2")
    assert "không có quyền" in hoa.reply_text()
    await hoa.press_data(message_id, f"fg:m:{ids['HM-HL']}:202611:o:n2")
    assert "không có quyền" in hoa.reply_text()
    assert await figures.of_unit(db, ids["HM-HL-07"], "2026-11") == {}
    stranger = person(7199, "Thu")
    await stranger.send("/figures")
    assert "không có quyền" in stranger.reply_text()


async def test_late_chapters_get_one_reminder_and_the_ward_sees_them(person, db, app, clock):
    ids = await _people(db)
    hoa = person(HOA, "Hoa")
    await hoa.send("/figures")
    await hoa.press(_number("works"))
    await hoa.send("3")
    assert await figure_deadline.remind(app.bot_data) == 0  # the 10th: not due yet
    clock.advance(11 * 86400)  # 21/11/2026: the deadline (the 20th) has passed
    assert await figure_deadline.remind(app.bot_data) == 1  # HM-HL-07's head; HM-HL-02 reported
    await app.bot_data.delivery.run_until_idle()
    api = hoa.api
    to_mai = [c for c in api.calls if c.method == "sendMessage" and c.params["chat_id"] == MAI]
    assert len(to_mai) == 1
    assert "Em chào chị Mai" in to_mai[0].params["text"]
    assert "tháng 11/2026 của Chi hội tổ dân phố số 7" in to_mai[0].params["text"]
    assert not [c for c in api.calls if c.method == "sendMessage" and c.params["chat_id"] == HOA
                and "đến hạn" in c.params["text"]]
    clock.advance(3600)
    assert await figure_deadline.remind(app.bot_data) == 0  # ONE reminder per month
    late = await figure_deadline.late_units(db, ids["HM-HL"], "2026-11")
    assert ids["HM-HL-07"] in [u.id for u in late] and ids["HM-HL-02"] not in [u.id for u in late]
    lan = person(LAN, "Lan")
    await lan.send("/figures")
    await lan.press("Đơn vị chưa báo cáo")
    text = lan.reply_text()
    assert "chậm báo cáo (hạn là ngày 20/11/2026)" in text
    assert "• Chi hội tổ dân phố số 7" in text and "• Chi hội tổ dân phố số 2" not in text
    # The ward reporting for itself covers its chapters.
    await lan.press("Quay lại")
    await lan.press(_number("works"))
    await lan.send("10")
    assert await figure_deadline.late_units(db, ids["HM-HL"], "2026-11") == []
    # Found on the walk: the list then said "Tất cả các chi hội đã báo cáo", which they had not.
    await lan.press("Đơn vị chưa báo cáo")
    text = lan.reply_text()
    assert "Tất cả các chi hội đã báo cáo" not in text
    assert "Phường Hoàng Liệt đã nhập số liệu tháng 11/2026 cho cả đơn vị" in text
