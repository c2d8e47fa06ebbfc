"""Polls and quick surveys end to end (/poll, /polls; issue 14 §1)."""

from __future__ import annotations

import io
import json
from datetime import UTC, datetime, timedelta

import pytest
from PIL import Image

from bot import polls as service
from bot.clock import ManualClock
from storage import polls, privacy
from tests.conftest import grant, register_member
from tests.test_zalo import zalo, zalo_api  # noqa: F401  (the Zalo side, for one test)

HEAD = 3001
MEMBERS = [3100 + n for n in range(16)]
# Monday 25 May 2026, 09:00 in Hà Nội.
MONDAY = datetime(2026, 5, 25, 2, 0, tzinfo=UTC)


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(MONDAY)


async def chapter(db, api, *, count: int = 8, code: str = "HM-HL-02") -> list[int]:
    """A head of `code` and `count` members there; the members' Telegram ids."""
    api.add_chat(HEAD)
    head = await register_member(db, HEAD, code, name="Trần Thị Lan")
    await grant(db, head, "chapter_head", code)
    ids = MEMBERS[:count]
    for user_id in ids:
        api.add_chat(user_id)
        await register_member(db, user_id, code, name=f"Nguyễn Thị Hoa {user_id}")
    return ids


async def create(lan, *, question: str = "Chị muốn họp chi hội vào buổi nào?",
                 options: str = "Sáng\nChiều\nTối", multiple: bool = False,
                 other: bool = False, anonymous: bool = False, show: bool = True,
                 closes: str = "30/5/2026 20:00", remind: str | None = None) -> None:
    """Drive the whole /poll flow up to the preview."""
    await lan.send("/poll")
    await lan.send(question)
    await lan.send(options)
    await lan.press("Xong")
    await lan.press("Nhiều lựa chọn" if multiple else "Một lựa chọn")
    await lan.press("Có, thêm" if other else "Không")
    await lan.press("Ẩn danh" if anonymous else "Ghi tên")
    await lan.press("Có, sau khi" if show else "Không, không")
    await lan.send(closes)
    if remind is None:
        await lan.press("Không nhắc")
    else:
        await lan.send(remind)
    await lan.press("Tất cả")


def poll_messages(api, user_id: int) -> list[dict]:
    return [c.params for c in api.calls if c.ok and c.method == "sendMessage"
            and int(c.params["chat_id"]) == user_id and "📋" in str(c.params.get("text"))]


async def sent_poll(app, db, lan, **kwargs) -> polls.Poll:
    await create(lan, **kwargs)
    await lan.press("Gửi ngay")
    await app.bot_data.delivery.run_until_idle()
    [row] = await db.fetchall("SELECT id FROM polls ORDER BY id DESC LIMIT 1")
    found = await polls.get(db, row[0])
    assert found is not None
    return found


async def test_bad_inputs_are_refused_and_the_draft_kept(person, db, api, app):
    await chapter(db, api)
    lan = person(HEAD)
    await lan.send("/poll")
    assert "300" in lan.reply_text() and "Hủy" in str(lan.buttons())
    await lan.send("x" * 2000)
    assert "2.000" in lan.reply_text() and "300" in lan.reply_text()
    await lan.send("Chị muốn họp vào buổi nào?")
    await lan.send("Sáng\n\n  sáng \nChiều")
    said = lan.reply_text()
    assert "bỏ trống" in said and "đã có" in said and "2. Chiều" in said
    await lan.send("\n".join(f"Buổi {n}" for n in range(3, 12)))
    said = lan.reply_text()
    assert "10. Buổi 10" in said and "Buổi 11" in said and "tối đa 10" in said
    await lan.press("Xong")
    await lan.press("Một lựa chọn")
    await lan.press("Không")
    await lan.press("Ghi tên")
    await lan.press("Có, sau khi")
    await lan.send("1/1/2020 08:00")
    assert "tương lai" in lan.reply_text()
    await lan.send("ngày mai")
    assert "chưa đọc được" in lan.reply_text()
    await lan.press("Hủy")
    assert "đã hủy" in lan.reply_text().lower()
    assert await db.fetchall("SELECT id FROM polls") == []
    assert [c for c in api.calls if not c.ok and c.method != "setMyCommands"] == []


