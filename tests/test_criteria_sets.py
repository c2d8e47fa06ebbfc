"""Criteria sets per campaign year: the year → set mapping, `criteria load` (dry run, idempotent,
refusals with the line and field), a registration keeping its set, and the checklist, /mydata,
/stats and the export following the year's (or the registration's) set."""

from __future__ import annotations

import asyncio
import io
import json
import sqlite3
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pytest
from openpyxl import load_workbook

from bot import export
from bot.app import build_application
from bot.catalog import CatalogError, load, parse
from bot.clock import ManualClock
from storage import campaigns, members
from storage.db import Database, available_migrations
from tests.conftest import ADMIN_ID, register_member, start_application, stop_application
from tests.test_catalog import SHIPPED
from tests.test_settings import run_cli

# What the union might send for 2026: criterion 4 gone, one reworded, one new.
SET_2026 = """\
id = "2026"
name = { vi = "Gia đình 5 không, 3 sạch, 3 an", en = "“5 không, 3 sạch, 3 an” family" }

[[criteria]]
code = "no_poverty"
label = { vi = "Không đói nghèo", en = "No poverty" }
description = { vi = "Gia đình không thuộc diện hộ nghèo.", en = "The household is not poor." }

[[criteria]]
code = "clean_lane"
label = { vi = "Sạch ngõ, sạch đường", en = "Clean lane and street" }
description = { vi = "Ngõ xóm, đường phố sạch sẽ.", en = "The lane and street are clean." }

[[criteria]]
code = "safe_water"
label = { vi = "Dùng nước sạch", en = "Safe water" }
description = { vi = "Gia đình dùng nước sạch.", en = "The household uses safe water." }
"""
NEW_SET_BLOCK = ("\n[[criteria_sets]]\n" + SET_2026.split("\n\n[[criteria]]")[0] +
                 "\nfrom_year = 2026\n" + "\n[[criteria_sets.criteria]]" +
                 "\n[[criteria_sets.criteria]]".join(SET_2026.split("\n[[criteria]]")[1:]))
TWO_SETS = SHIPPED.replace("from_year = 2014\n", "from_year = 2014\nto_year = 2025\n", 1) + (
    NEW_SET_BLOCK)


@pytest.fixture
def clock() -> ManualClock:
    """Mid-June 2026, local time."""
    return ManualClock(datetime(2026, 6, 15, 3, 0, tzinfo=UTC))


# ---- the catalog file: a year maps to exactly one set ------------------------------------------


