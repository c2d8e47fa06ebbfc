"""Meetings and events end to end (issue 13 §1): /meeting, invitations and answers, the
evening-before reminder, check-in by QR code or typed code, the head's attendance list, and the
figures in /stats and the export."""

from __future__ import annotations

import io
from datetime import UTC, date, datetime, timedelta

import pytest
from openpyxl import load_workbook

from bot import buttons as layout
from bot import catalog
from bot import meetings as service
from bot.clock import ManualClock
from storage import meetings, privacy, units
from storage.deliveries import Variant
from tests.conftest import grant, register_member
from tests.test_charts_export import exports_done
from tests.test_zalo import zalo, zalo_api, zalo_member  # noqa: F401 (the Zalo fixtures)

HEAD = 4001
MEMBERS = (4101, 4102, 4103)
# Monday 1 June 2026, 09:00 in Hà Nội; the meeting is on Wednesday 3 June at 19:30.
MONDAY = datetime(2026, 6, 1, 2, 0, tzinfo=UTC)
EVE = datetime(2026, 6, 2, 11, 0, tzinfo=UTC)  # Tuesday 18:00 in Hà Nội
MEETING = datetime(2026, 6, 3, 12, 30, tzinfo=UTC)  # Wednesday 19:30 in Hà Nội


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(MONDAY)


def to(clock: ManualClock, when: datetime) -> None:
    """Move the clock forward to `when`."""
    clock.advance((when - clock.now()).total_seconds())


async def chapter(db, api) -> list[int]:
    """A head of HM-HL-02 and three members there; returns the members' ids."""
    api.add_chat(HEAD)
    head = await register_member(db, HEAD, "HM-HL-02", name="Trần Thị Lan")
    await grant(db, head, "chapter_head", "HM-HL-02")
    ids = []
    for user_id, name in zip(MEMBERS, ("Nguyễn Thị Hoa", "Lê Thị Mai", "Phạm Thị Thu"),
                             strict=True):
        api.add_chat(user_id)
        ids.append(await register_member(db, user_id, "HM-HL-02", name=name))
    return ids


def invitations_to(api, user_id: int, word: str = "Lời mời") -> list[str]:
    return [str(c.params.get("text")) for c in api.calls
            if c.ok and c.method == "sendMessage" and int(c.params["chat_id"]) == user_id
            and word in str(c.params.get("text"))]


async def create_meeting(lan, app, *, when: str = "3/6 19:30", sent: int = 3,
                         title: str = "Sinh hoạt chi hội tháng 6") -> meetings.Event:
    """The head's whole create flow, by buttons and typed text."""
    await lan.send("/meeting")
    assert "Hủy" in [b[1] for b in lan.buttons()][-1], "a free-text prompt can be cancelled"
    await lan.send(title)
    await lan.press("Sinh hoạt chi hội")
    await lan.send(when)
    await lan.send("Nhà văn hóa <tổ 12>")
    await lan.press("Tất cả")
    await lan.send("1. Tổng kết phong trào\n2. Kế hoạch tháng 7")
    preview = lan.reply_text()
    assert "Nhà văn hóa &lt;tổ 12&gt;" in preview and f"{sent} hội viên" in preview
    assert f"lúc 19:30 ngày {when.split()[0]}/2026" in preview
    await lan.press("Gửi lời mời")
    assert "dd-" in lan.reply_text()
    await app.bot_data.delivery.run_until_idle()
    [event] = [e for e in await meetings.in_units(app.bot_data.db, None, since_day="2026-01-01")
               if e.title == title]
    return event


async def test_a_title_of_only_emoji_or_punctuation_is_asked_again(person, db, api):
    await chapter(db, api)
    lan = person(HEAD)
    await lan.send("/meeting")
    # Found on the walk: "😀😀😀" was accepted as a meeting's title.
    for title in ("😀😀😀", "... !!!"):
        await lan.send(title)
        assert "Tên cần có ít nhất một chữ cái hoặc chữ số" in lan.reply_text()
        assert "Hủy" in [b[1] for b in lan.buttons()][-1], "the prompt can still be cancelled"
    await lan.send("Họp chi hội 😀")
    assert "Đây là loại sinh hoạt nào ạ?" in lan.reply_text()
    assert lan.errors() == []


