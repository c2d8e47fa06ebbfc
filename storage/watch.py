"""Being told at once when someone's membership or roles change (for the principal cache).

Temporary triggers on this connection call `on_change(telegram_user_id)` for every row of
`members` or `roles` that is inserted, changed or deleted, whichever module writes it, so a
cache in memory can never outlive the data it copies. ``None`` means "could not tell whose":
forget everyone. Writes by another connection or process (the CLI) are not seen: a cache must
also expire by time.
"""

from __future__ import annotations

from collections.abc import Callable

from storage.db import Database

_FUNCTION = "hoivien_person_changed"
_OWNER = "(SELECT telegram_user_id FROM members WHERE id = {row}.member_id)"
_TRIGGERS = {
    "members_insert": ("INSERT", "members", ["NEW.telegram_user_id"]),
    "members_update": ("UPDATE", "members", ["OLD.telegram_user_id", "NEW.telegram_user_id"]),
    "members_delete": ("DELETE", "members", ["OLD.telegram_user_id"]),
    "roles_insert": ("INSERT", "roles", [_OWNER.format(row="NEW")]),
    "roles_update": ("UPDATE", "roles", [_OWNER.format(row="OLD"), _OWNER.format(row="NEW")]),
    "roles_delete": ("DELETE", "roles", [_OWNER.format(row="OLD")]),
}


async def watch_people(db: Database, on_change: Callable[[int | None], None]) -> None:
    """Call `on_change` (in the database thread: keep it tiny) for each changed person."""
    await db.conn.create_function(_FUNCTION, 1, on_change)
    for name, (event, table, whose) in _TRIGGERS.items():
        calls = " ".join(f"SELECT {_FUNCTION}({who});" for who in whose)
        await db.conn.execute(
            f"CREATE TEMP TRIGGER IF NOT EXISTS watch_{name} AFTER {event} ON main.{table} "
            f"BEGIN {calls} END"
        )
