"""Disclosure control: the attacks on the criteria breakdown, and the rules that stop them.

Pure tests of bot/disclosure.py (with a brute-force attacker over random trees), then the
attacks through the application: one failing household that /evaluate names, all but one
meeting everything, two drill-down levels whose difference would isolate one household,
watching before and after one member's change, and the export showing the same pattern.
"""

from __future__ import annotations

import io
import random
from collections.abc import Hashable, Mapping, Sequence
from datetime import UTC, datetime

import pytest
from openpyxl import load_workbook

from bot import disclosure
from bot.clock import ManualClock
from bot.disclosure import Aggregate, protect
from bot.settings import Settings, SettingsError
from storage import campaigns, members, stats
from storage import disclosure as published
from tests.conftest import ADMIN_ID, grant, register_member
from tests.stats_data import CRITERIA
from tests.test_charts_export import exports_done

K = 5
YEAR = 2026
NOW = datetime(2026, 12, 20, 2, 0, tzinfo=UTC)
AT = "2026-03-01T02:00:00Z"
LABELS = {"no_poverty": "Không đói nghèo", "no_domestic_violence": "Không có bạo lực gia đình",
          "clean_house": "Sạch nhà"}


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(NOW)


# --- the attacker ------------------------------------------------------------------------------


def attack(children: Mapping[Hashable, Sequence[Hashable]], own: Mapping[Hashable, Aggregate],
           *, codes: Sequence[str], shown: Mapping[Hashable, disclosure.Shown],
           k: int = K) -> list[str]:
    """Everything an attacker who sees every shown cell and every unit's F can work out.

    For every parent whose cell is shown: the suppressed cells of its group (children and
    the households registered in it directly) sum to parent minus shown children; with the
    bounds 0 <= cell <= F of each, no suppressed cell may be pinned to one value, and their
    sum must be at least K. A suppressed parent may not be the sum of shown children alone.
    """
    problems = []
    for parent, kids in children.items():
        if not kids:
            continue
        direct = own.get(parent)
        for code in codes:
            group: list[tuple[Hashable, int, int | None]] = [
                (kid, shown[kid].failing, shown[kid].cells[code]) for kid in kids
                if shown[kid].respondents]  # nobody answered: a known zero
            if direct is not None and direct.respondents:
                group.append((("direct", parent), direct.failing, None))
            top = shown[parent].cells[code]
            secret_values = _true_values(children, own, parent=parent, code=code, kids=kids)
            hidden = [(who, bound) for who, bound, value in group if value is None]
            if top is None:
                if not hidden and shown[parent].respondents:
                    problems.append(f"{parent}/{code}: hidden parent is the sum of its children")
                continue
            if not hidden:
                continue
            whole = top - sum(value for _w, _b, value in group if value is not None)
            if len(hidden) < 2:
                problems.append(f"{parent}/{code}: one hidden cell = parent - shown")
            if whole < k:
                problems.append(f"{parent}/{code}: hidden cells sum to {whole} < K")
            room = sum(bound for _w, bound in hidden)
            for who, bound in hidden:
                low, high = max(0, whole - (room - bound)), min(bound, whole)
                if bound and low >= high:
                    problems.append(f"{parent}/{code}: {who} pinned to {low} "
                                    f"(true {secret_values.get(who)})")
    return problems


def _true_values(children: Mapping[Hashable, Sequence[Hashable]],
                 own: Mapping[Hashable, Aggregate], *, parent: Hashable, code: str,
                 kids: Sequence[Hashable]) -> dict[Hashable, int]:
    def total(unit: Hashable) -> int:
        return own.get(unit, Aggregate()).cells.get(code, 0) + sum(
            total(c) for c in children.get(unit, ()))
    found = {kid: total(kid) for kid in kids}
    found[("direct", parent)] = own.get(parent, Aggregate()).cells.get(code, 0)
    return found


def households(failing: Sequence[frozenset[str]], meeting: int) -> Aggregate:
    """A unit's aggregate from the failed criteria of each failing household."""
    cells = {code: sum(code in failed for failed in failing) for code in CODES}
    return Aggregate(len(failing) + meeting, len(failing), cells)


CODES = ["a", "b", "c", "d"]


