"""/units and `units list`: a unit's member count includes the units below it."""

from __future__ import annotations

import re

from storage import members
from tests.conftest import ADMIN_ID, register_member


async def test_a_ward_counts_the_members_of_its_chapters(person, db):
    for user_id, chapter in ((3101, "HM-HL-02"), (3102, "HM-HL-02"), (3103, "HM-HL-07")):
        await register_member(db, user_id, chapter, name=f"Hội viên {user_id}")
    boss = person(ADMIN_ID)
    await boss.send("/units")
    text = boss.reply_text()
    assert "tính cả các đơn vị trực thuộc" in text
    ward = re.search(r"Phường Hoàng Liệt <code>HM-HL</code> — (\d+) hội viên", text)
    chapter = re.search(r"Chi hội tổ dân phố số 2 <code>HM-HL-02</code> — (\d+) hội viên", text)
    assert ward and chapter and (ward[1], chapter[1]) == ("3", "2")
    district = re.search(r"Quận Hoàng Mai <code>[A-Z-]+</code> — (\d+) hội viên", text)
    assert district and district[1] == "3"


async def test_subtree_counts_leave_out_stopped_members(db):
    kept = await register_member(db, 3201, "HM-HL-02", name="Hội viên Một")
    gone = await register_member(db, 3202, "HM-HL-02", name="Hội viên Hai")
    await members.set_status(db, gone, "stopped")
    counts = await members.subtree_counts(db)
    chapter = (await db.fetchall("SELECT unit_id FROM members WHERE id = ?", (kept,)))[0][0]
    assert counts[chapter] == 1
