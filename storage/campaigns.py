"""Yearly campaigns: standard registrations (+ commitments), households (+ self-assessment
answers), evaluation decisions (with who and when) and closed years.

Every write checks, inside its transaction, that the year is not closed for the unit the
registration belongs to, so a decision racing a `/year close` cannot slip through.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Collection, Iterable
from dataclasses import dataclass

import aiosqlite

from storage import activities, deliveries, meetings
from storage.db import Database
from storage.deliveries import NewBroadcast

STANDARD = "standard"
FAMILY = "family"
CAMPAIGNS = (STANDARD, FAMILY)
ACHIEVED, NOT_ACHIEVED = "achieved", "not_achieved"
RECOGNISED, NOT_RECOGNISED = "recognised", "not_recognised"
UNDECIDED = "undecided"  # logged when a decision not yet sent is taken back
RESULTS = {STANDARD: (ACHIEVED, NOT_ACHIEVED), FAMILY: (RECOGNISED, NOT_RECOGNISED)}
_TABLE = {STANDARD: "standard_registrations", FAMILY: "household_registrations"}
COMMITMENT_MAX = 500

_SUBTREE = """sub(id) AS (
    SELECT :unit UNION ALL SELECT units.id FROM units JOIN sub ON units.parent_id = sub.id)"""
_ANCESTRY = """up(id) AS (
    SELECT :unit UNION ALL SELECT units.parent_id FROM units JOIN up ON units.id = up.id
    WHERE units.parent_id IS NOT NULL)"""
# Units of the subtree that are not closed by a closure inside the subtree.
_OPEN_SUBTREE = f"""{_SUBTREE},
    shut(id) AS (
        SELECT unit_id FROM closed_years WHERE year = :year AND unit_id IN (SELECT id FROM sub)
        UNION ALL SELECT units.id FROM units JOIN shut ON units.parent_id = shut.id),
    open(id) AS (SELECT id FROM sub EXCEPT SELECT id FROM shut)"""


class CampaignError(Exception):
    """A change that the rules do not allow; nothing was changed."""


class YearClosed(CampaignError):
    """The year is closed (read-only) for this registration's unit."""

    def __init__(self, year: int) -> None:
        super().__init__(f"{year} is closed")
        self.year = year


class AlreadyDecided(CampaignError):
    """The chapter has already decided; the registration can no longer be withdrawn/changed."""


class NotEligible(CampaignError):
    """A household that did not self-assess as meeting every criterion cannot be recognised."""


@dataclass(frozen=True, slots=True)
class Registration:
    """A member's registration for one campaign and year, with the current decision."""

    campaign: str
    id: int
    year: int
    member_id: int
    unit_id: int
    registered_at: str
    result: str | None
    decided_by: int | None
    decided_at: str | None
    meets_all: bool = False  # households: self-assessed as meeting every live criterion
    assessed_at: str | None = None  # households: last change of the self-assessment
    criteria_set: str | None = None  # households: the criteria set it was registered under


@dataclass(frozen=True, slots=True)
class EvaluationRow:
    """One member in a chapter's evaluation list (no criterion answers, by design)."""

    member_id: int
    full_name: str
    chat_id: int
    locale: str
    status: str
    standard: Registration | None
    family: Registration | None
    standard_decider: str | None  # the decider's name when she is a member
    family_decider: str | None


@dataclass(frozen=True, slots=True)
class Counts:
    """Per unit (subtree) and year: the figures the union reports."""

    standard_registered: int = 0
    standard_achieved: int = 0
    standard_not_achieved: int = 0
    households_registered: int = 0
    households_meeting_all: int = 0
    households_recognised: int = 0


def _columns(campaign: str, alias: str = "") -> str:
    p = f"{alias}." if alias else ""
    cols = [f"{p}{c}" for c in ("id", "year", "member_id", "unit_id", "registered_at",
                                "result", "decided_by", "decided_at")]
    if campaign == FAMILY:
        cols += [f"{p}meets_all", f"{p}assessed_at", f"{p}criteria_set"]
    return ", ".join(cols)