async def test_invitations_go_once_to_each_member_and_are_answered(person, db, api, app):
    ids = await chapter(db, api)
    lan = person(HEAD)
    event = await create_meeting(lan, app)
    for user_id in MEMBERS:
        [invitation] = invitations_to(api, user_id)
        assert "Sinh hoạt chi hội tháng 6" in invitation and "&lt;tổ 12&gt;" in invitation
    assert len(invitations_to(api, HEAD)) == 1, "the head saw the preview and gets no copy"
    await app.bot_data.delivery.run_until_idle()
    assert all(len(invitations_to(api, u)) == 1 for u in MEMBERS), "never twice"
    hoa, mai = person(MEMBERS[0]), person(MEMBERS[1])
    await hoa.press("Sẽ tham dự")
    assert "sẽ tham dự" in hoa.reply_text()
    await mai.send("/meetings")
    await mai.send("1")  # her invitation
    await mai.send("2")  # cannot come
    assert "không tham dự được" in mai.reply_text()
    answers = {i.member_id: i.answer for i in await meetings.invitees(db, event.id)}
    assert [answers[i] for i in ids] == ["yes", "no", None]


async def test_the_evening_reminder_goes_to_yes_and_unanswered_only(person, db, api, app,
                                                                    clock):
    await chapter(db, api)
    lan = person(HEAD)
    await create_meeting(lan, app)
    await person(MEMBERS[0]).press("Sẽ tham dự")
    await person(MEMBERS[1]).press("Không tham dự được")
    assert await service.tick(app.bot_data) == 0, "not before 18:00 the evening before"
    to(clock, EVE + timedelta(minutes=1))
    assert await service.tick(app.bot_data) == 1
    assert await service.tick(app.bot_data) == 0, "exactly once"
    await app.bot_data.delivery.run_until_idle()
    reminded = {u for u in MEMBERS if invitations_to(api, u, "Nhắc lịch")}
    assert reminded == {MEMBERS[0], MEMBERS[2]}


async def test_check_in_by_code_once_and_the_window(person, db, api, app, clock):
    await chapter(db, api)
    event = await create_meeting(person(HEAD), app)
    hoa = person(MEMBERS[0])
    to(clock, MEETING - timedelta(hours=2))
    await hoa.send(f"/start dd-{event.code}")
    assert "mở" in hoa.reply_text() and "18:30" in hoa.reply_text(), "too early, says when"
    to(clock, MEETING - timedelta(minutes=10))
    await hoa.send(f"/start dd-{event.code}")
    assert "chị Hoa" in hoa.reply_text() and "có mặt" in hoa.reply_text()
    await hoa.send(f"/start dd-{event.code}")
    assert "đã điểm danh rồi" in hoa.reply_text()
    await hoa.send("/start dd-AAAAAAAA")
    assert "không đúng" in hoa.reply_text(), "a forged code"
    to(clock, datetime(2026, 6, 3, 17, 0, tzinfo=UTC))  # midnight in Hà Nội
    mai = person(MEMBERS[1])
    await mai.send(f"dd-{event.code}")
    assert "đã kết thúc" in mai.reply_text(), "expired at the end of the local day"
    c = await meetings.counts(db, event.id)
    assert (c.invited, c.attended) == (4, 1)


async def test_codes_of_another_unit_or_outside_the_audience_are_refused(person, db, api,
                                                                         app, clock):
    await chapter(db, api)
    event = await create_meeting(person(HEAD), app)
    api.add_chat(4201)
    await register_member(db, 4201, "HM-YS-03", name="Đỗ Thị Yến")
    api.add_chat(4202)
    await register_member(db, 4202, "HM-HL-02", name="Vũ Thị Nga")  # joined after the invite
    to(clock, MEETING)
    yen, nga = person(4201), person(4202)
    await yen.send(f"/start dd-{event.code}")
    assert "đơn vị khác" in yen.reply_text()
    await nga.send(f"/start dd-{event.code}")
    assert "không thuộc" in nga.reply_text()
    assert (await meetings.counts(db, event.id)).attended == 0