def random_tree(rng: random.Random) -> tuple[dict[Hashable, list[Hashable]],
                                             dict[Hashable, Aggregate]]:
    children: dict[Hashable, list[Hashable]] = {None: []}
    own: dict[Hashable, Aggregate] = {}
    next_id = 1
    for _ward in range(rng.randint(1, 3)):
        ward, next_id = next_id, next_id + 1
        children[None].append(ward)
        children[ward] = []
        if rng.random() < 0.3:  # households registered in the ward itself
            own[ward] = random_unit(rng, small=True)
        for _chapter in range(rng.randint(1, 5)):
            chapter, next_id = next_id, next_id + 1
            children[ward].append(chapter)
            children[chapter] = []
            own[chapter] = random_unit(rng, small=rng.random() < 0.4)
            if rng.random() < 0.2:
                for _group in range(rng.randint(1, 3)):
                    group, next_id = next_id, next_id + 1
                    children[chapter].append(group)
                    own[group] = random_unit(rng, small=rng.random() < 0.5)
    return children, own


def random_unit(rng: random.Random, *, small: bool) -> Aggregate:
    failing_count = rng.randint(0, 4) if small else rng.randint(3, 25)
    failing = [frozenset(c for c in CODES if rng.random() < rng.choice((0.1, 0.5, 0.9))) or
               frozenset({rng.choice(CODES)}) for _ in range(failing_count)]
    return households(failing, rng.randint(0, 30))


# --- the rules, pure ---------------------------------------------------------------------------


def test_zeros_small_and_near_all_cells_are_suppressed():
    unit = Aggregate(20, 12, {"a": 0, "b": 3, "c": 6, "d": 7, "e": 8, "f": 12})
    shown = protect(children={None: [1]}, own={1: unit}, codes=list(unit.cells), k=K)
    # F - K = 7: 8 of the 12 failing households would say "nearly all of them fail this".
    assert shown[1].cells == {"a": None, "b": None, "c": 6, "d": 7, "e": None, "f": None}
    assert (shown[1].respondents, shown[1].failing, shown[1].reason) == (20, 12, None)
    assert shown[None].cells == shown[1].cells, "a single root is its only child"


def test_a_scope_needs_k_households_answering_and_k_failing():
    few = protect(children={None: [1]}, own={1: Aggregate(4, 4, {"a": 4})}, codes=["a"], k=K)
    assert few[1].reason == disclosure.TOO_FEW_ANSWERED and few[1].cells == {"a": None}
    # All but one household meet everything: the one is named by /evaluate; nothing shows.
    one = protect(children={None: [1]}, own={1: Aggregate(30, 1, {"a": 1, "b": 0})},
                  codes=["a", "b"], k=K)
    assert one[1].reason == disclosure.TOO_FEW_FAILING
    assert one[1].cells == {"a": None, "b": None}


def test_one_failing_household_cannot_be_recovered_from_the_ward():
    # Chapter 3 has one failing household (the head knows who: /evaluate names her).
    own = {2: households([frozenset("a")] * 6 + [frozenset("b")] * 6, 10),
           3: households([frozenset("c")], 9),
           4: households([frozenset("ac")] * 7 + [frozenset("b")] * 5, 3)}
    children = {None: [1], 1: [2, 3, 4], 2: [], 3: [], 4: []}
    shown = protect(children=children, own=own, codes=CODES, k=K)
    assert shown[3].cells == dict.fromkeys(CODES)
    assert attack(children, own, codes=CODES, shown=shown) == []
    # Naively, ward "c" (8) minus chapter 4's shown 7 would give her criterion away.
    assert shown[1].cells["c"] is None or shown[4].cells["c"] is None


def test_two_drill_down_levels_do_not_isolate_one_household():
    # A chapter with groups: the chapter minus its shown groups must not give the group
    # where a single household fails "a".
    own = {11: households([frozenset("a")] * 8 + [frozenset("b")] * 8, 4),
           12: households([frozenset("a")], 7),
           13: households([frozenset("ab")] * 6 + [frozenset("b")] * 6, 2),
           2: households([frozenset("b")] * 9 + [frozenset("a")] * 6, 5)}
    children = {None: [1], 1: [10, 2], 10: [11, 12, 13], 2: [], 11: [], 12: [], 13: []}
    shown = protect(children=children, own=own, codes=CODES, k=K)
    assert attack(children, own, codes=CODES, shown=shown) == []
    assert shown[12].cells == dict.fromkeys(CODES)


