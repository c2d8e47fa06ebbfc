"""/grant, /revoke, /unit and /audit: scopes, the person told, merges and their history."""

from __future__ import annotations

import pytest

from bot.clock import ManualClock
from bot.permissions import load_principal
from storage import admin, audit, campaigns, members, units
from tests.conftest import ADMIN_ID
from tests.stats_data import DECEMBER, HEAD, WARD_ADMIN, seed


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(DECEMBER)


async def roles_of(db, user_id: int) -> set[tuple[str, str]]:
    principal = await load_principal(db, user_id, {ADMIN_ID})
    found = set()
    for g in principal.grants:
        unit = await units.get(db, g.unit_id)
        assert unit is not None
        found.add((g.role, unit.code))
    return found


async def test_a_ward_admin_grants_a_chapter_head_found_by_name(app, person, db, api):
    ids = await seed(db)
    mai = person(5022)  # she has a chat with the bot
    lan = person(WARD_ADMIN)
    await lan.send("/grant")
    assert "Chị gõ một phần họ tên hoặc số điện thoại" in lan.reply_text()
    assert "Chị muốn giao vai trò cho ai?" in lan.reply_text(), "says what the choice is for"
    await lan.send("hoi vien 5022")  # typed without marks
    assert [b[1] for b in lan.buttons()] == ["1. Hội viên 5022 (…678)"]
    assert "1. Hội viên 5022 — Chi hội tổ dân phố số 7 (…678)" in lan.reply_text()
    await lan.press("Hội viên 5022")
    assert "Chị giao cho Hội viên 5022 vai trò nào?" in lan.reply_text()
    # A title on a button starts with a capital, as the union writes it ("Chi hội trưởng").
    assert [b[1] for b in lan.buttons()][:2] == ["1. Chi hội trưởng", "2. Cán bộ Hội"]
    await lan.press("Chi hội trưởng")
    assert [b[1] for b in lan.buttons()] == [
        "1. Chi hội TDP số 7", "2. Phường Hoàng Liệt", "3. ⌨ Gõ mã đơn vị khác"]
    await lan.send("1")
    assert "Giao cho Hội viên 5022 làm chi hội trưởng của Phường Hoàng Liệt › Chi hội tổ dân " \
           "phố số 7?" in lan.reply_text()
    await lan.press("Đồng ý giao")
    text = lan.reply_text()
    assert "✅ Từ nay Hội viên 5022 là chi hội trưởng của Phường Hoàng Liệt › Chi hội tổ dân phố " \
           "số 7." in text and "Em sẽ báo cho chị ấy ngay." in text
    assert await roles_of(db, 5022) == {("chapter_head", "HM-HL-07")}
    await app.bot_data.delivery.run_until_idle()  # she is told through the outbox
    assert api.last_text(5022).startswith("🎉 Chị đã được giao làm chi hội trưởng")
    menu = [c["command"] for c in api.commands(scope={"type": "chat", "chat_id": 5022},
                                               language_code="vi")]
    assert "evaluate" in menu and "stats" in menu and "grant" not in menu
    entry = (await audit.recent(db, ids["HM-HL"]))[0]
    assert (entry.action, entry.actor_id, entry.member_id, entry.details) == (
        "role.grant", WARD_ADMIN, ids["5022"], {"role": "chapter_head"})
    await mai.send("/stats")
    assert "Chi hội tổ dân phố số 7" in mai.reply_text()
    assert lan.errors() == []


async def test_found_by_phone_only_in_her_scope_and_a_code_typed(person, db, api):
    ids = await seed(db)
    person(5003)
    lan = person(WARD_ADMIN)
    await lan.send("/grant 0912 340 003")
    assert [b[1] for b in lan.buttons()] == ["1. Hội viên 5003 (…003)"]
    await lan.press("Hội viên 5003")
    await lan.press("Cán bộ Hội")
    await lan.press("Gõ mã đơn vị khác")
    await lan.send("HM-YS")
    assert "không có quyền" in lan.reply_text()
    await lan.send("HM-HL")
    await lan.press("Đồng ý giao")
    assert await roles_of(db, 5003) == {("unit_admin", "HM-HL")}
    # Somebody of another ward is not found at all.
    await lan.send("/grant Hội viên 5041")
    assert "không có hội viên nào khớp" in lan.reply_text()
    assert ids