def test_a_year_maps_to_exactly_one_set() -> None:
    catalog = parse(TWO_SETS)
    assert [s.id for s in catalog.criteria_sets] == ["2014", "2026"]
    assert catalog.criteria_set(2013).id == "2014", "years before the first set use the first"
    assert catalog.criteria_set(2025).id == "2014"
    assert catalog.criteria_set(2026).id == catalog.criteria_set(2031).id == "2026"
    assert "no_third_child" in [c.code for c in catalog.criteria_for(2025)]
    assert [c.code for c in catalog.criteria_for(2026)] == ["no_poverty", "clean_lane",
                                                           "safe_water"]
    assert catalog.criteria_set(2026, "2014").id == "2014", "a registration's own set wins"
    assert catalog.criteria_set(2026).name("vi") == "Gia đình 5 không, 3 sạch, 3 an"
    assert [e.code for e in catalog.entries["criteria"]][-1] == "safe_water", "the newest set"
    shipped = load()
    assert [(s.id, s.from_year, s.to_year) for s in shipped.criteria_sets] == [
        ("2014", 2014, None)], "the 2014 set until the union confirms a new one"
    assert shipped.criteria_set(2026).name("vi") == "Gia đình 5 không, 3 sạch"
    assert shipped.criteria_set(2025).find("no_third_child") is not None


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (SHIPPED + NEW_SET_BLOCK, "criteria sets '2014' and '2026' overlap: '2014' needs "
                                  "to_year = 2025"),
        (TWO_SETS.replace("to_year = 2025", "to_year = 2024"),
         "no criteria set for 2025 (between '2014' and '2026')"),
        (TWO_SETS.replace("to_year = 2025", "to_year = 2022"), "no criteria set for 2023-2025"),
        (TWO_SETS.replace("from_year = 2026\n", "from_year = 2026\nto_year = 2030\n"),
         "so later years would have no set"),
        (TWO_SETS.replace('id = "2026"', 'id = "2014"'), "criteria set '2014': the id is used"),
        (TWO_SETS.replace('id = "2026"', 'id = "Bộ 2026"'), "criteria_sets entry 2: id must be"),
        (TWO_SETS.replace("from_year = 2026\n", ""), "'2026': from_year must be a year"),
        (TWO_SETS.replace("from_year = 2026", "from_year = 1990"), "from 2000 to 2200"),
        (TWO_SETS.replace("to_year = 2025", "to_year = 2010"), "to_year 2010 is before"),
        (TWO_SETS.replace("from_year = 2026", "from_year = 2026\ncolour = 1"),
         "criteria set '2026': unknown key 'colour'"),
        (TWO_SETS.replace(', en = "“5 không, 3 sạch, 3 an” family"', ""),
         "criteria set '2026': name.en: missing"),
        (TWO_SETS.replace('en = "Safe water"', 'en = "' + "x" * 51 + '"'),
         "criteria set '2026': criteria 'safe_water': label.en: must be one line of at most 50"),
        (TWO_SETS + '\n[[criteria]]\ncode = "x"\n', "use either [[criteria_sets]] or the older"),
    ],
)
def test_set_mistakes_are_one_clear_line(text: str, expected: str) -> None:
    with pytest.raises(CatalogError) as caught:
        parse(text, source="my.toml")
    message = str(caught.value)
    assert message.startswith("my.toml: ") and expected in message, message
    assert "\n" not in message


async def test_migration_0010_gives_earlier_registrations_the_2014_set(tmp_path: Path) -> None:
    database = tmp_path / "old.sqlite3"
    with sqlite3.connect(database) as conn:  # a database from before criteria sets
        for version, _name, sql in available_migrations():
            if version < 10:
                conn.executescript(sql)
        at = "2025-03-01T00:00:00Z"
        conn.execute("INSERT INTO units (id, code, name, kind, created_at, updated_at)"
                     " VALUES (1, 'HM', 'Hoàng Mai', 'district', ?, ?)", (at, at))
        conn.execute("INSERT INTO members (id, telegram_user_id, chat_id, full_name, unit_id,"
                     " locale, created_at, updated_at) VALUES (1, 1, 1, 'Hoa', 1, 'vi', ?, ?)",
                     (at, at))
        conn.execute("INSERT INTO household_registrations (year, member_id, unit_id,"
                     " registered_at) VALUES (2025, 1, 1, ?)", (at,))
    db = Database(database)
    await db.open(migrate=False)
    try:
        assert await db.applied_migrations() == []
        await db.conn.executescript("".join(
            f"INSERT INTO schema_migrations (version, name, applied_at) VALUES "
            f"({version}, '{name}', 'x');" for version, name, _sql in available_migrations()
            if version < 10))
        assert "0010_criteria_sets.sql" in await db.migrate()
        reg = await campaigns.registration(db, campaigns.FAMILY, 1, 2025)
        assert reg is not None and reg.criteria_set == "2014"
    finally:
        await db.close()


# ---- the command line ---------------------------------------------------------------------------


def _stored(database: Path) -> list[tuple]:
    with sqlite3.connect(database) as conn:
        return conn.execute("SELECT id, from_year, loaded_at FROM criteria_sets").fetchall()