def test_households_registered_in_a_parent_itself_are_never_shown_on_their_own():
    own = {1: households([frozenset("a")] * 2, 1),  # registered in the ward itself
           2: households([frozenset("a")] * 9 + [frozenset("b")] * 9, 2),
           3: households([frozenset("a")] * 8 + [frozenset("b")] * 8, 2)}
    children = {None: [1], 1: [2, 3], 2: [], 3: []}
    shown = protect(children=children, own=own, codes=CODES, k=K)
    assert attack(children, own, codes=CODES, shown=shown) == []
    if shown[1].cells["a"] is not None:
        assert None in (shown[2].cells["a"], shown[3].cells["a"])


@pytest.mark.parametrize("seed", range(300))
def test_no_suppressed_cell_can_be_worked_out_on_random_trees(seed):
    rng = random.Random(seed)
    children, own = random_tree(rng)
    k = rng.choice((3, 5, 5, 7))
    shown = protect(children=children, own=own, codes=CODES, k=k)
    assert attack(children, own, codes=CODES, shown=shown, k=k) == []
    for unit, result in shown.items():
        for code, value in result.cells.items():
            if value is not None:
                assert result.reason is None and k <= value <= result.failing - k, (unit, code)
    assert protect(children=children, own=own, codes=CODES, k=k) == shown, "deterministic"


def test_k_is_a_setting_from_3():
    assert Settings().disclosure_k == 5
    assert Settings.from_env({"BOT_DISCLOSURE_K": "7"}, env_file=None).disclosure_k == 7
    for bad in ("2", "0", "five", "-5", "101"):
        with pytest.raises(SettingsError) as caught:
            Settings.from_env({"BOT_DISCLOSURE_K": bad}, env_file=None)
        assert caught.value.variable == "BOT_DISCLOSURE_K"
    with pytest.raises(ValueError):
        protect(children={None: []}, own={}, codes=[], k=2)


# --- through the application -------------------------------------------------------------------


async def household(db, user_id: int, unit: str, *, failed: frozenset[str] = frozenset()
                    ) -> int:
    """A member of `unit` whose household self-assessed, failing the `failed` criteria."""
    member_id = await register_member(db, user_id, unit, name=f"Hội viên {user_id}")
    reg, _ = await campaigns.register(db, campaigns.FAMILY, year=YEAR, member_id=member_id,
                                      unit_id=(await members.get(db, member_id)).unit_id, at=AT)
    for code in CRITERIA:
        await campaigns.set_answer(db, reg.id, code, code not in failed, live_codes=CRITERIA,
                                   at=AT)
    return reg.id


async def chapter(db, unit: str, first: int, *, failing: Sequence[frozenset[str]],
                  meeting: int) -> list[int]:
    """Households of a chapter: the failing ones (with what they fail), then the others."""
    found = []
    for number, failed in enumerate([*failing, *[frozenset()] * meeting]):
        found.append(await household(db, first + number, unit, failed=failed))
    return found


POVERTY, VIOLENCE, HOUSE = (frozenset({c}) for c in ("no_poverty", "no_domestic_violence",
                                                     "clean_house"))


async def screen(person, who: int, unit: str) -> tuple[str, dict[str, int | None]]:
    """The criteria screen of a unit as she sees it: its text and its cells by label."""
    viewer = person(who)
    await viewer.send(f"/stats {unit}")
    await viewer.press("Tiêu chí gia đình")
    text = viewer.reply_text()
    assert viewer.errors() == []
    cells: dict[str, int | None] = {}
    for line in text.splitlines():
        if line.startswith("• ") and ": " in line:
            label, _, value = line[2:].rpartition(": ")
            cells[label] = None if value == "—" else int(value.replace(".", ""))
    return text, cells


async def ward_with_three_chapters(db) -> None:
    """Hoàng Liệt: chapter 2 and 7 with many failing households, chapter 12 with ONE."""
    await chapter(db, "HM-HL-02", 6100, failing=[POVERTY] * 7 + [VIOLENCE | HOUSE] * 6,
                  meeting=10)
    await chapter(db, "HM-HL-07", 6200, failing=[POVERTY] * 6 + [HOUSE] * 7, meeting=8)
    await chapter(db, "HM-HL-12", 6300, failing=[VIOLENCE], meeting=9)  # /evaluate names her
    admin = await register_member(db, 6400, "HM-HL-12", name="Trần Thị Lan")
    await grant(db, admin, "unit_admin", "HM-HL")