def _registration(campaign: str, values: tuple) -> Registration:
    if campaign == FAMILY:
        *head, meets_all, assessed_at, criteria_set = values
        # mypy cannot count a starred row; the columns are those of _columns(FAMILY).
        return Registration(FAMILY, *head, bool(meets_all), assessed_at,  # type: ignore[call-arg]
                            criteria_set)
    return Registration(STANDARD, *values)


_CLOSED_SQL = f"""WITH RECURSIVE {_ANCESTRY}
    SELECT 1 FROM closed_years WHERE year = :year
    AND (unit_id IS NULL OR unit_id IN (SELECT id FROM up)) LIMIT 1"""


async def _closed(conn: aiosqlite.Connection, year: int, unit_id: int) -> bool:
    async with conn.execute(_CLOSED_SQL, {"unit": unit_id, "year": year}) as cursor:
        return await cursor.fetchone() is not None


async def _load(conn: aiosqlite.Connection, campaign: str, reg_id: int) -> Registration | None:
    async with conn.execute(
        f"SELECT {_columns(campaign)} FROM {_TABLE[campaign]} WHERE id = ?", (reg_id,)
    ) as cursor:
        row = await cursor.fetchone()
    return _registration(campaign, tuple(row)) if row else None


async def _open_registration(conn: aiosqlite.Connection, campaign: str, reg_id: int, *,
                             missing: str = "no such registration") -> Registration:
    """A registration that may still change: it exists and its year is open in its unit."""
    reg = await _load(conn, campaign, reg_id)
    if reg is None:
        raise CampaignError(missing)
    if await _closed(conn, reg.year, reg.unit_id):
        raise YearClosed(reg.year)
    return reg


# --- reading ---------------------------------------------------------------------------------


async def registration(
    db: Database, campaign: str, member_id: int, year: int
) -> Registration | None:
    """Her registration for a campaign and year, if any."""
    row = await db.fetchone(
        f"SELECT {_columns(campaign)} FROM {_TABLE[campaign]} WHERE member_id = ? AND year = ?",
        (member_id, year),
    )
    return _registration(campaign, tuple(row)) if row else None


async def commitments(db: Database, registration_id: int) -> dict[str, str]:
    """Her commitments under each quality (quality code → text)."""
    rows = await db.fetchall(
        "SELECT quality_code, text FROM standard_commitments WHERE registration_id = ?",
        (registration_id,),
    )
    return {r[0]: r[1] for r in rows}


async def answers(db: Database, household_id: int) -> dict[str, bool]:
    """Her self-assessment (criterion code → met). Only ever shown to the member herself."""
    rows = await db.fetchall(
        "SELECT criterion_code, met FROM household_answers WHERE household_id = ?",
        (household_id,),
    )
    return {r[0]: bool(r[1]) for r in rows}


async def is_closed(db: Database, year: int, unit_id: int) -> bool:
    """Whether the year is closed for this unit (by a closure of it, an ancestor, or all)."""
    # Through `db`, not its connection: a read must wait for another task's open transaction.
    return await db.fetchone(_CLOSED_SQL, {"unit": unit_id, "year": year}) is not None


async def closures(db: Database, years: Collection[int]) -> list[tuple[int, int | None, str]]:
    """(year, unit id or None for everywhere, closed_at) for these years."""
    marks = ",".join("?" * len(years)) or "NULL"
    rows = await db.fetchall(
        f"SELECT year, unit_id, closed_at FROM closed_years WHERE year IN ({marks})"
        " ORDER BY year, closed_at",
        tuple(years),
    )
    return [(r[0], r[1], r[2]) for r in rows]