async def test_preview_then_delivered_once_to_each_member(person, db, api, app):
    ids = await chapter(db, api, count=5)
    lan = person(HEAD)
    await create(lan, question="Chị có tham gia <ngày> Chủ nhật & xanh?")
    preview = lan.reply_text()
    assert "5 hội viên" in preview and "&lt;ngày&gt;" in preview
    [shown] = poll_messages(api, HEAD)
    await lan.press("Gửi ngay")
    await app.bot_data.delivery.run_until_idle()
    await app.bot_data.delivery.run_until_idle()
    for user_id in ids:
        [got] = poll_messages(api, user_id)
        assert got["text"] == shown["text"], "members get exactly the preview"
        assert got["reply_markup"]["inline_keyboard"][0][0]["text"] == "Sáng"
    assert len(poll_messages(api, HEAD)) == 1, "the creator saw only the preview"


async def test_answer_by_button_change_it_and_by_typed_number(person, db, api, app):
    ids = await chapter(db, api, count=3)
    poll = await sent_poll(app, db, person(HEAD))
    hoa = person(ids[0])
    await hoa.press("Chiều")
    assert "ghi nhận" in hoa.reply_text() and "Chiều" in hoa.reply_text()
    await hoa.press("Tối")
    assert "đã đổi" in hoa.reply_text()
    member = await db.fetchone("SELECT id FROM members WHERE telegram_user_id = ?", (ids[0],))
    found = await polls.answer_of(db, poll.id, member[0])
    assert found is not None and found.choices == (3,)
    mai = person(ids[1])
    await mai.send("/polls")
    await mai.press(f"#{poll.id}")
    await mai.send("2")
    assert "Chiều" in mai.reply_text()
    await mai.send("1 3")
    assert "một số" in mai.reply_text(), "one answer only"


async def test_multiple_choice_toggles_and_typed_list(person, db, api, app):
    ids = await chapter(db, api, count=3)
    poll = await sent_poll(app, db, person(HEAD), multiple=True)
    hoa = person(ids[0])
    await hoa.press("Sáng")
    await hoa.press("Tối")
    labels = [b[1] for b in hoa.buttons()]
    assert "☑ Sáng" in labels and "☑ Tối" in labels and "☐ Chiều" in labels
    await hoa.press("Gửi")
    assert "Sáng, Tối" in hoa.reply_text()
    mai = person(ids[1])
    await mai.send("/polls")
    await mai.press(f"#{poll.id}")
    await mai.send("1,2")
    assert "Sáng, Chiều" in mai.reply_text()
    counts = await polls.live_counts(db, poll)
    [unit] = counts.values()
    assert unit.respondents == 2 and unit.cells == {1: 2, 2: 1, 3: 1}


async def test_other_text_is_shown_escaped_for_named_polls_only(person, db, api, app):
    ids = await chapter(db, api, count=2)
    lan = person(HEAD)
    poll = await sent_poll(app, db, lan, other=True)
    hoa = person(ids[0])
    await hoa.press("Khác")
    assert "Hủy" in str(hoa.buttons())
    await hoa.send("Tối <thứ Bảy>")
    assert "ghi nhận" in hoa.reply_text()
    await lan.send("/polls")
    await lan.press(f"#{poll.id}")
    assert "Tối &lt;thứ Bảy&gt;" in lan.reply_text()
    await lan.press("Ai trả lời")
    assert "Nguyễn Thị Hoa 3100" in lan.reply_text()