async def test_one_failing_household_and_the_ward_above_it_reveal_nothing(person, db):
    await ward_with_three_chapters(db)
    text, cells = await screen(person, 6400, "HM-HL-12")
    assert "Số hộ được tính: 10 · chưa đạt đủ mọi tiêu chí: 1." in text
    assert "Chưa đủ số hộ để hiển thị số liệu theo từng tiêu chí mà vẫn bảo vệ được" in text
    assert cells == {}, "no criterion line at all"
    _text, ward = await screen(person, 6400, "HM-HL")
    kids = [(await screen(person, 6400, code))[1] for code in ("HM-HL-02", "HM-HL-07")]
    label = LABELS["no_domestic_violence"]
    # Ward minus the shown chapters must never leave chapter 12 alone.
    if ward[label] is not None:
        assert any(kid.get(label) is None for kid in kids), "complementary suppression"
    assert all(v is None or v >= K for v in ward.values())


async def test_all_but_one_meeting_everything_shows_nothing(person, db):
    await chapter(db, "HM-HL-02", 6500, failing=[POVERTY], meeting=14)
    head = await register_member(db, 6600, "HM-HL-02")
    await grant(db, head, "chapter_head", "HM-HL-02")
    text, cells = await screen(person, 6600, "HM-HL-02")
    assert "Số hộ được tính: 15 · chưa đạt đủ mọi tiêu chí: 1." in text
    assert "Chưa đủ số hộ" in text and cells == {}


async def test_ward_and_chapter_levels_together_isolate_no_household(person, db):
    await ward_with_three_chapters(db)
    _t, ward = await screen(person, ADMIN_ID, "HM-HL")
    levels = {code: (await screen(person, ADMIN_ID, code))[1]
              for code in ("HM-HL-02", "HM-HL-07", "HM-HL-12")}
    district = (await screen(person, ADMIN_ID, "HM"))[1]
    poverty = LABELS["no_poverty"]
    # Something safe is still shown: 13 in the ward, 7 in chapter 2, chapter 7 hidden with 12.
    assert (ward[poverty], levels["HM-HL-02"][poverty], levels["HM-HL-07"][poverty]) == (
        13, 7, None)
    for label in LABELS.values():
        hidden = [code for code, cells in levels.items() if cells.get(label) is None]
        if ward[label] is not None:
            assert hidden == [] or len(hidden) >= 2, (label, hidden)
        if district[label] is not None:
            assert ward[label] is None or district[label] == ward[label]


async def test_before_and_after_one_change_nothing_moves_until_k_changed(person, db, clock):
    regs = await chapter(db, "HM-HL-02", 6700, failing=[POVERTY] * 8 + [HOUSE] * 7,
                         meeting=10)
    head = await register_member(db, 6800, "HM-HL-02")
    await grant(db, head, "chapter_head", "HM-HL-02")
    before, cells = await screen(person, 6800, "HM-HL-02")
    assert cells[LABELS["no_poverty"]] == 8 and cells[LABELS["clean_house"]] == 7
    assert "Số liệu tính đến ngày 20/12/2026." in before
    # One named member (a meeting household) now says, in /family, she does not meet
    # "no poverty"; the head looks again.
    clock.advance(86_400)
    her = person(6724)
    await her.send("/family")
    await her.press("Sửa tự đánh giá")
    await her.press("Tôi đồng ý")  # the self-check consent, asked first
    await her.press(LABELS["no_poverty"])
    await her.press("Xong")
    assert her.errors() == []
    assert not (await campaigns.answers(db, regs[-1]))["no_poverty"], "saved at once"
    after, _ = await screen(person, 6800, "HM-HL-02")
    assert after == before, "one change shows nothing, not even the date"
    for changed in regs[-4:-1]:  # three more: four households changed, still fewer than K
        await campaigns.set_answer(db, changed, "no_poverty", False, live_codes=CRITERIA,
                                   at=AT)
    assert (await screen(person, 6800, "HM-HL-02"))[0] == before
    # Setting an answer to what it already was is no change at all.
    await campaigns.set_answer(db, regs[0], "clean_house", True, live_codes=CRITERIA, at=AT)
    assert (await screen(person, 6800, "HM-HL-02"))[0] == before
    await campaigns.set_answer(db, regs[-5], "no_poverty", False, live_codes=CRITERIA, at=AT)
    later, cells = await screen(person, 6800, "HM-HL-02")
    assert cells[LABELS["no_poverty"]] == 13, "K changes are released together"
    assert "Số liệu tính đến ngày 21/12/2026." in later
    assert await db.fetchall("SELECT * FROM disclosure_pending") == []