async def test_forged_or_stale_grant_presses_change_nothing(person, db, api):
    await seed(db)
    lan = person(WARD_ADMIN)
    await lan.send("/grant hội viên 5021")
    message_id, _label, data = lan.buttons()[0]
    await lan.press_data(message_id, data.replace(data.split(":")[1], "ffffff"))
    assert "không còn hiệu lực" in lan.reply_text()
    await lan.press_data(message_id, data.rsplit(":", 1)[0] + ":999999")
    assert "không còn hiệu lực" in lan.reply_text()
    head = person(HEAD)
    await head.send("/grant hội viên 5021")
    assert "không có quyền" in head.reply_text()
    assert "dành cho cán bộ Hội phường, xã hoặc quận, huyện" in head.reply_text(), "who may"
    await head.press_data(message_id, data)
    assert "không có quyền" in head.reply_text()
    assert await roles_of(db, 5021) == set()


async def test_revoke_tells_her_and_nobody_revokes_herself(app, person, db, api):
    ids = await seed(db)
    person(HEAD)
    lan = person(WARD_ADMIN)
    await lan.send("/revoke")
    assert "Chị muốn thu hồi vai trò của ai?" in lan.reply_text()
    await lan.send("/revoke Nguyễn Thị Hoa")
    await lan.press("Nguyễn Thị Hoa")
    await lan.press("Chi hội TDP số 2")
    await lan.press("Đồng ý thu hồi")
    assert "không còn là chi hội trưởng" in lan.reply_text()
    assert await roles_of(db, HEAD) == set()
    await app.bot_data.delivery.run_until_idle()  # she is told through the outbox
    assert "Chị không còn làm chi hội trưởng" in api.last_text(HEAD)
    await lan.send("/revoke Trần Thị Lan")
    await lan.press("Trần Thị Lan")
    await lan.press("Phường Hoàng Liệt")
    await lan.press("Đồng ý thu hồi")
    assert "Chị không thể tự thu hồi vai trò của mình" in lan.reply_text()
    assert await roles_of(db, WARD_ADMIN) == {("unit_admin", "HM-HL")}
    await lan.send("/revoke hội viên 5022")
    await lan.press("Hội viên 5022")
    assert "không giữ vai trò nào" in lan.reply_text()
    await lan.send("/revoke hội viên 50")
    await lan.send("/cancel")
    assert "Vâng, không có gì thay đổi." in lan.reply_text()
    actions = [e.action for e in await audit.recent(db, ids["HM-HL"])]
    assert actions == ["role.revoke"]


async def test_merging_two_chapters_keeps_history_and_old_codes(app, person, db, api):
    ids = await seed(db)
    person(5021)
    lan = person(WARD_ADMIN)
    await lan.send("/stats HM-HL")
    ward_before = lan.reply_text()
    await lan.send("/unit merge HM-HL-07 HM-HL-02")
    assert "5 hội viên" in lan.reply_text()
    await lan.press("Đồng ý thay đổi")
    assert "✅ Đã sáp nhập Chi hội tổ dân phố số 7 vào" in lan.reply_text()
    await app.bot_data.delivery.run_until_idle()  # the people moved are told by the outbox
    assert "đã sáp nhập vào Phường Hoàng Liệt › Chi hội tổ dân phố số 2" in api.last_text(5021)
    # Members follow; the registration keeps the chapter it was made in; counts include it.
    moved = await members.get(db, ids["5021"])
    assert moved is not None and moved.unit_id == ids["HM-HL-02"]
    reg = await campaigns.registration(db, campaigns.STANDARD, ids["5021"], 2026)
    assert reg is not None and reg.unit_id == ids["HM-HL-07"]
    await lan.send("/stats HM-HL-02")
    chapter = lan.reply_text()
    assert "👥 <b>Hội viên trên trợ lý</b>: 16" in chapter
    assert "• Đăng ký phấn đấu: 9/16 hội viên (56%)" in chapter
    await lan.send("/stats HM-HL")
    assert lan.reply_text() == ward_before, "the ward's figures do not change"
    await lan.press("Trực thuộc (2)")
    assert "số 7" not in lan.reply_text()
    # The old code leads to the surviving chapter: deep links and commands.
    survivor = await units.by_code(db, "hm-hl-07")
    assert survivor is not None and survivor.code == "HM-HL-02"
    await lan.send("/stats HM-HL-07")
    assert "Chi hội tổ dân phố số 2" in lan.reply_text()
    newcomer = person(5099)
    await newcomer.send("/start HM-HL-07")
    await newcomer.press("Tôi đồng ý")
    await newcomer.send("Phạm Thị Thu")
    await newcomer.send("0912 999 888")
    assert "Chi hội tổ dân phố số 2" in newcomer.reply_text()
    # The evaluation of the surviving chapter lists the merged chapter's registrations.
    head = person(HEAD)
    await head.send("/evaluate")
    assert "Hội viên 5021" in head.reply_text()
    entry = (await audit.recent(db, ids["HM-HL"]))[0]
    assert entry.action == "unit.merge" and entry.details["from"] == "HM-HL-07"
    assert lan.errors() == []