async def test_the_other_answer_is_confirmed_with_her_own_words(person, db, api, app):
    ids = await chapter(db, api, count=1)
    await sent_poll(app, db, person(HEAD), other=True)
    hoa = person(ids[0])
    [(message_id, _t, data)] = [b for b in hoa.buttons() if "Khác" in b[1]]
    await hoa.press("Khác")
    await hoa.send("Tối <thứ Bảy>, sau giờ cơm")
    said = hoa.reply_text()
    assert "ghi nhận" in said and "“Tối &lt;thứ Bảy&gt;, sau giờ cơm”" in said, said
    assert "ghi rõ" not in said
    await hoa.press_data(message_id, data)  # a long answer is shortened in the confirmation
    await hoa.send("Buổi tối " + "rất muộn " * 18)
    said = hoa.reply_text()
    assert "…”" in said and len(said) < 400, said


async def test_after_closing_forged_and_outside_audience_are_refused(person, db, api, app, clock):
    ids = await chapter(db, api, count=2)
    api.add_chat(3200)
    await register_member(db, 3200, "HM-HL-07", name="Lê Thị Ngoài")
    poll = await sent_poll(app, db, person(HEAD))
    hoa = person(ids[0])
    [(message_id, _t, data)] = [b for b in hoa.buttons() if b[1] == "Sáng"]
    await hoa.press_data(message_id, f"sv:{poll.id}:o:9")
    assert "không còn hiệu lực" in hoa.reply_text()
    await hoa.press_data(message_id, "sv:999:o:1")
    assert "Không có phiếu" in hoa.reply_text()
    outsider = person(3200)
    await outsider.press_data(message_id, data)
    assert "không được gửi cho chị" in outsider.reply_text()
    clock.advance((datetime(2026, 5, 30, 13, 1, tzinfo=UTC) - clock.now()).total_seconds())
    await hoa.press("Sáng")
    assert "đã đóng" in hoa.reply_text()
    assert await polls.live_counts(db, poll) == {}


async def test_reminder_once_only_to_those_who_have_not_answered(person, db, api, app, clock):
    ids = await chapter(db, api, count=4)
    await sent_poll(app, db, person(HEAD), remind="29/5/2026 19:00")
    await person(ids[0]).press("Sáng")
    clock.advance((datetime(2026, 5, 29, 12, 0, tzinfo=UTC) - clock.now()).total_seconds())
    for _ in range(2):
        await service.tick(app.bot_data)
        await app.bot_data.delivery.run_until_idle()
    reminded = {user_id: [c for c in api.calls if c.ok and c.method == "sendMessage"
                          and int(c.params["chat_id"]) == user_id and "⏰" in c.params["text"]]
                for user_id in ids}
    assert reminded[ids[0]] == []
    assert all(len(reminded[user_id]) == 1 for user_id in ids[1:])


async def test_anonymous_results_hidden_below_k_and_published_in_batches(
        person, db, api, app, clock):
    ids = await chapter(db, api, count=12)
    lan = person(HEAD)
    poll = await sent_poll(app, db, lan, anonymous=True)
    k = app.bot_data.settings.disclosure_k
    assert k == 5

    async def screen() -> str:
        await lan.send("/polls")
        await lan.press(f"#{poll.id}")
        return lan.reply_text()

    for user_id in ids[:4]:
        await person(user_id).press("Sáng")
    first = await screen()
    assert "trả lời 4/12" in first and "1. Sáng: —" in first, "fewer than K: the rate only"
    await person(ids[4]).press("Chiều")
    view = await service.results(db, poll, scope_id=poll.unit_id, k=k, now=clock.now())
    assert view.scope.counted == 5 and set(view.scope.cells.values()) == {None}, (
        "published, but 4 of 5 would say nearly everyone chose it")
    for user_id, label in zip(ids[5:10], ["Sáng", "Chiều", "Chiều", "Chiều", "Chiều"],
                              strict=True):
        await person(user_id).press(label)
    batch = await screen()
    assert "1. Sáng: 5 (50%)" in batch and "2. Chiều: 5 (50%)" in batch
    assert "3. Tối: —" in batch, "a cell below K is hidden"
    # One more answer, then she looks again: only the response rate moved.
    await person(ids[10]).press("Tối")
    after = await screen()
    assert "trả lời 11/12" in after
    assert after.replace("11/12 (92%)", "10/12 (83%)") == batch
    assert "Tối" not in after.split("1. Sáng")[0]