async def evaluation_rows(
    db: Database, year: int, unit_id: int, member_id: int | None = None
) -> list[EvaluationRow]:
    """Members registered for either campaign in the unit's subtree (one member if given)."""
    only = "AND m.id = :member" if member_id is not None else ""
    rows = await db.fetchall(
        f"""WITH RECURSIVE {_SUBTREE},
            regs(member_id) AS (
                SELECT member_id FROM standard_registrations
                WHERE year = :year AND unit_id IN (SELECT id FROM sub)
                UNION
                SELECT member_id FROM household_registrations
                WHERE year = :year AND unit_id IN (SELECT id FROM sub))
            SELECT m.id, m.full_name, m.chat_id, m.locale, m.status,
                   {_columns(STANDARD, "s")}, sd.full_name,
                   {_columns(FAMILY, "h")}, hd.full_name
            FROM regs JOIN members m ON m.id = regs.member_id
            LEFT JOIN standard_registrations s ON s.member_id = m.id AND s.year = :year
                 AND s.unit_id IN (SELECT id FROM sub)
            LEFT JOIN members sd ON sd.telegram_user_id = s.decided_by
            LEFT JOIN household_registrations h ON h.member_id = m.id AND h.year = :year
                 AND h.unit_id IN (SELECT id FROM sub)
            LEFT JOIN members hd ON hd.telegram_user_id = h.decided_by
            WHERE m.status != 'deleted' {only}""",
        {"unit": unit_id, "year": year, "member": member_id},
    )
    found = []
    for row in rows:
        values = tuple(row)
        standard, family = values[5:13], values[14:25]
        found.append(EvaluationRow(
            member_id=values[0], full_name=values[1], chat_id=values[2], locale=values[3],
            status=values[4],
            standard=_registration(STANDARD, standard) if standard[0] is not None else None,
            family=_registration(FAMILY, family) if family[0] is not None else None,
            standard_decider=values[13], family_decider=values[25],
        ))
    return found


async def counts(db: Database, year: int, unit_id: int) -> Counts:
    """The campaign figures of a unit's subtree for one year (index-only scans)."""
    params = {"unit": unit_id, "year": year}
    standard = await db.fetchone(
        f"""WITH RECURSIVE {_SUBTREE}
            SELECT count(*), count(*) FILTER (WHERE result = 'achieved'),
                   count(*) FILTER (WHERE result = 'not_achieved')
            FROM standard_registrations
            WHERE year = :year AND unit_id IN (SELECT id FROM sub)""",
        params,
    )
    family = await db.fetchone(
        f"""WITH RECURSIVE {_SUBTREE}
            SELECT count(*), count(*) FILTER (WHERE meets_all = 1),
                   count(*) FILTER (WHERE result = 'recognised')
            FROM household_registrations
            WHERE year = :year AND unit_id IN (SELECT id FROM sub)""",
        params,
    )
    assert standard is not None and family is not None
    return Counts(*tuple(standard), *tuple(family))


async def codes_in_use(db: Database) -> dict[str, dict[str, int]]:
    """Catalog codes that stored data refers to, per catalog section, with how often."""
    qualities = await db.fetchall(
        "SELECT quality_code, count(*) FROM standard_commitments GROUP BY quality_code"
    )
    criteria = await db.fetchall(
        "SELECT criterion_code, count(*) FROM household_answers GROUP BY criterion_code"
    )
    return {
        "qualities": {r[0]: r[1] for r in qualities},
        "criteria": {r[0]: r[1] for r in criteria},
        "activities": await activities.codes_in_use(db),
        "event_kinds": await meetings.codes_in_use(db),
    }


async def criteria_sets_in_use(db: Database, *, from_year: int = 0,
                               to_year: int = 9999) -> dict[tuple[int, str | None], int]:
    """How many household registrations use each criteria set, per (year, set id)."""
    rows = await db.fetchall(
        "SELECT year, criteria_set, count(*) FROM household_registrations"
        " WHERE year BETWEEN ? AND ? GROUP BY year, criteria_set",
        (from_year, to_year),
    )
    return {(r[0], r[1]): r[2] for r in rows}


async def criterion_codes(db: Database) -> set[str]:
    """Every criterion code stored answers use: one step along the code index per distinct
    code (a scan of every answer took most of the start-up at district scale)."""
    rows = await db.fetchall(
        "WITH RECURSIVE c(code) AS (SELECT min(criterion_code) FROM household_answers"
        " UNION ALL SELECT (SELECT min(criterion_code) FROM household_answers"
        " WHERE criterion_code > c.code) FROM c WHERE c.code IS NOT NULL)"
        " SELECT code FROM c WHERE code IS NOT NULL"
    )
    return {row[0] for row in rows}