async def test_the_head_ticks_and_corrects_attendance_and_shows_the_qr(person, db, api, app,
                                                                       clock):
    ids = await chapter(db, api)
    lan = person(HEAD)
    event = await create_meeting(lan, app)
    to(clock, MEETING + timedelta(hours=3))
    await lan.send("/meetings")
    await lan.press("🗓 Sinh hoạt")
    await lan.press("Mã QR")
    [photo] = [c for c in lan.replies() if c.method == "sendPhoto"]
    assert photo.files["photo"].content.startswith(b"\x89PNG")
    assert f"dd-{event.code}" in photo.params["caption"]
    await lan.press("Điểm danh")
    await lan.press("Thị Mai")
    await lan.press("Thị Mai")  # a slip: taken back
    await lan.press("Thị Thu")
    attended = {i.member_id for i in await meetings.invitees(db, event.id) if i.attended_at}
    assert attended == {ids[2]}
    assert "1/4" in lan.reply_text()
    to(clock, MEETING + timedelta(days=2))  # corrected afterwards
    await lan.send("/meetings")
    await lan.press("🗓 Sinh hoạt")
    await lan.press("Điểm danh")
    await lan.send("1")  # typed number: the first on the list (Hoa by given name)
    attended = {i.member_id for i in await meetings.invitees(db, event.id) if i.attended_at}
    assert attended == {ids[0], ids[2]}


async def test_figures_in_stats_and_the_export(person, db, api, app, clock):
    ids = await chapter(db, api)
    lan = person(HEAD)
    event = await create_meeting(lan, app)
    to(clock, MEETING)
    await person(MEMBERS[0]).send(f"/start dd-{event.code}")
    await meetings.set_attended(db, event.id, ids[1], True, at="2026-06-03T12:40:00Z", by=HEAD)
    to(clock, MEETING + timedelta(days=1))
    fig = await meetings.figures(db, None, first=date(2026, 1, 1), last=date(2026, 12, 31))
    assert (fig.held, fig.events, fig.invited, fig.attended) == (1, {"chapter_meeting": 1}, 4, 2)
    assert fig.reached == 0, "a chapter meeting is not an awareness meeting"
    await lan.send("/stats")
    await lan.press("Hội họp")
    text = lan.reply_text()
    assert "2/4 (đạt 50%)" in text and "Sinh hoạt chi hội 1" in text
    await lan.send("/export")
    await exports_done()
    [sent] = [c for c in api.calls if c.method == "sendDocument"]
    sheet = load_workbook(io.BytesIO(sent.files["document"].content))["Hội họp"]
    rows = [[c.value for c in row] for row in sheet.iter_rows()]
    chapter_row = next(r for r in rows if r[0] == "HM-HL-02")
    header = next(r for r in rows if r[0] == "Mã")
    assert chapter_row[header.index("Có mặt")] == 2
    assert chapter_row[header.index("Số cuộc đã tổ chức")] == 1


async def test_awareness_meetings_count_members_reached(db, app, api):
    ids = await chapter(db, api)
    unit = await units.by_code(db, "HM-HL-02")
    assert unit is not None
    tz = app.bot_data.settings.timezone
    new = service.new_event(unit_id=unit.id, kind="propaganda", title="Tuyên truyền Luật HN&GĐ",
                            place="Hội trường", agenda=None, audience="all", when=MEETING,
                            tz=tz, now=MONDAY, created_by=HEAD)
    event, invited = await meetings.create(
        db, new, service.invitation_render(app.bot_data.catalog, new, unit.name, tz,
                                           "2026-06-01T02:00:00Z"),
        year=2026, now="2026-06-01T02:00:00Z", sender_member=None)
    assert invited == 4 and event.remind_at == "2026-06-02T11:00:00Z"
    for member_id in ids[:2]:
        assert await meetings.check_in(db, event.id, member_id, at="2026-06-03T12:00:00Z") == (
            True, "2026-06-03T12:00:00Z")
    ward = await units.by_code(db, "HM-HL")
    assert ward is not None
    for scope in (unit.id, ward.id, None):
        fig = await meetings.figures(db, scope, first=date(2026, 6, 1), last=date(2026, 6, 30))
        assert (fig.held, fig.reached, fig.attended) == (1, 2, 2)
    assert (await meetings.figures(db, unit.id, first=date(2026, 6, 1),
                                   last=date(2026, 6, 30))).members == 4
    other = await meetings.figures(db, unit.id, first=date(2026, 7, 1), last=date(2026, 7, 31))
    assert (other.held, other.reached) == (0, 0)


async def test_past_and_absurd_times_are_refused(person, db, api, app):
    await chapter(db, api)
    lan = person(HEAD)
    await lan.send("/meeting")
    await lan.send("Họp chi hội")
    await lan.send("1")
    await lan.send("1/1/2026 08:00")
    assert "đã qua" in lan.reply_text()
    await lan.send("5/6 02:00")
    assert "nhầm" in lan.reply_text()
    await lan.send("31/2 19:00")
    assert "chưa đọc được" in lan.reply_text()
    await lan.press("Hủy")
    assert "Đã hủy" in lan.reply_text()
    assert await meetings.in_units(db, None, since_day="2026-01-01") == []