async def test_final_result_reaches_the_creator_through_the_outbox(person, db, api, app, clock):
    ids = await chapter(db, api, count=3)
    poll = await sent_poll(app, db, person(HEAD), anonymous=True)
    for user_id in ids:
        await person(user_id).press("Sáng")
    clock.advance((datetime(2026, 5, 30, 13, 1, tzinfo=UTC) - clock.now()).total_seconds())
    assert await service.tick(app.bot_data) == (1, 0)
    assert await service.tick(app.bot_data) == (0, 0)
    [row] = await db.fetchall("SELECT count(*) FROM broadcasts WHERE kind = 'poll_result'")
    assert row[0] == 1
    await app.bot_data.delivery.run_until_idle()
    final = api.last_text(HEAD)
    assert f"#{poll.id}" in final and "đã đóng" in final
    linked = await db.fetchall("SELECT member_id FROM poll_answers WHERE poll_id = ?",
                               (poll.id,))
    assert [r[0] for r in linked] == [None] * 3, "closing unlinks anonymous answers"


async def test_chart_png_opens_and_mydata_lists_answers(person, db, api, app):
    ids = await chapter(db, api, count=3)
    lan = person(HEAD)
    poll = await sent_poll(app, db, lan)
    for user_id in ids:
        await person(user_id).press("Tối")
    await lan.send("/polls")
    await lan.press(f"#{poll.id}")
    await lan.press("Biểu đồ")
    [photo] = [c for c in lan.replies() if c.method == "sendPhoto"]
    png = photo.files["photo"].content
    with Image.open(io.BytesIO(png)) as image:
        assert image.format == "PNG" and image.size[0] > 300
    member = await db.fetchone("SELECT id FROM members WHERE telegram_user_id = ?", (ids[0],))
    exported = await privacy.export(db, ids[0])
    [answer] = exported["survey_answers"]
    assert answer["chosen"] == ["Tối"] and json.dumps(exported, ensure_ascii=False)
    assert member is not None


async def test_zalo_member_answers_by_typing(zalo, app, api, person, clock):  # noqa: F811
    from tests.test_zalo import zalo_member

    db = app.bot_data.db
    api.add_chat(HEAD)
    head = await register_member(db, HEAD, "HM-HL-02", name="Trần Thị Lan")
    await grant(db, head, "chapter_head", "HM-HL-02")
    thu = await zalo_member(zalo, "5a00000000e1")
    poll = await sent_poll(app, db, person(HEAD))
    assert "1. Sáng" in thu.reply() or "Sáng" in "\n".join(zalo.api.texts(thu.zalo_id))
    await thu.choose("Chiều")
    assert "ghi nhận" in thu.reply()
    member = await db.fetchone("SELECT id FROM members WHERE telegram_user_id = ?",
                               (await thu.internal_id(),))
    found = await polls.answer_of(db, poll.id, member[0])
    assert found is not None and found.choices == (2,)


LONG = ("Buổi sáng trước giờ đi làm, khoảng 6 giờ", "Buổi tối sau bữa cơm, khoảng 20 giờ")


