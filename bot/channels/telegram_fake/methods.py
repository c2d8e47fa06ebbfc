"""Bot API method implementations of the fake (sendMessage, editMessageText, answerCallbackQuery,
...), each checked as Telegram checks it.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from typing import Any

from bot.channels.telegram_fake.content import MessageContent
from bot.channels.telegram_fake.entities import (
    utf16_len,
)
from bot.channels.telegram_fake.server import Handler
from bot.channels.telegram_fake.spec import (
    _CHAT_ACTIONS,
    _COMMAND_RE,
    _CONTENT_KEYS,
    _MEDIA_DEFAULTS,
    CALLBACK_ANSWER_LIMIT,
    COMMAND_DESCRIPTION_LIMIT,
    COMMANDS_LIMIT,
    NOT_MODIFIED,
    QUERY_TOO_OLD,
    JSONDict,
    MethodSpec,
    UploadedFile,
    _ApiError,
    _bad,
    _clone,
    _is_message_method,
    _snake,
)


class BotMethods(MessageContent):
    """The Bot API methods the fake implements; others fall back to `_generic`."""

    def _method_table(self) -> dict[str, Handler]:
        """The implemented methods, keyed by lower-cased name."""
        return {
            "getme": self._get_me,
            "logout": self._true,
            "close": self._true,
            "sendmessage": self._send_message,
            "sendmediagroup": self._send_media_group,
            "copymessage": self._copy_message,
            "forwardmessage": self._forward_message,
            "editmessagetext": self._edit_message_text,
            "editmessagecaption": self._edit_message_caption,
            "editmessagereplymarkup": self._edit_message_reply_markup,
            "deletemessage": self._delete_message,
            "answercallbackquery": self._answer_callback_query,
            "setmycommands": self._set_my_commands,
            "deletemycommands": self._delete_my_commands,
            "getmycommands": self._get_my_commands,
            "setchatmenubutton": self._set_chat_menu_button,
            "getchatmenubutton": self._get_chat_menu_button,
            "sendchataction": self._send_chat_action,
            "setwebhook": self._set_webhook,
            "deletewebhook": self._delete_webhook,
            "getwebhookinfo": self._get_webhook_info,
            "getfile": self._get_file,
            "getchat": self._get_chat,
            "getchatmember": self._get_chat_member,
            "getchatmembercount": self._get_chat_member_count,
            "setmyname": self._set_bot_text("name", "name"),
            "getmyname": self._get_bot_text("name", "name"),
            "setmydescription": self._set_bot_text("description", "description"),
            "getmydescription": self._get_bot_text("description", "description"),
            "setmyshortdescription": self._set_bot_text("short_description", "short_description"),
            "getmyshortdescription": self._get_bot_text("short_description", "short_description"),
        }

    def _handler_for(self, spec: MethodSpec) -> Handler:
        return self._handlers.get(spec.name.lower()) or self._generic(spec)

    def _true(self, params: JSONDict, uploads: Mapping[str, UploadedFile]) -> bool:
        return True

    def _get_me(self, params: JSONDict, uploads: Mapping[str, UploadedFile]) -> JSONDict:
        return _clone(self.bot_user)

    def _send_message(self, params: JSONDict, uploads: Mapping[str, UploadedFile]) -> JSONDict:
        chat_id = self._chat_id(params["chat_id"])
        text, entities = self._message_text(params)
        markup = self._reply_markup(params.get("reply_markup"))
        content = {"text": text, "entities": entities}
        return _clone(self._bot_message(chat_id, content, params, markup))

    def _send_generic(
        self, spec: MethodSpec, params: JSONDict, uploads: Mapping[str, UploadedFile]
    ) -> JSONDict:
        """send* methods returning a Message (sendPhoto, sendDocument, ...): same checks as
        sendMessage, plausible content."""
        if "chat_id" not in params:
            raise _bad("chat_id is required")
        chat_id = self._chat_id(params["chat_id"])
        kind = _snake(spec.name[len("send") :])
        content: JSONDict = {}
        if kind in _MEDIA_DEFAULTS:
            content[kind] = self._input_file(params, uploads, kind, kind)
        elif kind == "location":
            content["location"] = {"latitude": params["latitude"], "longitude": params["longitude"]}
        elif kind == "venue":
            location = {"latitude": params["latitude"], "longitude": params["longitude"]}
            content["venue"] = {
                "location": location,
                "title": params["title"],
                "address": params["address"],
            }
        elif kind == "contact":
            content["contact"] = {
                key: params[key]
                for key in ("phone_number", "first_name", "last_name", "vcard")
                if key in params
            }
        elif kind == "dice":
            content["dice"] = {"emoji": params.get("emoji", "🎲"), "value": 1}
        if "caption" in spec.params:
            content["caption"], content["caption_entities"] = self._caption(params)
        markup = self._reply_markup(params.get("reply_markup"))
        return _clone(self._bot_message(chat_id, content, params, markup))

    def _send_media_group(
        self, params: JSONDict, uploads: Mapping[str, UploadedFile]
    ) -> list[JSONDict]:
        chat_id = self._chat_id(params["chat_id"])
        media = params["media"]
        if not 2 <= len(media) <= 10:
            raise _bad("wrong number of media specified: must be 2-10")
        prepared = []
        for index, item in enumerate(media):
            if not isinstance(item, dict) or item.get("type") not in _MEDIA_DEFAULTS:
                raise _bad(f"can't parse InputMedia at index {index}")
            caption, entities = self._caption(item)
            if "media" not in item:
                raise _bad(f"media at index {index} is required")
            payload = self._input_file(item, uploads, "media", item["type"])
            prepared.append(
                {item["type"]: payload, "caption": caption, "caption_entities": entities}
            )
        self._admit(chat_id)  # an album counts as one send
        group_id = f"{self.bot_id}{next(self._media_group_seq):06d}"
        return [
            _clone(
                self._bot_message(
                    chat_id, {**content, "media_group_id": group_id}, params, None, admit=False
                )
            )
            for content in prepared
        ]

    def _copy_source(self, params: JSONDict, verb: str) -> tuple[int, JSONDict]:
        chat_id = self._chat_id(params["chat_id"])
        from_chat = self._chat_id(params["from_chat_id"])
        source = self._find_message(from_chat, int(params["message_id"]))
        if source is None:
            raise _bad(f"message to {verb} not found")
        content: JSONDict = {key: _clone(source[key]) for key in _CONTENT_KEYS if key in source}
        return chat_id, content

    def _copy_message(self, params: JSONDict, uploads: Mapping[str, UploadedFile]) -> JSONDict:
        chat_id, content = self._copy_source(params, "copy")
        if "caption" in params and "text" not in content:
            content["caption"], content["caption_entities"] = self._caption(params)
        markup = self._reply_markup(params.get("reply_markup"))
        message = self._bot_message(chat_id, content, params, markup)
        return {"message_id": message["message_id"]}

    def _forward_message(self, params: JSONDict, uploads: Mapping[str, UploadedFile]) -> JSONDict:
        chat_id, content = self._copy_source(params, "forward")
        source = self._find_message(
            self._chat_id(params["from_chat_id"]), int(params["message_id"])
        )
        assert source is not None
        content["forward_origin"] = {
            "type": "user",
            "sender_user": _clone(source["from"]),
            "date": source["date"],
        }
        return _clone(self._bot_message(chat_id, content, params, None))

    def _edit_target(self, params: JSONDict) -> tuple[int, JSONDict]:
        if "inline_message_id" in params:
            raise _bad("MESSAGE_ID_INVALID")
        if "chat_id" not in params or "message_id" not in params:
            raise _bad("message identifier is not specified")
        chat_id = self._chat_id(params["chat_id"])
        message_id = int(params["message_id"])
        message = self._bot_messages.get(chat_id, {}).get(message_id)
        if message is None:
            if message_id in self._user_messages.get(chat_id, {}):
                raise _bad("message can't be edited")
            raise _bad("message to edit not found")
        return chat_id, message

    def _apply_edit(self, chat_id: int, message: JSONDict, changes: JSONDict) -> JSONDict:
        current = {key: message.get(key) for key in changes}
        if current == changes:
            raise _bad(NOT_MODIFIED.removeprefix("Bad Request: "))
        self._admit(chat_id, edit=True)
        for key, value in changes.items():
            if value is None:
                message.pop(key, None)
            else:
                message[key] = _clone(value)
        message["edit_date"] = int(time.time())
        self._record(message)
        return _clone(message)

    def _edit_message_text(self, params: JSONDict, uploads: Mapping[str, UploadedFile]) -> Any:
        chat_id, message = self._edit_target(params)
        if "text" not in params:
            raise _bad("text is required")
        if "text" not in message:
            raise _bad("there is no text in the message to edit")
        text, entities = self._message_text(params)
        markup = self._reply_markup(params.get("reply_markup"), inline_only=True)
        changes = {"text": text, "entities": entities or None, "reply_markup": markup}
        return self._apply_edit(chat_id, message, changes)

    def _edit_message_caption(self, params: JSONDict, uploads: Mapping[str, UploadedFile]) -> Any:
        chat_id, message = self._edit_target(params)
        if "text" in message:
            raise _bad("there is no caption in the message to edit")
        caption, entities = self._caption(params)
        markup = self._reply_markup(params.get("reply_markup"), inline_only=True)
        changes = {"caption": caption, "caption_entities": entities or None, "reply_markup": markup}
        return self._apply_edit(chat_id, message, changes)

    def _edit_message_reply_markup(
        self, params: JSONDict, uploads: Mapping[str, UploadedFile]
    ) -> Any:
        chat_id, message = self._edit_target(params)
        markup = self._reply_markup(params.get("reply_markup"), inline_only=True)
        return self._apply_edit(chat_id, message, {"reply_markup": markup})

    def _delete_message(self, params: JSONDict, uploads: Mapping[str, UploadedFile]) -> bool:
        chat_id = self._chat_id(params["chat_id"])
        message_id = int(params["message_id"])
        for store in (self._bot_messages, self._user_messages):
            if store.get(chat_id, {}).pop(message_id, None) is not None:
                return True
        raise _bad("message to delete not found")

    def _answer_callback_query(self, params: JSONDict, uploads: Mapping[str, UploadedFile]) -> bool:
        query_id = str(params["callback_query_id"])
        if self._callback_queries.get(query_id, True):
            raise _bad(QUERY_TOO_OLD.removeprefix("Bad Request: "))
        text = str(params.get("text", ""))
        if utf16_len(text) > CALLBACK_ANSWER_LIMIT:
            raise _bad("MESSAGE_TOO_LONG")
        self._callback_queries[query_id] = True
        self.callback_answers[query_id] = _clone(params)
        return True

    def _set_my_commands(self, params: JSONDict, uploads: Mapping[str, UploadedFile]) -> bool:
        commands = params["commands"]
        scope = params.get("scope")
        if isinstance(scope, dict) and "chat_id" in scope:
            self._chat_id(scope["chat_id"])
        if len(commands) > COMMANDS_LIMIT:
            raise _bad("too many commands: at most 100 are allowed")
        for command in commands:
            if not isinstance(command, dict):
                raise _bad("can't parse BotCommand JSON object")
            name, description = command.get("command"), command.get("description")
            if not isinstance(name, str) or not _COMMAND_RE.fullmatch(name):
                raise _bad("BOT_COMMAND_INVALID")
            if (
                not isinstance(description, str)
                or not 1 <= utf16_len(description) <= COMMAND_DESCRIPTION_LIMIT
            ):
                raise _bad("BOT_COMMAND_DESCRIPTION_INVALID")
        key = self._commands_key(params.get("scope"), params.get("language_code"))
        self._commands[key] = [
            {"command": c["command"], "description": c["description"]} for c in commands
        ]
        return True

    def _delete_my_commands(self, params: JSONDict, uploads: Mapping[str, UploadedFile]) -> bool:
        self._commands.pop(
            self._commands_key(params.get("scope"), params.get("language_code")), None
        )
        return True

    def _get_my_commands(
        self, params: JSONDict, uploads: Mapping[str, UploadedFile]
    ) -> list[JSONDict]:
        return self.commands(params.get("scope"), params.get("language_code"))

    def _set_chat_menu_button(self, params: JSONDict, uploads: Mapping[str, UploadedFile]) -> bool:
        chat_id = self._chat_id(params["chat_id"]) if "chat_id" in params else None
        button = params.get("menu_button", {"type": "default"})
        if not isinstance(button, dict) or button.get("type") not in (
            "commands",
            "web_app",
            "default",
        ):
            raise _bad("can't parse menu button JSON object")
        self._menu_buttons[chat_id] = _clone(button)
        return True

    def _get_chat_menu_button(
        self, params: JSONDict, uploads: Mapping[str, UploadedFile]
    ) -> JSONDict:
        chat_id = self._chat_id(params["chat_id"]) if "chat_id" in params else None
        button = self._menu_buttons.get(chat_id) or self._menu_buttons.get(None)
        return _clone(button) if button else {"type": "commands"}

    def _send_chat_action(self, params: JSONDict, uploads: Mapping[str, UploadedFile]) -> bool:
        if params["action"] not in _CHAT_ACTIONS:
            raise _bad("wrong parameter action in request")
        return True

    def _set_webhook(self, params: JSONDict, uploads: Mapping[str, UploadedFile]) -> bool:
        url = str(params["url"])
        if url and not url.startswith("https://"):
            raise _bad("bad webhook: An HTTPS URL must be provided for webhook")
        self._webhook_url = url
        if params.get("drop_pending_updates"):
            self._updates.clear()
        return True

    def _delete_webhook(self, params: JSONDict, uploads: Mapping[str, UploadedFile]) -> bool:
        self._webhook_url = ""
        if params.get("drop_pending_updates"):
            self._updates.clear()
        return True

    def _get_webhook_info(self, params: JSONDict, uploads: Mapping[str, UploadedFile]) -> JSONDict:
        return {
            "url": self._webhook_url,
            "has_custom_certificate": False,
            "pending_update_count": len(self._updates),
        }

    def _get_file(self, params: JSONDict, uploads: Mapping[str, UploadedFile]) -> JSONDict:
        known = self._files.get(str(params["file_id"]))
        if known is None:
            raise _bad("invalid file_id")
        return {key: known[key] for key in ("file_id", "file_unique_id", "file_size", "file_path")}

    def _get_chat(self, params: JSONDict, uploads: Mapping[str, UploadedFile]) -> JSONDict:
        chat = _clone(self._chats[self._chat_id(params["chat_id"])])
        chat.update(
            {
                "accent_color_id": 0,
                "max_reaction_count": 11,
                "accepted_gift_types": {
                    "unlimited_gifts": False,
                    "limited_gifts": False,
                    "unique_gifts": False,
                    "premium_subscription": False,
                    "gifts_from_channels": False,
                },
            }
        )
        return chat

    def _get_chat_member(self, params: JSONDict, uploads: Mapping[str, UploadedFile]) -> JSONDict:
        chat_id = self._chat_id(params["chat_id"])
        user_id = int(params["user_id"])
        user = self.bot_user if user_id == self.bot_id else self._users.get(user_id)
        if user is None:
            raise _bad("user not found")
        status = self._members.get((chat_id, user_id))
        if status is None:
            in_private = self._chats[chat_id]["type"] == "private" and user_id in (
                chat_id,
                self.bot_id,
            )
            status = "member" if in_private else "left"
        return self._chat_member(user, status)

    def _get_chat_member_count(self, params: JSONDict, uploads: Mapping[str, UploadedFile]) -> int:
        chat_id = self._chat_id(params["chat_id"])
        if self._chats[chat_id]["type"] == "private":
            return 2
        members = {
            uid
            for (cid, uid), status in self._members.items()
            if cid == chat_id and status not in ("left", "kicked")
        }
        return len(members)

    def _set_bot_text(
        self, kind: str, param: str
    ) -> Callable[[JSONDict, Mapping[str, UploadedFile]], bool]:
        def handler(params: JSONDict, uploads: Mapping[str, UploadedFile]) -> bool:
            self._bot_texts[(kind, str(params.get("language_code", "")))] = str(
                params.get(param, "")
            )
            return True

        return handler

    def _get_bot_text(
        self, kind: str, param: str
    ) -> Callable[[JSONDict, Mapping[str, UploadedFile]], JSONDict]:
        def handler(params: JSONDict, uploads: Mapping[str, UploadedFile]) -> JSONDict:
            return {param: self._bot_texts.get((kind, str(params.get("language_code", ""))), "")}

        return handler

    def _generic(self, spec: MethodSpec) -> Callable[[JSONDict, dict[str, UploadedFile]], Any]:
        """Fallback: send* → a plausible Message; Boolean-returning → True; else 501."""

        def handler(params: JSONDict, uploads: dict[str, UploadedFile]) -> Any:
            if spec.name.startswith("send") and "Message" in spec.returns:
                return self._send_generic(spec, params, uploads)
            if "Boolean" in spec.returns:
                if _is_message_method(spec.name.lower()) and "chat_id" in params:
                    self._admit(self._chat_id(params["chat_id"]))
                return True
            raise _ApiError(
                501,
                f"Not Implemented: FakeBotAPI has no handler for {spec.name} "
                f"(returns {' or '.join(spec.returns)}); add one in "
                "bot/channels/telegram_fake/methods.py",
            )

        return handler
