"""Cancelling a meeting from /meetings (issue 13): the confirm step, who may, the cancellation
through the outbox to those who said yes or did not answer, and what no longer happens."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from bot import meetings as service
from bot.clock import ManualClock
from storage import audit, meetings
from tests.conftest import ADMIN_ID
from tests.test_meetings import EVE, HEAD, MEETING, MEMBERS, MONDAY, chapter, create_meeting, to


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(MONDAY)


def cancellations_to(api, user_id: int) -> list[str]:
    return [str(c.params.get("text")) for c in api.calls
            if c.ok and c.method == "sendMessage" and int(c.params["chat_id"]) == user_id
            and "Hủy cuộc họp" in str(c.params.get("text"))]


async def test_the_creator_cancels_after_confirming_and_only_open_invitees_are_told(
        person, db, api, app, clock):
    await chapter(db, api)
    lan = person(HEAD)
    event = await create_meeting(lan, app)
    await person(MEMBERS[0]).press("Sẽ tham dự")
    await person(MEMBERS[1]).press("Không tham dự được")
    await lan.send("/meetings")
    await lan.press("🗓 Sinh hoạt")
    await lan.press("Hủy cuộc họp")
    confirm = lan.reply_text()
    assert "Sinh hoạt chi hội tháng 6" in confirm and "2 hội viên" in confirm
    labels = [b[1] for b in lan.buttons()]
    assert labels == ["1. Có, hủy cuộc họp", "2. Không, giữ lại"]
    await lan.press("Không, giữ lại")
    assert (await meetings.get(db, event.id)).cancelled_at is None, "kept"
    await lan.press("Hủy cuộc họp")
    await lan.press("Có, hủy cuộc họp")
    assert "Đã hủy" in lan.reply_text()
    assert (await meetings.get(db, event.id)).cancelled_at is not None
    await app.bot_data.delivery.run_until_idle()
    told = {u for u in (*MEMBERS, HEAD) if cancellations_to(api, u)}
    assert told == {MEMBERS[0], MEMBERS[2]}, "yes and unanswered; not 'no', not herself"
    assert "lúc 19:30 ngày 3/6/2026" in cancellations_to(api, MEMBERS[0])[0]
    assert [e.action for e in await audit.recent(db, None, limit=5)].count("meeting.cancel") == 1
    await person(ADMIN_ID).send("/audit")  # found on the walk: it read "meeting.cancel"
    assert ("<b>Trần Thị Lan</b>: hủy cuộc họp “Sinh hoạt chi hội tháng 6” của Chi hội tổ dân "
            "phố số 2") in person(ADMIN_ID).reply_text()

    # No reminder, no answer, no check-in, no figure; gone from /meetings.
    to(clock, EVE + timedelta(minutes=1))
    assert await service.tick(app.bot_data) == 0
    hoa = person(MEMBERS[2])
    await hoa.press("Sẽ tham dự")  # under the old invitation
    assert [c for c in api.calls if c.method == "answerCallbackQuery"][-1].params.get(
        "text", "").startswith("Cuộc họp này đã hủy")
    to(clock, MEETING)
    await hoa.send(f"/start dd-{event.code}")
    assert "đã hủy" in hoa.reply_text() and "có mặt" not in hoa.reply_text()
    assert (await meetings.counts(db, event.id)).attended == 0
    fig = await meetings.figures(db, None, first=date(2026, 1, 1), last=date(2026, 12, 31))
    assert fig.held == 0 and fig.invited == 0
    await hoa.send("/meetings")
    assert "Sinh hoạt chi hội tháng 6" not in hoa.reply_text()


async def test_only_the_creator_or_an_admin_over_the_unit_may_cancel(person, db, api, app,
                                                                    clock):
    ids = await chapter(db, api)
    event = await create_meeting(person(HEAD), app)
    # Another head of the same chapter sees the meeting but may not cancel it.
    from tests.conftest import grant

    await grant(db, ids[0], "chapter_head", "HM-HL-02")
    hoa = person(MEMBERS[0])
    await hoa.send("/meetings")
    await hoa.press("🗓 Sinh hoạt")
    assert "Hủy cuộc họp" not in [b[1] for b in hoa.buttons()]
    # A forged press on the confirm screen is refused.
    await hoa.press_data(hoa.buttons()[0][0], f"mtv:c:{event.id}:o:yes")
    assert (await meetings.get(db, event.id)).cancelled_at is None
    # The super-admin may, and it happens once.
    admin = person(ADMIN_ID, "Admin")
    await admin.send("/meetings")
    await admin.press("🗓 Sinh hoạt")
    await admin.press("Hủy cuộc họp")
    await admin.send("1")  # typed: yes
    assert (await meetings.get(db, event.id)).cancelled_at is not None
    assert not await service.cancel(app.bot_data, event, by=ADMIN_ID), "already cancelled"


async def test_a_meeting_that_is_over_cannot_be_cancelled(person, db, api, app, clock):
    await chapter(db, api)
    event = await create_meeting(person(HEAD), app)
    admin = person(ADMIN_ID, "Admin")
    await admin.send("/meetings")
    await admin.press("🗓 Sinh hoạt")
    assert "Hủy cuộc họp" in [b[1] for b in admin.buttons()][2]
    to(clock, datetime(2026, 6, 3, 17, 0, tzinfo=UTC))  # midnight in Hà Nội: it took place
    await admin.press("Hủy cuộc họp")  # the old button
    assert (await meetings.get(db, event.id)).cancelled_at is None
    await admin.send("/meetings")
    await admin.press("🗓 Sinh hoạt")
    assert not [b for b in admin.buttons() if "Hủy cuộc họp" in b[1]]


async def test_a_cancelled_meetings_card_reached_by_an_old_button_says_so(person, db, api, app,
                                                                        clock):
    await chapter(db, api)
    lan = person(HEAD)
    event = await create_meeting(lan, app)
    await lan.send("/meetings")
    listed = lan.buttons()
    await lan.send("/meetings")  # the card opened from a second list: the first one stays old
    await lan.press("🗓 Sinh hoạt")
    card = lan.buttons()
    qr = next((m, d) for m, label, d in card if "QR" in label)
    await lan.press("Hủy cuộc họp")
    await lan.press("Có, hủy cuộc họp")
    # The old list's button opens the card: it says the meeting was cancelled, with no QR code.
    message_id, _label, data = next(b for b in listed if "Sinh hoạt" in b[1])
    await lan.press_data(message_id, data)
    text = lan.reply_text()
    assert "🚫 Cuộc họp này đã hủy." in text and event.code not in text
    assert not [b for b in lan.buttons() if "QR" in b[1] or "Hủy cuộc họp" in b[1]]
    # The old card's QR button is refused with the same words, and no code is sent.
    await lan.press_data(*qr)
    alerts = [c for c in api.calls if c.method == "answerCallbackQuery"]
    assert alerts[-1].params.get("text") == "🚫 Cuộc họp này đã hủy."
    assert not [c for c in lan.replies() if c.method == "sendPhoto"]
    assert lan.errors() == []
