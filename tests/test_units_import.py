"""`python -m bot units import/list` and `migrate` through real subprocesses and SQLite files."""

from __future__ import annotations

import os
import re
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from storage.db import BUSY_TIMEOUT_MS, Database, available_migrations

REPO_ROOT = Path(__file__).resolve().parent.parent

BASE_CSV = """\
code,name,kind,parent_code
HM,Quận Hoàng Mai,district,
HM-HL,Phường Hoàng Liệt,ward,HM
HM-HL-02,Chi hội tổ dân phố số 2,chapter,HM-HL
HM-HL-07,Chi hội tổ dân phố số 7,chapter,HM-HL
HM-YS,Phường Yên Sở,ward,HM
"""

BASE_LIST = """\
HM  Quận Hoàng Mai  [district]  0
  HM-HL  Phường Hoàng Liệt  [ward]  0
    HM-HL-02  Chi hội tổ dân phố số 2  [chapter]  0
    HM-HL-07  Chi hội tổ dân phố số 7  [chapter]  0
  HM-YS  Phường Yên Sở  [ward]  0
"""

Snapshot = list[tuple[object, ...]]


class Cli:
    """`python -m bot …` with BOT_DATABASE in a temp folder and an otherwise clean environment."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.database = folder / "units.sqlite3"

    def __call__(self, *args: str) -> subprocess.CompletedProcess[str]:
        env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "PYTHONPATH": str(REPO_ROOT),
            "BOT_DATABASE": str(self.database),
        }
        return subprocess.run(
            [sys.executable, "-m", "bot", *args],
            cwd=self.folder, env=env, capture_output=True, text=True, encoding="utf-8",
            timeout=15, check=False,
        )

    def write(self, name: str, text: str) -> Path:
        path = self.folder / name
        path.write_text(text, encoding="utf-8")
        return path

    def import_text(self, text: str, name: str = "units.csv") -> subprocess.CompletedProcess[str]:
        return self("units", "import", str(self.write(name, text)))

    def ok(self, *args: str) -> str:
        result = self(*args)
        assert result.returncode == 0, result.stderr
        assert "Traceback" not in result.stderr
        return result.stdout

    def listing(self) -> str:
        return self.ok("units", "list")

    def snapshot(self) -> Snapshot:
        """Every column of every unit, with the parent as a code."""
        with sqlite3.connect(self.database) as conn:
            return conn.execute(
                "SELECT u.id, u.code, u.name, u.kind, p.code, u.created_at, u.updated_at"
                " FROM units u LEFT JOIN units p ON p.id = u.parent_id ORDER BY u.id"
            ).fetchall()


@pytest.fixture
def cli(tmp_path: Path) -> Cli:
    return Cli(tmp_path)


@pytest.fixture(scope="session")
def base_database(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A database with the base tree imported by the CLI (once; tests get copies)."""
    template = Cli(tmp_path_factory.mktemp("template"))
    assert created_updated(template.import_text(BASE_CSV, "base.csv")) == (5, 0)
    return template.database


@pytest.fixture
def loaded(cli: Cli, base_database: Path) -> Cli:
    """A private copy of the database with the base tree."""
    for suffix in ("", "-wal", "-shm"):
        source = Path(f"{base_database}{suffix}")
        if source.exists():
            shutil.copyfile(source, f"{cli.database}{suffix}")
    return cli


def created_updated(result: subprocess.CompletedProcess[str]) -> tuple[int, int]:
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    found = re.search(r"(\d+) unit\(s\) created, (\d+) updated", result.stdout)
    assert found, result.stdout
    return int(found[1]), int(found[2])


# ---- good files ---------------------------------------------------------------------------


def test_empty_database_lists_hint(cli: Cli) -> None:
    assert "no units yet" in cli.listing()


def test_good_file_imports(cli: Cli) -> None:
    assert created_updated(cli.import_text(BASE_CSV)) == (5, 0)
    assert cli.listing() == BASE_LIST


def test_reimport_is_idempotent(loaded: Cli) -> None:
    before = loaded.snapshot()
    assert created_updated(loaded.import_text(BASE_CSV)) == (0, 0)
    assert loaded.snapshot() == before  # not even updated_at moved


