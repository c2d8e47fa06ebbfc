"""The campaign catalog: the shipped file, validation, stored codes, a change mid-year, the CLI."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from bot.app import build_application
from bot.catalog import CatalogError, campaign_year, default_path, load, parse
from bot.channels.telegram_fake import FakeBotAPI
from bot.clock import ManualClock
from bot.settings import Settings, SettingsError
from storage import campaigns, members
from storage.db import Database
from tests.conftest import register_member, start_application, stop_application
from tests.test_settings import TOKEN, run_cli

HANOI = ZoneInfo("Asia/Ho_Chi_Minh")
SHIPPED = default_path().read_text(encoding="utf-8")
# The same catalog in the older format (top-level [[criteria]]): it loads as set "2014".
_SET_HEADER = SHIPPED[SHIPPED.index("\n[[criteria_sets]]\n") + 1:
                      SHIPPED.index("[[criteria_sets.criteria]]")]
ACTIVITIES = SHIPPED[SHIPPED.index("\n[[activities]]\n"):]
LEGACY = SHIPPED.replace(_SET_HEADER, "").replace("[[criteria_sets.criteria]]", "[[criteria]]")


@pytest.fixture
def clock() -> ManualClock:
    """Mid-June 2026, local time."""
    return ManualClock(datetime(2026, 6, 15, 3, 0, tzinfo=UTC))


def test_the_shipped_catalog() -> None:
    catalog = load()
    assert [q.code for q in catalog.qualities] == ["trung_hau", "sang_tao", "dam_dang",
                                                   "thanh_lich"]
    assert [q.label("vi") for q in catalog.qualities] == ["Trung hậu", "Sáng tạo", "Đảm đang",
                                                          "Thanh lịch"]
    assert len(catalog.criteria) == 8
    assert catalog.criteria[0].label("vi") == "Không đói nghèo"
    assert catalog.criteria[0].label("en") == "No poverty"
    assert [c.label("vi") for c in catalog.criteria[5:]] == ["Sạch nhà", "Sạch bếp", "Sạch ngõ"]
    waste = catalog.find("activities", "waste_to_money")
    assert waste is not None and waste.unit is not None and waste.unit("vi") == "kg"
    assert catalog.find("activities", "sunday_environment") is not None
    assert all(e.description("vi") and e.description("en") for section in catalog.entries.values()
               for e in section)


def _with(old: str, new: str) -> str:
    assert old in SHIPPED
    return SHIPPED.replace(old, new, 1)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("qualities = [", "not valid TOML"),
        (_with("schema = 1", "schema = 2"), "schema must be 1"),
        (_with("schema = 1", "schema = 1\ncolour = 'red'"), "unknown top-level key 'colour'"),
        (SHIPPED.split("\n[[criteria_sets]]\n")[0] + ACTIVITIES,
         "needs at least one [[criteria_sets]] entry (or the older [[criteria]])"),
        (SHIPPED.split("[[criteria_sets.criteria]]")[0] + ACTIVITIES,
         "criteria set '2014': needs at least one [[criteria]] entry"),
        (LEGACY.split("\n[[criteria]]\n")[0] + ACTIVITIES,
         "needs at least one [[criteria_sets]] entry"),
        (_with('code = "clean_lane"', 'code = "Clean-Lane"'), "criteria entry 8: code must be"),
        (_with('code = "clean_lane"', 'code = "clean_house"'), "'clean_house': the code is used"),
        (_with('en = "Clean lane"', 'fr = "Ruelle"'), "unknown language 'fr'"),
        (_with(', en = "Clean lane"', ""), "criteria 'clean_lane': label.en: missing"),
        (_with('en = "Clean lane"', 'en = "' + "x" * 51 + '"'), "at most 50 characters"),
        (_with('code = "clean_lane"', 'code = "clean_lane"\nunit = { vi = "kg", en = "kg" }'),
         "unknown key 'unit'"),
        (_with('code = "no_poverty"', 'code = "no_poverty"\nretired = "yes"'),
         "retired must be true or false"),
    ],
)
def test_mistakes_are_one_clear_line(text: str, expected: str) -> None:
    with pytest.raises(CatalogError) as caught:
        parse(text, source="my.toml")
    message = str(caught.value)
    assert message.startswith("my.toml: ") and expected in message
    assert "\n" not in message


def test_every_entry_of_a_section_retired_is_refused() -> None:
    text = SHIPPED.replace('code = "trung_hau"', 'code = "trung_hau"\nretired = true')
    for code in ("sang_tao", "dam_dang", "thanh_lich"):
        text = text.replace(f'code = "{code}"', f'code = "{code}"\nretired = true')
    with pytest.raises(CatalogError, match="every quality"):
        parse(text)


def test_at_most_fifty_live_entries_per_section() -> None:
    extra = "".join(f'\n[[activities]]\ncode = "extra_{i:02d}"\nlabel = {{ vi = "A", en = "A" }}\n'
                    f'description = {{ vi = "A", en = "A" }}\n' for i in range(43))
    with pytest.raises(CatalogError, match="offers 51 entries; at most 50"):
        parse(SHIPPED + extra)
    assert len(parse(SHIPPED + extra.replace('en = "A" }\n', 'en = "A" }\nretired = true\n', 1)
                     ).activities) == 50


def test_unreadable_files(tmp_path: Path) -> None:
    with pytest.raises(CatalogError, match="cannot be read"):
        load(tmp_path / "missing.toml")
    latin = tmp_path / "latin.toml"
    latin.write_bytes("schema = 1 # Đảm đang".encode("cp1258", errors="replace") + b"\xff")
    with pytest.raises(CatalogError, match="not UTF-8"):
        load(latin)


def test_bot_catalog_setting(tmp_path: Path) -> None:
    custom = tmp_path / "catalog.toml"
    custom.write_text(SHIPPED, encoding="utf-8")
    settings = Settings.from_env({"BOT_CATALOG": str(custom)}, env_file=None)
    assert settings.catalog == custom
    assert Settings.from_env({}, env_file=None).catalog is None
    with pytest.raises(SettingsError) as caught:
        Settings.from_env({"BOT_CATALOG": str(tmp_path / "nope.toml")}, env_file=None)
    assert caught.value.variable == "BOT_CATALOG"


def test_build_application_validates_the_catalog(tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text(_with('en = "Clean lane"', 'en = ""'), encoding="utf-8")
    with pytest.raises(CatalogError, match=r"label\.en"):
        build_application(Settings(database=tmp_path / "x.sqlite3", catalog=bad),
                          request=FakeBotAPI())


def test_the_campaign_year_is_local() -> None:
    assert campaign_year(datetime(2026, 12, 31, 16, 59, tzinfo=UTC), HANOI) == 2026  # 23:59
    assert campaign_year(datetime(2026, 12, 31, 17, 0, tzinfo=UTC), HANOI) == 2027  # 00:00
    assert campaign_year(datetime(2026, 12, 31, 17, 0, tzinfo=UTC), ZoneInfo("UTC")) == 2026


# ---- stored codes and a catalog change mid-year ---------------------------------------------


async def _assessed_household(db: Database, user_id: int) -> int:
    """A member whose household ticked every shipped criterion in 2026."""
    member_id = await register_member(db, user_id, "HM-HL-02")
    member = await members.get(db, member_id)
    assert member is not None and member.unit_id is not None
    reg, _created = await campaigns.register(db, campaigns.FAMILY, year=2026, member_id=member_id,
                                             unit_id=member.unit_id, at="2026-02-01T00:00:00Z")
    codes = [c.code for c in load().criteria]
    for code in codes:
        reg = await campaigns.set_answer(db, reg.id, code, True, live_codes=codes,
                                         at="2026-02-01T00:00:00Z")
    assert reg.meets_all
    return reg.id


async def test_a_catalog_change_mid_year(app, settings, api, clock, person, tmp_path, db):
    """An installation's own catalog in the older single-set format keeps working."""
    household = await _assessed_household(db, 3001)
    # Reworded criterion, a ninth criterion, a retired one: stored answers keep their codes.
    changed = LEGACY.replace('vi = "Sạch ngõ"', 'vi = "Sạch ngõ, sạch đường"').replace(
        'code = "no_third_child"', 'code = "no_third_child"\nretired = true') + (
        '\n[[criteria]]\ncode = "safe_water"\n'
        'label = { vi = "Dùng nước sạch", en = "Safe water" }\n'
        'description = { vi = "Gia đình dùng nước sạch.",'
        ' en = "The household uses safe water." }\n')
    path = tmp_path / "catalog.toml"
    path.write_text(changed, encoding="utf-8")
    fresh = await start_application(replace(settings, catalog=path), api, clock)
    try:
        hoa = person(3001)
        hoa.app = fresh
        await hoa.send("/family")
        text = hoa.reply_text()
        assert "Sạch ngõ, sạch đường" in text and "Dùng nước sạch" in text
        assert "Không sinh con thứ 3" not in text, "a retired criterion is no longer asked"
        assert "Đã đạt: 7/8 tiêu chí" in text
        reg = await campaigns.registration(fresh.bot_data.db, campaigns.FAMILY,
                                           (await members.by_user(fresh.bot_data.db, 3001)).id,
                                           2026)  # type: ignore[union-attr]
        assert reg is not None and reg.id == household
        assert not reg.meets_all, "the new criterion is not answered yet"
        await hoa.press("Sửa tự đánh giá")
        await hoa.press("Tôi đồng ý")  # the self-check consent, asked first
        await hoa.press("Dùng nước sạch")
        reg = await campaigns.registration(fresh.bot_data.db, campaigns.FAMILY, reg.member_id,
                                           2026)
        assert reg is not None and reg.meets_all
    finally:
        await stop_application(fresh)