@pytest.mark.parametrize("multiple", [False, True])
async def test_long_options_read_well_on_telegram_and_on_zalo(zalo, app, api, person,  # noqa: F811
                                                              multiple):
    """Telegram: buttons "1", "2" under the listed options. Zalo: the list under the text says
    each option once ("1. Buổi sáng …"), never "1. 1", and a typed number answers."""
    from tests.test_zalo import zalo_member

    db = app.bot_data.db
    [hoa] = await chapter(db, api, count=1)
    thu = await zalo_member(zalo, "5a00000000e2")
    poll = await sent_poll(app, db, person(HEAD), options="\n".join(LONG), multiple=multiple)
    [got] = poll_messages(api, hoa)
    buttons = [b["text"] for row in got["reply_markup"]["inline_keyboard"] for b in row]
    box = "☐ " if multiple else ""
    assert buttons[:2] == [f"{box}1", f"{box}2"]
    assert f"1. {LONG[0]}" in got["text"] and f"2. {LONG[1]}" in got["text"]
    shown = "\n".join(zalo.api.texts(thu.zalo_id))
    assert shown.count(LONG[0]) == 1 and shown.count(LONG[1]) == 1, shown
    assert f"1. {box}{LONG[0]}" in shown and f"2. {box}{LONG[1]}" in shown
    assert "1. 1" not in shown and "2. 2" not in shown and "1. ☐ 1" not in shown
    assert "bấm" not in shown.lower() and "nút" not in shown.lower(), "no buttons on Zalo"
    if multiple:
        assert "rồi gõ số của “Gửi”" in shown
    await thu.send("2")
    if multiple:
        toggled = thu.reply()
        assert f"2. ☑ {LONG[1]}" in toggled and f"1. ☐ {LONG[0]}" in toggled, toggled
        assert "2. ☑ 2" not in toggled
        await thu.choose("Gửi")
    assert "ghi nhận" in thu.reply()
    member = await db.fetchone("SELECT id FROM members WHERE telegram_user_id = ?",
                               (await thu.internal_id(),))
    found = await polls.answer_of(db, poll.id, member[0])
    assert found is not None and found.choices == (2,)


def test_long_options_become_numbered_buttons():
    from bot.i18n import translator

    poll = polls.Poll(1, 1, 1, "all", "Q?", ("Một lựa chọn rất dài hơn hai mươi bốn ký tự",
                                               "Ngắn"), False, False, True, True, "vi",
                      (MONDAY + timedelta(days=1)).isoformat(), None, None, None, 1, "")
    markup = service.keyboard(translator("vi"), poll)
    texts = [b.text for row in markup.inline_keyboard for b in row]
    assert texts == ["1", "2"]
    assert all(len(b.callback_data.encode()) <= 64 for row in markup.inline_keyboard
               for b in row)


async def test_the_export_has_a_surveys_sheet(person, db, api, app):
    import asyncio

    from openpyxl import load_workbook

    from bot import export

    ids = await chapter(db, api, count=3)
    lan = person(HEAD)
    poll = await sent_poll(app, db, lan)
    for user_id, label in zip(ids, ["Sáng", "Tối", "Tối"], strict=True):
        await person(user_id).press(label)
    await lan.send("/export")
    await asyncio.gather(*[t for t in asyncio.all_tasks() if t.get_name() == export.EXPORT_TASK])
    [sent] = [c for c in api.calls if c.method == "sendDocument" and c.ok]
    book = load_workbook(io.BytesIO(sent.files["document"].content))
    assert "Phiếu hỏi ý kiến" in book.sheetnames
    sheet = book["Phiếu hỏi ý kiến"]
    rows = [[c.value for c in row] for row in sheet.iter_rows()]
    header = next(i for i, row in enumerate(rows) if "Lựa chọn" in row)
    body = rows[header + 1:]
    assert [(r[0], r[9], r[10]) for r in body] == [(poll.id, "Sáng", 1), (poll.id, "Chiều", 0),
                                                   (poll.id, "Tối", 2)]
    assert body[0][6] == 3 and body[0][7] == 100


async def test_erasure_removes_her_answers_and_her_name_from_her_surveys(person, db, api, app):
    from tests.test_erasure import NAME, NOTE, TG, scan

    await chapter(db, api, count=2)
    api.add_chat(TG)
    me = await register_member(db, TG, "HM-HL-02", name=NAME)
    lan = person(HEAD)
    poll = await sent_poll(app, db, lan, other=True,
                           question=f"Chị {NAME} đề nghị họp vào buổi nào?")
    diep = person(TG)
    await diep.press("Khác")
    await diep.send(NOTE)
    assert await polls.answer_of(db, poll.id, me) is not None
    await grant(db, me, "chapter_head", "HM-HL-02")
    await create(diep, question="Chọn ngày tổng vệ sinh?")
    await diep.press("Gửi ngay")
    await app.bot_data.delivery.run_until_idle()
    await diep.send("/deleteme")
    await diep.press("Có, xóa thông tin")
    found = {place: kinds for place, kinds in (await scan(db)).items()
             if place.startswith(("poll", "broadcast"))}
    assert found == {}, found
    assert await polls.answer_of(db, poll.id, me) is None