async def test_erasure_removes_her_answers_at_once_and_the_figures_at_the_next_release(
        person, db):
    await chapter(db, "HM-HL-02", 6900, failing=[POVERTY] * 8 + [HOUSE] * 7, meeting=10)
    head = await register_member(db, 6990, "HM-HL-02")
    await grant(db, head, "chapter_head", "HM-HL-02")
    before, _ = await screen(person, 6990, "HM-HL-02")
    leaving = person(6900)
    await leaving.send("/deleteme")
    await leaving.press("Có, xóa")
    member_id = (await db.fetchone("SELECT member_id FROM household_registrations ORDER BY id"
                                   " LIMIT 1"))[0]
    assert await db.fetchall(
        "SELECT * FROM household_answers a JOIN household_registrations h"
        " ON h.id = a.household_id WHERE h.member_id = ?", (member_id,)) == []
    assert (await screen(person, 6990, "HM-HL-02"))[0] == before
    assert await published.pending_of_member(db, member_id) != []


async def test_the_export_shows_the_screen_s_pattern(person, db, api):
    await ward_with_three_chapters(db)
    _t, cells = await screen(person, 6400, "HM-HL")
    lan = person(6400)
    await lan.send("/export")
    await exports_done()
    [sent] = [c for c in api.calls if c.method == "sendDocument"]
    book = load_workbook(io.BytesIO(sent.files["document"].content))
    rows = {r[0].value: r[1].value for r in book["Tổng hợp"].iter_rows(min_row=5)
            if r[0].value}
    for label, value in cells.items():
        assert rows[f"  {label}"] == ("—" if value is None else value), label
    assert rows["… chưa đạt đủ mọi tiêu chí"] == 27


async def test_nothing_published_yet_says_so(person, db):
    await chapter(db, "HM-HL-02", 7100, failing=[POVERTY] * 2, meeting=2)
    head = await register_member(db, 7190, "HM-HL-02")
    await grant(db, head, "chapter_head", "HM-HL-02")
    text, cells = await screen(person, 7190, "HM-HL-02")
    assert "Ở đây chưa có số liệu được công bố" in text and cells == {}


async def test_the_release_reads_indexes_only(db):
    params = {"year": YEAR, "k": K, "units": "[1, 2]"}
    expected = {published.DUE_SQL: "SEARCH disclosure_pending USING PRIMARY KEY (year=?)",
                published.LIVE_TOTALS_SQL: "USING INDEX households_by_year_unit (year=? AND",
                published.LIVE_MET_SQL: "USING INDEX households_by_year_unit (year=? AND"}
    for sql, index in expected.items():
        plan = await stats.explain(db, sql, params)
        assert any(index in step for step in plan), plan
        assert [s for s in plan if s.startswith("SCAN") and "json_each" not in s] == [], plan


async def test_a_merged_unit_s_households_count_in_the_unit_it_was_merged_into(person, db):
    from bot import orgtree
    from storage import admin, units

    await chapter(db, "HM-HL-02", 7200, failing=[POVERTY] * 7 + [HOUSE] * 6, meeting=10)
    await chapter(db, "HM-HL-07", 7300, failing=[POVERTY] * 6 + [HOUSE] * 6, meeting=5)
    source, target = [await units.by_code(db, code) for code in ("HM-HL-07", "HM-HL-02")]
    await admin.merge_units(db, source.id, target.id, by=ADMIN_ID, at=AT)
    orgtree.invalidate(db)
    text, cells = await screen(person, ADMIN_ID, "HM-HL-02")
    assert "Số hộ được tính: 40 · chưa đạt đủ mọi tiêu chí: 25." in text
    assert cells[LABELS["no_poverty"]] == 13 and cells[LABELS["clean_house"]] == 12
    ward_text, _ = await screen(person, ADMIN_ID, "HM-HL")
    assert "Số hộ được tính: 40 · chưa đạt đủ mọi tiêu chí: 25." in ward_text
