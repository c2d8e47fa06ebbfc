"""/chart and /export: valid PNG photos; a workbook opened back and checked cell by cell; CSV;
the background run with progress; a restart resuming an export; scopes and privacy."""

from __future__ import annotations

import asyncio
import csv
import io
import struct
import warnings
from datetime import date

import pytest
from openpyxl import load_workbook
from PIL import Image

from bot import export
from bot.clock import ManualClock
from storage import audit, exports
from tests.conftest import ADMIN_ID
from tests.stats_data import CRITERIA, DECEMBER, HEAD, WARD_ADMIN, seed, set_targets

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(DECEMBER)


async def exports_done() -> None:
    """Wait for the background exports."""
    await asyncio.gather(*[t for t in asyncio.all_tasks() if t.get_name() == export.EXPORT_TASK])


def _png(call) -> bytes:
    assert call.method == "sendPhoto" and call.ok
    content = call.files["photo"].content
    assert content.startswith(PNG_SIGNATURE)
    length, kind = struct.unpack(">I4s", content[8:16])
    assert (length, kind) == (13, b"IHDR")
    return content


async def test_charts_are_valid_pngs_with_vietnamese_text(person, db, api):
    ids = await seed(db)
    await set_targets(db, ids)
    lan = person(WARD_ADMIN)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        await lan.send("/chart")
        await lan.send("/chart HM-HL-02 2026")
    assert not [w for w in caught if "Glyph" in str(w.message)], "every letter has a glyph"
    photos = [c for c in lan.api.calls if c.method == "sendPhoto"]
    assert len(photos) == 4, "rates (or the years) and the environment days, twice"
    ward, sundays, chapter, _chapter_sundays = (_png(c) for c in photos)
    with Image.open(io.BytesIO(ward)) as image:
        assert image.format == "PNG" and image.size[0] == 800 and image.size[1] > 200
    with Image.open(io.BytesIO(chapter)) as image:
        assert image.size == (800, 450)
    caption = photos[0].params["caption"]
    assert "từng đơn vị thuộc Phường Hoàng Liệt, năm 2026" in caption and len(caption) <= 1024
    assert "qua các năm gần đây" in photos[2].params["caption"]
    assert photos[1].params["caption"].startswith(
        "🌳 Ngày môi trường Chủ nhật ở Phường Hoàng Liệt: tỉ lệ hội viên tham gia trong 12 Chủ "
        "nhật gần nhất")
    with Image.open(io.BytesIO(sundays)) as image:
        assert image.size == (800, 420)
    hoa = person(HEAD)
    await hoa.send("/chart HM-HL")
    assert "không có quyền" in hoa.reply_text()
    assert [c.method for c in hoa.replies()] == ["sendMessage"]