def test_renamed_unit_counts_as_updated(loaded: Cli) -> None:
    before = {row[1]: row for row in loaded.snapshot()}
    renamed = BASE_CSV.replace("Phường Yên Sở", "Phường Yên Sở mới")
    assert created_updated(loaded.import_text(renamed)) == (0, 1)
    after = {row[1]: row for row in loaded.snapshot()}
    assert after["HM-YS"][2] == "Phường Yên Sở mới"
    assert after["HM-YS"][0] == before["HM-YS"][0]  # same id: updated in place
    assert {code: row for code, row in after.items() if code != "HM-YS"} == {
        code: row for code, row in before.items() if code != "HM-YS"
    }
    assert "  HM-YS  Phường Yên Sở mới  [ward]  0" in loaded.listing()


def test_moved_and_new_units_count(loaded: Cli) -> None:
    moved = (
        "HM-HL-07,Chi hội tổ dân phố số 7,chapter,HM-YS\n"  # other ward
        "HM-YS-03,Chi hội tổ dân phố số 3,chapter,HM-YS\n"  # new
    )
    assert created_updated(loaded.import_text(moved)) == (1, 1)
    listing = loaded.listing()
    assert listing.index("  HM-YS  ") < listing.index("    HM-HL-07  ")
    assert "    HM-YS-03  Chi hội tổ dân phố số 3  [chapter]  0" in listing


def test_header_row_is_optional(cli: Cli) -> None:
    without_header = BASE_CSV.split("\n", 1)[1]
    assert created_updated(cli.import_text(without_header)) == (5, 0)
    assert cli.listing() == BASE_LIST


def test_bom_blank_lines_and_spaces_are_tolerated(cli: Cli) -> None:
    messy = "\ufeffCode, Name ,KIND,parent_code\n\n" + "\n".join(
        " , ".join(cell.strip() for cell in line.split(","))
        for line in BASE_CSV.splitlines()[1:]
    ) + "\n\n"
    assert created_updated(cli.import_text(messy)) == (5, 0)
    assert cli.listing() == BASE_LIST


def test_children_before_parents(cli: Cli) -> None:
    header, *rows = BASE_CSV.splitlines()
    reversed_file = "\n".join([header, *reversed(rows)]) + "\n"
    assert created_updated(cli.import_text(reversed_file)) == (5, 0)
    assert cli.listing() == BASE_LIST


def test_parent_codes_compare_case_insensitively(loaded: Cli) -> None:
    assert created_updated(loaded.import_text("HM-YS-08,Chi hội số 8,chapter,hm-ys\n")) == (1, 0)
    assert "    HM-YS-08  Chi hội số 8  [chapter]  0" in loaded.listing()


def test_shipped_demo_file_imports(cli: Cli) -> None:
    shipped = REPO_ROOT / "bot" / "data" / "hoang_mai_units.csv"
    result = cli("units", "import", str(shipped))
    created, updated = created_updated(result)
    data_rows = [line for line in shipped.read_text("utf-8").splitlines()[1:] if line.strip()]
    assert (created, updated) == (len(data_rows), 0)
    assert created_updated(cli("units", "import", str(shipped))) == (0, 0)


def test_list_shows_active_member_counts(loaded: Cli) -> None:
    with sqlite3.connect(loaded.database) as conn:
        unit_id = conn.execute("SELECT id FROM units WHERE code = 'HM-HL-02'").fetchone()[0]
        for user_id, status in [(1, "active"), (2, "active"), (3, "stopped")]:
            conn.execute(
                "INSERT INTO members (telegram_user_id, chat_id, full_name, unit_id, locale,"
                " status, created_at, updated_at) VALUES (?, ?, 'X', ?, 'vi', ?, 'now', 'now')",
                (user_id, user_id, unit_id, status),
            )
    assert "    HM-HL-02  Chi hội tổ dân phố số 2  [chapter]  2\n" in loaded.listing()


# ---- errors change nothing --------------------------------------------------------------

# Every bad file also renames an existing unit and adds a new one before the bad line, so a
# partial import would show.
PRELUDE = "code,name,kind,parent_code\nHM-YS,Đổi tên,ward,HM\nNEW-1,Đơn vị mới,ward,HM\n"


