"""The Zalo bridge: a second PTB Application runs every flow on Zalo through this transport.

Outgoing, the Application's Bot API calls are rendered for Zalo (which has no buttons, edits,
deletes or documents): text as plain text, an inline keyboard or the main menu as a numbered
list under it, an edit as a new short message (an edit that only removes buttons sends
nothing), a button press's answer as a message if it has a text; menus, deletes and the like
succeed without a call. Each call is answered with a Telegram-shaped result so PTB is happy.

Incoming, `handle_event` turns a Zalo event into a Telegram-shaped `Update`: a typed number
(or an option's name) that matches the latest numbered list shown in that chat presses that
button; only the latest message owns a typed answer, so when it asked for free text the text
passes through. Zalo user ids (strings) are mapped to internal ids from 2^52 up
(`storage.channels`), so members, roles, consents and statistics work unchanged.
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import itertools
import json
import logging
import re
import time
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any
from zoneinfo import ZoneInfo

import httpx
from telegram import Update
from telegram.error import NetworkError, TimedOut
from telegram.ext import Application
from telegram.request import BaseRequest, RequestData

from bot import callbacks
from bot.channels.zalo import CHANNEL, render
from bot.channels.zalo.client import ZaloClient, ZaloError, backoff
from bot.channels.zalo.files import FileLinks
from bot.choices import CANCEL_WORDS
from bot.clock import Clock
from bot.i18n import N_, nfc, translator
from bot.settings import SUPPORTED_LOCALES
from handlers.kit.days import PHOTO_PREFIX
from storage import channels, members
from storage.db import Database, to_iso

log = logging.getLogger(__name__)

BOT_USER_ID = channels.CHANNEL_ID_BASE - 1
_NO_OP = {"setmycommands", "deletemycommands", "setchatmenubutton", "deletemessage",
          "deletemessages", "setwebhook", "deletewebhook", "setmessagereaction", "close",
          "logout", "pinchatmessage", "unpinchatmessage"}
_WORDS = {"menu": "/start", "0": "/start", "/menu": "/start", "start": "/start",
          "bat dau": "/start", "huy": "/cancel", "cancel": "/cancel", "help": "/help",
          "tro giup": "/help", "help chapter": "/help_chapter", "help admin": "/help_admin"}
_COMMAND = re.compile(r"/[a-zA-Z0-9_]{1,32}")
RETYPE = N_("Please tap one of the buttons or type its number.")  # a feature's "not an option"
# The features write their texts once for both channels; these Telegram words are wrong on
# Zalo (no buttons, another account). Each pair is matched in every language, in this order
# (whole sentences before the phrases inside them); a feature's own msgid keeps one entry.
CHANNEL_WORDS = (
    (N_("Please tap the button below to share your phone number, or type it."),
     N_("Please type your phone number here, for example 0912 345 678. To stop here, type "
        "“cancel”.")),
    (N_("Choose one or more, then press “Send”."),
     N_("Type the number of each answer you choose (one or more), then the number of “Send”.")),
    (N_("Please tap whether you will come."),
     N_("Please type the number of your answer: will you come?")),
    (N_("Please use the menu buttons below, or send /help to see what I can do."),
     N_("Type “menu” for the main menu, or send /help to see what I can do.")),
    (RETYPE, N_("Please type the number of your choice.")),
    (N_("(with the reminder's one-tap button)"), N_("(by answering the reminder)")),
    (N_("You can send one photo of it (optional), or tap the button."),
     N_("Zalo cannot pass a photo to the assistant yet: please choose “Skip” below.")),
    (N_("You may send one photo with it (optional), or tap the button."),
     N_("Zalo cannot pass a photo to the assistant yet: please choose “Skip” below.")),
    (N_("Please write your answer as text (or send a photo), or tap a button."),
     N_("Please write your answer as text, or type an option's number.")),
    (N_("You may also send one photo."), N_("A photo cannot be sent on Zalo yet.")),
    (N_("a text, or a photo with a caption."), N_("its text (a photo cannot be sent on Zalo "
                                                   "yet).")),
    (N_("The same as a file is below."), N_("That is everything the assistant holds.")),
    (N_("(or tap a button of the latest message)"), N_("(from the latest message)")),
    (N_("Tap a button or type its number"), N_("Type the number of your choice")),
    (N_("tap the button below"), N_("type the number of an option below")),
    # Phrases inside many sentences ("Tap a report (or type its number) to see it"): there
    # she chooses by typing, so "tap" becomes "choose" or "type".
    (N_("Tap (or type the number of)"), N_("Type the number of")),
    (N_("tap again to untick"), N_("type its number again to untick")),
    (N_("Tap (or type) an indicator's number"), N_("Type an indicator's number")),
    (N_("Tap a button, or type the date"), N_("Type an option's number, or the date")),
    (N_("Tap it or type its number"), N_("Type its number")),
    (N_("Tap or type the number"), N_("Type the number")),
    (N_("Tap it, or choose"), N_("Type its number, or choose")),
    (N_("with text or a button"), N_("with text or an option's number")),
    (N_("or tap the button"), N_("or type the option's number")),
    (N_("or tap a button"), N_("or type an option's number")),
    (N_("(or type its number)"), N_("(type its number)")),
    (N_("(or type her number)"), N_("(type her number)")),
    (N_("with the “↩ Reply” button"), N_("by choosing “↩ Reply”")),
    (N_("press “"), N_("choose “")),
    (N_("tap “"), N_("choose “")),
    (N_("Tap her name"), N_("Choose her name")),
    (N_("Tap a "), N_("Choose a ")),
    (N_("Tap one "), N_("Choose one ")),
    (N_("or this button is from an old message"), N_("or this choice is from an old message")),
    (N_("so the button no longer records"), N_("so it no longer records")),
    (N_("This button is from"), N_("This choice is from")),
    (N_("This button is no longer active"), N_("This choice is no longer active")),
    (N_("Telegram account and chat"), N_("Zalo account and chat")),
    (N_("Telegram account"), N_("Zalo account")),
    (N_("Telegram, the messaging platform that carries this chat"),
     N_("Zalo, the messaging platform that carries this chat")),
)


# Paging buttons that are only an arrow on Telegram; a list line needs words.
PAGE_ARROWS = {"◀": N_("◀ Previous page"), "▶": N_("▶ Next page")}


@dataclass
class Prompt:
    """The options of the latest message the bot sent in one chat."""

    message: dict[str, Any]
    labels: list[str] = field(default_factory=list)  # without their numbers
    data: list[str] = field(default_factory=list)  # callback_data, or the text a reply sends
    inline: bool = True
    numbers: list[int] = field(default_factory=list)
    spelled: list[int] = field(default_factory=list)  # the text's own "N." lines it repeats

    def __post_init__(self) -> None:
        """Numbered as `render.numbered` says (a feature's own "2." is kept)."""
        if self.numbers:
            return
        pairs = render.numbered(self.labels, after=render.highest_own(self.labels))
        self.numbers = [number for number, _label in pairs]
        self.labels = [label for _number, label in pairs]

    def listed(self) -> str:
        """The numbered list shown under the text."""
        order = sorted(range(len(self.labels)), key=lambda i: self.numbers[i])
        return "\n".join(f"{self.numbers[i]}. {self.labels[i]}" for i in order)

    def index(self, number: int) -> int | None:
        """Which option a typed number means."""
        return self.numbers.index(number) if number in self.numbers else None


class ZaloBridge(BaseRequest):
    """Transport of the Zalo Application (see the module docstring)."""

    def __init__(self, client: ZaloClient, *, clock: Clock | None = None,
                 default_locale: str = "vi", timezone: ZoneInfo | None = None) -> None:
        self.client = client
        self.clock = clock or Clock()
        self.default_locale = default_locale
        self.timezone = timezone or ZoneInfo("Asia/Ho_Chi_Minh")
        self.application: Application | None = None
        self._db: Database | None = None
        self._external: dict[int, str] = {}
        self._prompts: dict[int, Prompt] = {}
        self._texts: dict[tuple[int, int], str] = {}
        self._message_ids = itertools.count(1)
        self._storm = 0
        self._query_chats: dict[str, int] = {}
        self._toasts: dict[int, str] = {}  # a press's passing answer, said only if alone
        self._said: dict[str, int] = {}  # messages sent per Zalo chat (the toast's test)
        self._held: dict[str, str] = {}  # a "type the number" hint waiting for what follows
        self.files: FileLinks | None = None  # webhook mode: charts and exports by link
        self._words = _channel_words()
        self._retype = {translator(locale)._(RETYPE) for locale in SUPPORTED_LOCALES}

    def attach(self, application: Application) -> None:
        """The Application this bridge serves (its database maps the ids)."""
        self.application = application
        self._db = application.bot_data.db

    @property
    def shows_uploads(self) -> bool:
        """Whether a picture the bot draws can reach Zalo: only by a public link (webhook mode);
        else the features send its figures as text (handlers/kit/pictures.py)."""
        return self.files is not None

    @property
    def read_timeout(self) -> float | None:
        """PTB's default read timeout."""
        return 5.0

    async def initialize(self) -> None:
        """Nothing to connect."""

    async def shutdown(self) -> None:
        """The client is closed by whoever made it."""

    # ---- outgoing ----------------------------------------------------------------------------

    async def do_request(  # timeouts mean nothing here: nothing waits on a network
        self, url: str, method: str, request_data: RequestData | None = None,
        *_timeouts: Any, **_named_timeouts: Any,
    ) -> tuple[int, bytes]:
        """Render one Bot API call for Zalo; a Telegram-shaped envelope back."""
        name = url.rsplit("/", 1)[-1].lower()
        params = dict(request_data.parameters) if request_data else {}
        uploads = request_data.multipart_data if request_data and request_data.contains_files \
            else {}
        try:
            if name in {"sendphoto", "senddocument"}:
                result = await self._send_file(name, params, uploads)
            else:
                result = await self._serve(name, params)
        except ZaloError as exc:
            return _telegram_error(exc, self._next_backoff(exc))
        except httpx.TimeoutException as exc:  # as on Telegram: the engine decides if it left
            raise TimedOut(f"Zalo did not answer ({type(exc).__name__})") from exc
        except httpx.TransportError as exc:
            raise NetworkError(f"Zalo unreachable ({type(exc).__name__})") from exc
        self._storm = 0
        return 200, json.dumps({"ok": True, "result": result}).encode()

    def _next_backoff(self, exc: ZaloError) -> int:
        if exc.code != 429:
            return 0
        self._storm += 1
        return max(1, round(backoff(self._storm)))

    async def _serve(self, name: str, params: dict[str, Any]) -> Any:
        if name == "getme":
            return {"id": BOT_USER_ID, "is_bot": True, "first_name": "Bot Hội viên",
                    "username": "zalo_bot", "can_join_groups": False,
                    "can_read_all_group_messages": False, "supports_inline_queries": False}
        if name == "getupdates":
            return []
        if name in _NO_OP:
            return True
        handler = {
            "sendmessage": self._send_message, "editmessagetext": self._edit_text,
            "editmessagecaption": self._edit_text, "editmessagereplymarkup": self._edit_markup,
            "answercallbackquery": self._answer_query, "sendchataction": self._chat_action,
        }.get(name)
        if handler is None:
            return True  # getChat, getChatMember … nothing on Zalo depends on them
        return await handler(params)

    async def _chat(self, chat_id: Any) -> str:
        internal = int(chat_id)
        if internal not in self._external:
            found = await channels.external_id(self._database, internal)
            if found is None or found[0] != CHANNEL:
                raise ZaloError(400, "Chat not found")
            self._external[internal] = found[1]
        return self._external[internal]

    @property
    def _database(self) -> Database:
        assert self._db is not None, "attach() the Application first"
        return self._db

    async def _say(self, chat: str, text: str) -> None:
        if (held := self._held.pop(chat, None)) is not None:
            await self._say(chat, held)  # the hint first, then what follows it
        self._said[chat] = self._said.get(chat, 0) + 1
        for piece in render.split(self.zalo_words(text)):
            await self.client.send_message(chat, piece)

    def zalo_words(self, text: str) -> str:
        """`text` with Telegram's words replaced by Zalo's (CHANNEL_WORDS)."""
        for pattern, new in self._words:
            text = pattern.sub(functools.partial(_same_case, new), text)
        return text

    async def _send_message(self, params: dict[str, Any]) -> dict[str, Any]:
        chat_id = int(params["chat_id"])
        text = render.plain(str(params.get("text", "")))
        return await self._show(chat_id, text, params.get("reply_markup"), params)

    async def _show(self, chat_id: int, text: str, markup: Any, params: dict[str, Any],
                    message_id: int | None = None) -> dict[str, Any]:
        """Send a text with its options; it becomes the chat's latest question."""
        chat = await self._chat(chat_id)
        message = self._message(chat_id, params, message_id)
        prompt = _prompt(markup, message)
        latest = await self._latest(chat_id)
        if prompt is None and text.strip() in self._retype and latest and latest.labels:
            # "type the number of your choice": the question stands. Said with its options at
            # the end of the update unless the feature asks the question again (no list twice).
            self._held[chat] = text
            return message
        if prompt is not None and any(label in PAGE_ARROWS for label in prompt.labels):
            t = await self._translator(chat_id)  # a bare arrow is a button's shape, not a word
            prompt.labels = [t._(PAGE_ARROWS[label]) if label in PAGE_ARROWS else label
                             for label in prompt.labels]
        if prompt is not None:
            text = render.without_items(text, prompt.spelled)
            listed = prompt.listed()
            text = f"{text}\n\n{listed}" if text.strip() else listed
        if _has_cancel(markup):  # its "✖ Cancel" is not listed: say the word that does it
            t = await self._translator(chat_id)
            text = text + "\n\n" + t._("(To stop here, type “cancel”.)")
        await self._say(chat, text)
        await self._remember(chat_id, prompt or Prompt(message))
        self._texts[(chat_id, message["message_id"])] = message.get("text", "")
        return message

    async def _remember(self, chat_id: int, prompt: Prompt) -> None:
        """The chat's latest list, kept in the database so a restart keeps typed numbers."""
        before = self._prompts.get(chat_id)
        self._prompts[chat_id] = prompt
        if before is not None and not before.labels and not prompt.labels:
            return  # no list then, none now: a typed text stays text either way
        await channels.save_prompt(self._database, chat_id, dataclasses.asdict(prompt),
                                   at=to_iso(self.clock.now()))

    async def _latest(self, chat_id: int) -> Prompt | None:
        if chat_id not in self._prompts:
            stored = await channels.latest_prompt(self._database, chat_id)
            if stored is None:
                return None
            self._prompts[chat_id] = Prompt(**stored)
        return self._prompts[chat_id]

    def _message(self, chat_id: int, params: dict[str, Any], message_id: int | None
                 ) -> dict[str, Any]:
        message: dict[str, Any] = {
            "message_id": message_id or next(self._message_ids), "date": int(time.time()),
            "chat": {"id": chat_id, "type": "private"},
            "from": {"id": BOT_USER_ID, "is_bot": True, "first_name": "Bot"},
        }
        for key in ("text", "caption"):  # plain: PTB's text_html then escapes it right
            if params.get(key):
                message[key] = render.plain(str(params[key]))
        markup = params.get("reply_markup")
        if isinstance(markup, dict) and "inline_keyboard" in markup:
            message["reply_markup"] = markup
        return message

    async def _edit_text(self, params: dict[str, Any]) -> dict[str, Any] | bool:
        chat_id, message_id = int(params["chat_id"]), int(params["message_id"])
        text = render.plain(str(params.get("text", params.get("caption", ""))))
        markup = params.get("reply_markup")
        before = self._texts.get((chat_id, message_id))
        added = text[len(before):].strip() if before and text.startswith(before) else text
        if not added and _has_buttons(markup):  # new options, same question: ask it again
            added = text.strip().split("\n\n")[-1]
        if not added and not _has_buttons(markup):  # only the buttons went away
            return await self._edit_markup(params)
        message = await self._show(chat_id, added, markup, params, message_id)
        self._texts[(chat_id, message_id)] = message["text"] = text
        return message

    async def _edit_markup(self, params: dict[str, Any]) -> dict[str, Any] | bool:
        chat_id, message_id = int(params["chat_id"]), int(params["message_id"])
        markup = params.get("reply_markup")
        latest = await self._latest(chat_id)
        if _has_buttons(markup):
            text = self._texts.get((chat_id, message_id), "")
            return await self._show(chat_id, "", markup, {**params, "text": text}, message_id)
        if latest is not None and latest.message["message_id"] == message_id:
            await self._remember(chat_id, Prompt(latest.message))  # its options are gone
        return self._message(chat_id, {"text": self._texts.get((chat_id, message_id), "…")},
                             message_id)

    async def _send_file(self, name: str, params: dict[str, Any],
                         uploads: dict[str, Any]) -> dict[str, Any]:
        """A photo by URL as a Zalo photo; a chart or an export the bot made (uploaded bytes)
        by an expiring link in webhook mode; else the caption and where to get the picture or
        file: never a dead end. A photo sent on Telegram (a file_id) is never downloaded (only
        file ids are kept, README "Abuse resistance"): she is told in words it is on Telegram."""
        chat_id = int(params["chat_id"])
        caption = render.plain(str(params.get("caption") or ""))
        key = "photo" if name == "sendphoto" else "document"
        given = params.get(key)
        upload = (uploads.get(given[len("attach://"):]) if isinstance(given, str)
                  and given.startswith("attach://") else uploads.get(key))
        if key == "photo" and isinstance(given, str) and given.startswith(("http://",
                                                                             "https://")):
            return await self._photo_by_url(chat_id, given, caption=caption, params=params)
        t = await self._translator(chat_id)
        if upload is not None and self.files is not None:
            filename, content, _mime = upload
            if content.startswith(b"\x89PNG"):  # a chart: PTB names bare bytes by their type
                filename = "bieu-do.png"
            url, expires = self.files.publish(content, filename or key)
            if key == "photo":
                return await self._photo_by_url(chat_id, url, caption=caption, params=params)
            until = expires.astimezone(self.timezone)
            note = t._("Download the file here (the link works until {time} on {date}):",
                       time=f"{until:%H:%M}", date=f"{until.day}/{until.month}/{until.year}")
            text, markup = f"{caption}\n\n{note}\n{url}", None
        elif key == "document":
            text, markup = caption + "\n\n" + t._(
                "Zalo cannot receive files. The file is ready on Telegram (the same command "
                "there), or ask the union office for it."), None
        elif upload is not None:  # a picture (a QR code, a poll's chart), no address to show it
            text, markup = caption + "\n\n" + t._(
                "(Zalo can show this picture only when the assistant runs with a web address. "
                "The picture is on Telegram with the same command, or ask your ward officer.)"), \
                params.get("reply_markup")
        else:  # a photo sent on Telegram (a notice's, a report's): said in words
            text, markup = caption + "\n\n" + t._(
                "(A photo goes with this, sent on Telegram; Zalo cannot show it here. It can be "
                "seen on Telegram.)"), params.get("reply_markup")
        message = await self._show(chat_id, text.strip(), markup, params)
        return message | ({"document": _FILE} if key == "document" else {})

    async def _photo_by_url(self, chat_id: int, url: str, *, caption: str,
                            params: dict[str, Any]) -> dict[str, Any]:
        await self.client.send_photo(await self._chat(chat_id), url,
                                     self.zalo_words(caption)[: render.MAX_TEXT] or None)
        return self._message(chat_id, params, None) | {"photo": []}

    async def _answer_query(self, params: dict[str, Any]) -> bool:
        text = params.get("text")
        chat_id = self._query_chats.pop(str(params.get("callback_query_id")), None)
        if text and chat_id is not None and params.get("show_alert"):
            await self._say(await self._chat(chat_id), render.plain(str(text)))
        elif text and chat_id is not None:  # Telegram's passing toast: see handle_event
            self._toasts[chat_id] = render.plain(str(text))
        return True

    async def _chat_action(self, params: dict[str, Any]) -> bool:
        action = params.get("action")
        if action in {"typing", "upload_photo"}:
            with contextlib.suppress(ZaloError):
                await self.client.send_chat_action(await self._chat(params["chat_id"]),
                                                   str(action))
        return True

    async def _translator(self, chat_id: int) -> Any:
        member = await members.by_user(self._database, chat_id)
        return translator(member.locale if member else self.default_locale)

    # ---- incoming ----------------------------------------------------------------------------

    async def handle_event(self, event: dict[str, Any]) -> None:
        """Process one Zalo event (at most once, whatever Zalo redelivers)."""
        assert self.application is not None, "attach() the Application first"
        message = event.get("message") or {}
        sender = message.get("from") or {}
        zalo_id, chat = str(sender.get("id") or ""), message.get("chat") or {}
        if not zalo_id or str(chat.get("chat_type", "PRIVATE")).upper() != "PRIVATE":
            return  # groups are beta on Zalo and not served here
        now = to_iso(self.clock.now())
        event_id = str(message.get("message_id") or "")
        seq = await channels.claim_event(self._database, channel=CHANNEL,
                                         event_id=event_id or f"{zalo_id}:{message.get('date')}",
                                         at=now)
        if seq is None:
            log.info("zalo event redelivered: dropped")
            return
        # Not cached: after /deleteme her Zalo id maps to a new internal id.
        internal = await channels.internal_id(self._database, channel=CHANNEL,
                                              external_id=zalo_id, at=now)
        self._external[internal] = zalo_id
        user = {"id": internal, "is_bot": False,
                "first_name": str(sender.get("display_name") or "Zalo")[:64],
                "language_code": self.default_locale}
        update_id = channels.CHANNEL_ID_BASE + seq
        text = message.get("text")
        if event.get("event_name") != "message.text.received" or not isinstance(text, str):
            t = await self._translator(internal)
            await self._say(zalo_id, t._(
                "I cannot receive photos on Zalo yet, only text. Please type a number or a word; "
                "type “menu” to see what I can help with.") if "image" in str(
                    event.get("event_name")) else t._(
                "I can only read text messages. Please type a number or a word; type “menu” "
                "to see what I can help with."))
            return
        data = await self._interpret(internal, user, nfc(text).strip(), update_id)
        if data is not None:
            said = self._said.get(zalo_id, 0)
            await self.application.process_update(Update.de_json(data, self.application.bot))
            toast = self._toasts.pop(internal, None)
            if toast is not None and self._said.get(zalo_id, 0) == said:
                await self._say(zalo_id, toast)  # else the screen she got says it (no echo)
            if (held := self._held.pop(zalo_id, None)) is not None:  # nothing followed it
                latest = self._prompts.get(internal)
                listed = latest.listed() if latest is not None else ""
                await self._say(zalo_id, f"{held}\n\n{listed}".strip())
        if seq % 1000 == 0:
            await channels.forget_events(
                self._database, before=to_iso(self.clock.now() - timedelta(days=7)))

    async def _interpret(self, chat_id: int, user: dict[str, Any], text: str, update_id: int
                         ) -> dict[str, Any] | None:
        """The Telegram update a typed text stands for (None: the bridge answered it)."""
        word = render.fold(text)
        head, _, rest = text.partition(" ")
        prompt = await self._latest(chat_id)
        if prompt is not None and prompt.labels:
            if text.isdigit() and len(text) <= 3 and text != "0":
                index = prompt.index(int(text))
                if index is not None:
                    return self._press(prompt, index, user, update_id)
                await self._hint(chat_id, prompt)
                return None
            for index, label in enumerate(prompt.labels):
                if word and render.fold(label) == word:
                    return self._press(prompt, index, user, update_id)
        if render.fold(head) == "start" or head.lower() == "/start":
            typed = f"/start {rest.strip()}" if rest.strip() else "/start"
            return _message_update(update_id, user, typed, command=True)
        if command := _WORDS.get(word):
            return _message_update(update_id, user, command, command=True)
        if _COMMAND.fullmatch(head):
            return _message_update(update_id, user, text, command=True)
        return _message_update(update_id, user, text)

    def _press(self, prompt: Prompt, index: int, user: dict[str, Any], update_id: int
               ) -> dict[str, Any]:
        if not prompt.inline:
            return _message_update(update_id, user, prompt.data[index])
        query_id = str(update_id)
        self._query_chats[query_id] = int(user["id"])
        return {"update_id": update_id, "callback_query": {
            "id": query_id, "from": user, "chat_instance": str(user["id"]),
            "data": prompt.data[index], "message": prompt.message}}

    async def _hint(self, chat_id: int, prompt: Prompt) -> None:
        t = await self._translator(chat_id)
        await self._say(await self._chat(chat_id),
                        t._("Please type one of these numbers:") + "\n\n"
                        + prompt.listed())


def _has_buttons(markup: Any) -> bool:
    return isinstance(markup, dict) and any(
        not _cancels(b) for row in markup.get("inline_keyboard") or [] for b in row)


def _has_cancel(markup: Any) -> bool:
    return isinstance(markup, dict) and any(
        _cancels(b) for row in markup.get("inline_keyboard") or [] for b in row)


def _asks_photo(button: Any) -> bool:
    """"📷 Add a photo" under a recorded reminder: not listed, Zalo passes no photo to the bot."""
    data = button.get("callback_data") if isinstance(button, dict) else None
    return isinstance(data, str) and data.startswith(f"{PHOTO_PREFIX}:")


def _cancels(button: Any) -> bool:
    """The "✖ Cancel" under a free-text prompt: not listed, so a typed number stays an answer
    (on Zalo she types "hủy", as the help says)."""
    data = button.get("callback_data") if isinstance(button, dict) else None
    return isinstance(data, str) and data.startswith(f"{callbacks.CANCEL}:")


def _prompt(markup: Any, message: dict[str, Any]) -> Prompt | None:
    """The options a keyboard offers (contact and web-app buttons have no Zalo form)."""
    if not isinstance(markup, dict):
        return None
    if markup.get("inline_keyboard"):
        buttons = [b for row in markup["inline_keyboard"] for b in row
                   if "callback_data" in b and not render.PAGE_COUNTER.fullmatch(b["text"])
                   and not _cancels(b) and not _asks_photo(b)]
        if not buttons:  # a free-text prompt: Zalo members type "hủy" to cancel
            return None
        text = str(message.get("text", ""))
        labels, spelled = render.spelled_out([render.plain(b["text"]) for b in buttons], text)
        prompt = Prompt(message, labels, [b["callback_data"] for b in buttons], spelled=spelled)
        if not spelled:  # the text lists these options already: say them once
            prompt.labels, prompt.spelled = render.as_in_text(prompt.labels, prompt.numbers, text)
        if not prompt.spelled and (after := render.clashing(text, prompt.numbers)):
            # the text's "1." is not an option's "1.": the options count on above its list
            pairs = render.numbered(labels, after=max(after, render.highest_own(labels)))
            prompt.numbers, prompt.labels = [n for n, _l in pairs], [lb for _n, lb in pairs]
        return prompt
    if markup.get("keyboard"):
        buttons = [b if isinstance(b, dict) else {"text": b}
                   for row in markup["keyboard"] for b in row]
        texts = [b["text"] for b in buttons if not (b.get("request_contact")
                                                   or b.get("request_location")
                                                   or render.fold(b["text"]) in CANCEL_WORDS)]
        return Prompt(message, texts, texts, inline=False) if texts else None
    return None


def _message_update(update_id: int, user: dict[str, Any], text: str, *, command: bool = False
                    ) -> dict[str, Any]:
    message: dict[str, Any] = {
        "message_id": update_id - channels.CHANNEL_ID_BASE, "date": int(time.time()),
        "chat": {"id": user["id"], "type": "private", "first_name": user["first_name"]},
        "from": user, "text": text,
    }
    if command:
        length = len(text.split(" ", 1)[0].encode("utf-16-le")) // 2
        message["entities"] = [{"type": "bot_command", "offset": 0, "length": length}]
    return {"update_id": update_id, "message": message}


def _telegram_error(exc: ZaloError, retry_after: int) -> tuple[int, bytes]:
    """Zalo's refusal as Telegram's: 429 with retry_after, an unreachable chat as 403."""
    if exc.code == 429:
        body = {"ok": False, "error_code": 429, "description": "Too Many Requests: quota",
                "parameters": {"retry_after": retry_after}}
        return 429, json.dumps(body).encode()
    unreachable = exc.code == 403 or "not found" in exc.description.lower()
    code = 403 if unreachable else 400
    description = ("Forbidden: the member cannot be reached on Zalo" if unreachable
                   else f"Bad Request: Zalo refused the message ({exc.code})")
    return code, json.dumps({"ok": False, "error_code": code, "description": description}).encode()


_FILE = {"file_id": "zalo-none", "file_unique_id": "zalo-none"}


def _channel_words() -> list[tuple[re.Pattern[str], str]]:
    """CHANNEL_WORDS in every supported language, as patterns (a capital kept)."""
    pairs: list[tuple[re.Pattern[str], str]] = []
    for locale in SUPPORTED_LOCALES:
        t = translator(locale)
        for telegram, zalo in CHANNEL_WORDS:
            old, new = t._(telegram), t._(zalo)
            if old != new:
                pairs.append((re.compile(re.escape(old), re.IGNORECASE), new))
    return pairs


def _same_case(new: str, match: re.Match[str]) -> str:
    """`new` with the first letter's case of what it replaces."""
    if match.group(0)[:1].isupper():
        return new[:1].upper() + new[1:]
    return new[:1].lower() + new[1:]