def _load(tmp_path: Path, database: Path, text: str, *args: str, year: str = "2026"):
    path = tmp_path / "set.toml"
    path.write_text(text, encoding="utf-8")
    return run_cli(tmp_path, "criteria", "load", str(path), "--year", year, *args,
                   BOT_DATABASE=str(database))


def test_a_dry_run_shows_the_changes_and_changes_nothing_then_loading_is_idempotent(
        tmp_path: Path) -> None:
    database = tmp_path / "bot.sqlite3"
    dry = _load(tmp_path, database, SET_2026, "--dry-run")
    assert dry.returncode == 0, dry.stderr
    out = dry.stdout
    assert ("criteria set '2026' “Gia đình 5 không, 3 sạch, 3 an” for 2026 and later years; "
            "now '2014' “Gia đình 5 không, 3 sạch”") in out
    assert "+ added: safe_water “Dùng nước sạch”" in out
    assert "- removed: no_third_child “Không sinh con thứ 3 trở lên”" in out
    assert "~ reworded: clean_lane “Sạch ngõ” → “Sạch ngõ, sạch đường”" in out
    assert "~ reworded: no_poverty (its description)" in out
    assert "no household registration in 2026 and later years yet" in out
    assert out.rstrip().endswith("dry run: nothing was changed")
    assert _stored(database) == []

    loaded = _load(tmp_path, database, SET_2026)
    assert loaded.returncode == 0, loaded.stderr
    assert "loaded: set '2026' applies from 2026; restart the bot to use it" in loaded.stdout
    [(set_id, year, at)] = _stored(database)
    assert (set_id, year) == ("2026", 2026)
    again = _load(tmp_path, database, SET_2026)
    assert again.returncode == 0 and "no change" in again.stdout
    assert "loaded: set" not in again.stdout
    assert _stored(database) == [(set_id, year, at)], "idempotent"
    listed = run_cli(tmp_path, "criteria", "list", BOT_DATABASE=str(database))
    assert listed.stdout.splitlines() == [
        "2014-2025  2014  “Gia đình 5 không, 3 sạch”  8 criteria  (catalog file)",
        "2026-  2026  “Gia đình 5 không, 3 sạch, 3 an”  3 criteria  (database)"]


@pytest.mark.parametrize(
    ("text", "year", "expected"),
    [
        (SET_2026.replace('"Dùng nước sạch"', '"' + "Dùng nước sạch " * 4 + '"'), "2026",
         "set.toml: line 16: criteria set '2026': criteria 'safe_water': label.vi: must be one "
         "line of at most 50 characters"),
        (SET_2026.replace(', en = "Safe water"', ""), "2026",
         "line 16: criteria set '2026': criteria 'safe_water': label.en: missing or empty"),
        (SET_2026.replace('code = "safe_water"', 'code = "Safe Water"'), "2026",
         "line 14: criteria set '2026': criteria entry 3: code must be"),
        (SET_2026.replace('code = "safe_water"', 'code = "clean_lane"'), "2026",
         "criteria 'clean_lane': the code is used twice"),
        (SET_2026.replace('id = "2026"', 'id = "2026"\nfrom_year = 2026'), "2026",
         "unknown top-level key 'from_year'"),
        (SET_2026.replace('id = "2026"', 'id = "Bộ mới"'), "2026", "id must be"),
        (SET_2026.replace("[[criteria]]", "[[criteria]", 1), "2026", "not valid TOML"),
        (SET_2026, "1999", "--year must be from 2000 to 2200"),
    ],
)
def test_invalid_set_files_are_refused_naming_the_line_and_field(
        tmp_path: Path, text: str, year: str, expected: str) -> None:
    database = tmp_path / "bot.sqlite3"
    result = _load(tmp_path, database, text, year=year)
    assert result.returncode == 2, result.stderr
    [line] = result.stderr.splitlines()
    assert expected in line and line.endswith("; nothing was changed"), line
    assert result.stdout == "" and _stored(database) == []