async def test_a_ward_admin_picks_a_chapter_as_in_broadcast_and_a_forged_unit_is_refused(
        person, db, api, app):
    from storage import units

    ids = [*await chapter(db, api, count=3, code="HM-HL-07"), HEAD]  # and their head
    other = await units.by_code(db, "HM-YS")
    chapter_7 = await units.by_code(db, "HM-HL-07")
    assert other is not None and chapter_7 is not None
    admin = await register_member(db, 3004, "HM-HL-12", name="Vũ Thị Mai")
    await grant(db, admin, "unit_admin", "HM-HL")
    api.add_chat(3004)
    mai = person(3004)
    await mai.send("/poll")
    await mai.send("Chị muốn họp chi hội vào buổi nào?")
    await mai.send("Sáng\nChiều")
    await mai.press("Xong")
    await mai.press("Một lựa chọn")
    await mai.press("Không")
    await mai.press("Ghi tên")
    await mai.press("Có, sau khi")
    await mai.send("30/5/2026 20:00")
    await mai.press("Không nhắc")
    assert "Gửi tới ai?" in mai.reply_text()
    message_id, _label, data = mai.buttons()[0]
    nonce = data.split(":")[1]
    for forged in (f"pc:{nonce}:u:o:to{other.id}", f"pc:{nonce}:u:o:in{other.id}"):
        await mai.press_data(message_id, forged)
        assert "không có quyền" in mai.reply_text() or "không còn" in mai.reply_text()
    [seven] = [label for _m, label, _d in mai.buttons() if label.endswith("số 7")]
    await mai.press(seven)
    await mai.press("Tất cả")
    assert f"{len(ids)} hội viên" in mai.reply_text()
    await mai.press("Gửi ngay")
    await app.bot_data.delivery.run_until_idle()
    assert [len(poll_messages(api, user_id)) for user_id in ids] == [1] * len(ids)
    [poll] = await db.fetchall("SELECT unit_id FROM polls")
    assert poll[0] == chapter_7.id


@pytest.mark.parametrize("anonymous", [False, True])
async def test_a_zalo_officer_without_a_web_address_gets_the_chart_as_its_figures(
        zalo, app, api, person, anonymous):  # noqa: F811
    """No picture she cannot open: the chart's own figures, protected as on the chart."""
    from tests.test_zalo import zalo_member

    db = app.bot_data.db
    ids = await chapter(db, api, count=4)
    thu = await zalo_member(zalo, "5a00000000e3", name="Phạm Thị Thu")
    officer = await db.fetchone("SELECT id FROM members WHERE telegram_user_id = ?",
                                (await thu.internal_id(),))
    await grant(db, officer[0], "chapter_head", "HM-HL-02")
    poll = await sent_poll(app, db, person(HEAD), anonymous=anonymous)
    for user_id, option in zip(ids, ["Tối", "Tối", "Tối", "Sáng"], strict=True):
        await person(user_id).press(option)
    await thu.send("/polls")
    await thu.choose(f"#{poll.id}")
    await thu.choose("Biểu đồ")
    said = thu.reply()
    assert not [c for c in zalo.api.calls[thu.mark:] if c.method == "sendPhoto"]
    assert f"#{poll.id}" in said and "Telegram" in said  # where the picture is
    if anonymous:  # four answers, fewer than K: nothing but the response rate
        assert "1. Sáng: —" in said and "3. Tối: —" in said and "(75%)" not in said
    else:
        assert "1. Sáng: 1 (25%)" in said and "2. Chiều: 0 (0%)" in said
        assert "3. Tối: 3 (75%)" in said
    assert "<" not in said