@pytest.mark.parametrize(
    ("body", "line", "field"),
    [
        pytest.param("NEW-2,Thiếu cột,ward\n", 4, "4 fields", id="too-few-fields"),
        pytest.param("NEW-2,Thừa,ward,HM,extra\n", 4, "4 fields", id="too-many-fields"),
        pytest.param("bad code!,Tên,ward,HM\n", 4, "field code", id="bad-code"),
        pytest.param(f"{'X' * 41},Tên,ward,HM\n", 4, "field code", id="code-too-long"),
        pytest.param("NEW-1,Lặp lại,ward,HM\n", 4, "field code", id="duplicate-code"),
        pytest.param("new-1,Lặp lại,ward,HM\n", 4, "field code", id="duplicate-code-case"),
        pytest.param("NEW-2,Tên,Ward,HM\n", 4, "field kind", id="kind-uppercase"),
        pytest.param("NEW-2,Tên,chi hội,HM\n", 4, "field kind", id="kind-not-a-word"),
        pytest.param("NEW-2,Tên,,HM\n", 4, "field kind", id="kind-empty"),
        pytest.param("NEW-2,,ward,HM\n", 4, "field name", id="empty-name"),
        pytest.param("NEW-2,  ,ward,HM\n", 4, "field name", id="blank-name"),
        pytest.param(f"NEW-2,{'a' * 201},ward,HM\n", 4, "field name", id="name-too-long"),
        pytest.param("NEW-2,Tên,ward,NOPE\n", 4, "field parent_code", id="unknown-parent"),
        pytest.param("NEW-2,Tên,ward,NEW-2\n", 4, "field parent_code", id="own-parent"),
        pytest.param(
            "CY-A,Vòng A,ward,CY-B\nCY-B,Vòng B,ward,CY-C\nCY-C,Vòng C,ward,CY-A\n",
            None, "field parent_code", id="cycle-in-file",
        ),
    ],
)
def test_bad_file_names_line_and_field_and_changes_nothing(
    loaded: Cli, body: str, line: int | None, field: str
) -> None:
    before = loaded.snapshot()
    result = loaded.import_text(PRELUDE + body, "bad.csv")
    assert result.returncode == 1
    assert result.stdout == ""
    assert "Traceback" not in result.stderr
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    message = lines[0]
    assert "bad.csv" in message
    assert field in message
    assert "nothing was changed" in message
    if line is not None:
        assert f"line {line}" in message
    else:
        assert re.search(r"line [456]\b", message), message
        assert "cycle" in message
    assert loaded.snapshot() == before


def test_non_utf8_file_changes_nothing(loaded: Cli) -> None:
    before = loaded.snapshot()
    path = loaded.folder / "latin1.csv"
    path.write_bytes("HM-YS,Phường Yên Sở cũ,ward,HM\n".encode("cp1258", errors="replace")
                     + b"NEW-9,Caf\xe9,ward,HM\n")
    result = loaded("units", "import", str(path))
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert len(result.stderr.splitlines()) == 1
    assert "UTF-8" in result.stderr
    assert "nothing was changed" in result.stderr
    assert loaded.snapshot() == before


def test_non_utf8_message_names_the_file_once(loaded: Cli) -> None:
    path = loaded.folder / "latin1.csv"
    path.write_bytes(b"NEW-9,Caf\xe9,ward,HM\n")
    result = loaded("units", "import", str(path))
    assert result.stderr.count("latin1.csv") == 1, result.stderr


@pytest.mark.parametrize("text", ["", "\n\n", "code,name,kind,parent_code\n"])
def test_file_without_units_is_an_error(loaded: Cli, text: str) -> None:
    before = loaded.snapshot()
    result = loaded.import_text(text, "empty.csv")
    assert result.returncode == 1
    assert result.stderr.splitlines() == [
        f"{loaded.folder / 'empty.csv'}: the file has no units; nothing was changed"
    ]
    assert loaded.snapshot() == before


def test_missing_file_is_an_error(loaded: Cli) -> None:
    result = loaded("units", "import", str(loaded.folder / "missing.csv"))
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert len(result.stderr.splitlines()) == 1
    assert "missing.csv" in result.stderr


def test_cycle_with_database_rolls_back(loaded: Cli) -> None:
    """Moving a ward under its own chapter is refused and nothing changes."""
    before = loaded.snapshot()
    result = loaded.import_text(
        PRELUDE + "HM-HL,Phường Hoàng Liệt,ward,HM-HL-02\n", "cycle.csv"
    )
    assert result.returncode != 0
    assert loaded.snapshot() == before
    assert loaded.listing() == BASE_LIST


