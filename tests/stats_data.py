"""A small fixed data set whose figures are known exactly (used by the statistics tests).

Year 2026, clock on 20/12/2026 in Hà Nội. Members joined on 1/3/2025 unless said otherwise.

Phường Hoàng Liệt (HM-HL):
- HM-HL-02: 11 members in 2026 (5001-5011) and 5012, who joins at 00:30 on 1/1/2027 local
  time (not a member in 2026). New in 2026: 5009, 5010 (1/2/2026) and 5011 (00:30 on
  1/1/2026 local time). 5010 stopped notices, 5011 is unreachable.
  Standard: 5001-5008 registered; 5001-5006 achieved, 5007 not achieved, 5008 open.
  Households: 5001-5008 registered and self-assessed; 5001-5002 meet every criterion and are
  recognised; 5003-5008 (6) do not meet "no poverty"; 5007-5008 (2) also not "no domestic
  violence". The head of HM-HL-02 is 5001 (Nguyễn Thị Hoa).
- HM-HL-07: 5 members (5021-5025); 5021 registered for the standard.
- HM-HL-12: 1 member, the ward admin 5030 (Trần Thị Lan); nothing registered.
Phường Yên Sở (HM-YS): HM-YS-03: 3 members (5041-5043), all registered and achieved.

Activities (today is Sunday 20/12/2026; the week began on Monday 14/12):
- Sunday environment day: 20/12 5001-5002; 13/12 5001-5006 and 5021 (HM-HL-07), and 5007's
  report marked doubtful (not counted); 6/12 5001-5003; 29/11 nobody; 22/11 5001;
  1/6/2025 5001.
- "Biến rác thành tiền" (kg): 5001 12,5 kg on 15/12, 5002 3 kg on 1/12, 5003 20 kg on 1/6.
- "Tuyến phố nở hoa": 5021 on 1/3 in HM-HL-07 and on 8/3 in HM-HL-02 (one member, two units).

So: district 20 members, 12/20 registered (60%), 9/20 achieved (45%); HM-HL 17 members,
9/17 registered (53%), 6/17 achieved (35%); HM-HL-02 8/11 registered (73%), 6/11 achieved
(55%), 8 households registered, 2 recognised.
"""

from __future__ import annotations

from datetime import UTC, datetime

from bot.catalog import load
from storage import activities, campaigns, members, targets, units
from storage.activities import NewReport
from storage.db import Database
from storage.targets import TargetRow
from tests.conftest import grant, register_member

DECEMBER = datetime(2026, 12, 20, 2, 0, tzinfo=UTC)  # 9:00 on 20/12/2026 in Hà Nội
AT = "2026-01-10T02:00:00Z"
CRITERIA = [c.code for c in load().criteria]
HEAD, WARD_ADMIN = 5001, 5030


async def member(db: Database, user_id: int, unit_code: str, *, name: str | None = None,
                 joined: str = "2025-03-01T00:00:00Z", status: str = "active",
                 phone: str | None = None) -> int:
    """A registered member with a known joining date and status."""
    member_id = await register_member(db, user_id, unit_code, name=name or f"Hội viên {user_id}")
    await db.execute("UPDATE members SET created_at = ?, status = ?, phone = coalesce(?, phone)"
                     " WHERE id = ?", (joined, status, phone, member_id))
    return member_id


async def standard(db: Database, member_id: int, result: str | None = None,
                   year: int = 2026) -> None:
    """Register her for the standard (and record a result)."""
    found = await members.get(db, member_id)
    assert found is not None and found.unit_id is not None
    reg, _ = await campaigns.register(db, campaigns.STANDARD, year=year, member_id=member_id,
                                      unit_id=found.unit_id, at=AT)
    if result is not None:
        await campaigns.decide(db, campaigns.STANDARD, reg.id, result, by=1, at=AT)


async def household(db: Database, member_id: int, missing: tuple[str, ...] = (),
                    recognised: bool = False) -> None:
    """Register her household, self-assessed as meeting every criterion but `missing`."""
    found = await members.get(db, member_id)
    assert found is not None and found.unit_id is not None
    reg, _ = await campaigns.register(db, campaigns.FAMILY, year=2026, member_id=member_id,
                                      unit_id=found.unit_id, at=AT)
    for code in CRITERIA:
        await campaigns.set_answer(db, reg.id, code, code not in missing, live_codes=CRITERIA,
                                   at=AT)
    if recognised:
        await campaigns.decide(db, campaigns.FAMILY, reg.id, campaigns.RECOGNISED, by=1, at=AT)


