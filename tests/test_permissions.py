"""Roles, scopes, command menus and refusals on forged presses."""

from __future__ import annotations

from bot.permissions import Principal, Role, load_principal, may_act_on_unit
from handlers.kit import menu
from storage import units
from tests.conftest import ADMIN_ID, grant, register_member


async def test_roles_and_scopes(db):
    hoa = await register_member(db, 2001, "HM-HL-02")
    lan = await register_member(db, 2002, "HM-HL-07")
    await grant(db, hoa, "chapter_head", "HM-HL-02")
    await grant(db, lan, "unit_admin", "HM-HL")
    head = await load_principal(db, 2001, admin_ids={ADMIN_ID})
    ward_admin = await load_principal(db, 2002, admin_ids={ADMIN_ID})
    outsider = await load_principal(db, 2003, admin_ids={ADMIN_ID})
    boss = await load_principal(db, ADMIN_ID, admin_ids={ADMIN_ID})
    assert head.highest == Role.CHAPTER_HEAD and ward_admin.highest == Role.UNIT_ADMIN
    assert outsider.highest is None and boss.highest == Role.SUPER_ADMIN

    own, other, ward, other_ward = [
        (await units.by_code(db, code)).id  # type: ignore[union-attr]
        for code in ("HM-HL-02", "HM-HL-07", "HM-HL", "HM-YS")
    ]
    assert await may_act_on_unit(db, head, Role.CHAPTER_HEAD, own)
    assert not await may_act_on_unit(db, head, Role.CHAPTER_HEAD, other)
    assert not await may_act_on_unit(db, head, Role.UNIT_ADMIN, own)
    assert await may_act_on_unit(db, ward_admin, Role.CHAPTER_HEAD, own)
    assert await may_act_on_unit(db, ward_admin, Role.UNIT_ADMIN, ward)
    assert not await may_act_on_unit(db, ward_admin, Role.UNIT_ADMIN, other_ward)
    assert await may_act_on_unit(db, boss, Role.UNIT_ADMIN, other_ward)
    assert not await may_act_on_unit(db, outsider, Role.CHAPTER_HEAD, own)


def test_menus_grow_with_the_role():
    member = {c for c, _ in menu.commands_for(Role.MEMBER)}
    admin = {c for c, _ in menu.commands_for(Role.UNIT_ADMIN)}
    visitor = {c for c, _ in menu.commands_for(None)}
    assert {"start", "help", "language", "cancel"} <= visitor
    assert "me" not in visitor and "me" in member
    assert "units" in admin and "units" not in member
    assert Principal(user_id=1, is_super_admin=True).at_least(Role.UNIT_ADMIN)


async def test_default_command_menus_are_set_in_both_languages(app, api):
    for locale in ("vi", "en"):
        names = [c["command"] for c in api.commands(language_code=locale)]
        assert names[:1] == ["start"] and "me" in names and "units" not in names
    vi = {c["command"]: c["description"] for c in api.commands(language_code="vi")}
    assert vi["me"] == "Xem và sửa thông tin cá nhân"


async def test_a_unit_admin_gets_a_chat_menu_and_sees_her_subtree_only(person, db, api):
    lan = await register_member(db, 2010, "HM-HL-07")
    await grant(db, lan, "unit_admin", "HM-HL")
    admin = person(2010)
    await admin.send("/start")
    scoped = api.commands(scope={"type": "chat", "chat_id": 2010}, language_code="vi")
    assert "units" in [c["command"] for c in scoped]
    await admin.send("/units")
    text = admin.reply_text()
    assert "Hoàng Liệt" in text and "Yên Sở" not in text


async def test_members_cannot_use_admin_commands_or_forge_their_buttons(person, db, api):
    await register_member(db, 2020, "HM-HL-02")
    hoa = person(2020)
    await hoa.send("/units")
    assert "không có quyền" in hoa.reply_text()
    await hoa.press_data(1, "units:p:1")
    assert "không có quyền" in hoa.reply_text()
    visitor = person(2021)
    await visitor.press_data(1, "units:p:0")
    assert "không có quyền" in visitor.reply_text()


async def test_super_admin_without_membership_gets_the_admin_menu(person, db, api):
    boss = person(ADMIN_ID)
    await boss.send("/start")
    text = boss.reply_text()
    assert text.startswith("Chào chị Hoa — Cán bộ Hội Liên hiệp Phụ nữ!"), "by her given name"
    keyboard = boss.replies()[-1].params["reply_markup"]["keyboard"]
    labels = [b["text"] if isinstance(b, dict) else b for row in keyboard for b in row]
    assert "📝 Đăng ký thông tin" in labels and "🏢 Đơn vị" in labels
    await boss.send("🏢 Đơn vị")
    assert "Các đơn vị của Hội" in boss.reply_text()
    await boss.send("📝 Đăng ký thông tin")
    assert "đồng ý" in boss.reply_text()


async def test_units_pages_stay_under_the_limit_and_page(person, db, api):
    boss = person(ADMIN_ID)
    await boss.send("/units")
    first = boss.replies()[-1].params["text"]
    assert len(first) < 4096 and "trang 1/" in first
    await boss.press("▶")
    assert "trang 2/" in boss.reply_text()
    await boss.press("2/")  # the current page again: harmless, no apology
    assert "Xin lỗi" not in boss.reply_text()
