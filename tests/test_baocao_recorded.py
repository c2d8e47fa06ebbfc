"""The report's figures the assistant records itself (issue 13): propaganda meetings held and
letters (requests for help) received and resolved, next to what the units entered."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from bot import meetings as service
from bot.clock import ManualClock
from storage import figures, meetings, support, units
from storage.figures import Figure
from tests.conftest import ADMIN_ID, register_member

JUNE_10 = datetime(2026, 6, 10, 3, 0, tzinfo=UTC)  # 10:00 on 10/6/2026 in Hà Nội
MEMBER = 4701


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(JUNE_10)


async def _unit(db, code: str) -> int:
    unit = await units.by_code(db, code)
    assert unit is not None
    return unit.id


async def _event(app, db, code: str, when: datetime, *, kind: str = "propaganda",
                 now: datetime = datetime(2026, 5, 1, 2, 0, tzinfo=UTC)) -> meetings.Event:
    """An event created well before it (the clock of the test is not moved)."""
    unit_id = await _unit(db, code)
    tz = app.bot_data.settings.timezone
    new = service.new_event(unit_id=unit_id, kind=kind, title="Tuyên truyền Luật HN&GĐ",
                            place="Hội trường", agenda=None, audience="all", when=when, tz=tz,
                            now=now, created_by=ADMIN_ID)
    event, _invited = await meetings.create(
        db, new, service.invitation_render(app.bot_data.catalog, new, code, tz,
                                           "2026-05-01T02:00:00Z"),
        year=2026, now="2026-05-01T02:00:00Z", sender_member=None)
    return event


async def test_propaganda_meetings_held_are_counted_where_no_unit_entered_them(person, db,
                                                                               app, clock):
    await register_member(db, MEMBER, "HM-HL-02", name="Nguyễn Thị Hoa")
    await _event(app, db, "HM-HL-02", datetime(2026, 6, 3, 12, 30, tzinfo=UTC))
    await _event(app, db, "HM-HL-02", datetime(2026, 6, 5, 12, 30, tzinfo=UTC))
    await _event(app, db, "HM-HL-07", datetime(2026, 6, 6, 12, 30, tzinfo=UTC))
    await _event(app, db, "HM-HL-02", datetime(2026, 6, 20, 12, 30, tzinfo=UTC))  # not yet held
    await _event(app, db, "HM-HL-02", datetime(2026, 6, 4, 12, 30, tzinfo=UTC),
                 kind="chapter_meeting")  # not a propaganda meeting
    cancelled = await _event(app, db, "HM-HL-07", datetime(2026, 6, 8, 12, 30, tzinfo=UTC))
    assert await service.cancel(app.bot_data, cancelled, by=ADMIN_ID)
    admin = person(ADMIN_ID, "Admin")
    await admin.send("/baocao HM-HL-02 6/2026")
    assert "Tổ chức 2 hội nghị tuyên truyền — trợ lý tổng hợp" in admin.reply_text()
    await admin.send("/baocao HM-HL 6/2026")
    assert "Tổ chức 3 hội nghị tuyên truyền — trợ lý tổng hợp" in admin.reply_text()
    await admin.send("/baocao HM-HL 5/2026")
    assert "Hội nghị tuyên truyền: chưa có số liệu" in admin.reply_text(), "none held in May"

    # Chapter 02 enters its own figure: it stands for 02; chapter 07's recording is added.
    ward_unit, chapter = await _unit(db, "HM-HL"), await _unit(db, "HM-HL-02")
    await figures.enter(db, Figure(chapter, "2026-06", "propaganda_meetings", 4), by=ADMIN_ID,
                        at="2026-06-10T03:00:00Z")
    await admin.send("/baocao HM-HL 6/2026")
    assert ("Tổ chức 5 hội nghị tuyên truyền — số liệu đơn vị báo cáo và trợ lý tổng hợp; "
            "trợ lý ghi nhận 3") in admin.reply_text()
    # The ward enters its total: the entered figure is shown, the recording mentioned.
    await figures.enter(db, Figure(ward_unit, "2026-06", "propaganda_meetings", 6),
                        by=ADMIN_ID, at="2026-06-10T03:00:00Z")
    await admin.send("/baocao HM 6/2026")
    text = admin.reply_text()
    assert "Tổ chức 6 hội nghị tuyên truyền — số liệu đơn vị báo cáo; trợ lý ghi nhận 3" in text
    # Entered and recorded agree: no note.
    await figures.enter(db, Figure(ward_unit, "2026-06", "propaganda_meetings", 3),
                        by=ADMIN_ID, at="2026-06-10T04:00:00Z")
    await admin.send("/baocao HM 6/2026")
    assert "Tổ chức 3 hội nghị tuyên truyền — số liệu đơn vị báo cáo\n" in admin.reply_text()


async def _requests(db, n: int, *, resolved: int, at: str, code: str = "HM-HL-02") -> None:
    member = await register_member(db, MEMBER + n + len(code), code, name="Lê Thị Mai")
    unit_id = await _unit(db, code)
    for number in range(n):
        request_id = await support.open_request(
            db, member_id=member, unit_id=unit_id, category="legal_advice",
            audience="handlers", body="xin tư vấn", photo_file_id=None, at=at)
        if number < resolved:
            assert await support.set_status(db, request_id, status="resolved", by=ADMIN_ID,
                                            at=at)


async def test_letters_come_from_requests_for_help_and_few_are_not_shown(person, db, clock):
    await _requests(db, 2, resolved=1, at="2026-06-02T03:00:00Z")
    admin = person(ADMIN_ID, "Admin")
    await admin.send("/baocao HM-HL 6/2026")
    text = admin.reply_text()
    assert ("Đơn thư tiếp nhận: dưới 5 yêu cầu hỗ trợ qua trợ lý nên em không nêu số, để "
            "không ai bị nhận ra — trợ lý tổng hợp") in text
    assert "Tiếp nhận 2 đơn thư" not in text and "Giải quyết kịp thời 1" not in text
    # A unit's entered figure is shown; the hidden recording is said in words, no number.
    ward_unit = await _unit(db, "HM-HL")
    await figures.enter(db, Figure(ward_unit, "2026-06", "letters_received", 9), by=ADMIN_ID,
                        at="2026-06-10T03:00:00Z")
    await admin.send("/baocao HM-HL 6/2026")
    text = admin.reply_text()
    assert ("Tiếp nhận 9 đơn thư — số liệu đơn vị báo cáo; dưới 5 yêu cầu hỗ trợ qua trợ lý "
            "nên em không nêu số") in text

    await _requests(db, 5, resolved=2, at="2026-06-04T03:00:00Z")
    await admin.send("/baocao HM-HL-02 6/2026")
    text = admin.reply_text()
    assert "Tiếp nhận 7 đơn thư — trợ lý tổng hợp" in text
    assert "Giải quyết kịp thời 3 đơn thư — trợ lý tổng hợp" in text
    await admin.send("/baocao HM-HL 6/2026")
    assert "Tiếp nhận 9 đơn thư — số liệu đơn vị báo cáo; trợ lý ghi nhận 7" in (
        admin.reply_text())
    await admin.send("/baocao HM-HL 5/2026")
    assert "Đơn thư tiếp nhận: chưa có số liệu" in admin.reply_text()
    # Chapter 02 enters what it resolved; chapter 07's single resolved request is not added.
    await figures.enter(db, Figure(await _unit(db, "HM-HL-02"), "2026-06", "letters_resolved",
                                   4), by=ADMIN_ID, at="2026-06-10T03:00:00Z")
    await _requests(db, 2, resolved=1, at="2026-06-05T03:00:00Z", code="HM-HL-07")
    await admin.send("/baocao HM-HL 6/2026")
    text = admin.reply_text()
    assert ("Giải quyết kịp thời 4 đơn thư — số liệu đơn vị báo cáo; dưới 5 yêu cầu hỗ trợ qua "
            "trợ lý ở các đơn vị chưa nhập số: không cộng vào") in text
    assert "Tiếp nhận 9 đơn thư — số liệu đơn vị báo cáo\n" in text, "9 entered, 9 recorded"


async def test_the_export_sheet_names_the_recording(person, db, app, clock, api):
    from io import BytesIO

    from openpyxl import load_workbook

    from tests.test_charts_export import exports_done

    await register_member(db, MEMBER, "HM-HL-02", name="Nguyễn Thị Hoa")
    await _event(app, db, "HM-HL-02", datetime(2026, 6, 3, 12, 30, tzinfo=UTC))
    await figures.enter(db, Figure(await _unit(db, "HM-HL"), "2026-06", "propaganda_meetings",
                                   2), by=ADMIN_ID, at="2026-06-10T03:00:00Z")
    clock.advance(timedelta(days=1).total_seconds())
    admin = person(ADMIN_ID, "Admin")
    await admin.send("/export HM 2026")
    await exports_done()
    [sent] = [c for c in api.calls if c.method == "sendDocument"]
    sheet = load_workbook(BytesIO(sent.files["document"].content))["Chỉ tiêu đơn vị"]
    row = next(r for r in ([c.value for c in row] for row in sheet.iter_rows())
               if r[0] == "Hội nghị tuyên truyền")
    assert row[2] == 2 and row[6] == "số liệu đơn vị báo cáo; trợ lý ghi nhận 1"
