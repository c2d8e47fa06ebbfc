"""What a sent message may carry, checked as Telegram checks it: formatted text and captions,
reply markup, replies, files (by upload, file id or URL)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from bot import buttons as buttons_module
from bot.channels.telegram_fake.entities import (
    EntityParseError,
    _normalize_url,
    parse_html,
    parse_markdown_v2,
    utf16_len,
)
from bot.channels.telegram_fake.server import FakeBotServer
from bot.channels.telegram_fake.spec import (
    _INLINE_BUTTON_ACTIONS,
    _MARKUP_KINDS,
    CALLBACK_DATA_LIMIT,
    CAPTION_LIMIT,
    INLINE_BUTTONS_LIMIT,
    TEXT_LIMIT,
    JSONDict,
    UploadedFile,
    _bad,
    _clone,
)


class MessageContent(FakeBotServer):
    """Formatting, markup and file checks shared by the sending and editing methods."""

    def _format(
        self, text: Any, parse_mode: Any, entities: Any, *, what: str
    ) -> tuple[str, list[JSONDict]]:
        """Apply parse_mode / explicit entities; returns the plain text and its entities."""
        text = str(text)
        if entities is not None:
            if not isinstance(entities, list):
                raise _bad(f"can't parse {what} entities JSON object")
            return text, _clone(entities)
        mode = str(parse_mode or "").lower()
        try:
            if mode == "html":
                return parse_html(text, strict_ampersand=self.html_strict_ampersand)
            if mode == "markdownv2":
                return parse_markdown_v2(text)
        except EntityParseError as err:
            raise _bad(f"can't parse entities: {err}") from None
        if mode in ("", "markdown"):
            return text, []
        raise _bad("unsupported parse_mode")

    def _message_text(self, params: JSONDict) -> tuple[str, list[JSONDict]]:
        text, entities = self._format(
            params.get("text", ""), params.get("parse_mode"), params.get("entities"), what="text"
        )
        if not text.strip():
            raise _bad("message text is empty")
        if utf16_len(text) > TEXT_LIMIT:
            raise _bad("message is too long")
        return text, entities

    def _caption(self, params: JSONDict) -> tuple[str | None, list[JSONDict]]:
        if "caption" not in params:
            return None, []
        caption, entities = self._format(
            params["caption"],
            params.get("parse_mode"),
            params.get("caption_entities"),
            what="caption",
        )
        if utf16_len(caption) > CAPTION_LIMIT:
            raise _bad("message caption is too long")
        return caption or None, entities

    def _reply_markup(self, markup: Any, *, inline_only: bool = False) -> JSONDict | None:
        """Validate ``reply_markup``; returns it if it is an inline keyboard (echoed)."""
        if markup is None:
            return None
        if not isinstance(markup, dict):
            raise _bad("can't parse reply keyboard markup JSON object")
        kinds = [kind for kind in _MARKUP_KINDS if kind in markup]
        if len(kinds) != 1 or (inline_only and kinds[0] != "inline_keyboard"):
            raise _bad("can't parse reply keyboard markup JSON object")
        kind = kinds[0]
        if kind in ("remove_keyboard", "force_reply"):
            if markup[kind] is not True:
                raise _bad(f'field "{kind}" must be true')
            return None
        rows = markup[kind]
        if not isinstance(rows, list) or not all(isinstance(row, list) for row in rows):
            raise _bad(f'field "{kind}" must be an Array of Arrays')
        buttons = [button for row in rows for button in row]
        if kind == "keyboard":
            for button in buttons:
                label = (
                    button
                    if isinstance(button, str)
                    else (button.get("text") if isinstance(button, dict) else None)
                )
                if not isinstance(label, str) or not label:
                    raise _bad("keyboard button text must be non-empty")
            return None
        if len(buttons) > INLINE_BUTTONS_LIMIT:
            raise _bad("REPLY_MARKUP_TOO_LONG")
        for button in buttons:
            self._check_inline_button(button)
        self.narrow_faults += [f"{self._where()}: {fault}" for fault in buttons_module.faults(rows)]
        return _clone(markup)

    def _where(self) -> str:
        """The call being served and the start of its text, to find a too-wide keyboard."""
        call = self._current
        if call is None:
            return "?"
        text = str(call.params.get("text") or call.params.get("caption") or "")
        return f"{call.method} {text[:40]!r}"

    @staticmethod
    def _check_inline_button(button: Any) -> None:
        if not isinstance(button, dict):
            raise _bad("can't parse inline keyboard button: InlineKeyboardButton must be an Object")
        label = button.get("text")
        if not isinstance(label, str) or not label.strip():
            raise _bad("BUTTON_TEXT_INVALID")
        actions = [key for key in _INLINE_BUTTON_ACTIONS if key in button]
        if not actions:
            raise _bad("text buttons are unallowed in the inline keyboard")
        if len(actions) > 1:
            raise _bad("can't parse inline keyboard button: more than one button action")
        if "callback_data" in button:
            data = button["callback_data"]
            if not isinstance(data, str) or not 1 <= len(data.encode()) <= CALLBACK_DATA_LIMIT:
                raise _bad("BUTTON_DATA_INVALID")
        if "url" in button:
            url = button["url"]
            if not isinstance(url, str) or _normalize_url(url) is None:
                raise _bad(f"inline keyboard button URL '{url}' is invalid: Wrong HTTP URL")

    def _bot_message(
        self,
        chat_id: int,
        content: Mapping[str, Any],
        params: JSONDict,
        markup: JSONDict | None,
        *,
        admit: bool = True,
    ) -> JSONDict:
        """Admit (flood limits), build, store and record a new bot message."""
        reply_to = self._reply_target(chat_id, params.get("reply_parameters"))
        if admit:
            self._admit(chat_id)
        message = self._new_message(chat_id, sender=self.bot_user)
        message.update({key: value for key, value in content.items() if value not in (None, [])})
        if reply_to is not None:
            message["reply_to_message"] = reply_to
        if markup is not None:
            message["reply_markup"] = markup
        self._bot_messages.setdefault(chat_id, {})[message["message_id"]] = message
        self._record(message)
        return message

    def _record(self, message: JSONDict) -> None:
        if self._current is not None:
            self._current.message = _clone(message)

    def _reply_target(self, chat_id: int, reply: Any) -> JSONDict | None:
        if not isinstance(reply, dict) or "message_id" not in reply:
            return None
        target_chat = self._chat_id(reply.get("chat_id", chat_id))
        target = self._find_message(target_chat, int(reply["message_id"]))
        if target is None:
            if reply.get("allow_sending_without_reply"):
                return None
            raise _bad("message to be replied not found")
        target = _clone(target)
        target.pop("reply_to_message", None)
        return target

    def _input_file(
        self, params: JSONDict, uploads: Mapping[str, UploadedFile], name: str, kind: str
    ) -> Any:
        """Resolve an InputFile-or-String parameter to the media JSON of the message."""
        value = params.get(name)
        upload: UploadedFile | None = None
        if value is None:
            upload = uploads.get(name)
        elif isinstance(value, str) and value.startswith("attach://"):
            upload = uploads.get(value[len("attach://") :])
            if upload is None:
                raise _bad(f"file {value} not found in the request")
        if upload is not None:
            if not upload.content:
                raise _bad("file must be non-empty")
            return self._new_file(
                kind,
                size=len(upload.content),
                filename=upload.filename,
                mime_type=upload.mime_type,
            )
        if not isinstance(value, str):
            raise _bad(f"{name} is required")
        known = self._files.get(value)
        if known is not None:
            if known["kind"] != kind:
                raise _bad("type of file mismatch")
            return _clone(known["payload"])
        if value.startswith(("http://", "https://")):
            return self._new_file(kind, filename=value.rsplit("/", 1)[-1] or None)
        raise _bad("wrong file identifier/HTTP URL specified")