def test_cycle_with_database_reported_on_file_line_when_file_unit_found_first(cli: Cli) -> None:
    assert created_updated(cli.import_text("X,Ex,ward,\nY,Why,ward,\n")) == (2, 0)
    assert created_updated(cli.import_text("X,Ex,ward,Y\n")) == (0, 1)
    before = cli.snapshot()
    result = cli.import_text("Y,Why,ward,X\n", "cycle.csv")
    assert result.returncode == 1
    assert result.stderr.splitlines() == [
        f"{cli.folder / 'cycle.csv'}: line 1, field parent_code: this would make the unit its"
        " own ancestor; nothing was changed"
    ]
    assert cli.snapshot() == before


@pytest.mark.parametrize(
    "row",
    [
        pytest.param("HM-HL,Phường Hoàng Liệt,ward,HM-HL-02", id="ward-under-own-chapter"),
        pytest.param("HM,Quận Hoàng Mai,district,HM-HL-02", id="district-under-grandchild"),
    ],
)
def test_cycle_with_database_names_the_file_line(loaded: Cli, row: str) -> None:
    result = loaded.import_text(PRELUDE + row + "\n", "cycle.csv")
    assert "Traceback" not in result.stderr, result.stderr
    assert result.returncode == 1
    assert len(result.stderr.splitlines()) == 1
    assert "line 4, field parent_code" in result.stderr


def test_error_line_counts_physical_lines(loaded: Cli) -> None:
    text = 'code,name,kind,parent_code\nNEW-1,"Tên\nhai dòng",ward,HM\nNEW-2,Tên,Ward,HM\n'
    result = loaded.import_text(text, "multiline.csv")
    assert result.returncode == 1
    assert "line 4, field kind" in result.stderr, result.stderr


# ---- migrations and connection settings ---------------------------------------------------


def test_migrate_twice(cli: Cli) -> None:
    names = [name for _version, name, _sql in available_migrations()]
    assert names[0] == "0001_foundation.sql"
    first = cli.ok("migrate")
    assert first == f"applied {len(names)} migration(s): {', '.join(names)}\n"
    with sqlite3.connect(cli.database) as conn:
        recorded = conn.execute("SELECT version, name, applied_at FROM schema_migrations"
                                " ORDER BY version").fetchall()
    assert [(v, n) for v, n, _at in recorded] == [
        (version, name) for version, name, _sql in available_migrations()
    ]
    assert all(re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", at) for _v, _n, at in recorded)

    assert cli.ok("migrate") == "applied 0 migration(s)\n"
    with sqlite3.connect(cli.database) as conn:
        again = conn.execute("SELECT version, name, applied_at FROM schema_migrations"
                             " ORDER BY version").fetchall()
        tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    assert again == recorded
    assert {"schema_migrations", "units", "members", "roles", "consents", "conversations",
            "user_data"} <= tables


def test_migrate_creates_database_folder(tmp_path: Path) -> None:
    cli = Cli(tmp_path)
    cli.database = tmp_path / "nested" / "deeper" / "bot.sqlite3"
    assert cli.ok("migrate").startswith(f"applied {len(available_migrations())} migration(s)")
    assert cli.database.is_file()


async def test_database_pragmas(loaded: Cli) -> None:
    before = loaded.snapshot()
    db = await Database.connect(loaded.database)
    try:
        assert (await db.fetchone("PRAGMA journal_mode"))[0] == "wal"
        assert (await db.fetchone("PRAGMA foreign_keys"))[0] == 1
        assert (await db.fetchone("PRAGMA busy_timeout"))[0] == BUSY_TIMEOUT_MS
        assert await db.migrate() == []
        assert await db.applied_migrations() == [v for v, _n, _s in available_migrations()]
        with pytest.raises(sqlite3.IntegrityError):
            async with db.transaction() as conn:
                await conn.execute(
                    "INSERT INTO units (code, name, kind, parent_id, created_at, updated_at)"
                    " VALUES ('ORPHAN', 'Mồ côi', 'ward', 999999, 'now', 'now')"
                )
    finally:
        await db.close()
    assert loaded.snapshot() == before  # the failed insert was rolled back
    # WAL is a property of the file: a plain connection sees it too.
    with sqlite3.connect(loaded.database) as conn:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
