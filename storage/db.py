"""Opening the SQLite database and applying the ordered migrations."""

from __future__ import annotations

import asyncio
import contextlib
import os
import sqlite3
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from importlib import resources
from pathlib import Path

import aiosqlite

BUSY_TIMEOUT_MS = 5000


def to_iso(instant: datetime) -> str:
    """An instant as stored: ISO 8601 in UTC, second precision ('2026-03-01T01:00:00Z')."""
    return instant.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def utc_now() -> str:
    """The current instant as stored."""
    return to_iso(datetime.now(UTC))


def available_migrations() -> list[tuple[int, str, str]]:
    """(version, name, sql) of every migration shipped in `storage/migrations`, in order."""
    found = []
    for entry in resources.files("storage.migrations").iterdir():
        if entry.name.endswith(".sql"):
            version = int(entry.name.split("_", 1)[0])
            found.append((version, entry.name, entry.read_text(encoding="utf-8")))
    return sorted(found)


def owner_only(path: Path) -> None:
    """Make the database file (and its -wal, -shm) readable by the owner only (0600).

    Members' personal data is in there: no other account on the machine may read it. A new
    file is created 0600 in a new 0700 folder; SQLite gives -wal and -shm the database file's
    mode; files left by older versions are tightened.
    """
    if not path.parent.exists():
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    with contextlib.suppress(FileExistsError):
        # Never open (and close) a descriptor of a database already in use: closing any
        # descriptor of the file drops every SQLite lock this process holds on it.
        os.close(os.open(path, os.O_RDWR | os.O_CREAT | os.O_EXCL, 0o600))  # only if new
    for file in (path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
        with contextlib.suppress(FileNotFoundError):
            if file.stat().st_mode & 0o077:
                os.chmod(file, 0o600)


class Database:
    """One aiosqlite connection shared by the process; writes go through `transaction()`."""

    def __init__(self, path: Path | str) -> None:
        self.path = Path(path)
        self._conn: aiosqlite.Connection | None = None
        self._write_lock = asyncio.Lock()
        self._owner: asyncio.Task[object] | None = None  # the task whose transaction is open

    @classmethod
    async def connect(cls, path: Path | str, *, migrate: bool = True) -> Database:
        """Open a database at `path` (see `open`)."""
        return await cls(path).open(migrate=migrate)

    @property
    def conn(self) -> aiosqlite.Connection:
        """The open connection."""
        if self._conn is None:
            raise RuntimeError("database is not open")
        return self._conn

    @property
    def is_open(self) -> bool:
        """Whether `open` has run (and `close` has not)."""
        return self._conn is not None

    async def open(self, *, migrate: bool = True) -> Database:
        """Open once (creating the folder), set WAL, foreign keys, busy timeout; migrate."""
        if self._conn is not None:
            return self
        on_disk = str(self.path) != ":memory:"
        if on_disk:
            owner_only(self.path)
        conn = await aiosqlite.connect(self.path, isolation_level=None)
        conn.row_factory = sqlite3.Row
        await conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        await conn.execute("PRAGMA journal_mode = WAL")
        await conn.execute("PRAGMA synchronous = NORMAL")
        await conn.execute("PRAGMA foreign_keys = ON")
        if on_disk:
            owner_only(self.path)  # -wal and -shm, created by now, and files from older versions
        self._conn = conn
        if migrate:
            await self.migrate()
        return self

    async def close(self) -> None:
        """Close the connection (waits for pending writes)."""
        async with self._write_lock:
            if self._conn is not None:
                await self._conn.close()
                self._conn = None

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[aiosqlite.Connection]:
        """A write transaction (BEGIN IMMEDIATE … COMMIT, rolled back on error).

        While it is open, other tasks' `fetchall`/`fetchone`/`execute` wait for its end: on the
        one shared connection they would otherwise see its uncommitted rows, or be committed
        or rolled back with it. The task that opened it reads through `db` as usual.
        """
        async with self._write_lock:
            self._owner = asyncio.current_task()
            try:
                await self.conn.execute("BEGIN IMMEDIATE")
                try:
                    yield self.conn
                except BaseException:
                    await self.conn.execute("ROLLBACK")
                    raise
                await self.conn.execute("COMMIT")
            finally:
                self._owner = None

    async def execute(self, sql: str, params: tuple | dict = ()) -> int:
        """One write statement, committed on its own; returns the number of rows changed."""
        async with self._write_lock:
            cursor = await self.conn.execute(sql, params)
            return cursor.rowcount

    async def fetchall(self, sql: str, params: tuple | dict = ()) -> list[sqlite3.Row]:
        """Run a read query and return every row (one trip to the database thread)."""
        if self._owner is None or self._owner is asyncio.current_task():
            # Queued on the connection now, so before any later transaction's BEGIN.
            return list(await self.conn.execute_fetchall(sql, params))
        async with self._write_lock:  # another task's transaction is open: after it
            return list(await self.conn.execute_fetchall(sql, params))

    async def fetchone(self, sql: str, params: tuple | dict = ()) -> sqlite3.Row | None:
        """Run a read query that selects at most a few rows; return the first, if any."""
        return next(iter(await self.fetchall(sql, params)), None)

    async def applied_migrations(self) -> list[int]:
        """Versions already recorded in the database."""
        await self.conn.execute(
            "CREATE TABLE IF NOT EXISTS schema_migrations ("
            " version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)"
        )
        rows = await self.fetchall("SELECT version FROM schema_migrations ORDER BY version")
        return [row[0] for row in rows]

    async def migrate(self) -> list[str]:
        """Apply pending migrations, each in its own transaction; return their names."""
        done = set(await self.applied_migrations())
        applied = []
        for version, name, sql in available_migrations():
            if version in done:
                continue
            async with self._write_lock:
                script = (
                    f"BEGIN IMMEDIATE;\n{sql}\n"
                    "INSERT INTO schema_migrations (version, name, applied_at) "
                    f"VALUES ({version}, '{name}', '{utc_now()}');\nCOMMIT;"
                )
                try:
                    await self.conn.executescript(script)
                except Exception:
                    if self.conn.in_transaction:
                        await self.conn.execute("ROLLBACK")
                    raise
            applied.append(name)
        return applied
