"""Export jobs: requested in chat, built in the background, resumed after a restart."""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass

from storage.db import Database

_COLUMNS = ("id, requested_by, chat_id, locale, unit_id, year, format, status,"
            " progress_message_id, created_at")


@dataclass(frozen=True, slots=True)
class ExportJob:
    """One requested export."""

    id: int
    requested_by: int
    chat_id: int
    locale: str
    unit_id: int | None  # None: every unit (super-admins)
    year: int
    format: str
    status: str
    progress_message_id: int | None
    created_at: str


def _job(row: sqlite3.Row) -> ExportJob:
    return ExportJob(*tuple(row))


async def create(db: Database, *, requested_by: int, chat_id: int, locale: str,
                 unit_id: int | None, year: int, format: str, at: str,
                 progress_message_id: int | None = None) -> ExportJob:
    """Queue an export."""
    async with db.transaction() as conn:
        cursor = await conn.execute(
            "INSERT INTO exports (requested_by, chat_id, locale, unit_id, year, format,"
            " created_at, progress_message_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (requested_by, chat_id, locale, unit_id, year, format, at, progress_message_id),
        )
        export_id = cursor.lastrowid
    job = await get(db, export_id or 0)
    assert job is not None
    return job


async def get(db: Database, export_id: int) -> ExportJob | None:
    """One export job."""
    row = await db.fetchone(f"SELECT {_COLUMNS} FROM exports WHERE id = ?", (export_id,))
    return _job(row) if row else None


async def unfinished(db: Database, requested_by: int | None = None) -> list[ExportJob]:
    """Queued or running exports (of one person, or everybody's), oldest first."""
    sql = f"SELECT {_COLUMNS} FROM exports WHERE status IN ('queued', 'running')"
    params: tuple = ()
    if requested_by is not None:
        sql += " AND requested_by = ?"
        params = (requested_by,)
    return [_job(r) for r in await db.fetchall(sql + " ORDER BY id", params)]


async def set_status(db: Database, export_id: int, status: str, *, at: str | None = None,
                     error: str | None = None) -> None:
    """Mark an export running, done or failed."""
    await db.execute(
        "UPDATE exports SET status = ?, finished_at = coalesce(?, finished_at), error = ?"
        " WHERE id = ?",
        (status, at, error, export_id),
    )
