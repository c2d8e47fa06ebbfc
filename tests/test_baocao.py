"""The report /baocao (issue 13 §3): the union's sentences from exactly the issue's figures, the
.docx and the export sheet, the official/computed marks, and a period without data."""

from __future__ import annotations

import io
from datetime import UTC, datetime

import pytest
from docx import Document
from openpyxl import load_workbook

from bot.clock import ManualClock
from storage import figures, targets, units
from storage.figures import Figure
from storage.targets import TargetRow
from storage.units import UnitRow
from tests.conftest import ADMIN_ID, grant, register_member

NOW = datetime(2026, 11, 25, 3, 0, tzinfo=UTC)  # 10:00 on 25/11/2026 in Hà Nội
DISTRICT, WARD = "TK", "TK-W"
CHAPTERS = 235
OFFICER = 7301

# The issue's figures: a district's totals, entered by the district (official figures).
ENTERED = {
    "official_members": 33740,
    "new_members": 1493,
    "paper_standard_ok": 32053,
    "paper_households_reg": 32989,
    "paper_households_ok": 70,
    "poor_households": 190,
    "jobs_found": 590,
    "conflicts_mediated": 40,
    "letters_received": 8,
    "letters_resolved": 8,
    "disabled_women": 26,
    "disabled_support": 78_000_000,
    "works": 42,
    "model_chapters": 235,
}
TARGETS = {"poor_households": 175, "households_recognised": 42, "works": 35,
           "disabled_women": 26}

SENTENCES = [
    "Tổng số hội viên là 33.740; phát triển thêm 1.493 hội viên",
    "32.053/33.740 (đạt 95%) cán bộ hội viên phụ nữ đạt chuẩn mực",
    "32.989/33.740 cán bộ, hội viên đăng ký thực hiện 8 tiêu chí",
    "giúp đỡ được 190/175 hộ nghèo, cận nghèo thoát nghèo, đạt 109% (vượt chỉ tiêu)",
    "70/42 hộ gia đình đạt tiêu chí “Gia đình 5 không, 3 sạch”, đạt 167% theo chỉ tiêu giao",
    "42/35 công trình, phần việc (vượt 20% chỉ tiêu đề ra)",
    "235/235 (100%) chi hội",
    "Hỗ trợ 26/26 phụ nữ khuyết tật, đạt 100% chỉ tiêu",
    "Số tiền hỗ trợ phụ nữ khuyết tật: 78.000.000 đồng",
    "Giới thiệu việc làm cho 590 lao động",
]


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(NOW)


async def _district(db) -> dict[str, int]:
    rows = [UnitRow(DISTRICT, "Quận Thử Nghiệm", "district", None),
            UnitRow(WARD, "Phường Thử Nghiệm", "ward", DISTRICT)]
    rows += [UnitRow(f"{WARD}-{n:03d}", f"Chi hội số {n}", "chapter", WARD)
             for n in range(1, CHAPTERS + 1)]
    await units.upsert_many(db, rows)
    found = {}
    for code in (DISTRICT, WARD, f"{WARD}-001"):
        unit = await units.by_code(db, code)
        assert unit is not None
        found[code] = unit.id
    for code, value in ENTERED.items():
        await figures.enter(db, Figure(found[DISTRICT], "2026-06", code, value), by=ADMIN_ID,
                            at="2026-06-30T03:00:00Z")
    await targets.set_many(db, [TargetRow(found[DISTRICT], 2026, metric, value)
                                for metric, value in TARGETS.items()],
                           by=ADMIN_ID, at="2026-01-05T03:00:00Z", source="chat")
    return found


async def test_the_issue_figures_read_as_the_union_writes_them(person, db, api):
    await _district(db)
    admin = person(ADMIN_ID, "Admin")
    await admin.send("/baocao TK 2026")
    text = admin.reply_text()
    for sentence in SENTENCES:
        assert sentence in text, sentence
    assert "📝 <b>Báo cáo của Quận Thử Nghiệm, năm 2026</b>" in text
    assert "Số liệu lúc 10:00 ngày 25/11/2026." in text
    assert "phát triển thêm 1.493 hội viên — số liệu đơn vị báo cáo" in text
    # Nothing entered or known for the standard's registrations: said so, never 0/0.
    assert "Đăng ký phấn đấu chuẩn mực phụ nữ: chưa có số liệu" in text
    assert "0/0" not in text
    # The same as a Word document with the indicator table.
    sent = [c for c in admin.replies() if c.method == "sendDocument"]
    assert len(sent) == 1
    document = sent[0].files["document"]
    assert document.filename == "bao-cao-2026-01-2026-12-TK.docx"
    word = Document(io.BytesIO(document.content))
    paragraphs = "\n".join(p.text for p in word.paragraphs)
    assert "BÁO CÁO KẾT QUẢ CÔNG TÁC HỘI" in paragraphs and "năm 2026" in paragraphs
    for sentence in SENTENCES:
        assert sentence in paragraphs, sentence
    table = word.tables[0]
    header = [cell.text for cell in table.rows[0].cells]
    assert header == ["Nội dung", "Đơn vị tính", "Kết quả", "Trên tổng số", "Chỉ tiêu",
                      "% chỉ tiêu", "Nguồn số liệu"]
    rows = {row.cells[0].text: [c.text for c in row.cells] for row in table.rows[1:]}
    assert rows["Hộ nghèo, cận nghèo được giúp đỡ"][2:6] == ["190", "—", "175", "109"]
    assert rows["Công trình, phần việc"][2:6] == ["42", "—", "35", "120"]
    assert rows["Số tiền hỗ trợ phụ nữ khuyết tật"][2] == "78.000.000"
    assert rows["Đạt chuẩn mực phụ nữ"][2:4] == ["32.053", "33.740"]


