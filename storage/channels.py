"""Channel accounts (a Zalo user id ↔ the bot's internal, Telegram-shaped id), the ledger of
channel events already taken (Zalo may deliver an event twice), and the numbered list each
channel chat was shown last."""

from __future__ import annotations

import json
from typing import Any

from storage.db import Database

CHANNEL_ID_BASE = 2**52
"""Internal ids of channel accounts start here; Telegram ids stay below (52 significant bits)."""


async def internal_id(db: Database, *, channel: str, external_id: str, at: str) -> int:
    """The internal id of this channel account, allocated on first sight."""
    select = "SELECT internal_id FROM channel_accounts WHERE channel = ? AND external_id = ?"
    if row := await db.fetchone(select, (channel, external_id)):
        return int(row[0])
    await db.execute(
        "INSERT INTO channel_accounts (internal_id, channel, external_id, created_at)"
        " SELECT coalesce(max(internal_id), ?) + 1, ?, ?, ? FROM channel_accounts"
        " WHERE true ON CONFLICT (channel, external_id) DO NOTHING",
        (CHANNEL_ID_BASE, channel, external_id, at),
    )
    row = await db.fetchone(select, (channel, external_id))
    assert row is not None
    return int(row[0])


async def external_id(db: Database, internal: int) -> tuple[str, str] | None:
    """(channel, external id) of an internal id, or None (erased, or a Telegram id)."""
    row = await db.fetchone(
        "SELECT channel, external_id FROM channel_accounts WHERE internal_id = ?", (internal,)
    )
    return (str(row[0]), str(row[1])) if row else None


async def claim_event(db: Database, *, channel: str, event_id: str, at: str) -> int | None:
    """Record an event as taken; its sequence number, or None if it was taken before."""
    changed = await db.execute(
        "INSERT INTO channel_events (channel, event_id, seen_at) VALUES (?, ?, ?)"
        " ON CONFLICT (channel, event_id) DO NOTHING",
        (channel, event_id, at),
    )
    if not changed:
        return None
    row = await db.fetchone(
        "SELECT id FROM channel_events WHERE channel = ? AND event_id = ?", (channel, event_id)
    )
    return int(row[0]) if row else None


async def forget_events(db: Database, *, before: str) -> int:
    """Drop the ledger's rows older than `before` (a redelivery comes within minutes)."""
    return await db.execute("DELETE FROM channel_events WHERE seen_at < ?", (before,))


async def save_prompt(db: Database, internal: int, prompt: dict[str, Any], *, at: str) -> None:
    """Remember the latest numbered list of this chat (only while the account exists: after
    /deleteme the goodbye message must not leave a row behind)."""
    await db.execute(
        "INSERT INTO channel_prompts (internal_id, prompt, updated_at)"
        " SELECT ?, ?, ? WHERE EXISTS (SELECT 1 FROM channel_accounts WHERE internal_id = ?)"
        " ON CONFLICT (internal_id) DO UPDATE SET prompt = excluded.prompt,"
        " updated_at = excluded.updated_at",
        (internal, json.dumps(prompt, ensure_ascii=False), at, internal),
    )


async def latest_prompt(db: Database, internal: int) -> dict[str, Any] | None:
    """The latest numbered list this chat was shown, if any."""
    row = await db.fetchone("SELECT prompt FROM channel_prompts WHERE internal_id = ?",
                            (internal,))
    return json.loads(row["prompt"]) if row else None