async def test_a_zalo_member_checks_in_by_typing_the_code(zalo, app, person, db, api,  # noqa: F811
                                                         clock):
    await chapter(db, api)
    thu = await zalo_member(zalo, "ab0000000001", name="Đinh Thị Thu")
    event = await create_meeting(person(HEAD), app, sent=4)
    to(clock, MEETING)
    await thu.send(f"dd-{event.code}")
    assert "có mặt" in thu.reply()
    await thu.send(f"start dd-{event.code}")
    assert "đã điểm danh rồi" in thu.reply()


async def test_mydata_lists_her_meetings_and_erasure_scrubs_them(person, db, api, app, clock):
    ids = await chapter(db, api)
    lan = person(HEAD)
    await lan.send("/meeting")
    await lan.send("Chúc mừng chị Nguyễn Thị Hoa")
    await lan.send("1")
    await lan.send("3/6 19:30")
    await lan.send("Nhà chị Nguyễn Thị Hoa")
    await lan.send("1")
    await lan.press("Bỏ qua")
    await lan.press("Gửi lời mời")
    [event] = await meetings.in_units(db, None, since_day="2026-01-01")
    to(clock, MEETING)
    hoa = person(MEMBERS[0])
    await hoa.send(f"/start dd-{event.code}")
    mine = (await privacy.export(db, MEMBERS[0]))["meetings"]
    assert [(m["title"], m["attended_how"]) for m in mine] == [
        ("Chúc mừng chị Nguyễn Thị Hoa", "code")]
    await hoa.send("/mydata")
    assert "Cuộc họp chị được mời: 1 (có mặt 1)" in hoa.reply_text()
    await privacy.erase(db, ids[0], MEMBERS[0], reason="deleteme", purpose="membership",
                        version=1, at="2026-06-04T00:00:00Z")
    erased = await meetings.get(db, event.id)
    assert erased is not None and "Hoa" not in erased.title + erased.place
    assert (await meetings.counts(db, event.id)).attended == 1, "her attendance still counts"


async def test_an_older_catalog_gets_the_shipped_kinds_and_a_used_kind_cannot_go(db, app, api):
    shipped = catalog.default_path().read_text("utf-8")
    older = shipped[:shipped.index("# Kinds of the union's own meetings")]
    assert [e.code for e in catalog.parse(older).entries["event_kinds"]][:2] == [
        "chapter_meeting", "propaganda"]
    await chapter(db, api)
    unit = await units.by_code(db, "HM-HL-02")
    assert unit is not None
    new = service.new_event(unit_id=unit.id, kind="training", title="Tập huấn", place="Phường",
                            agenda=None, audience="all", when=MEETING,
                            tz=app.bot_data.settings.timezone, now=MONDAY, created_by=HEAD)
    await meetings.create(db, new, lambda _id: [("vi", Variant(0, "x"))], year=2026,
                          now="2026-06-01T02:00:00Z", sender_member=None)
    without = shipped.replace('code = "training"', 'code = "coaching"')
    with pytest.raises(catalog.CatalogError, match="training"):
        await catalog.check_stored_codes(db, catalog.parse(without))


async def test_scope_an_admin_any_unit_of_hers_a_head_only_her_chapter(person, db, api, app):
    await chapter(db, api)
    api.add_chat(4401)
    admin = await register_member(db, 4401, "HM-HL-07", name="Hồ Thị Vân")
    await grant(db, admin, "unit_admin", "HM-HL")
    van, lan = person(4401), person(HEAD)
    await van.send("/meeting HM-HL-02")
    assert "Chi hội tổ dân phố số 2" in van.reply_text()
    await lan.send("/meeting HM-YS-03")
    assert "không có quyền" in lan.reply_text()
    event = await create_meeting(lan, app)
    api.add_chat(4402)
    other = await register_member(db, 4402, "HM-YS-03", name="Đào Thị Hương")
    await grant(db, other, "chapter_head", "HM-YS-03")
    huong = person(4402)
    await huong.send("/meetings")
    assert "Sinh hoạt chi hội tháng 6" not in huong.reply_text()
    message_id = api.messages(4402)[-1]["message_id"]
    for forged in (f"mtv:a:{event.id}:o:1", f"mtv:e:{event.id}:o:qr"):
        await huong.press_data(message_id, forged)
        assert "không có quyền" in huong.reply_text()
    assert (await meetings.counts(db, event.id)).attended == 0



