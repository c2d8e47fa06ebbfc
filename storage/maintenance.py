"""Read-only inspection and online backup of the database file, for the operations CLI.

These run in the `check` and `backup` commands (their own process), so they use the
synchronous sqlite3 module; the bot itself never calls them.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True, slots=True)
class Inspection:
    """What `python -m bot check` reports about a database file."""

    integrity: str
    tables: frozenset[str]
    applied_migrations: frozenset[int]
    members: int


def _read_only(path: Path, timeout: float = 5.0) -> sqlite3.Connection:
    return sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=timeout)


def inspect(path: Path) -> Inspection:
    """Integrity, tables, applied migrations and members of a database (raises sqlite3.Error)."""
    with contextlib.closing(_read_only(path)) as conn:
        integrity = conn.execute("PRAGMA quick_check").fetchone()
        tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        applied = (
            {r[0] for r in conn.execute("SELECT version FROM schema_migrations")}
            if "schema_migrations" in tables else set()
        )
        members = (
            conn.execute("SELECT count(*) FROM members WHERE status != 'deleted'").fetchone()[0]
            if "members" in tables else 0
        )
    return Inspection(integrity[0] if integrity else "?", frozenset(tables),
                      frozenset(applied), int(members))


def readable(path: Path) -> bool:
    """Whether the file is an SQLite database we can read."""
    try:
        with contextlib.closing(_read_only(path)) as conn:
            conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
        return True
    except sqlite3.Error:
        return False


def copy_database(source: Path, destination: Path) -> int:
    """Copy a live database with SQLite's online backup API; returns its member count.

    One backup step copies every page inside one read transaction, so the copy is the
    database as it was at one instant while the bot goes on writing (WAL: readers never block
    the writer). The copy is switched to a single file (no -wal) and checked; raises
    ValueError when the check fails and sqlite3.Error when the copy cannot be made.
    `destination` must not exist: it is created readable by the owner only (0600).
    """
    os.close(os.open(destination, os.O_RDWR | os.O_CREAT | os.O_EXCL, 0o600))  # owner only
    with contextlib.closing(_read_only(source, timeout=10)) as src, contextlib.closing(
        sqlite3.connect(destination)
    ) as dst:
        src.backup(dst)  # pages=-1: everything in one step, one snapshot
        dst.execute("PRAGMA journal_mode = DELETE")
        result = dst.execute("PRAGMA integrity_check").fetchone()
        if result is None or result[0] != "ok":
            raise ValueError("the copy failed its integrity check")
        return int(
            dst.execute("SELECT count(*) FROM members WHERE status != 'deleted'").fetchone()[0]
        )