async def answers_using(db: Database, year: int, set_id: str | None,
                        codes: Collection[str]) -> dict[str, int]:
    """How many stored answers of the year's registrations under `set_id` use each of `codes`."""
    found = tuple(codes)
    rows = await db.fetchall(
        "SELECT a.criterion_code, count(*) FROM household_answers a"
        " JOIN household_registrations h ON h.id = a.household_id"
        f" WHERE a.criterion_code IN ({','.join('?' * len(found))})"
        " AND h.year = ? AND h.criteria_set IS ? GROUP BY a.criterion_code",
        (*found, year, set_id),
    )
    return {row[0]: row[1] for row in rows}


# --- member side -----------------------------------------------------------------------------


async def register(
    db: Database, campaign: str, *, year: int, member_id: int, unit_id: int, at: str,
    criteria_set: str | None = None,
) -> tuple[Registration, bool]:
    """Register her (keeping her unit now, and for a household the criteria set it answers
    under); registering again is harmless. (reg, created)."""
    columns, values = ["year", "member_id", "unit_id", "registered_at"], [year, member_id,
                                                                          unit_id, at]
    if campaign == FAMILY:
        columns.append("criteria_set")
        values.append(criteria_set)
    async with db.transaction() as conn:
        if await _closed(conn, year, unit_id):
            raise YearClosed(year)
        cursor = await conn.execute(
            f"INSERT INTO {_TABLE[campaign]} ({', '.join(columns)})"
            f" VALUES ({', '.join('?' * len(values))}) ON CONFLICT (member_id, year) DO NOTHING",
            values,
        )
        created = cursor.rowcount == 1
    found = await registration(db, campaign, member_id, year)
    assert found is not None
    return found, created


async def register_many(
    db: Database, campaign: str, *, year: int, rows: Iterable[tuple[int, int]], at: str,
    criteria_set: str | None = None,
) -> list[int]:
    """Register many (member id, unit id) pairs for a year in one transaction (a seed at
    district scale); those already registered are left alone. Their registration ids, in order."""
    columns = "year, member_id, unit_id, registered_at"
    extra: tuple = ()
    if campaign == FAMILY:
        columns += ", criteria_set"
        extra = (criteria_set,)
    values = [(year, member_id, unit_id, at, *extra) for member_id, unit_id in rows]
    async with db.transaction() as conn:
        async with conn.execute(  # any closure of the year: a seed does not pick its units
            "SELECT 1 FROM closed_years WHERE year = ? LIMIT 1", (year,)
        ) as found:
            if await found.fetchone() is not None:
                raise YearClosed(year)
        await conn.executemany(
            f"INSERT INTO {_TABLE[campaign]} ({columns})"
            f" VALUES ({', '.join('?' * (4 + len(extra)))})"
            " ON CONFLICT (member_id, year) DO NOTHING",
            values,
        )
        async with conn.execute(
            f"SELECT member_id, id FROM {_TABLE[campaign]} WHERE year = ?", (year,)
        ) as cursor:
            ids = {r[0]: r[1] for r in await cursor.fetchall()}
    return [ids[v[1]] for v in values]


async def withdraw(db: Database, campaign: str, member_id: int, year: int) -> bool:
    """Withdraw before the evaluation (commitments/answers go with it); False if none."""
    async with db.transaction() as conn:
        async with conn.execute(
            f"SELECT id, unit_id, result FROM {_TABLE[campaign]} WHERE member_id = ? AND year = ?",
            (member_id, year),
        ) as cursor:
            row = await cursor.fetchone()
        if row is None:
            return False
        if await _closed(conn, year, row["unit_id"]):
            raise YearClosed(year)
        if row["result"] is not None:
            raise AlreadyDecided()
        await conn.execute(f"DELETE FROM {_TABLE[campaign]} WHERE id = ?", (row["id"],))
    return True