async def seed(db: Database) -> dict[str, int]:
    """Build the data set; returns member ids by Telegram user id (as strings) and unit ids."""
    ids: dict[str, int] = {}
    for user in range(5001, 5012):
        joined = {5009: "2026-02-01T00:00:00Z", 5010: "2026-02-01T00:00:00Z",
                  5011: "2025-12-31T17:30:00Z"}.get(user, "2025-03-01T00:00:00Z")
        status = {5010: "stopped", 5011: "unreachable"}.get(user, "active")
        name = "Nguyễn Thị Hoa" if user == HEAD else None
        ids[str(user)] = await member(db, user, "HM-HL-02", joined=joined, status=status,
                                      name=name, phone=f"+8491234{user - 5000:04d}")
    ids["5012"] = await member(db, 5012, "HM-HL-02", joined="2026-12-31T17:30:00Z")
    for user in range(5021, 5026):
        ids[str(user)] = await member(db, user, "HM-HL-07")
    ids[str(WARD_ADMIN)] = await member(db, WARD_ADMIN, "HM-HL-12", name="Trần Thị Lan")
    for user in range(5041, 5044):
        ids[str(user)] = await member(db, user, "HM-YS-03")
    for user in range(5001, 5009):
        result = {5007: campaigns.NOT_ACHIEVED, 5008: None}.get(user, campaigns.ACHIEVED)
        await standard(db, ids[str(user)], result)
        missing = ()
        if user >= 5003:
            missing = ("no_poverty",) + (("no_domestic_violence",) if user >= 5007 else ())
        await household(db, ids[str(user)], missing, recognised=user <= 5002)
    await standard(db, ids["5021"])
    for user in range(5041, 5044):
        await standard(db, ids[str(user)], campaigns.ACHIEVED)
    await grant(db, ids[str(HEAD)], "chapter_head", "HM-HL-02")
    await grant(db, ids[str(WARD_ADMIN)], "unit_admin", "HM-HL")
    for code in ("HM", "HM-HL", "HM-HL-02", "HM-HL-07", "HM-HL-12", "HM-YS", "HM-YS-03"):
        unit = await units.by_code(db, code)
        assert unit is not None
        ids[code] = unit.id
    await seed_activities(db, ids)
    return ids


async def seed_activities(db: Database, ids: dict[str, int]) -> None:
    """The activity reports described in the module docstring."""

    async def report(user: int, code: str, day: str, unit: str = "HM-HL-02",
                     quantity: float | None = None) -> int:
        done = await activities.add(db, NewReport(ids[str(user)], ids[unit], code, day,
                                                  quantity), at=AT)
        return done.id

    env = "sunday_environment"
    for user in (5001, 5002):
        await report(user, env, "2026-12-20")
    for user in range(5001, 5007):
        await report(user, env, "2026-12-13")
    await report(5021, env, "2026-12-13", "HM-HL-07")
    doubtful = await report(5007, env, "2026-12-13")
    await activities.flag(db, doubtful, by=HEAD, reason="không thấy ảnh", at=AT)
    for user in (5001, 5002, 5003):
        await report(user, env, "2026-12-06")
    await report(5001, env, "2026-11-22")
    await report(5001, env, "2025-06-01")
    await report(5001, "waste_to_money", "2026-12-15", quantity=12.5)
    await report(5002, "waste_to_money", "2026-12-01", quantity=3)
    await report(5003, "waste_to_money", "2026-06-01", quantity=20)
    await report(5021, "flower_street", "2026-03-01", "HM-HL-07")
    await report(5021, "flower_street", "2026-03-08", "HM-HL-02")


async def set_targets(db: Database, ids: dict[str, int]) -> None:
    """HM-HL: 50% registered, 40% achieved; HM-HL-02: 2 households recognised."""
    await targets.set_many(db, [
        TargetRow(ids["HM-HL"], 2026, "standard_registered", 50),
        TargetRow(ids["HM-HL"], 2026, "standard_achieved", 40),
        TargetRow(ids["HM-HL-02"], 2026, "households_recognised", 2),
    ], by=None, at=AT, source="test")