async def test_removing_a_code_with_data_is_refused_at_start(app, settings, api, clock, db,
                                                              tmp_path):
    await _assessed_household(db, 3002)
    path = tmp_path / "catalog.toml"
    start = SHIPPED.index('[[criteria_sets.criteria]]\ncode = "clean_lane"')
    path.write_text(SHIPPED[:start] + SHIPPED[SHIPPED.index("[[activities]]"):],
                    encoding="utf-8")
    refused = build_application(replace(settings, catalog=path), request=api, clock=clock,
                                background=False)
    await refused.initialize()
    try:
        with pytest.raises(CatalogError, match=r"criterion code 'clean_lane' was removed, but 1 "):
            await refused.post_init(refused)  # type: ignore[misc]
    finally:
        await stop_application(refused)
    # Retiring it instead is fine.
    path.write_text(_with('code = "clean_lane"', 'code = "clean_lane"\nretired = true'),
                    encoding="utf-8")
    fresh = await start_application(replace(settings, catalog=path), api, clock)
    await stop_application(fresh)


# ---- the command line -------------------------------------------------------------------------


def test_cli_a_bad_catalog_exits_2_with_one_line(tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text(_with('code = "clean_lane"', 'code = "Clean Lane"'), encoding="utf-8")
    for args, env in ((["run"], {"TELEGRAM_BOT_TOKEN": TOKEN}), (["demo"], {})):
        result = run_cli(tmp_path, *args, BOT_CATALOG=str(bad), **env)
        assert result.returncode == 2, result.stderr
        lines = result.stderr.splitlines()
        assert len(lines) == 1 and lines[0].startswith("Catalog error: ")
        assert "bad.toml" in lines[0] and "code must be" in lines[0]
        assert "Traceback" not in result.stderr and result.stdout == ""


def test_cli_a_removed_code_with_data_exits_2(tmp_path: Path) -> None:
    database = tmp_path / "demo.sqlite3"

    async def seed() -> None:
        db = await Database.connect(database)
        from bot.demo import seed as seed_demo

        await seed_demo(db)
        await _assessed_household(db, 3003)
        await db.close()

    asyncio.run(seed())
    path = tmp_path / "catalog.toml"
    start = SHIPPED.index('[[criteria_sets.criteria]]\ncode = "no_poverty"')
    end = SHIPPED.index('[[criteria_sets.criteria]]\ncode = "no_law_violation"')
    path.write_text(SHIPPED[:start] + SHIPPED[end:], encoding="utf-8")
    result = run_cli(tmp_path, "demo", "--database", str(database), BOT_CATALOG=str(path))
    assert result.returncode == 2, result.stderr
    [line] = result.stderr.splitlines()
    assert "'no_poverty' was removed" in line and "retired = true" in line


async def test_a_long_catalog_stays_within_telegram_limits(app, settings, api, clock, person, db,
                                                           tmp_path):
    many = "".join(
        f'\n[[criteria]]\ncode = "extra_{i:02d}"\n'
        f'label = {{ vi = "Tiêu chí bổ sung số {i:02d} {"x" * 20}", en = "Extra {i:02d}" }}\n'
        f'description = {{ vi = "{"Mô tả rất dài. " * 13}", en = "{"Long text. " * 18}" }}\n'
        for i in range(40))
    path = tmp_path / "catalog.toml"
    path.write_text(LEGACY + many, encoding="utf-8")
    fresh = await start_application(replace(settings, catalog=path), api, clock)
    try:
        await register_member(fresh.bot_data.db, 3010, "HM-HL-02")
        hoa = person(3010)
        hoa.app = fresh
        await hoa.send("/family")
        await hoa.press("Đăng ký")
        await hoa.press("Tôi đồng ý")  # the self-check consent, asked first
        await hoa.press("bổ sung số 3")  # the label is cut on the button; the text has it all
        await hoa.press("Xong")
        assert hoa.errors() == []
        assert "Đã đạt: 1/48 tiêu chí" in hoa.reply_text()
        assert all(len(str(c.params.get("text", ""))) < 4096 for c in api.calls)
    finally:
        await stop_application(fresh)