async def test_the_export_opens_back_cell_by_cell(person, db, api):
    ids = await seed(db)
    await set_targets(db, ids)
    lan = person(WARD_ADMIN)
    await lan.send("/export")
    first = lan.replies()
    assert [c.method for c in first] == ["sendMessage"], "she gets an answer at once"
    assert "Em đang chuẩn bị tệp Excel thống kê năm 2026 của Phường Hoàng Liệt" in (
        first[0].params["text"])
    await exports_done()
    sent = [c for c in api.calls if c.method == "sendDocument"]
    assert len(sent) == 1 and sent[0].ok
    document = sent[0].files["document"]
    assert document.filename == "thong-ke-2026-HM-HL.xlsx"
    assert sent[0].params["caption"] == "📥 Thống kê năm 2026 — Phường Hoàng Liệt: 17 hội viên."
    assert api.last_text(WARD_ADMIN) == "✅ Em đã gửi tệp số liệu năm 2026 của Phường Hoàng Liệt."
    book = load_workbook(io.BytesIO(document.content))
    assert book.sheetnames == ["Tổng hợp", "Đơn vị", "Hội viên", "Hoạt động", "Hội họp"]

    summary = book["Tổng hợp"]
    assert summary["A1"].value == "Thống kê năm 2026 — Phường Hoàng Liệt"
    assert summary["A2"].value == "Lập lúc 09:00 ngày 20/12/2026"
    assert [c.value for c in summary[4]] == ["Chỉ số", "Số lượng", "Trên tổng số", "Tỉ lệ (%)",
                                              "Chỉ tiêu", "% chỉ tiêu", "Đánh giá"]
    assert summary.freeze_panes == "A5"
    assert summary["A4"].font.bold
    rows = {r[0].value: [c.value for c in r[1:]] for r in summary.iter_rows(min_row=5)
            if r[0].value}
    assert rows["Hội viên"] == [17, None, None, None, None, None]
    assert rows["… tạm dừng nhận tin"][0] == 1
    assert rows["Đăng ký phấn đấu chuẩn mực phụ nữ"] == [
        9, 17, 53, 50, 106, "vượt chỉ tiêu"]
    assert rows["Đạt chuẩn mực phụ nữ"] == [
        6, 17, 35, 40, 88, "bằng 88% chỉ tiêu, còn thiếu 1 hội viên"]
    assert rows["Hộ đăng ký gia đình «5 không, 3 sạch»"][0] == 8
    counted = next(label for label in rows if label.startswith("Số hộ được tính"))
    assert rows[counted][0] == 8 and rows["… chưa đạt đủ mọi tiêu chí"][0] == 6
    # All 6 failing households fail "no poverty", 2 "no domestic violence", zeros elsewhere.
    assert "  Không đói nghèo" not in rows and "  Sạch ngõ" not in rows, "no cell is shown"
    assert any(label.startswith("Chưa đủ số hộ để hiển thị theo từng tiêu chí") for label in rows)
    assert rows["Ngày môi trường Chủ nhật: hội viên tham gia"] == [None] * 6
    assert rows["  13/12/2026"] == [7, 17, 41, None, None, None]
    assert rows["  20/12/2026"] == [2, 17, 12, None, None, None]
    assert rows["  4/10/2026"] == [0, 17, 0, None, None, None], "12 Sundays back"
    assert "  27/9/2026" not in rows
    registered = next(r for r in summary.iter_rows(min_row=5)
                      if r[0].value == "Đăng ký phấn đấu chuẩn mực phụ nữ")
    assert registered[1].number_format == "#,##0" and registered[3].number_format == '0"%"'
    assert registered[4].number_format == '0"%"', "a percentage target"

    units = book["Đơn vị"]
    assert units.freeze_panes == "C2"
    assert [c.value for c in units[1]][:8] == [
        "Mã", "Đơn vị", "Cấp", "Trực thuộc", "Hội viên", "Mới đăng ký trên trợ lý trong năm",
        "Đăng ký chuẩn mực",
        "Tỉ lệ đăng ký (%)"]
    table = [[c.value for c in row] for row in units.iter_rows(min_row=2)]
    assert table == [
        ["HM-HL", "Phường Hoàng Liệt", "Phường/xã (cơ sở Hội)", "HM", 17, 3, 9, 53, 50, 6, 35,
         40, 8, 2, None],
        ["HM-HL-02", "    Chi hội tổ dân phố số 2", "Chi hội", "HM-HL", 11, 3, 8, 73, None, 6,
         55, None, 8, 2, 2],
        ["HM-HL-07", "    Chi hội tổ dân phố số 7", "Chi hội", "HM-HL", 5, 0, 1, 20, None, 0,
         0, None, 0, 0, None],
        ["HM-HL-12", "    Chi hội tổ dân phố số 12", "Chi hội", "HM-HL", 1, 0, 0, 0, None, 0,
         0, None, 0, 0, None],
    ]
    assert units["E2"].number_format == "#,##0" and units["H2"].number_format == '0"%"'

    people = book["Hội viên"]
    header = [c.value for c in people[1]]
    assert header == ["STT", "Họ và tên", "Chi hội", "Trạng thái", "Ngày đăng ký trên trợ lý",
                      "Đăng ký chuẩn mực 2026", "Chuẩn mực 2026", "Đăng ký gia đình 2026",
                      "Gia đình “5 không, 3 sạch” 2026"], "no phone numbers in a ward's export"
    assert people.freeze_panes == "C2"
    listed = [[c.value for c in row] for row in people.iter_rows(min_row=2)]
    assert len(listed) == 17, "5012 joins in 2027"
    hoa = next(r for r in listed if r[1] == "Nguyễn Thị Hoa")
    assert hoa[2:] == ["Chi hội tổ dân phố số 2", "đang nhận tin", hoa[4], "có", "đạt", "có",
                       "được công nhận"]
    assert hoa[4].date() == date(2025, 3, 1)
    assert people.cell(row=2, column=5).number_format == "d/m/yyyy"
    by_name = {r[1]: r for r in listed}
    assert by_name["Hội viên 5011"][3:5] == ["không liên lạc được", by_name["Hội viên 5011"][4]]
    assert by_name["Hội viên 5011"][4].date() == date(2026, 1, 1), "joined 00:30 1/1 in Hà Nội"
    assert by_name["Hội viên 5008"][5:] == ["có", "chưa bình xét", "có", "chưa bình xét"]
    assert by_name["Hội viên 5022"][5:] == [None, None, None, None]
    # Ordered by chapter (Vietnamese order, numbers as numbers), then given name.
    chapters = [r[2] for r in listed]
    assert chapters == sorted(chapters, key=lambda c: int(c.rsplit(" ", 1)[1]))
    # Never a criterion answer, anywhere in the workbook.
    everything = {str(c.value) for ws in book for row in ws.iter_rows() for c in row}
    labels = {"Không có bạo lực gia đình", "Không đói nghèo"}
    assert not labels & everything - {f"  {label}" for label in labels}
    assert "+84912340001" not in everything and "0912 340 001" not in everything
    done = book["Hoạt động"]
    assert done.freeze_panes == "D2"
    assert [c.value for c in done[1]] == ["Mã", "Đơn vị", "Hoạt động", "Số lượt báo cáo",
                                          "Số hội viên tham gia", "Số lượng", "Đơn vị tính"]
    cells = {(r[0].value, r[2].value): [c.value for c in r[3:]]
             for r in done.iter_rows(min_row=2)}
    assert len(cells) == 4 * 8, "every unit × every activity type"
    assert cells[("HM-HL", "Ngày môi trường Chủ nhật")] == [13, 7, None, None]
    assert cells[("HM-HL", "Biến rác thành tiền")] == [3, 3, 35.5, "kg"]
    assert cells[("HM-HL", "Tuyến phố nở hoa")] == [2, 1, None, None], "one member, two units"
    assert cells[("HM-HL-02", "Tuyến phố nở hoa")] == [1, 1, None, None]
    assert cells[("HM-HL-07", "Ngày môi trường Chủ nhật")] == [1, 1, None, None]
    assert cells[("HM-HL-12", "Phân loại rác tại nguồn")] == [0, 0, None, None]
    money = next(r for r in done.iter_rows(min_row=2) if r[0].value == "HM-HL"
                 and r[2].value == "Biến rác thành tiền")
    assert money[5].number_format == "#,##0.0" and money[3].number_format == "#,##0"
    entries = await audit.recent(db, ids["HM-HL"])
    assert entries[0].action == "export" and entries[0].details["phones"] is False
    assert len(CRITERIA) == 8


