"""End-to-end registration through the real Application and the strict fake Bot API."""

from __future__ import annotations

from storage import consents, members


async def test_full_registration_in_vietnamese(person, db, api):
    hoa = person(1001)
    await hoa.send("/start")
    assert "Hội" in hoa.reply_text() or "Union" in hoa.reply_text()
    await hoa.press("1.")  # agree
    await hoa.send("Nguyễn Thị Hoa")
    await hoa.share_contact("+84912345678")
    await hoa.press("Hoàng Liệt")
    await hoa.press("số 2")
    await hoa.press("1.")  # confirm
    member = await members.by_user(db, 1001)
    assert member is not None
    assert member.full_name == "Nguyễn Thị Hoa"
    assert member.phone == "+84912345678"
    assert [c.purpose for c in await consents.of_user(db, 1001)] == ["membership"]
    print(api.calls[-1])