async def set_commitment(
    db: Database, registration_id: int, quality_code: str, text: str | None, *, at: str
) -> None:
    """Write (or with None clear) her commitment under one quality."""
    if text is not None and not 0 < len(text) <= COMMITMENT_MAX:
        raise ValueError("commitment length")
    async with db.transaction() as conn:
        await _open_registration(conn, STANDARD, registration_id)
        if text is None:
            await conn.execute(
                "DELETE FROM standard_commitments WHERE registration_id = ? AND quality_code = ?",
                (registration_id, quality_code),
            )
        else:
            await conn.execute(
                "INSERT INTO standard_commitments (registration_id, quality_code, text,"
                " updated_at) VALUES (?, ?, ?, ?) ON CONFLICT (registration_id, quality_code)"
                " DO UPDATE SET text = excluded.text, updated_at = excluded.updated_at",
                (registration_id, quality_code, text, at),
            )


_MEETS_ALL = """((SELECT count(*) FROM household_answers a
                  WHERE a.household_id = household_registrations.id AND a.met = 1
                  AND a.criterion_code IN ({marks})) = {n})"""


async def set_answer(
    db: Database, household_id: int, criterion_code: str, met: bool, *,
    live_codes: Collection[str], at: str,
) -> Registration:
    """Record one self-assessment answer and whether every live criterion is now met."""
    codes = tuple(live_codes)
    meets_all = _MEETS_ALL.format(marks=",".join("?" * len(codes)), n=len(codes))
    async with db.transaction() as conn:
        reg = await _open_registration(conn, FAMILY, household_id,
                                       missing="no such household registration")
        if reg.result is not None:
            raise AlreadyDecided()
        await conn.execute(
            "INSERT INTO household_answers (household_id, criterion_code, met, answered_at)"
            " VALUES (?, ?, ?, ?) ON CONFLICT (household_id, criterion_code)"
            " DO UPDATE SET met = excluded.met, answered_at = excluded.answered_at",
            (household_id, criterion_code, int(met), at),
        )
        await conn.execute(
            f"UPDATE household_registrations SET meets_all = {meets_all}, assessed_at = ?"
            " WHERE id = ?",
            (*codes, at, household_id),
        )
        updated = await _load(conn, FAMILY, household_id)
    assert updated is not None
    return updated


async def answer_many(
    db: Database, answers: Iterable[tuple[int, str, bool]], *, live_codes: Collection[str],
    at: str,
) -> int:
    """Record many (household id, criterion, met) answers in one transaction, then whether
    each household answered now meets every live criterion (a seed at district scale)."""
    rows = [(household, code, int(met), at) for household, code, met in answers]
    codes = tuple(live_codes)
    meets_all = _MEETS_ALL.format(marks=",".join("?" * len(codes)), n=len(codes))
    async with db.transaction() as conn:
        await conn.executemany(
            "INSERT INTO household_answers (household_id, criterion_code, met, answered_at)"
            " VALUES (?, ?, ?, ?) ON CONFLICT (household_id, criterion_code)"
            " DO UPDATE SET met = excluded.met, answered_at = excluded.answered_at",
            rows,
        )
        await conn.executemany(
            f"UPDATE household_registrations SET meets_all = {meets_all}, assessed_at = ?"
            " WHERE id = ? AND result IS NULL",
            [(*codes, at, household) for household in dict.fromkeys(r[0] for r in rows)],
        )
    return len(rows)


async def refresh_meets_all(db: Database, year: int, live_codes: Collection[str], *,
                            criteria_set: str | None = None) -> int:
    """After a catalog change: recompute 'meets every criterion' for the undecided households
    of a year registered under `criteria_set` (None: those without a stored set)."""
    codes = tuple(live_codes)
    meets_all = _MEETS_ALL.format(marks=",".join("?" * len(codes)), n=len(codes))
    async with db.transaction() as conn:
        cursor = await conn.execute(
            f"UPDATE household_registrations SET meets_all = {meets_all}"
            f" WHERE year = ? AND criteria_set IS ? AND result IS NULL"
            f" AND meets_all != {meets_all}"
            # An erased member's answers are gone; her household keeps its counted status.
            " AND member_id NOT IN (SELECT id FROM members WHERE status = 'deleted')",
            (*codes, year, criteria_set, *codes),
        )
        return cursor.rowcount