async def test_a_file_format_it_does_not_make_is_not_read_as_a_unit_code(person, db, api):
    await seed(db)
    hoa = person(HEAD)
    # Found on the walk: "/export 2026 pdf" answered "Không có đơn vị nào có mã pdf."
    await hoa.send("/export 2026 pdf")
    text = hoa.reply_text()
    assert "mã pdf" not in text
    assert "tệp Excel (.xlsx)" in text and "csv" in text and "/export 2026" in text
    assert await exports.unfinished(db) == [], "nothing was queued"
    # "excel" is the file it makes.
    await hoa.send("/export excel")
    await exports_done()
    sent = [c for c in api.calls[hoa.mark:] if c.method == "sendDocument"]
    assert len(sent) == 1 and sent[0].files["document"].filename.endswith(".xlsx")
    assert hoa.errors() == []


async def test_a_chapter_export_has_phones_and_csv_on_request(person, db, api):
    await seed(db)
    hoa = person(HEAD)
    await hoa.send("/export csv")
    await exports_done()
    group = [c for c in api.calls if c.method == "sendMediaGroup"]
    assert len(group) == 1 and group[0].ok
    files = {f.filename: f.content for f in group[0].files.values()}
    assert sorted(files) == ["thong-ke-2026-HM-HL-02-don-vi.csv",
                             "thong-ke-2026-HM-HL-02-hoat-dong.csv",
                             "thong-ke-2026-HM-HL-02-hoi-hop.csv",
                             "thong-ke-2026-HM-HL-02-hoi-vien.csv",
                             "thong-ke-2026-HM-HL-02-tong-hop.csv"]
    members_csv = files["thong-ke-2026-HM-HL-02-hoi-vien.csv"]
    assert members_csv.startswith("\ufeff".encode())
    rows = list(csv.reader(io.StringIO(members_csv.decode("utf-8-sig"))))
    assert rows[0] == ["STT", "Họ và tên", "Số điện thoại", "Trạng thái",
                       "Ngày đăng ký trên trợ lý", "Đăng ký chuẩn mực 2026", "Chuẩn mực 2026",
                       "Đăng ký gia đình 2026",
                       "Gia đình “5 không, 3 sạch” 2026"]
    assert len(rows) == 12
    hoa_row = next(r for r in rows if r[1] == "Nguyễn Thị Hoa")
    assert hoa_row[2] == "0912 340 001" and hoa_row[4] == "2025-03-01"
    await hoa.send("/export HM-HL")
    assert "không có quyền" in hoa.reply_text()
    assert await exports.unfinished(db) == []