async def test_periods_and_the_rounding_of_a_quarter(person, db):
    ids = await _district(db)
    admin = person(ADMIN_ID, "Admin")
    await admin.send("/baocao TK quý 2/2026")
    text = admin.reply_text()
    assert "quý 2/2026" in text and "giúp đỡ được 190/175 hộ nghèo" in text
    await admin.send("/baocao TK Q3/2026")
    text = admin.reply_text()
    # A flow of June is not in the third quarter; the official membership (a state) still is.
    assert "Hộ nghèo, cận nghèo được giúp đỡ: chưa có số liệu" in text
    assert "Tổng số hội viên là 33.740" in text
    # The ward below adds its own work to the district's? No: the district's figure stands.
    await figures.enter(db, Figure(ids[WARD], "2026-06", "works", 5), by=ADMIN_ID,
                        at="2026-07-01T03:00:00Z")
    await admin.send("/baocao TK 6t/2026")
    assert "42/35 công trình" in admin.reply_text()
    await admin.send("/baocao TK-W 6t/2026")
    assert "Thực hiện 5 công trình, phần việc — số liệu đơn vị báo cáo" in admin.reply_text()
    await admin.send("/baocao TK nhiệm kỳ")
    assert "nhiệm kỳ 2021-2026" in admin.reply_text()
    await admin.send("/baocao TK 12/2027")
    assert "Kỳ báo cáo này chưa bắt đầu" in admin.reply_text()
    await admin.send("/baocao TK mười một")
    assert "Cách dùng: /baocao" in admin.reply_text()
    # Found on the walk: a mistyped period read "Không có đơn vị nào có mã 13/2026".
    for typed in ("13/2026", "Q5/2026"):
        await admin.send(f"/baocao {typed}")
        assert f"Em chưa đọc được kỳ báo cáo {typed}." in admin.reply_text()
        assert "Không có đơn vị" not in admin.reply_text()
    await admin.send("/baocao XX-99")
    assert "Không có đơn vị nào có mã XX-99." in admin.reply_text()


async def test_official_membership_is_the_denominator_and_marks_say_where_figures_come_from(
        person, db):
    ids = await _district(db)
    head = await register_member(db, OFFICER, f"{WARD}-001", name="Đỗ Thị Hạnh")
    await register_member(db, OFFICER + 1, f"{WARD}-001", name="Vũ Thị Hằng")
    await grant(db, head, "chapter_head", f"{WARD}-001")
    hanh = person(OFFICER, "Hạnh")
    await hanh.send("/baocao")
    text = hanh.reply_text()
    assert "Chi hội số 1" in text
    assert "Tổng số hội viên là 2 — trợ lý tổng hợp" in text  # no official figure here
    # Found on the walk: a row without a figure still showed a base ("— | 2"), and the
    # recognised row wrote «…» beside the “…” of the row above.
    [sent] = [c for c in hanh.replies() if c.method == "sendDocument"]
    table = Document(io.BytesIO(sent.files["document"].content)).tables[0]
    rows = {row.cells[0].text: [c.text for c in row.cells] for row in table.rows[1:]}
    assert rows["Đăng ký “5 không, 3 sạch”"][2:4] == ["—", "—"]
    assert "Hộ được công nhận gia đình “5 không, 3 sạch”" in rows
    await hanh.send("/baocao TK 2026")
    assert "không có quyền" in hanh.reply_text()
    admin = person(ADMIN_ID, "Admin")
    await admin.send("/baocao TK 2026")
    assert "Tổng số hội viên là 33.740" in admin.reply_text()  # the official figure wins
    assert ids[DISTRICT]


async def test_a_period_without_data_says_so(person, db):
    await _district(db)
    admin = person(ADMIN_ID, "Admin")
    await admin.send("/baocao TK-W-200 2025")
    text = admin.reply_text()
    assert "Chưa có số liệu năm 2025." in text and "0/0" not in text
    assert not [c for c in admin.replies() if c.method == "sendDocument"]


async def test_the_export_has_the_indicator_sheet(person, db, api):
    from tests.test_charts_export import exports_done

    await _district(db)
    admin = person(ADMIN_ID, "Admin")
    await admin.send("/export TK 2026")
    await exports_done()
    sent = [c for c in api.calls if c.method == "sendDocument"]
    assert len(sent) == 1
    book = load_workbook(io.BytesIO(sent[0].files["document"].content))
    assert "Chỉ tiêu đơn vị" in book.sheetnames
    sheet = book["Chỉ tiêu đơn vị"]
    values = [[cell.value for cell in row] for row in sheet.iter_rows()]
    row = next(r for r in values if r[0] == "Hộ nghèo, cận nghèo được giúp đỡ")
    assert row[2:6] == [190, None, 175, 109]


async def test_indicator_targets_load_from_the_targets_csv(db, tmp_path):
    from bot import indicators as catalog_of
    from bot.target_import import TargetFileError, import_file

    codes = [i.code for i in catalog_of.load().entries]
    path = tmp_path / "targets.csv"
    path.write_text("unit_code,year,metric,value\nHM,2026,poor_households,175\n"
                    "HM,2026,works,35\n", encoding="utf-8")
    assert await import_file(db, path, last_year=2027, at="2026-11-25T03:00:00Z",
                             indicators=codes) == (2, 0)
    unit = await units.by_code(db, "HM")
    assert unit is not None
    assert (await targets.for_units(db, [unit.id], 2026))[unit.id] == {
        "poor_households": 175, "works": 35}
    with pytest.raises(TargetFileError, match="poor_households"):
        await import_file(db, path, last_year=2027, at="2026-11-25T03:00:00Z")