async def test_tree_changes_and_their_refusals(person, db, api):
    ids = await seed(db)
    lan = person(WARD_ADMIN)
    await lan.send("/unit")
    assert "/unit merge MÃ MÃ_GỘP_VÀO" in lan.reply_text()
    assert "cây tổ chức" not in lan.reply_text(), "the union's words, not an IT word"
    await lan.send("/unit merge HM-HL HM-YS")
    assert "không có quyền" in lan.reply_text(), "her own ward leaves the district's hands"
    boss = person(ADMIN_ID)
    await boss.send("/unit merge HM-HL-12 HM-YS")
    assert "Chỉ sáp nhập được các đơn vị cùng cấp." in boss.reply_text()
    await boss.send("/unit merge HM HM-HL")
    assert "Không thể đưa một đơn vị vào chính nó hoặc vào một đơn vị trực thuộc nó." in (
        boss.reply_text())
    await boss.send("/unit move HM-HL HM-HL-02")
    assert "vào một đơn vị trực thuộc nó" in boss.reply_text()
    await boss.send("/unit merge HM-HL-02 HM-HL-02")
    assert "Đó là cùng một đơn vị" in boss.reply_text()
    await lan.send("/unit merge HM-HL-02 HM-YS-03")
    assert "không có quyền" in lan.reply_text()
    await lan.send("/unit merge HM-HL-02 HM-QQ")
    assert "Không có đơn vị nào có mã HM-QQ." in lan.reply_text()
    await lan.send("/unit add HM-HL HM-HL-20 Chi hội tổ dân phố số 20")
    await lan.press("Đồng ý thay đổi")
    added = await units.by_code(db, "HM-HL-20")
    assert added is not None and (added.kind, added.parent_id) == ("chapter", ids["HM-HL"])
    link = f"https://t.me/{api.bot_username}?start=HM-HL-20"
    assert link in lan.reply_text() and "…?start" not in lan.reply_text()
    photo = [c for c in lan.replies() if c.method == "sendPhoto"]
    assert len(photo) == 1 and photo[0].params["caption"] == link
    assert next(iter(photo[0].files.values())).content.startswith(b"\x89PNG"), "a QR picture"
    await lan.send("/unit add HM-HL HM-HL-02 Trùng mã")
    await lan.press("Đồng ý thay đổi")
    assert "Mã HM-HL-02 đang (hoặc đã từng) được một đơn vị khác dùng." in lan.reply_text()
    await lan.send("/unit rename HM-HL-20 Chi hội tổ dân phố số 20 mới")
    await lan.send("1")
    assert "✅ Đã đổi tên" in lan.reply_text()
    await lan.send("/unit code HM-HL-20 HM-HL-21")
    await lan.press("Đồng ý thay đổi")
    assert (await units.by_code(db, "HM-HL-20")).code == "HM-HL-21"  # type: ignore[union-attr]
    await lan.send("/unit move HM-HL-21 HM-HL-02")
    await lan.press("Hủy")
    assert (await units.by_code(db, "HM-HL-21")).parent_id == ids["HM-HL"]  # type: ignore[union-attr]
    # The chooser of new members shows the new chapter (the tree snapshot was refreshed).
    newcomer = person(5098)
    await newcomer.send("/start HM-HL")
    await newcomer.press("Tôi đồng ý")
    await newcomer.send("Phạm Thị Thu")
    await newcomer.send("0912 999 777")
    assert "số 20 mới" in str(newcomer.buttons())
    head = person(HEAD)
    await head.send("/unit rename HM-HL-02 Khác")
    assert "không có quyền" in head.reply_text()
    actions = [e.action for e in await audit.recent(db, ids["HM-HL"])]
    assert actions == ["unit.recode", "unit.rename", "unit.add"]


async def test_the_audit_log_shows_only_her_units(person, db, api):
    ids = await seed(db)
    at = "2026-12-20T02:00:00Z"
    await admin.grant(db, ids["5041"], "chapter_head", ids["HM-YS-03"], by=ADMIN_ID, at=at)
    await admin.grant(db, ids["5022"], "chapter_head", ids["HM-HL-07"], by=WARD_ADMIN, at=at)
    lan = person(WARD_ADMIN)
    await lan.send("/audit")
    text = lan.reply_text()
    assert "Nhật ký thay đổi" in text
    assert "<b>Trần Thị Lan</b>: giao cho Hội viên 5022 làm chi hội trưởng của Chi hội tổ dân " \
           "phố số 7" in text
    assert "5041" not in text
    boss = person(ADMIN_ID)
    await boss.send("/audit")
    assert "Hội viên 5041" in boss.reply_text()
    hoa = person(HEAD)
    await hoa.send("/audit")
    assert "không có quyền" in hoa.reply_text()