# --- evaluation ------------------------------------------------------------------------------


async def decide(
    db: Database, campaign: str, registration_id: int, result: str, *, by: int, at: str
) -> tuple[Registration, bool]:
    """Record a decision (the last one wins); (registration now, whether it changed)."""
    if result not in RESULTS[campaign]:
        raise ValueError(result)
    async with db.transaction() as conn:
        reg = await _open_registration(conn, campaign, registration_id)
        if campaign == FAMILY and not reg.meets_all:
            raise NotEligible()
        if reg.result == result:
            return reg, False
        await conn.execute(
            f"UPDATE {_TABLE[campaign]} SET result = ?, decided_by = ?, decided_at = ?"
            " WHERE id = ?",
            (result, by, at, registration_id),
        )
        await conn.execute(
            "INSERT INTO evaluation_decisions (campaign, registration_id, result, decided_by,"
            " decided_at) VALUES (?, ?, ?, ?, ?)",
            (campaign, registration_id, result, by, at),
        )
        updated = await _load(conn, campaign, registration_id)
    assert updated is not None
    return updated, True


async def decide_remaining(
    db: Database, campaign: str, *, year: int, unit_id: int, result: str, by: int, at: str
) -> list[int]:
    """Give every undecided (eligible) registration of the subtree this result; member ids."""
    if result not in RESULTS[campaign]:
        raise ValueError(result)
    table = _TABLE[campaign]
    eligible = "AND meets_all = 1" if campaign == FAMILY else ""
    async with db.transaction() as conn:
        if await _closed(conn, year, unit_id):
            raise YearClosed(year)
        async with conn.execute(
            f"""WITH RECURSIVE {_OPEN_SUBTREE}
                UPDATE {table} SET result = :result, decided_by = :by, decided_at = :at
                WHERE year = :year AND unit_id IN (SELECT id FROM open) AND result IS NULL
                AND member_id IN (SELECT id FROM members WHERE status != 'deleted') {eligible}
                RETURNING id, member_id""",
            {"unit": unit_id, "year": year, "result": result, "by": by, "at": at},
        ) as cursor:
            changed = [tuple(r) for r in await cursor.fetchall()]
        await conn.executemany(
            "INSERT INTO evaluation_decisions (campaign, registration_id, result, decided_by,"
            " decided_at) VALUES (?, ?, ?, ?, ?)",
            [(campaign, reg_id, result, by, at) for reg_id, _member in changed],
        )
    return [member for _reg, member in changed]


async def undecide(
    db: Database, campaign: str, registration_id: int, *, by: int, at: str
) -> bool:
    """Take back a decision her chapter has not sent her yet (a slip); False if none to take.

    A decision already sent stays (she knows it); it can only be corrected to the other result.
    """
    async with db.transaction() as conn:
        await _open_registration(conn, campaign, registration_id)
        cursor = await conn.execute(
            f"UPDATE {_TABLE[campaign]} SET result = NULL, decided_by = NULL, decided_at = NULL"
            " WHERE id = ? AND result IS NOT NULL AND told_result IS NULL",
            (registration_id,),
        )
        if cursor.rowcount == 0:
            return False
        await conn.execute(
            "INSERT INTO evaluation_decisions (campaign, registration_id, result, decided_by,"
            " decided_at) VALUES (?, ?, ?, ?, ?)",
            (campaign, registration_id, UNDECIDED, by, at),
        )
    return True


@dataclass(frozen=True, slots=True)
class Unsent:
    """A decision her chapter has not sent her yet (told_result: what she was told before)."""

    campaign: str
    registration_id: int
    member_id: int
    locale: str
    result: str
    told_result: str | None


_UNSENT = """
    SELECT '{campaign}', r.id, r.member_id, m.locale, r.result, r.told_result
    FROM {table} r JOIN members m ON m.id = r.member_id
    WHERE r.year = :year AND r.unit_id IN (SELECT id FROM open) AND r.result IS NOT NULL
      AND r.result IS NOT r.told_result AND m.status != 'deleted'"""


