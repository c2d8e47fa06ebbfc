"""Greetings on /start and /help: her given name, her union title, the union's own name."""

from __future__ import annotations

import html

from bot import orgtree
from storage import units
from storage.units import UnitRow
from tests.conftest import ADMIN_ID, grant, register_member


async def test_officers_are_greeted_by_given_name_with_their_union_titles(person, db):
    lan = person(6101, "Lan")
    await grant(db, await register_member(db, 6101, "HM-HL-02", name="Trần Thị Lan"),
                "chapter_head", "HM-HL-02")
    await lan.send("/start")
    text = lan.reply_text()
    assert text.startswith("Chào chị Lan — Chi hội trưởng Chi hội tổ dân phố số 2!"), text
    assert "quản lý" not in text and "bot" not in text.lower()

    mai = person(6102, "Mai")
    await grant(db, await register_member(db, 6102, "HM-HL-02", name="Lê Thị Mai"),
                "unit_admin", "HM-HL")
    await mai.send("/start")
    assert mai.reply_text().startswith("Chào chị Mai — Cán bộ Hội phường Hoàng Liệt!")


async def test_the_administrator_without_membership_is_greeted_by_her_telegram_name(person):
    boss = person(ADMIN_ID, "Hằng")
    await boss.send("/start")
    text = boss.reply_text()
    assert text.startswith("Chào chị Hằng — Cán bộ Hội Liên hiệp Phụ nữ!"), text
    assert "cán bộ quản lý trợ lý" not in text and "đăng ký thông tin" in text


async def test_an_unnamed_union_is_read_off_her_ward_on_start_and_help(person, db):
    hoa = person(6103)
    await register_member(db, 6103, "HM-HL-07")
    await hoa.send("/start")
    assert "chị Hoa quay lại với trợ lý của Hội LHPN phường Hoàng Liệt" in hoa.reply_text()
    await hoa.send("/help")
    assert hoa.reply_text().startswith("<b>Trợ lý Hội LHPN phường Hoàng Liệt</b>")


async def test_a_ward_not_named_after_a_place_keeps_the_generic_words(person, db):
    await units.upsert_many(db, [UnitRow("HM-CD", "Cụm dân cư Sông Hồng", "ward", "HM"),
                                 UnitRow("HM-CD-01", "Chi hội số 1", "chapter", "HM-CD")])
    orgtree.invalidate(db)
    hoa = person(6104)
    await register_member(db, 6104, "HM-CD-01")
    await hoa.send("/start")
    text = hoa.reply_text()
    assert text.startswith("Chào mừng chị Hoa quay lại!") and "Hội LHPN" not in text
    await hoa.send("/help")
    assert hoa.reply_text().startswith("<b>Trợ lý Hội Liên hiệp Phụ nữ</b>")


async def test_the_english_greeting_names_the_ward_in_english_words(person, db):
    # Found on the Zalo walk: "Women's Union of phường Đại Kim" kept the Vietnamese "phường".
    hoa = person(6105)
    await register_member(db, 6105, "HM-HL-07", locale="en")
    await hoa.send("/start")
    text = html.unescape(hoa.reply_text())
    assert "Welcome back to the assistant of Women's Union of Hoàng Liệt ward, Hoa!" in text
    assert "phường" not in text.lower()
    mai = person(6106, "Mai")
    await grant(db, await register_member(db, 6106, "HM-HL-02", name="Lê Thị Mai", locale="en"),
                "unit_admin", "HM-HL")
    await mai.send("/start")
    assert "Union officer of Hoàng Liệt ward" in mai.reply_text()
