"""Logged consent per purpose and version."""

from __future__ import annotations

from dataclasses import dataclass

from storage.db import Database


@dataclass(frozen=True, slots=True)
class Consent:
    """One consent given (and possibly withdrawn)."""

    telegram_user_id: int
    purpose: str
    version: int
    given_at: str
    withdrawn_at: str | None


async def of_user(db: Database, telegram_user_id: int) -> list[Consent]:
    """Every consent record of a user, oldest first."""
    rows = await db.fetchall(
        "SELECT telegram_user_id, purpose, version, given_at, withdrawn_at FROM consents"
        " WHERE telegram_user_id = ? ORDER BY id",
        (telegram_user_id,),
    )
    return [Consent(*tuple(r)) for r in rows]
