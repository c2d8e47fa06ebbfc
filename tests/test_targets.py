"""Targets (chỉ tiêu): typed values, /targets in chat, the CSV import, permissions, audit."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from bot.clock import ManualClock
from bot.stats import METRIC_BY_CODE
from bot.target_import import TargetFileError, import_file, parse_file, parse_value
from storage import audit, figures, targets, units
from storage.figures import Figure
from tests.conftest import ADMIN_ID
from tests.stats_data import DECEMBER, HEAD, WARD_ADMIN, seed

REPO_ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(DECEMBER)


def test_typed_values_as_members_write_them():
    rate, count = METRIC_BY_CODE["standard_achieved"], METRIC_BY_CODE["households_recognised"]
    assert parse_value("95%", rate) == 95 and parse_value(" 92,5 % ", rate) == 92.5
    assert parse_value("92.5", rate) == 92.5 and parse_value("0", rate) == 0
    assert parse_value("101", rate) is None and parse_value("9,555", rate) is None
    assert parse_value("abc", rate) is None and parse_value("-5", rate) is None
    assert parse_value("175", count) == 175 and parse_value("1.750", count) == 1750
    assert parse_value("1,750", count) == 1750 and parse_value("33 740", count) == 33740
    assert parse_value("1.75", count) is None and parse_value("17.5", count) is None
    assert parse_value("12.34.567", count) is None and parse_value("99999999", count) is None


async def test_a_ward_admin_sets_targets_in_chat_and_sees_them_against_the_figures(
        person, db, api):
    ids = await seed(db)
    lan = person(WARD_ADMIN)
    await lan.send("/targets")
    text = lan.reply_text()
    assert "🎯 <b>Chỉ tiêu năm 2026</b>\n<b>Phường Hoàng Liệt</b>" in text
    assert ("3. Đăng ký phấn đấu chuẩn mực phụ nữ: chưa đặt chỉ tiêu · hiện nay 9/17 hội viên "
            "(53%)") in text
    assert "— —" not in text and "<b>—</b>" not in text, "no target: said in words"
    await lan.press("Đăng ký chuẩn mực")
    assert "tính theo phần trăm số hội viên, ví dụ 95%" in lan.reply_text()
    await lan.send("một trăm")
    assert "Chị vui lòng gõ một tỉ lệ phần trăm từ 0 đến 100" in lan.reply_text()
    await lan.send("60%")
    text = lan.reply_text()
    assert "✅ Đã lưu chỉ tiêu: Đăng ký phấn đấu chuẩn mực phụ nữ 60%." in text
    # Found on the walk: the line said its target twice ("<b>60%</b> — … · chỉ tiêu 60%: …").
    assert ("3. Đăng ký phấn đấu chuẩn mực phụ nữ: <b>60%</b> — hiện nay 9/17 hội viên (53%) · "
            "bằng 88% chỉ tiêu, còn thiếu 2 hội viên") in text
    [line] = [line for line in text.splitlines() if line.startswith("3. ")]
    assert line.count("60%") == 1
    assert (await targets.for_units(db, [ids["HM-HL"]], 2026)) == {
        ids["HM-HL"]: {"standard_registered": 60.0}}
    # A chapter's household target, typed the Vietnamese way, through the units below.
    await lan.press("Trực thuộc")
    await lan.press("số 2")
    await lan.send("6")  # typed number: the sixth metric
    await lan.send("1.750")
    [line] = [line for line in lan.reply_text().splitlines() if line.startswith("6. ")]
    assert line.startswith("6. Hộ được công nhận gia đình «5 không, 3 sạch»: <b>1.750</b> — ")
    assert line.count("1.750") == 1, "a count's target is said once too"
    await lan.send("6")
    await lan.send("0")
    assert "🗑 Đã bỏ chỉ tiêu “Hộ được công nhận" in lan.reply_text()
    # Next year can be planned, the year after cannot.
    await lan.send("/targets 2027")
    assert "Chỉ tiêu năm 2027" in lan.reply_text()
    await lan.send("/targets 2028")
    assert "Năm 2028 chưa đến" in lan.reply_text()
    entries = await audit.recent(db, ids["HM-HL"])
    assert [(e.action, e.details["metric"], e.details["new"]) for e in entries] == [
        ("target.remove", "households_recognised", None),
        ("target.set", "households_recognised", 1750.0),
        ("target.set", "standard_registered", 60.0),
    ]
    assert {e.actor_id for e in entries} == {WARD_ADMIN}
    assert lan.errors() == []


async def test_cancel_leaves_the_target_as_it_was(person, db, api):
    ids = await seed(db)
    lan = person(WARD_ADMIN)
    await lan.send("/targets")
    await lan.press("Mới dùng trợ lý")
    await lan.send("/cancel")
    assert "Vâng, chỉ tiêu được giữ nguyên." in lan.reply_text()
    await lan.send("120")
    assert "Đã lưu" not in lan.reply_text()
    assert await targets.for_units(db, [ids["HM-HL"]], 2026) == {}

    # Found on the walk: after a bad number the question came back without "✖ Hủy".
    await lan.send("/targets")
    await lan.press("Đăng ký chuẩn mực")
    await lan.send("150%")
    assert "Chị vui lòng gõ một tỉ lệ phần trăm từ 0 đến 100" in lan.reply_text()
    [asked] = [m for m in api.messages(WARD_ADMIN) if "từ 0 đến 100" in str(m.get("text"))]
    assert "Hủy" in str(asked.get("reply_markup")), "the question again, with its way out"
    await lan.press("✖ Hủy")
    await lan.send("60")
    assert "Đã lưu" not in lan.reply_text()
    assert await targets.for_units(db, [ids["HM-HL"]], 2026) == {}


async def test_targets_are_for_admins_of_the_unit_only(person, db, api):
    ids = await seed(db)
    hoa = person(HEAD)
    await hoa.send("/targets")
    assert "không có quyền" in hoa.reply_text()
    lan = person(WARD_ADMIN)
    await lan.send("/targets HM-YS")
    assert "không có quyền" in lan.reply_text()
    await lan.send("/targets")
    message_id = lan.buttons()[0][0]
    before = api.message(WARD_ADMIN, message_id)["text"]
    await lan.press_data(message_id, f"tg:l:{ids['HM-YS']}:2026:o:m2")
    assert "không có quyền" in lan.reply_text()
    await lan.press_data(message_id, f"tg:l:{ids['HM']}:2026:o:kids")
    assert "không có quyền" in lan.reply_text()
    await lan.press_data(message_id, f"tg:k:{ids['HM-HL']}:2026:o:{ids['HM-YS-03']}")
    assert "không còn hiệu lực" in lan.reply_text()
    await lan.send("95")  # no value was asked for: nothing is stored
    assert api.message(WARD_ADMIN, message_id)["text"] == before
    assert await targets.for_units(db, [ids["HM-YS"], ids["HM"], ids["HM-YS-03"]], 2026) == {}
    boss = person(ADMIN_ID)
    await boss.send("/targets HM-YS")
    assert "Phường Yên Sở" in boss.reply_text()


async def test_a_ward_admin_sets_a_work_target_in_chat_and_baocao_compares_with_it(
        person, db, api):
    ids = await seed(db)
    await figures.enter(db, Figure(ids["HM-HL"], "2026-06", "poor_households", 190),
                        by=WARD_ADMIN, at="2026-06-30T03:00:00Z")
    lan = person(WARD_ADMIN)
    await lan.send("/targets")
    await lan.press("Chỉ tiêu công tác")
    text = lan.reply_text()
    assert "🎯 <b>Chỉ tiêu công tác năm 2026</b>\n<b>Phường Hoàng Liệt</b>" in text
    assert "2. Hộ nghèo, cận nghèo được giúp đỡ: chưa đặt chỉ tiêu" in text
    assert "Tổng số hội viên" not in text  # the headline figures are the metrics' screen
    await lan.send("2")
    assert "Chị gõ chỉ tiêu “Hộ nghèo, cận nghèo được giúp đỡ” năm 2026" in lan.reply_text()
    assert "✖ Hủy" in [label for _m, label, _d in lan.buttons()][-1]
    await lan.send("1,5")
    assert "được tính bằng số nguyên (hộ)" in lan.reply_text()
    await lan.send("-3")
    assert "không thể là số âm" in lan.reply_text()
    await lan.send("1.500")
    text = lan.reply_text()
    assert "✅ Đã lưu chỉ tiêu: Hộ nghèo, cận nghèo được giúp đỡ 1.500 hộ." in text
    assert "2. Hộ nghèo, cận nghèo được giúp đỡ: <b>1.500 hộ</b>" in text
    await lan.send("2")  # a correction on the same screen
    await lan.send("175")
    assert "2. Hộ nghèo, cận nghèo được giúp đỡ: <b>175 hộ</b>" in lan.reply_text()
    assert (await targets.for_units(db, [ids["HM-HL"]], 2026))[ids["HM-HL"]][
        "poor_households"] == 175
    entries = await audit.recent(db, ids["HM-HL"])
    assert [(e.action, e.details["metric"], e.details["old"], e.details["new"],
             e.details["source"]) for e in entries[:2]] == [
        ("target.set", "poor_households", 1500.0, 175.0, "chat"),
        ("target.set", "poor_households", None, 1500.0, "chat")]
    await lan.send("/baocao HM-HL 2026")
    assert "190/175 hộ nghèo, cận nghèo thoát nghèo, đạt 109% (vượt chỉ tiêu)" in (
        lan.reply_text())
    # A forged press for a unit outside her scope is refused; 0 removes her own target.
    message_id = lan.buttons()[0][0]
    await lan.press_data(message_id, f"tg:i:{ids['HM-YS']}:2026:o:c.poor_households")
    assert "không có quyền" in lan.reply_text()
    await lan.send("/targets")
    await lan.press("Chỉ tiêu công tác")
    await lan.send("2")
    await lan.send("0")
    assert "🗑 Đã bỏ chỉ tiêu “Hộ nghèo, cận nghèo được giúp đỡ”" in lan.reply_text()
    assert await targets.for_units(db, [ids["HM-HL"], ids["HM-YS"]], 2026) == {}
    assert lan.errors() == []


# --- the CSV import through the command line ---------------------------------------------------


def _cli(folder: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "PYTHONPATH": str(REPO_ROOT),
           "BOT_DATABASE": str(folder / "cli.sqlite3")}
    return subprocess.run([sys.executable, "-m", "bot", *args], cwd=folder, env=env,
                          capture_output=True, text=True, encoding="utf-8", timeout=30,
                          check=False)


def test_targets_import_from_the_command_line_all_or_nothing(tmp_path: Path):
    units = tmp_path / "units.csv"
    units.write_text("HM,Quận Hoàng Mai,district,\nHM-HL,Phường Hoàng Liệt,ward,HM\n"
                     "HM-HL-02,Chi hội tổ dân phố số 2,chapter,HM-HL\n", encoding="utf-8")
    assert _cli(tmp_path, "units", "import", str(units)).returncode == 0
    good = tmp_path / "targets.csv"
    good.write_text("\ufeffunit_code,year,metric,value\nHM-HL,2026,standard_achieved,\"92,5%\"\n"
                    "hm-hl-02,2026,households_recognised,1.750\n"
                    "HM,2026,members,33740\n", encoding="utf-8")
    result = _cli(tmp_path, "targets", "import", str(good))
    assert result.returncode == 0, result.stderr
    assert "3 target(s) set or changed, 0 unchanged" in result.stdout
    bad = tmp_path / "bad.csv"
    bad.write_text("HM-HL,2026,standard_achieved,80\nHM-XX,2026,members,5\n", encoding="utf-8")
    result = _cli(tmp_path, "targets", "import", str(bad))
    assert result.returncode == 1
    assert "line 2, field unit_code: no unit with code 'HM-XX'; nothing was changed" in (
        result.stderr)
    with sqlite3.connect(tmp_path / "cli.sqlite3") as conn:
        stored = conn.execute("SELECT u.code, t.metric, t.value FROM targets t JOIN units u"
                              " ON u.id = t.unit_id ORDER BY u.code").fetchall()
        logged = conn.execute("SELECT count(*), min(actor_id) FROM audit_log").fetchone()
    assert stored == [("HM", "members", 33740.0), ("HM-HL", "standard_achieved", 92.5),
                      ("HM-HL-02", "households_recognised", 1750.0)], "80 was not stored"
    assert logged == (3, None), "every change audited, by the command line"


@pytest.mark.parametrize(("text", "error"), [
    ("HM-HL,2026,standard_achieved,92,5%\n", "line 1: expected 4 fields"),
    ("HM-HL,2026,standard_achieved,180\n", "line 1, field value: '180' must be a percentage"),
    ("HM-HL,2026,members,1.75\n", "line 1, field value: '1.75' must be a whole number"),
    ("HM-HL,2026,fun,1\n", "line 1, field metric: 'fun' is not one of members"),
    ("HM-HL,2028,members,1\n", "line 1, field year: '2028' must be a year from 2000 to 2027"),
    ("HM-HL,2026,members,1\nhm-hl,2026,members,2\n",
     "line 2: the same unit, year and metric as line 1"),
    ("unit_code,year,metric,value\n", "the file has no targets"),
])
async def test_a_bad_targets_file_names_the_line_and_field(db, text, error):
    with pytest.raises(TargetFileError) as raised:
        await parse_file(db, text, last_year=2027)
    assert error in str(raised.value)


async def test_importing_the_same_file_again_changes_nothing(db, tmp_path: Path):
    path = tmp_path / "targets.csv"
    path.write_text("HM-HL,2026,members,1200\nHM-HL-07,2026,standard_registered,95\n",
                    encoding="utf-8")
    assert await import_file(db, path, last_year=2027, at="2026-12-20T02:00:00Z") == (2, 0)
    assert await import_file(db, path, last_year=2027, at="2026-12-20T02:00:00Z") == (0, 2)
    path.write_text("HM-HL,2026,members,0\n", encoding="utf-8")  # 0 removes
    assert await import_file(db, path, last_year=2027, at="2026-12-20T02:00:00Z") == (1, 0)
    hl = await units.by_code(db, "HM-HL")
    assert hl is not None and await targets.for_units(db, [hl.id], 2026) == {}
