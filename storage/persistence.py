"""PTB persistence in our SQLite file: conversation states and per-user drafts (JSON)."""

from __future__ import annotations

import json
from typing import Any

from telegram.ext import BasePersistence, PersistenceInput
from telegram.ext._utils.types import ConversationDict, ConversationKey

from storage.db import Database


class SQLitePersistence(BasePersistence[dict[str, Any], dict[str, Any], dict[str, Any]]):
    """Keeps conversations and user_data so a half-finished flow survives a restart.

    Values must be JSON-serialisable. Chat data, bot data and callback data are not kept.
    """

    def __init__(self, db: Database, *, update_interval: float = 60) -> None:
        super().__init__(
            store_data=PersistenceInput(
                bot_data=False, chat_data=False, user_data=True, callback_data=False
            ),
            update_interval=update_interval,
        )
        self.db = db
        self._stored: dict[int, str] = {}  # what the database holds, to skip needless writes

    def has_stored(self, user_id: int) -> bool:
        """Whether the database holds a draft for this user."""
        return user_id in self._stored

    async def get_user_data(self) -> dict[int, dict[str, Any]]:
        await self.db.open()
        rows = await self.db.fetchall("SELECT user_id, data FROM user_data")
        self._stored = {row[0]: row[1] for row in rows}
        return {row[0]: json.loads(row[1]) for row in rows}

    async def update_user_data(self, user_id: int, data: dict[str, Any]) -> None:
        encoded = json.dumps(data, ensure_ascii=False, sort_keys=True) if data else None
        if self._stored.get(user_id) == encoded:
            return
        if encoded is not None:
            await self.db.execute(
                "INSERT INTO user_data (user_id, data) VALUES (?, ?)"
                " ON CONFLICT (user_id) DO UPDATE SET data = excluded.data",
                (user_id, encoded),
            )
            self._stored[user_id] = encoded
        else:
            await self.db.execute("DELETE FROM user_data WHERE user_id = ?", (user_id,))
            self._stored.pop(user_id, None)

    async def drop_user_data(self, user_id: int) -> None:
        await self.update_user_data(user_id, {})

    async def refresh_user_data(self, user_id: int, user_data: dict[str, Any]) -> None:
        """Nothing to refresh: this process is the only writer."""

    async def get_conversations(self, name: str) -> ConversationDict:
        await self.db.open()
        rows = await self.db.fetchall(
            "SELECT key, state FROM conversations WHERE name = ?", (name,)
        )
        return {tuple(json.loads(row[0])): json.loads(row[1]) for row in rows}

    async def update_conversation(
        self, name: str, key: ConversationKey, new_state: object | None
    ) -> None:
        if new_state is None:
            await self.db.execute(
                "DELETE FROM conversations WHERE name = ? AND key = ?",
                (name, json.dumps(list(key))),
            )
        else:
            await self.db.execute(
                "INSERT INTO conversations (name, key, state) VALUES (?, ?, ?)"
                " ON CONFLICT (name, key) DO UPDATE SET state = excluded.state",
                (name, json.dumps(list(key)), json.dumps(new_state)),
            )

    async def get_chat_data(self) -> dict[int, dict[str, Any]]:
        return {}

    async def update_chat_data(self, chat_id: int, data: dict[str, Any]) -> None:
        """Chat data is not persisted."""

    async def drop_chat_data(self, chat_id: int) -> None:
        """Chat data is not persisted."""

    async def refresh_chat_data(self, chat_id: int, chat_data: dict[str, Any]) -> None:
        """Chat data is not persisted."""

    async def get_bot_data(self) -> dict[str, Any]:
        return {}

    async def update_bot_data(self, data: dict[str, Any]) -> None:
        """Bot data is not persisted."""

    async def refresh_bot_data(self, bot_data: dict[str, Any]) -> None:
        """Bot data is not persisted."""

    async def get_callback_data(self) -> None:
        return None

    async def update_callback_data(self, data: Any) -> None:
        """Arbitrary callback data is not used."""

    async def flush(self) -> None:
        """Every update is written at once; nothing is buffered."""