async def unsent(db: Database, year: int, unit_id: int) -> list[Unsent]:
    """Decisions of the subtree's open units not yet sent to the member (erased members: never).

    Ordered by member, the standard before the household, so one message per member is easy.
    """
    parts = " UNION ALL ".join(_UNSENT.format(campaign=c, table=_TABLE[c]) for c in CAMPAIGNS)
    rows = await db.fetchall(
        f"WITH RECURSIVE {_OPEN_SUBTREE} SELECT * FROM ({parts}) ORDER BY 3, 1 DESC",
        {"unit": unit_id, "year": year},
    )
    return [Unsent(*tuple(r)) for r in rows]


async def send_results(
    db: Database, new: NewBroadcast, *, items: Collection[Unsent], texts: dict[int, str], at: str
) -> tuple[int | None, int]:
    """Hand the results to the outbox, one message per member, and mark them told, together.

    `texts` is each member's message rendered from `items`. A member whose decision changed
    since `items` were read (another head, a double tap) is left out and stays unsent: she never
    gets a message that is not her current result. (broadcast id or None, members sent to).
    """
    async with db.transaction() as conn:
        stale: set[int] = set()
        closed: dict[tuple[int, int], bool] = {}
        for item in items:
            async with conn.execute(
                f"SELECT r.result, r.told_result, r.year, r.unit_id, m.status"
                f" FROM {_TABLE[item.campaign]} r JOIN members m ON m.id = r.member_id"
                " WHERE r.id = ?",
                (item.registration_id,),
            ) as cursor:
                row = await cursor.fetchone()
            if row is not None and (row[2], row[3]) not in closed:
                closed[row[2], row[3]] = await _closed(conn, row[2], row[3])
            if (row is None or (row[0], row[1]) != (item.result, item.told_result)
                    or row[4] == "deleted" or closed[row[2], row[3]]):
                stale.add(item.member_id)
        fresh = [i for i in items if i.member_id not in stale and i.member_id in texts]
        if not fresh:
            return None, 0
        for campaign in CAMPAIGNS:
            await conn.executemany(
                f"UPDATE {_TABLE[campaign]} SET told_result = result, told_at = ? WHERE id = ?",
                [(at, i.registration_id) for i in fresh if i.campaign == campaign],
            )
        members = sorted({i.member_id for i in fresh})
        broadcast_id = await deliveries.insert_personal(
            conn, new, [(m, texts[m]) for m in members], at)
    return broadcast_id, len(members)


async def unsent_count(db: Database, year: int, unit_id: int | None) -> int:
    """How many members have a decision of this year not yet sent (None: every unit)."""
    if unit_id is not None:
        return len({u.member_id for u in await unsent(db, year, unit_id)})
    union = " UNION ".join(
        f"SELECT r.member_id FROM {_TABLE[c]} r JOIN members m ON m.id = r.member_id"
        " WHERE r.year = :year AND r.result IS NOT NULL AND r.result IS NOT r.told_result"
        " AND m.status != 'deleted'" for c in CAMPAIGNS)
    row = await db.fetchone(f"SELECT count(*) FROM ({union})", {"year": year})
    return int(row[0]) if row else 0


async def decisions(db: Database, campaign: str, registration_id: int) -> list[sqlite3.Row]:
    """Every decision on a registration, oldest first (result, decided_by, decided_at)."""
    return await db.fetchall(
        "SELECT result, decided_by, decided_at FROM evaluation_decisions"
        " WHERE campaign = ? AND registration_id = ? ORDER BY id",
        (campaign, registration_id),
    )


async def close_year(db: Database, year: int, unit_id: int | None, *, by: int, at: str) -> bool:
    """Make a year read-only for a unit's subtree (None: everywhere); False if it already was."""
    async with db.transaction() as conn:
        cursor = await conn.execute(
            "INSERT OR IGNORE INTO closed_years (year, unit_id, closed_by, closed_at)"
            " VALUES (?, ?, ?, ?)",
            (year, unit_id, by, at),
        )
        return cursor.rowcount == 1