async def test_a_head_without_meetings_is_told_so(person, db, api, app):
    """Found on the walk: /meetings with nothing to come answered "em vừa gặp trục trặc" (an
    empty keyboard the Bot API refuses) instead of saying there is none."""
    await chapter(db, api)
    lan = person(HEAD)
    await lan.send("/meetings")
    assert "Chưa có cuộc họp nào sắp tới" in lan.reply_text()
    assert lan.errors() == []


async def test_a_member_without_invitations_is_told_so_without_officers_instructions(
        person, db, api, app):
    """Found on the walk: a plain member's /meetings said how officers create meetings."""
    ids = await chapter(db, api)
    hoa = person(MEMBERS[0])
    await hoa.send("/meetings")
    text = hoa.reply_text()
    assert "chưa có lời mời họp nào" in text, text
    assert "/meeting" not in text and "Chi hội trưởng" not in text
    assert ids and hoa.errors() == []


async def test_a_zalo_member_sees_her_invitation_once_in_full_and_answers_by_number(
        zalo, app, person, db, api):  # noqa: F811
    await chapter(db, api)
    thu = await zalo_member(zalo, "ab0000000002", name="Đinh Thị Thu")
    event = await create_meeting(person(HEAD), app, sent=4)
    await thu.send("/meetings")
    listed = thu.reply()
    assert len([line for line in listed.splitlines() if "tháng 6" in line]) == 1, listed
    assert "1. Sinh hoạt chi hội tháng 6 — lúc 19:30 ngày 3/6/2026" in listed, listed
    assert "…" not in listed
    await thu.send("1")
    await thu.choose("Sẽ tham dự")
    answers = {i.full_name: i.answer for i in await meetings.invitees(db, event.id)}
    assert answers["Đinh Thị Thu"] == service.YES, answers


async def test_the_head_sees_her_own_chapters_meeting_once(person, db, api, app):
    """Found on the head's walk: she is invited to her chapter's meeting too, so /meetings
    showed it twice ("📩 Sinh hoạt chi …" and "🗓 Sinh hoạt chi …"), the same cut title."""
    await chapter(db, api)
    lan = person(HEAD)
    await create_meeting(lan, app)
    await lan.send("/meetings")
    shown = lan.reply_text()
    labels = [label for _, label, _ in lan.buttons()]
    assert shown.count("Sinh hoạt chi hội tháng 6") == 1, shown
    assert "Lời mời của chị" not in shown and len(labels) == 1 and "🗓" in labels[0], shown
    await lan.press("🗓 Sinh hoạt")
    assert "Đã mời: 4" in lan.reply_text()


async def test_the_preview_and_the_card_count_the_head_alike(person, db, api, app):
    """Found on the head's walk: the preview said 3 members, the card "Đã mời: 4" (she is on
    the attendance list without a copy of her own); the kind "Tuyên truyền, PBGDPL" was an
    abbreviation (its description spells out "phổ biến, giáo dục pháp luật")."""
    await chapter(db, api)
    lan = person(HEAD)
    await lan.send("/meeting")
    await lan.send("Sinh hoạt chi hội tháng 6")
    kinds = [label for _, label, _ in lan.buttons()]
    assert "2. Tuyên truyền" in kinds and not any("PBGDPL" in k for k in kinds), kinds
    await lan.press("Sinh hoạt chi hội")
    await lan.send("3/6 19:30")
    await lan.send("Nhà văn hóa")
    await lan.press("Tất cả")
    await lan.press("Bỏ qua")
    assert ("Em sẽ gửi lời mời đến 3 hội viên; cùng chị là 4 người trong danh sách điểm danh."
            in lan.reply_text()), lan.reply_text()
    await lan.press("Gửi lời mời")
    await lan.send("/meetings")
    await lan.press("🗓 Sinh hoạt")
    assert "Đã mời: 4" in lan.reply_text()