# ---- in the chat ---------------------------------------------------------------------------------


async def _register_household(hoa, ticks: list[str]) -> None:
    await hoa.send("/family")
    await hoa.press("Đăng ký")
    await hoa.press("Tôi đồng ý")  # the self-check consent, asked first
    for label in ticks:
        await hoa.press(label)
    await hoa.press("Xong")
    assert hoa.errors() == []


async def test_a_registration_keeps_its_set_after_a_new_set_is_loaded(
        app, settings, api, clock, person, db, tmp_path):
    await register_member(db, 3101, "HM-HL-02")
    hoa = person(3101)
    await _register_household(hoa, [c.button("vi") for c in load().criteria])
    member = await members.by_user(db, 3101)
    assert member is not None
    reg = await campaigns.registration(db, campaigns.FAMILY, member.id, 2026)
    assert reg is not None and reg.criteria_set == "2014" and reg.meets_all

    dry = _load(tmp_path, settings.database, SET_2026, "--dry-run")
    assert ("1 household registration(s) in 2026 and later years exist; they keep the set they "
            "were made under ('2014': 1)") in dry.stdout
    changed_2014 = SET_2026.replace('id = "2026"', 'id = "2014"')
    refused = _load(tmp_path, settings.database, changed_2014)
    assert refused.returncode == 2
    assert "'2014' is used by 1 household registration(s): only its labels" in refused.stderr
    assert _load(tmp_path, settings.database, SET_2026).returncode == 0

    fresh = await start_application(settings, api, clock)  # the bot restarted
    try:
        hoa.app = fresh
        await hoa.send("/family")
        text = hoa.reply_text()
        assert "Gia đình 5 không, 3 sạch năm 2026" in text
        assert "Không sinh con thứ 3 trở lên" in text and "Dùng nước sạch" not in text
        assert "Đã đạt: 8/8 tiêu chí" in text
        reg = await campaigns.registration(fresh.bot_data.db, campaigns.FAMILY, member.id, 2026)
        assert reg is not None and reg.meets_all, "still meets every criterion of its own set"

        await register_member(fresh.bot_data.db, 3102, "HM-HL-02", name="Trần Thị Lan")
        lan = person(3102)
        lan.app = fresh
        await _register_household(lan, ["Dùng nước sạch"])
        text = lan.reply_text()
        assert "Gia đình 5 không, 3 sạch, 3 an năm 2026" in text
        assert "Dùng nước sạch" in text and "Không sinh con thứ 3" not in text
        assert "Đã đạt: 1/3 tiêu chí" in text
        lan_member = await members.by_user(fresh.bot_data.db, 3102)
        assert lan_member is not None
        lan_reg = await campaigns.registration(fresh.bot_data.db, campaigns.FAMILY,
                                               lan_member.id, 2026)
        assert lan_reg is not None and lan_reg.criteria_set == "2026"

        await hoa.send("/mydata")
        text = hoa.reply_text()
        assert "<b>Gia đình 5 không, 3 sạch năm 2026</b>" in text
        assert "✅ Không sinh con thứ 3 trở lên" in text
        [document] = [c for c in hoa.replies() if c.method == "sendDocument"]
        [household] = json.loads(next(iter(document.files.values())).content)[
            "family_households"]
        assert household["criteria_set"] == "2014"
    finally:
        await stop_application(fresh)


async def test_a_catalog_without_a_set_in_use_is_refused_at_start(app, settings, api, clock,
                                                                  person, db, tmp_path):
    await register_member(db, 3103, "HM-HL-02")
    await _register_household(person(3103), ["Sạch nhà"])
    path = tmp_path / "catalog.toml"
    path.write_text(SHIPPED.replace('id = "2014"', 'id = "2014b"'), encoding="utf-8")
    refused = build_application(replace(settings, catalog=path), request=api, clock=clock,
                                background=False)
    await refused.initialize()
    try:
        with pytest.raises(CatalogError, match=r"criteria set '2014' was removed, but 1 house"):
            await refused.post_init(refused)  # type: ignore[misc]
    finally:
        await stop_application(refused)