async def test_the_example_times_lie_ahead_and_the_count_speaks_of_the_survey(
        person, db, api, app, clock):
    """Found on the head's walk in December: "ví dụ 30/5 20:00" was refused when she typed it
    (in the past), and the preview said "Thông báo sẽ được gửi tới …" of a survey."""
    await chapter(db, api, count=2)
    clock.advance((datetime(2026, 12, 2, 8, 0, tzinfo=UTC) - clock.now()).total_seconds())
    lan = person(HEAD)
    await lan.send("/poll")
    await lan.send("Chị em muốn họp buổi nào?")
    await lan.send("Buổi sáng\nBuổi tối")
    await lan.press("Xong")
    await lan.press("Một lựa chọn")
    await lan.press("Không")
    await lan.press("Ẩn danh")
    await lan.press("Có, sau khi")
    assert "9/12 20:00" in lan.reply_text() and "30/5" not in lan.reply_text()
    await lan.send("ngày mai")  # unreadable: asked again, with an example ahead
    asked = lan.reply_text()
    assert "9/12 20:00" in asked and "9/12/2026 20:00" in asked and "30/5" not in asked, asked
    await lan.send("9/12 20:00")  # the example itself is taken
    assert "8/12 19:00" in lan.reply_text() and "29/5" not in lan.reply_text()
    await lan.send("8/12 19:00")
    await lan.press("Tất cả")
    assert "Phiếu sẽ được gửi tới 2 hội viên" in lan.reply_text(), lan.reply_text()


async def test_the_heads_progress_of_a_survey_does_not_number_it_as_a_notice(person, db, api,
                                                                             app):
    """Found on the walk: "Phiếu #1 đang được gửi đi" came with "📣 Thông báo #4 …" and
    "✅ Thông báo #4 đã gửi xong": which one did she send?"""
    await chapter(db, api, count=2)
    await sent_poll(app, db, person(HEAD))
    said = " ".join(str(c.params.get("text")) for c in api.calls
                    if c.ok and c.method in ("sendMessage", "editMessageText")
                    and int(c.params["chat_id"]) == HEAD)
    assert "Phiếu #1" in said and "Thông báo #" not in said, said
    assert "Phiếu hỏi ý kiến đã gửi xong" in said, said


async def test_the_results_number_the_answers_once(zalo, app, api, person):  # noqa: F811
    """Found on the Zalo head's walk: "1. Sáng: 0 (0%) … 3. Tối" above the option
    "1. 📈 Biểu đồ" — "1." twice, and typing 1 opened the chart. The options now count on."""
    from tests.test_zalo import ZaloPerson

    db = app.bot_data.db
    await chapter(db, api, count=2)
    hong = ZaloPerson(zalo, zalo.api.user("4ead00000002"))
    await grant(db, await register_member(db, await hong.internal_id(), "HM-HL-02",
                                          name="Võ Thị Hồng"), "chapter_head", "HM-HL-02")
    await sent_poll(app, db, person(HEAD))
    await hong.send("/polls")
    await hong.choose("Kết quả")
    shown = hong.reply()
    assert "1. Sáng" in shown and "4. 📈 Biểu đồ" in shown and "1. 📈" not in shown, shown
    lan = person(HEAD)
    await lan.send("/polls")
    await lan.press("Kết quả")
    assert [label for _, label, _ in lan.buttons()] == ["📈 Biểu đồ", "👥 Ai trả lời gì"]


async def test_a_bare_number_at_the_options_presses_done_or_is_asked_back(person, db, api):
    # Found on the walk: "3" meant as "✅ Xong" became a survey's third option.
    await chapter(db, api)
    lan = person(HEAD)
    await lan.send("/poll")
    await lan.send("Chị muốn họp chi hội vào buổi nào?")
    await lan.send("Sáng\nChiều")
    await lan.send("3")
    assert "Chị muốn ghi “3” ạ?" in lan.reply_text()
    assert "Xong" in lan.buttons()[0][1] and "Hủy" in lan.buttons()[-1][1]
    await lan.send("3")  # typed again: she meant it
    assert "3. 3" in lan.reply_text()
    await lan.send("1")
    assert any("Một lựa chọn" in b[1] for b in lan.buttons()), "the next step"
    assert lan.errors() == []