async def test_meetings_buttons_tell_alike_titles_apart_by_their_day(person, db, api, app):
    """Found on the head's walk: "🗓 Sinh hoạt chi …" twice for "… tháng 11" and "… tháng 12"."""
    await chapter(db, api)
    lan = person(HEAD)
    await create_meeting(lan, app, title="Sinh hoạt chi hội tháng 11", when="3/6 19:30")
    await create_meeting(lan, app, title="Sinh hoạt chi hội tháng 12", when="10/6 19:30")
    await lan.send("/meetings")
    labels = [label for _, label, _ in lan.buttons()]
    assert len(labels) == 2 and len(set(labels)) == 2, labels
    assert labels[0].endswith("· 3/6") and labels[1].endswith("· 10/6"), labels
    assert all(layout.width(label) <= layout.ALONE for label in labels), labels
    await lan.press("· 10/6")
    assert "Sinh hoạt chi hội tháng 12" in lan.reply_text()


async def test_attendance_goes_by_given_name_and_every_page_goes_back(person, db, api, app):
    """Found on the head's walk: "⬅ Quay lại" only on the last page, "Hương" before "Hạnh"."""
    await chapter(db, api)
    names = ["Đỗ Thị Hương", "Vũ Thị Hạnh", "Bùi Thị Yến", "Hồ Thị Ánh", "Đặng Thị Bích",
             "Ngô Thị Cúc", "Lý Thị Dung"]
    for offset, name in enumerate(names):
        api.add_chat(4200 + offset)
        await register_member(db, 4200 + offset, "HM-HL-02", name=name)
    lan = person(HEAD)
    await create_meeting(lan, app, sent=10)
    await lan.send("/meetings")
    await lan.press("🗓 Sinh hoạt")
    await lan.press("Điểm danh")
    first = [label for _, label, _ in lan.buttons()]
    assert first[-1] == "⬅ Quay lại" and "▶" in first, first
    order = [label.split(". ", 1)[1][2:] for label in first if ". " in label]
    assert order.index("Hồ Thị Ánh") < order.index("Vũ Thị Hạnh") < order.index(
        "Nguyễn Thị Hoa") < order.index("Đỗ Thị Hương"), order
    await lan.press("▶")
    assert [label for _, label, _ in lan.buttons()][-1] == "⬅ Quay lại"
    await lan.press("◀")
    await lan.press("Quay lại")
    assert "Đã mời: 11" in lan.reply_text()
    await lan.press("Điểm danh")
    await lan.send("quay lại")  # typed, as on a phone without the button in view
    assert "Đã mời: 11" in lan.reply_text()


async def test_a_bare_number_at_the_agenda_presses_skip_or_is_asked_back(person, db, api, app):
    # Found on the walk: "1" meant as "⏭ Bỏ qua" went out to every member as "📝 Nội dung: 1".
    await chapter(db, api)
    lan = person(HEAD)
    await lan.send("/meeting")
    await lan.send("Sinh hoạt chi hội tháng 6")
    await lan.press("Sinh hoạt chi hội")
    await lan.send("3/6 19:30")
    await lan.send("Nhà văn hóa")
    await lan.press("Tất cả")
    await lan.send(" 7 ")
    asked = lan.reply_text()
    assert "Chị muốn ghi “7” ạ?" in asked and "1. ⏭ Bỏ qua" in asked
    assert [b[1] for b in lan.buttons()] == ["⏭ Bỏ qua", "✖ Hủy"]
    await lan.send("1.")
    preview = lan.reply_text()
    assert "3 hội viên" in preview and "Nội dung" not in preview
    assert lan.errors() == []


async def test_a_number_typed_twice_at_the_agenda_is_kept(person, db, api, app):
    await chapter(db, api)
    lan = person(HEAD)
    await lan.send("/meeting")
    await lan.send("Sinh hoạt chi hội tháng 6")
    await lan.press("Sinh hoạt chi hội")
    await lan.send("3/6 19:30")
    await lan.send("Nhà văn hóa")
    await lan.press("Tất cả")
    await lan.send("7")
    await lan.send("7")
    assert "Nội dung: 7" in lan.reply_text()


async def test_an_invitation_says_who_invites_by_her_title(person, db, api, app):
    # Found on the walk: the invitation did not say who invites.
    await chapter(db, api)
    await create_meeting(person(HEAD), app)
    [invitation] = invitations_to(api, MEMBERS[0])
    first = invitation.splitlines()[0]
    assert first.startswith("📩 <b>Lời mời</b> của Chi hội trưởng Chi hội")
    assert "HM-HL-02" not in first and "Trần Thị Lan" not in invitation
