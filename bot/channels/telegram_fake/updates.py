"""Update builders: the messages, commands, contacts and presses a user would send."""

from __future__ import annotations

import time
from collections.abc import Mapping
from types import EllipsisType
from typing import Any

from telegram import Bot, Update

from bot.channels.telegram_fake.entities import (
    utf16_len,
)
from bot.channels.telegram_fake.server import FakeBotServer
from bot.channels.telegram_fake.spec import (
    JSONDict,
    _clone,
)


class UpdateBuilders(FakeBotServer):
    """Real ``Update`` JSON for tests and the offline demo (`queue_update` feeds getUpdates)."""

    def queue_update(self, update: Mapping[str, Any]) -> None:
        """Make ``update`` available to getUpdates (wakes a long poll)."""
        self._updates.append(_clone(dict(update)))
        for waiter in list(self._update_waiters):
            waiter.set()

    @staticmethod
    def to_update(data: Mapping[str, Any], bot: Bot) -> Update:
        """``telegram.Update`` from builder JSON."""
        return Update.de_json(_clone(dict(data)), bot)

    def message_update(
        self,
        user: Mapping[str, Any],
        text: str | None = None,
        *,
        caption: str | None = None,
        contact: Mapping[str, Any] | None = None,
        photo: list[JSONDict] | bool | None = None,
        document: Mapping[str, Any] | bool | None = None,
        entities: list[JSONDict] | None = None,
        chat: Mapping[str, Any] | int | None = None,
    ) -> JSONDict:
        """An update with a message from ``user`` (private chat unless ``chat`` is given).

        A text starting with "/" gets a ``bot_command`` entity unless ``entities`` is passed.
        ``photo=True`` / ``document=True`` attach generated media (registered for getFile).
        """
        chat_data = self._builder_chat(user, chat)
        if text is None and contact is None and not photo and not document:
            raise ValueError("a message needs text, contact, photo or document")
        message = self._new_message(chat_data["id"], sender=dict(user))
        if text is not None:
            message["text"] = text
            if entities is None and text.startswith("/"):
                command = text.split(maxsplit=1)[0] if text.strip() else text
                entities = [{"type": "bot_command", "offset": 0, "length": utf16_len(command)}]
            if entities:
                message["entities"] = _clone(entities)
        if contact is not None:
            message["contact"] = dict(contact)
        if photo:
            message["photo"] = self._new_file("photo") if photo is True else list(photo)
        if document:
            message["document"] = self._new_file("document") if document is True else dict(document)
        if caption is not None:
            message["caption"] = caption
        self._user_messages.setdefault(chat_data["id"], {})[message["message_id"]] = message
        return self._wrap_update("message", _clone(message))

    def command_update(
        self, user: Mapping[str, Any], command: str, args: str | None = None
    ) -> JSONDict:
        """``/command args`` from ``user`` with the ``bot_command`` entity."""
        command = command if command.startswith("/") else f"/{command}"
        return self.message_update(user, f"{command} {args}" if args else command)

    def contact_update(
        self,
        user: Mapping[str, Any],
        phone_number: str,
        *,
        contact_user_id: int | EllipsisType | None = ...,
        first_name: str | None = None,
    ) -> JSONDict:
        """``user`` shares a contact; by default their own (``contact_user_id`` = their id)."""
        contact: JSONDict = {
            "phone_number": phone_number,
            "first_name": first_name or user["first_name"],
        }
        if contact_user_id is ...:
            contact["user_id"] = user["id"]
        elif contact_user_id is not None:
            contact["user_id"] = contact_user_id
        return self.message_update(user, contact=contact)

    def callback_update(
        self,
        user: Mapping[str, Any],
        message_id: int,
        data: str,
        *,
        chat: Mapping[str, Any] | int | None = None,
    ) -> JSONDict:
        """A button press on bot message ``message_id``; the query id is registered.

        An unknown/deleted ``message_id`` yields an inaccessible message (``date`` 0), so
        stale or forged presses can be simulated.
        """
        chat_data = self._builder_chat(user, chat)
        stored = self._bot_messages.get(chat_data["id"], {}).get(message_id)
        message = (
            _clone(stored)
            if stored is not None
            else {"chat": _clone(chat_data), "message_id": message_id, "date": 0}
        )
        query_id = f"{self.bot_id}{next(self._callback_seq):08d}"
        self._callback_queries[query_id] = False
        query = {
            "id": query_id,
            "from": dict(user),
            "message": message,
            "chat_instance": str((abs(chat_data["id"]) * 1_000_003 + self.bot_id) % 10**18),
            "data": data,
        }
        return self._wrap_update("callback_query", query)

    def my_chat_member_update(
        self,
        user: Mapping[str, Any],
        new_status: str,
        *,
        old_status: str | None = None,
    ) -> JSONDict:
        """The bot's membership in ``user``'s private chat changes.

        "kicked" means the user blocked the bot (later sends get 403); "member" unblocks.
        """
        chat_data = self._builder_chat(user, None)
        chat_id = chat_data["id"]
        if old_status is None:
            old_status = "kicked" if chat_id in self._blocked else "member"
        change = {
            "chat": _clone(chat_data),
            "from": dict(user),
            "date": int(time.time()),
            "old_chat_member": self._chat_member(self.bot_user, old_status),
            "new_chat_member": self._chat_member(self.bot_user, new_status),
        }
        if new_status == "kicked":
            self.block(chat_id)
        elif new_status == "member":
            self.unblock(chat_id)
        return self._wrap_update("my_chat_member", change)

    def _wrap_update(self, kind: str, payload: JSONDict) -> JSONDict:
        return {"update_id": next(self._update_seq), kind: payload}

    def _builder_chat(
        self, user: Mapping[str, Any], chat: Mapping[str, Any] | int | None
    ) -> JSONDict:
        if chat is None:
            if int(user["id"]) not in self._chats:
                self.add_chat(user)
            return self._chats[int(user["id"])]
        chat_id = chat if isinstance(chat, int) else int(chat["id"])
        if chat_id not in self._chats:
            self.add_chat(chat)
        return self._chats[chat_id]