async def test_the_checklist_for_2025_and_2026_shows_that_years_criteria(
        app, settings, api, person, db, tmp_path):
    assert _load(tmp_path, settings.database, SET_2026).returncode == 0
    clock = ManualClock(datetime(2025, 12, 31, 16, 0, tzinfo=UTC))  # 23:00 on 31/12/2025
    fresh = await start_application(settings, api, clock)
    try:
        await register_member(fresh.bot_data.db, 3104, "HM-HL-02")
        hoa = person(3104)
        hoa.app = fresh
        await hoa.send("/family")
        text = hoa.reply_text()
        assert "Gia đình 5 không, 3 sạch năm 2025" in text
        assert "Không sinh con thứ 3 trở lên" in text and "Dùng nước sạch" not in text
        clock.advance(3600)  # midnight in Hà Nội: 2026
        await hoa.send("/family")
        text = hoa.reply_text()
        assert "Gia đình 5 không, 3 sạch, 3 an năm 2026" in text
        assert "Dùng nước sạch" in text and "Không sinh con thứ 3" not in text
    finally:
        await stop_application(fresh)


async def test_stats_and_the_export_use_the_years_set(app, settings, api, clock, person, db,
                                                     tmp_path):
    assert _load(tmp_path, settings.database, SET_2026).returncode == 0
    fresh = await start_application(settings, api, clock)
    try:
        # Per year 10 households that fail something, 5 of them the year's own criterion: a
        # breakdown disclosure control lets through (cells of 5 out of 10 failing).
        sets = {"2026": ("2026", "safe_water"), "2025": ("2014", "no_third_child")}
        for offset, (year, (set_id, code)) in enumerate(sets.items()):
            codes = [c.code for c in fresh.bot_data.catalog.criteria_for(int(year), set_id)]
            for n in range(10):
                member_id = await register_member(db, 7000 + offset * 100 + n, "HM-HL-02")
                unit_id = (await members.get(db, member_id)).unit_id
                reg, _ = await campaigns.register(
                    db, campaigns.FAMILY, year=int(year), member_id=member_id, unit_id=unit_id,
                    at="2026-03-01T00:00:00+00:00", criteria_set=set_id)
                failed = code if n < 5 else "clean_lane"
                for each in codes:
                    await campaigns.set_answer(db, reg.id, each, each != failed,
                                               live_codes=codes, at="2026-03-01T00:00:00+00:00")
        boss = person(ADMIN_ID)
        boss.app = fresh
        for year, shown, hidden in (("2026", "Dùng nước sạch", "Không sinh con thứ 3"),
                                    ("2025", "Không sinh con thứ 3", "Dùng nước sạch")):
            await boss.send(f"/stats {year}")
            await boss.press("Tiêu chí gia đình")
            text = boss.reply_text()
            name = "Gia đình 5 không, 3 sạch" + (", 3 an" if year == "2026" else "")
            assert f"Tiêu chí “{name}” — năm {year}" in text
            assert shown in text and hidden not in text
            await boss.press("Về trang tổng hợp")

            await boss.send(f"/export {year}")
            await asyncio.gather(*[t for t in asyncio.all_tasks()
                                   if t.get_name() == export.EXPORT_TASK])
            document = [c for c in api.calls if c.method == "sendDocument"][-1]
            book = load_workbook(io.BytesIO(document.files["document"].content))
            labels = [r[0].value for r in book.worksheets[0].iter_rows() if r[0].value]
            assert f"  {shown}" in labels or any(shown in str(v) for v in labels)
            assert not any(hidden in str(v) for v in labels)
        assert boss.errors() == []
    finally:
        await stop_application(fresh)