async def test_one_export_at_a_time_and_a_restart_resumes_it(person, db, api, app, clock):
    ids = await seed(db)
    boss = person(ADMIN_ID)
    await boss.send("/export 2026")
    await boss.send("/export 2026")
    assert "vẫn đang được chuẩn bị" in boss.reply_text()
    await exports_done()
    assert len([c for c in api.calls if c.method == "sendDocument"]) == 1
    # An export left queued by a stopped process is finished once, and only once.
    job = await exports.create(db, requested_by=WARD_ADMIN, chat_id=WARD_ADMIN, locale="en",
                               unit_id=ids["HM-HL-02"], year=2026, format="xlsx",
                               at="2026-12-20T01:00:00Z")
    person(WARD_ADMIN)  # she has a chat with the bot
    assert await export.resume(app) == 1
    await exports_done()
    assert await export.resume(app) == 0
    documents = [c for c in api.calls if c.method == "sendDocument"]
    assert len(documents) == 2 and documents[1].params["chat_id"] == WARD_ADMIN
    assert documents[1].files["document"].filename == "statistics-2026-HM-HL-02.xlsx"
    book = load_workbook(io.BytesIO(documents[1].files["document"].content), read_only=True)
    assert book.sheetnames == ["Summary", "Units", "Members", "Activities",
                               "Meetings"]
    assert (await exports.get(db, job.id)).status == "done"  # type: ignore[union-attr]


async def test_cells_that_look_like_formulas_stay_text_in_csv_and_xlsx(person, db, api):
    ids = await seed(db)
    names = {"5002": '=HYPERLINK("http://x.example","bấm")', "5003": "+84 gọi ngay",
             "5004": "-Lan", "5005": "@SUM(A1)", "5006": "\tTab", "5007": "\rVề"}
    for user, name in names.items():
        await db.execute("UPDATE members SET full_name = ? WHERE id = ?", (name, ids[user]))
    hoa = person(HEAD)
    await hoa.send("/export csv")
    await exports_done()
    [group] = [c for c in api.calls if c.method == "sendMediaGroup"]
    files = {f.filename: f.content for f in group.files.values()}
    rows = list(csv.reader(io.StringIO(
        files["thong-ke-2026-HM-HL-02-hoi-vien.csv"].decode("utf-8-sig"), newline="")))
    written = {r[1] for r in rows[1:]}
    assert {"'" + name for name in names.values()} <= written, "each gets a leading quote"
    assert "Nguyễn Thị Hoa" in written, "ordinary names are untouched"
    assert all(r[0].isdigit() for r in rows[1:]), "numbers stay numbers"

    await hoa.send("/export")
    await exports_done()
    [sent] = [c for c in api.calls if c.method == "sendDocument"]
    sheet = load_workbook(io.BytesIO(sent.files["document"].content))["Hội viên"]
    cells = {c.value.replace("_x000D_", "\r"): c for c in sheet["B"][1:]}  # XML's escape
    for name in names.values():
        cell = cells[name]  # write_string: stored as this very text, never as a formula
        assert cell.data_type == "s" and cell.quotePrefix, name
    assert not cells["Nguyễn Thị Hoa"].quotePrefix


async def test_a_unit_named_like_maths_does_not_break_the_chart(person, db, api):
    await seed(db)
    from bot import orgtree

    await db.execute("UPDATE units SET name = ? WHERE code = 'HM-HL-07'",
                     ("Chi hội $x^2$ \\frac",))
    await db.execute("UPDATE units SET name = ? WHERE code = 'HM-HL-12'", ("Tổ $\\frac$ số 5",))
    orgtree.invalidate(db)
    lan = person(WARD_ADMIN)
    await lan.send("/chart")
    photos = [c for c in api.calls if c.method == "sendPhoto"]
    assert len(photos) == 2 and lan.errors() == []
    with Image.open(io.BytesIO(_png(photos[0]))) as image:
        image.verify()
