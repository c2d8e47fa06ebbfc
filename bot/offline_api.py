"""Strict in-process fake of the Telegram Bot API.

`FakeBotAPI` is a :class:`telegram.request.BaseRequest`, so a real ``telegram.Bot`` or a PTB
``Application`` runs on it with no network. Every call is checked against the Bot API method
list in ``bot/data/botapi_methods.json`` (Bot API 10.1) and against the limits production
enforces: text length after entity parsing, HTML well-formedness, button data size, unknown
chats, blocked users, edits of messages the bot never sent, double-answered callback queries
and (optionally) flood limits. Answers use Telegram's JSON envelope, so PTB raises the same
``BadRequest`` / ``Forbidden`` / ``RetryAfter`` it would raise in production.

The update builders (`user`, `message_update`, `command_update`, `callback_update`, ...) make
real ``Update`` JSON for tests and for the offline demo (`queue_update` feeds ``getUpdates``).
"""

from __future__ import annotations

import asyncio
import copy
import itertools
import json
import math
import re
import string
import time
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import cache
from importlib.resources import files as resource_files
from types import EllipsisType
from typing import TYPE_CHECKING, Any, Final, NoReturn

from telegram import Bot, Update
from telegram.request import BaseRequest, RequestData

if TYPE_CHECKING:
    from telegram._utils.types import ODVInput

__all__ = [
    "ApiCall",
    "EntityParseError",
    "FakeBotAPI",
    "MethodSpec",
    "ParamSpec",
    "RateLimits",
    "UploadedFile",
    "load_method_specs",
    "parse_html",
    "parse_markdown_v2",
    "utf16_len",
]

JSONDict = dict[str, Any]

TEXT_LIMIT: Final = 4096
CAPTION_LIMIT: Final = 1024
CALLBACK_DATA_LIMIT: Final = 64
INLINE_BUTTONS_LIMIT: Final = 100
CALLBACK_ANSWER_LIMIT: Final = 200
COMMANDS_LIMIT: Final = 100
COMMAND_DESCRIPTION_LIMIT: Final = 256

NOT_MODIFIED: Final = (
    "Bad Request: message is not modified: specified new message content and reply markup are "
    "exactly the same as a current content and reply markup of the message"
)
QUERY_TOO_OLD: Final = (
    "Bad Request: query is too old and response timeout expired or query ID is invalid"
)
BLOCKED: Final = "Forbidden: bot was blocked by the user"

_COMMAND_RE: Final = re.compile(r"[a-z0-9_]{1,32}")
_CHAT_ACTIONS: Final = frozenset(
    {
        "typing",
        "upload_photo",
        "record_video",
        "upload_video",
        "record_voice",
        "upload_voice",
        "upload_document",
        "choose_sticker",
        "find_location",
        "record_video_note",
        "upload_video_note",
    }
)
_INLINE_BUTTON_ACTIONS: Final = (
    "url",
    "callback_data",
    "web_app",
    "login_url",
    "switch_inline_query",
    "switch_inline_query_current_chat",
    "switch_inline_query_chosen_chat",
    "copy_text",
    "callback_game",
    "pay",
)
# PTB's ``Defaults`` inject these into every call of its internal ``_send_message``, including
# methods that do not take them (e.g. parse_mode into editMessageReplyMarkup). Telegram ignores
# unknown parameters, so these are tolerated; any other unknown parameter is rejected.
_PTB_DEFAULTS: Final = frozenset(
    {
        "parse_mode",
        "disable_notification",
        "protect_content",
        "link_preview_options",
        "explanation_parse_mode",
        "question_parse_mode",
        "text_parse_mode",
    }
)
_MARKUP_KINDS: Final = ("inline_keyboard", "keyboard", "remove_keyboard", "force_reply")
# Message keys that carry content (copied by copyMessage / forwardMessage).
_CONTENT_KEYS: Final = (
    "text",
    "entities",
    "caption",
    "caption_entities",
    "photo",
    "document",
    "audio",
    "video",
    "animation",
    "voice",
    "video_note",
    "sticker",
    "contact",
    "location",
    "venue",
    "dice",
)
# Default metadata Telegram always returns for each uploadable media kind.
_MEDIA_DEFAULTS: Final[Mapping[str, JSONDict]] = {
    "photo": {},
    "document": {"file_name": "file.bin", "mime_type": "application/octet-stream"},
    "audio": {"duration": 1},
    "video": {"width": 640, "height": 360, "duration": 1},
    "animation": {"width": 320, "height": 240, "duration": 1},
    "voice": {"duration": 1},
    "video_note": {"length": 240, "duration": 1},
    "sticker": {
        "width": 512,
        "height": 512,
        "is_animated": False,
        "is_video": False,
        "type": "regular",
    },
}
_FILE_PATH_DIRS: Final[Mapping[str, str]] = {
    "photo": "photos",
    "document": "documents",
    "audio": "music",
    "video": "videos",
    "animation": "animations",
    "voice": "voice",
    "video_note": "video_notes",
    "sticker": "stickers",
}


# --------------------------------------------------------------------------------------------
# Method spec
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ParamSpec:
    """One parameter of a Bot API method."""

    types: tuple[str, ...]
    required: bool


@dataclass(frozen=True, slots=True)
class MethodSpec:
    """A Bot API method: canonical name, parameters and return types."""

    name: str
    params: Mapping[str, ParamSpec]
    returns: tuple[str, ...]


@cache
def load_method_specs() -> Mapping[str, MethodSpec]:
    """Load ``bot/data/botapi_methods.json``, keyed by lower-cased method name."""
    raw = json.loads(
        (resource_files("bot") / "data" / "botapi_methods.json").read_text(encoding="utf-8")
    )
    specs: dict[str, MethodSpec] = {}
    for name, entry in raw["methods"].items():
        params = {
            pname: ParamSpec(types=tuple(p["types"]), required=bool(p["required"]))
            for pname, p in entry["params"].items()
        }
        specs[name.lower()] = MethodSpec(name=name, params=params, returns=tuple(entry["returns"]))
    return specs


# --------------------------------------------------------------------------------------------
# Records and configuration
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class RateLimits:
    """Flood limits; applied only to methods that send or edit messages.

    Global: at most ``global_per_second`` such calls in any sliding one-second window.
    Per chat: a token bucket holding ``per_chat_burst`` calls, refilled at
    ``per_chat_per_second`` (so short bursts pass, a sustained stream is held to the rate).
    """

    global_per_second: float = 30
    per_chat_per_second: float = 1
    per_chat_burst: int = 3


@dataclass(frozen=True, slots=True)
class UploadedFile:
    """A file that came in as multipart data."""

    field_name: str
    filename: str | None
    mime_type: str | None
    content: bytes


@dataclass(slots=True)
class ApiCall:
    """One request the fake served (successful or not)."""

    method: str
    params: JSONDict
    files: dict[str, UploadedFile] = field(default_factory=dict)
    ok: bool = False
    error_code: int | None = None
    description: str | None = None
    result: Any = None
    message: JSONDict | None = None
    """Snapshot of the message this call created or edited (also for copyMessage)."""
    raised: Exception | None = None
    """The exception ``raise_next`` made ``do_request`` raise, if any."""


@dataclass(slots=True)
class _Injected:
    method: str
    times: int
    error_code: int = 0
    description: str = ""
    retry_after: int | None = None
    exc: Exception | None = None


class _ApiError(Exception):
    """Internal: abort a call with a Telegram error envelope."""

    def __init__(self, code: int, description: str, retry_after: int | None = None) -> None:
        super().__init__(description)
        self.code = code
        self.description = description
        self.retry_after = retry_after


def _bad(description: str) -> _ApiError:
    return _ApiError(400, f"Bad Request: {description}")


# --------------------------------------------------------------------------------------------
# Text: UTF-16 length, HTML and MarkdownV2 parsing
# --------------------------------------------------------------------------------------------


class EntityParseError(ValueError):
    """Formatted text that Telegram would refuse with "can't parse entities"."""


_SURROGATE = re.compile("[\ud800-\udfff]")


def _clone(value: Any) -> Any:
    """A deep copy of JSON-shaped data (much faster than copy.deepcopy)."""
    try:
        return json.loads(json.dumps(value))
    except (TypeError, ValueError):
        return copy.deepcopy(value)


def utf16_len(text: str) -> int:
    """Length in UTF-16 code units, the unit Telegram counts limits and offsets in."""
    return len(text.encode("utf-16-le", "surrogatepass")) // 2


def _byte_offset(text: str, index: int) -> int:
    return len(text[:index].encode("utf-8", "surrogatepass"))


_NAMED_ENTITIES: Final[Mapping[str, str]] = {"lt": "<", "gt": ">", "amp": "&", "quot": '"'}
_HTML_TAGS: Final = frozenset(
    {
        "a",
        "b",
        "strong",
        "i",
        "em",
        "s",
        "strike",
        "del",
        "u",
        "ins",
        "pre",
        "code",
        "span",
        "tg-spoiler",
        "tg-emoji",
        "blockquote",
    }
)
_SIMPLE_TAG_TYPES: Final[Mapping[str, str]] = {
    "b": "bold",
    "strong": "bold",
    "i": "italic",
    "em": "italic",
    "u": "underline",
    "ins": "underline",
    "s": "strikethrough",
    "strike": "strikethrough",
    "del": "strikethrough",
    "tg-spoiler": "spoiler",
    "span": "spoiler",
}
_URL_SCHEMES: Final = ("http", "https", "tg", "ftp", "ton", "mailto")
_TG_USER_LINK: Final = re.compile(r"tg://user\?id=(\d+)")


def _decode_html_entity(text: str, pos: int) -> tuple[str, int] | None:
    """Decode the character reference at ``text[pos] == "&"`` the way tdlib does."""
    n = len(text)
    end = pos + 1
    if end < n and text[end] == "#":
        end += 1
        if end < n and text[end] == "x":
            end += 1
            start = end
            while end < n and text[end] in string.hexdigits:
                end += 1
            value = int(text[start:end], 16) if end > start else 0
        else:
            start = end
            while end < n and text[end] in string.digits:
                end += 1
            value = int(text[start:end]) if end > start else 0
        if value == 0 or value >= 0x10FFFF or end - pos >= 10:
            return None
        char = chr(value)
    else:
        while end < n and text[end] in string.ascii_letters:
            end += 1
        decoded = _NAMED_ENTITIES.get(text[pos + 1 : end])
        if decoded is None:
            return None
        char = decoded
    if end < n and text[end] == ";":
        end += 1
    return char, end


def _normalize_url(url: str) -> str | None:
    url = url.strip()
    if not url or any(c.isspace() for c in url):
        return None
    match = re.match(r"([A-Za-z][A-Za-z0-9+.-]*):", url)
    if match:
        return url if match.group(1).lower() in _URL_SCHEMES else None
    host = url.split("/", 1)[0]
    return f"http://{url}" if "." in host else None


@dataclass(slots=True)
class _OpenTag:
    name: str
    argument: str
    offset: int
    out_len: int


def parse_html(text: str, *, strict_ampersand: bool = True) -> tuple[str, list[JSONDict]]:
    """Parse Telegram HTML into ``(plain_text, entities)`` like tdlib, or raise EntityParseError.

    Error texts follow tdlib's. ``strict_ampersand`` additionally rejects a bare ``&`` that is
    not a supported character reference (the Bot API docs require escaping it; tdlib itself
    keeps such an ``&`` literally).
    """
    out: list[str] = []
    entities: list[JSONDict] = []
    stack: list[_OpenTag] = []
    utf16 = 0
    n = len(text)
    i = 0

    def at(k: int) -> str:
        return text[k] if k < n else ""

    def error(message: str) -> EntityParseError:
        return EntityParseError(message)

    while i < n:
        c = text[i]
        if c == "&":
            decoded = _decode_html_entity(text, i)
            if decoded is not None:
                char, i = decoded
                out.append(char)
                utf16 += utf16_len(char)
                continue
            if strict_ampersand:
                raise error(
                    f'Unescaped "&" at byte offset {_byte_offset(text, i)}; write it as &amp;'
                )
        if c != "<":
            # Copy the run of plain text up to the next tag or entity in one step.
            end = i + 1
            while end < n and text[end] not in "<&":
                end += 1
            chunk = text[i:end]
            out.append(chunk)
            utf16 += utf16_len(chunk)
            i = end
            continue

        begin = i
        i += 1
        if at(i) != "/":
            while i < n and not at(i).isspace() and at(i) != ">":
                i += 1
            if i >= n:
                raise error(f"Unclosed start tag at byte offset {_byte_offset(text, begin)}")
            tag = text[begin + 1 : i].lower()
            if tag not in _HTML_TAGS:
                raise error(
                    f'Unsupported start tag "{tag}" at byte offset {_byte_offset(text, begin)}'
                )
            argument = ""
            while at(i) != ">":
                while i < n and at(i).isspace():
                    i += 1
                if at(i) == ">":
                    break
                attr_begin = i
                while i < n and not at(i).isspace() and at(i) not in "=>":
                    i += 1
                attr = text[attr_begin:i]
                if not attr:
                    raise error(
                        f'Empty attribute name in the tag "{tag}" at byte offset '
                        f"{_byte_offset(text, begin)}"
                    )
                while i < n and at(i).isspace():
                    i += 1
                if at(i) != "=":
                    if tag == "blockquote" and attr == "expandable":
                        argument = "1"
                        continue
                    if i >= n:
                        raise error(
                            f'Unclosed start tag "{tag}" at byte offset {_byte_offset(text, begin)}'
                        )
                    raise error(
                        "Expected equal sign in declaration of an attribute of the tag "
                        f'"{tag}" at byte offset {_byte_offset(text, begin)}'
                    )
                i += 1
                while i < n and at(i).isspace():
                    i += 1
                if i >= n:
                    raise error(
                        f'Unclosed start tag "{tag}" at byte offset {_byte_offset(text, begin)}'
                    )
                if at(i) not in "'\"":
                    token_begin = i
                    while i < n and ((at(i).isascii() and at(i).isalnum()) or at(i) in ".-"):
                        i += 1
                    value = text[token_begin:i].lower()
                    if not at(i).isspace() and at(i) != ">":
                        raise error(
                            "Unexpected end of name token at byte offset "
                            f"{_byte_offset(text, token_begin)}"
                        )
                else:
                    quote = at(i)
                    i += 1
                    chars: list[str] = []
                    while i < n and at(i) != quote:
                        if at(i) == "&":
                            decoded = _decode_html_entity(text, i)
                            if decoded is not None:
                                chars.append(decoded[0])
                                i = decoded[1]
                                continue
                        chars.append(at(i))
                        i += 1
                    if at(i) == quote:
                        i += 1
                    value = "".join(chars)
                if i >= n:
                    raise error(f"Unclosed start tag at byte offset {_byte_offset(text, begin)}")
                if tag == "a" and attr == "href":
                    argument = value
                elif tag == "code" and attr == "class" and value.startswith("language-"):
                    argument = value[len("language-") :]
                elif tag == "span" and attr == "class" and value.startswith("tg-"):
                    argument = value[len("tg-") :]
                elif tag == "tg-emoji" and attr == "emoji-id":
                    argument = value
                elif tag == "blockquote" and attr == "expandable":
                    argument = "1"
            if tag == "span" and argument != "spoiler":
                raise error(
                    'Tag "span" must have class "tg-spoiler" at byte offset '
                    f"{_byte_offset(text, begin)}"
                )
            stack.append(_OpenTag(tag, argument, utf16, len(out)))
            i += 1  # the closing ">"
            continue

        # An end tag.
        if not stack:
            raise error(f"Unexpected end tag at byte offset {_byte_offset(text, begin)}")
        i += 1
        name_begin = i
        while i < n and not at(i).isspace() and at(i) != ">":
            i += 1
        end_name = text[name_begin:i].lower()
        while i < n and at(i).isspace():
            i += 1
        if at(i) != ">":
            raise error(f"Unclosed end tag at byte offset {_byte_offset(text, begin)}")
        i += 1
        top = stack.pop()
        if end_name and end_name != top.name:
            raise error(
                f"Unmatched end tag at byte offset {_byte_offset(text, begin)}, "
                f'expected "</{top.name}>", found "</{end_name}>"'
            )
        if utf16 > top.offset:
            _close_html_entity(top, utf16, out, entities)
    if stack:
        raise error(f'Can\'t find end tag corresponding to start tag "{stack[-1].name}"')
    plain = "".join(out)
    if _SURROGATE.search(plain):
        raise error(
            "Text contains invalid Unicode characters after decoding HTML entities, check for "
            "unmatched surrogate code units"
        )
    for entity in entities:
        entity.pop("_language", None)
    entities.sort(key=lambda e: (e["offset"], -e["length"]))
    return plain, entities


def _close_html_entity(top: _OpenTag, utf16: int, out: list[str], entities: list[JSONDict]) -> None:
    offset, length = top.offset, utf16 - top.offset
    span = {"offset": offset, "length": length}
    last = entities[-1] if entities else None
    same_span = last is not None and last["offset"] == offset and last["length"] == length
    if top.name in _SIMPLE_TAG_TYPES:
        entities.append({"type": _SIMPLE_TAG_TYPES[top.name], **span})
    elif top.name == "a":
        url = top.argument or "".join(out[top.out_len :])
        user_match = _TG_USER_LINK.fullmatch(url)
        if user_match:
            user = {"id": int(user_match.group(1)), "is_bot": False, "first_name": "User"}
            entities.append({"type": "text_mention", **span, "user": user})
        elif (normalized := _normalize_url(url)) is not None:
            entities.append({"type": "text_link", **span, "url": normalized})
    elif top.name == "pre":
        if last is not None and same_span and last["type"] == "code" and last.get("_language"):
            last["type"] = "pre"
            last["language"] = last.pop("_language")
        else:
            entities.append({"type": "pre", **span})
    elif top.name == "code":
        if last is not None and same_span and last["type"] == "pre" and top.argument:
            last["language"] = top.argument
        else:
            entities.append({"type": "code", **span, "_language": top.argument})
    elif top.name == "blockquote":
        kind = "expandable_blockquote" if top.argument else "blockquote"
        entities.append({"type": kind, **span})
    elif top.name == "tg-emoji":
        if not top.argument.isdigit() or not 0 < int(top.argument) < 2**63:
            raise EntityParseError("Invalid custom emoji identifier specified")
        entities.append({"type": "custom_emoji", **span, "custom_emoji_id": top.argument})


_MD2_RESERVED: Final = frozenset("_*[]()~`>#+-=|{}.!")
_MD2_TYPES: Final[Mapping[str, tuple[str, str]]] = {
    "*": ("bold", "Bold"),
    "_": ("italic", "Italic"),
    "__": ("underline", "Underline"),
    "~": ("strikethrough", "Strikethrough"),
    "||": ("spoiler", "Spoiler"),
    "`": ("code", "Code"),
    "```": ("pre", "Pre"),
    "[": ("text_link", "TextUrl"),
    "![": ("custom_emoji", "CustomEmoji"),
}


def parse_markdown_v2(text: str) -> tuple[str, list[JSONDict]]:
    """Approximate tdlib's MarkdownV2 parser: reserved characters must be escaped and every
    entity closed. Returns ``(plain_text, entities)`` or raises EntityParseError."""
    out: list[str] = []
    entities: list[JSONDict] = []
    stack: list[tuple[str, int, int, str]] = []  # delimiter, utf16 offset, byte offset, lang
    utf16 = 0
    n = len(text)
    i = 0

    def emit(chunk: str) -> None:
        nonlocal utf16
        out.append(chunk)
        utf16 += utf16_len(chunk)

    def close(extra: JSONDict | None = None) -> None:
        delim, offset, _, language = stack.pop()
        if utf16 > offset:
            entity: JSONDict = {
                "type": _MD2_TYPES[delim][0],
                "offset": offset,
                "length": utf16 - offset,
            }
            if language:
                entity["language"] = language
            entity.update(extra or {})
            entities.append(entity)

    def toggle(delim: str) -> None:
        if stack and stack[-1][0] == delim:
            close()
        else:
            stack.append((delim, utf16, _byte_offset(text, i), ""))

    while i < n:
        c = text[i]
        top = stack[-1][0] if stack else ""
        if c == "\\" and i + 1 < n and 0 < ord(text[i + 1]) < 127:
            emit(text[i + 1])
            i += 2
            continue
        if top == "```":
            if text.startswith("```", i):
                close()
                i += 3
            else:
                emit(c)
                i += 1
            continue
        if top == "`":
            if c == "`":
                close()
            else:
                emit(c)
            i += 1
            continue
        if text.startswith("```", i):
            newline = text.find("\n", i + 3)
            language = ""
            start = i
            if newline != -1 and "```" not in text[i + 3 : newline]:
                language = text[i + 3 : newline].strip()
                i = newline + 1
            else:
                i += 3
            stack.append(("```", utf16, _byte_offset(text, start), language))
            continue
        if text.startswith("||", i) or text.startswith("__", i):
            toggle(text[i : i + 2])
            i += 2
            continue
        if c in "*_~`":
            toggle(c)
            i += 1
            continue
        if c == "[" or text.startswith("![", i):
            delim = "![" if c == "!" else "["
            stack.append((delim, utf16, _byte_offset(text, i), ""))
            i += len(delim)
            continue
        if c == "]" and top in ("[", "!["):
            if at_url := (i + 1 < n and text[i + 1] == "("):
                j = i + 2
                url_chars: list[str] = []
                while j < n and text[j] != ")":
                    if text[j] == "\\" and j + 1 < n:
                        j += 1
                    url_chars.append(text[j])
                    j += 1
                if j >= n:
                    raise EntityParseError(
                        f"Can't find end of a url at byte offset {_byte_offset(text, i + 1)}"
                    )
                url = "".join(url_chars)
                i = j + 1
            else:
                url = ""
                i += 1
            if top == "![":
                emoji_id = url.removeprefix("tg://emoji?id=")
                if not at_url or not emoji_id.isdigit():
                    raise EntityParseError("Custom emoji entity must contain a tg://emoji URL")
                close({"custom_emoji_id": emoji_id})
            elif (normalized := _normalize_url(url)) is not None:
                close({"url": normalized})
            else:
                stack.pop()
            continue
        if c == ">" and (i == 0 or text[i - 1] == "\n"):
            i += 1  # blockquote marker (the entity itself is not modelled)
            continue
        if c in _MD2_RESERVED:
            raise EntityParseError(
                f"Character '{c}' is reserved and must be escaped with the preceding '\\'"
            )
        emit(c)
        i += 1
    if stack:
        delim, _, byte_pos, _ = stack[-1]
        raise EntityParseError(
            f"Can't find end of {_MD2_TYPES[delim][1]} entity at byte offset {byte_pos}"
        )
    entities.sort(key=lambda e: (e["offset"], -e["length"]))
    return "".join(out), entities


# --------------------------------------------------------------------------------------------
# The fake
# --------------------------------------------------------------------------------------------


def _snake(name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


def _is_message_method(lower: str) -> bool:
    """Methods that send or edit messages (subject to flood limits and blocking)."""
    if lower == "sendchataction":
        return False
    return lower.startswith(("send", "editmessage")) or lower in (
        "copymessage",
        "copymessages",
        "forwardmessage",
        "forwardmessages",
    )


class FakeBotAPI(BaseRequest):
    """An in-process, strict stand-in for api.telegram.org (see the module docstring).

    Pass the same instance as ``request`` and ``get_updates_request`` of ``telegram.Bot`` or
    ``ApplicationBuilder``. All state is inspectable: `calls`, `sent`, `last_text`,
    `messages`, `commands`, `unanswered_callback_queries`, `rate_limited_count`.
    """

    def __init__(
        self,
        *,
        bot_id: int = 7_000_000_001,
        bot_username: str = "hoivien_demo_bot",
        clock: Callable[[], float] = time.monotonic,
        rate_limits: RateLimits | None = None,
    ) -> None:
        """Create an empty fake; ``clock`` drives only the flood limits."""
        self.bot_id = bot_id
        self.bot_username = bot_username
        self.clock = clock
        self.rate_limits = rate_limits
        self.html_strict_ampersand = True
        """Reject a bare "&" in HTML text (documented rule; tdlib itself is lenient)."""
        self.calls: list[ApiCall] = []
        self.rate_limited_count = 0
        self.callback_answers: dict[str, JSONDict] = {}
        self.bot_user: JSONDict = {
            "id": bot_id,
            "is_bot": True,
            "first_name": "Hội Viên (demo)",
            "username": bot_username,
            "can_join_groups": True,
            "can_read_all_group_messages": False,
            "supports_inline_queries": False,
            "can_connect_to_business": False,
            "has_main_web_app": False,
        }
        self._specs = load_method_specs()
        self._users: dict[int, JSONDict] = {}
        self._chats: dict[int, JSONDict] = {}
        self._blocked: set[int] = set()
        self._members: dict[tuple[int, int], str] = {}
        self._bot_messages: dict[int, dict[int, JSONDict]] = {}
        self._user_messages: dict[int, dict[int, JSONDict]] = {}
        self._last_message_id: dict[int, int] = {}
        self._files: dict[str, JSONDict] = {}
        self._file_seq = itertools.count(1)
        # Like Telegram's, update ids keep growing across restarts of the bot (a bot that
        # remembers the ids it processed must not see a new update with an old id).
        self._update_seq = itertools.count(time.time_ns() // 1000)
        self._callback_seq = itertools.count(1)
        self._media_group_seq = itertools.count(1)
        self._callback_queries: dict[str, bool] = {}
        self._commands: dict[tuple[str, str], list[JSONDict]] = {}
        self._menu_buttons: dict[int | None, JSONDict] = {}
        self._bot_texts: dict[tuple[str, str], str] = {}
        self._updates: list[JSONDict] = []
        self._update_waiters: list[asyncio.Event] = []
        self._webhook_url = ""
        self._injected: list[_Injected] = []
        self._global_window: deque[float] = deque()
        self._chat_buckets: dict[int, tuple[float, float]] = {}
        self._current: ApiCall | None = None
        self._closed = False
        self._handlers: dict[str, Callable[[JSONDict, dict[str, UploadedFile]], Any]] = {
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

    # ---- BaseRequest contract -------------------------------------------------------------

    @property
    def read_timeout(self) -> float | None:
        """Default read timeout PTB adds to getUpdates' long-polling timeout."""
        return 5.0

    async def initialize(self) -> None:
        """Nothing to connect; idempotent."""
        self._closed = False

    async def shutdown(self) -> None:
        """Wake any waiting getUpdates; idempotent."""
        self._closed = True
        for waiter in list(self._update_waiters):
            waiter.set()

    async def do_request(
        self,
        url: str,
        method: str,
        request_data: RequestData | None = None,
        read_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
        write_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
        connect_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
        pool_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
    ) -> tuple[int, bytes]:
        """Serve one Bot API call; returns ``(http_status, json_envelope_bytes)``."""
        name = url.split("?", 1)[0].rstrip("/").rsplit("/", 1)[-1]
        params = _clone(request_data.parameters) if request_data else {}
        uploads = self._collect_uploads(request_data)
        spec = self._specs.get(name.lower())
        call = ApiCall(method=spec.name if spec else name, params=params, files=uploads)
        self.calls.append(call)

        injected = self._take_injected(call.method)
        if injected is not None and injected.exc is not None:
            call.raised = injected.exc
            call.description = repr(injected.exc)
            raise injected.exc

        self._current = call
        try:
            if spec is None:
                raise _ApiError(404, "Not Found")
            if injected is not None:
                raise _ApiError(injected.error_code, injected.description, injected.retry_after)
            self._validate_params(spec, params, uploads)
            self._check_chat_access(spec, params)
            if spec.name == "getUpdates":
                result = await self._get_updates(params)
            else:
                handler = self._handlers.get(spec.name.lower())
                result = (handler or self._generic(spec))(params, uploads)
        except _ApiError as err:
            return self._fail(call, err)
        finally:
            self._current = None
        call.ok = True
        call.result = _clone(result)
        return 200, json.dumps({"ok": True, "result": result}).encode()

    # ---- failure injection ----------------------------------------------------------------

    def fail_next(
        self,
        method: str,
        *,
        error_code: int,
        description: str,
        retry_after: int | None = None,
        times: int = 1,
    ) -> None:
        """Answer the next ``times`` calls of ``method`` ("*" = any) with this error."""
        self._injected.append(
            _Injected(method, times, error_code, description, retry_after=retry_after)
        )

    def raise_next(self, method: str, exc: Exception, *, times: int = 1) -> None:
        """Make ``do_request`` raise ``exc`` for the next ``times`` calls of ``method``."""
        self._injected.append(_Injected(method, times, exc=exc))

    def _take_injected(self, method: str) -> _Injected | None:
        for entry in self._injected:
            if entry.method == "*" or entry.method.lower() == method.lower():
                entry.times -= 1
                if entry.times <= 0:
                    self._injected.remove(entry)
                return entry
        return None

    def _fail(self, call: ApiCall, err: _ApiError) -> tuple[int, bytes]:
        call.error_code = err.code
        call.description = err.description
        body: JSONDict = {"ok": False, "error_code": err.code, "description": err.description}
        if err.code == 429:
            self.rate_limited_count += 1
            body["parameters"] = {"retry_after": err.retry_after or 1}
        elif err.retry_after is not None:
            body["parameters"] = {"retry_after": err.retry_after}
        return err.code, json.dumps(body).encode()

    # ---- recording queries ----------------------------------------------------------------

    def sent(self, chat_id: int | None = None, method: str | None = None) -> list[ApiCall]:
        """Successful message-sending calls (send*, copy*, forward*), optionally filtered."""
        found = []
        for call in self.calls:
            lower = call.method.lower()
            if not call.ok or not _is_message_method(lower) or lower.startswith("editmessage"):
                continue
            if method is not None and lower != method.lower():
                continue
            if chat_id is not None and self._lookup_chat_id(call.params.get("chat_id")) != chat_id:
                continue
            found.append(call)
        return found

    def last_text(self, chat_id: int) -> str:
        """Text (or caption) of the latest message the bot sent or edited in ``chat_id``."""
        for call in reversed(self.calls):
            if call.ok and call.message is not None and call.message["chat"]["id"] == chat_id:
                return str(call.message.get("text", call.message.get("caption", "")))
        raise LookupError(f"the bot sent no message to chat {chat_id}")

    def messages(self, chat_id: int) -> list[JSONDict]:
        """Current state of every not-deleted bot message in ``chat_id``, oldest first."""
        stored = self._bot_messages.get(chat_id, {})
        return [_clone(stored[mid]) for mid in sorted(stored)]

    def message(self, chat_id: int, message_id: int) -> JSONDict:
        """Current state of one bot message (KeyError if unknown or deleted)."""
        return _clone(self._bot_messages[chat_id][message_id])

    def clear_calls(self) -> None:
        """Forget recorded calls (state such as messages and chats is kept)."""
        self.calls.clear()

    def commands(
        self, scope: Mapping[str, Any] | None = None, language_code: str | None = None
    ) -> list[JSONDict]:
        """Commands stored by setMyCommands for exactly this scope and language."""
        return _clone(self._commands.get(self._commands_key(scope, language_code), []))

    def menu_button(self, chat_id: int | None = None) -> JSONDict | None:
        """Menu button set with setChatMenuButton for ``chat_id`` (None = default)."""
        return _clone(self._menu_buttons.get(chat_id))

    def unanswered_callback_queries(self) -> list[str]:
        """Ids of built callback queries that were never answered, oldest first."""
        return [qid for qid, answered in self._callback_queries.items() if not answered]

    # ---- chats and users ------------------------------------------------------------------

    def user(
        self,
        user_id: int,
        first_name: str = "Lan",
        *,
        last_name: str | None = None,
        username: str | None = None,
        language_code: str | None = "vi",
    ) -> JSONDict:
        """A ``User`` JSON; also registers the user's private chat with the bot."""
        user: JSONDict = {"id": user_id, "is_bot": False, "first_name": first_name}
        if last_name is not None:
            user["last_name"] = last_name
        if username is not None:
            user["username"] = username
        if language_code is not None:
            user["language_code"] = language_code
        self.add_chat(user)
        return _clone(user)

    def add_chat(self, chat: Mapping[str, Any] | int) -> JSONDict:
        """Make a chat known: a ``User`` JSON (its private chat), a ``Chat`` JSON, or an id.

        A bare positive id becomes a private chat, a negative one a supergroup.
        """
        if isinstance(chat, int):
            if chat > 0:
                data: JSONDict = {"id": chat, "type": "private", "first_name": f"User {chat}"}
            else:
                data = {"id": chat, "type": "supergroup", "title": f"Chat {chat}"}
        elif "type" in chat:
            data = dict(chat)
        else:
            self._users[int(chat["id"])] = dict(chat)
            data = {"id": chat["id"], "type": "private", "first_name": chat["first_name"]}
            for key in ("last_name", "username"):
                if key in chat:
                    data[key] = chat[key]
        self._chats[int(data["id"])] = data
        return _clone(data)

    def block(self, user_id: int) -> None:
        """The user blocks the bot: sends to their chat now fail with 403."""
        self._blocked.add(user_id)

    def unblock(self, user_id: int) -> None:
        """The user unblocks the bot."""
        self._blocked.discard(user_id)

    def set_member_status(self, chat_id: int, user_id: int, status: str) -> None:
        """What getChatMember reports for ``user_id`` in ``chat_id``."""
        self._chat_member(self._users.get(user_id, {"id": user_id}), status)  # validates
        self._members[(chat_id, user_id)] = status

    # ---- update builders ------------------------------------------------------------------

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

    @staticmethod
    def _chat_member(user: Mapping[str, Any], status: str) -> JSONDict:
        member: JSONDict = {"status": status, "user": dict(user)}
        if status == "kicked":
            member["until_date"] = 0
        elif status == "creator":
            member["is_anonymous"] = False
        elif status == "administrator":
            member.update(
                {
                    "can_be_edited": False,
                    "is_anonymous": False,
                    "can_manage_chat": True,
                    "can_delete_messages": True,
                    "can_manage_video_chats": True,
                    "can_restrict_members": True,
                    "can_promote_members": False,
                    "can_change_info": True,
                    "can_invite_users": True,
                    "can_post_stories": False,
                    "can_edit_stories": False,
                    "can_delete_stories": False,
                }
            )
        elif status not in ("member", "left"):
            raise ValueError(f"unsupported chat member status {status!r}")
        return member

    # ---- validation -----------------------------------------------------------------------

    @staticmethod
    def _collect_uploads(request_data: RequestData | None) -> dict[str, UploadedFile]:
        if request_data is None or not request_data.contains_files:
            return {}
        uploads = {}
        for name, value in request_data.multipart_data.items():
            filename, content, mime_type = value
            if not isinstance(content, bytes):
                content = content.read()
            uploads[name] = UploadedFile(name, filename, mime_type, content)
        return uploads

    def _validate_params(
        self, spec: MethodSpec, params: JSONDict, uploads: Mapping[str, UploadedFile]
    ) -> None:
        for name in params:
            if name not in spec.params and name not in _PTB_DEFAULTS:
                raise _bad(f'unknown parameter "{name}" for method {spec.name}')
        for name, pspec in spec.params.items():
            if name not in params:
                if pspec.required and name not in uploads:
                    raise _bad(f"{name} is required")
                continue
            value = params[name]
            if not any(self._type_matches(value, t) for t in pspec.types):
                decoded = self._decode_json_param(value, pspec.types)
                if decoded is None:
                    expected = " or ".join(pspec.types)
                    raise _bad(f'parameter "{name}" must be of type {expected}')
                params[name] = decoded

    @staticmethod
    def _type_matches(value: Any, type_name: str) -> bool:
        if type_name == "Integer":
            return (isinstance(value, int) and not isinstance(value, bool)) or (
                isinstance(value, str) and re.fullmatch(r"-?\d+", value) is not None
            )
        if type_name == "Float":
            return isinstance(value, int | float) and not isinstance(value, bool)
        if type_name == "Boolean":
            return isinstance(value, bool) or value in ("true", "false", 0, 1)
        if type_name in ("String", "InputFile"):
            return isinstance(value, str) or (
                type_name == "String"
                and isinstance(value, int | float)
                and not isinstance(value, bool)
            )
        if type_name.startswith("Array of"):
            return isinstance(value, list)
        return isinstance(value, dict)

    @classmethod
    def _decode_json_param(cls, value: Any, types: tuple[str, ...]) -> Any:
        """Object/array parameters may also come JSON-serialized (as over HTTP)."""
        if not isinstance(value, str):
            return None
        try:
            decoded = json.loads(value)
        except ValueError:
            return None
        if isinstance(decoded, list | dict) and any(cls._type_matches(decoded, t) for t in types):
            return decoded
        return None

    def _lookup_chat_id(self, value: Any) -> int | None:
        if isinstance(value, bool):
            return None
        if isinstance(value, int):
            return value
        if isinstance(value, str):
            if re.fullmatch(r"-?\d+", value):
                return int(value)
            if value.startswith("@"):
                for chat_id, chat in self._chats.items():
                    if str(chat.get("username", "")).lower() == value[1:].lower():
                        return chat_id
        return None

    def _chat_id(self, value: Any) -> int:
        chat_id = self._lookup_chat_id(value)
        if chat_id is None or chat_id not in self._chats:
            raise _bad("chat not found")
        return chat_id

    def _check_chat_access(self, spec: MethodSpec, params: JSONDict) -> None:
        if "chat_id" not in params:
            return
        chat_id = self._chat_id(params["chat_id"])
        lower = spec.name.lower()
        if chat_id in self._blocked and (_is_message_method(lower) or lower == "sendchataction"):
            raise _ApiError(403, BLOCKED)

    def _admit(self, chat_id: int) -> None:
        """Apply the flood limits to a message send/edit that is about to succeed."""
        limits = self.rate_limits
        if limits is None:
            return
        now = self.clock()
        window = self._global_window
        while window and window[0] <= now - 1.0:
            window.popleft()
        if len(window) + 1 > limits.global_per_second:
            self._too_many(window[0] + 1.0 - now)
        tokens, last = self._chat_buckets.get(chat_id, (float(limits.per_chat_burst), now))
        refill = (now - last) * limits.per_chat_per_second
        tokens = min(float(limits.per_chat_burst), tokens + refill)
        if tokens < 1.0:
            self._too_many((1.0 - tokens) / limits.per_chat_per_second)
        window.append(now)
        self._chat_buckets[chat_id] = (tokens - 1.0, now)

    @staticmethod
    def _too_many(wait: float) -> NoReturn:
        retry_after = max(1, math.ceil(wait - 1e-9))
        raise _ApiError(429, f"Too Many Requests: retry after {retry_after}", retry_after)

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
        return _clone(markup)

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

    # ---- messages and files ---------------------------------------------------------------

    def _new_message(self, chat_id: int, *, sender: Mapping[str, Any]) -> JSONDict:
        message_id = self._last_message_id.get(chat_id, 0) + 1
        self._last_message_id[chat_id] = message_id
        return {
            "message_id": message_id,
            "from": _clone(dict(sender)),
            "chat": _clone(self._chats[chat_id]),
            "date": int(time.time()),
        }

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

    def _find_message(self, chat_id: int, message_id: int) -> JSONDict | None:
        return self._bot_messages.get(chat_id, {}).get(message_id) or self._user_messages.get(
            chat_id, {}
        ).get(message_id)

    def _new_file(
        self,
        kind: str,
        *,
        size: int = 1024,
        filename: str | None = None,
        mime_type: str | None = None,
    ) -> Any:
        """Register a new file; returns the JSON Telegram would embed in a message."""
        if kind == "photo":
            sizes = []
            for side in (90, 800):
                info = self._register_file(kind, size=max(1, size * side // 800))
                sizes.append({**info, "width": side, "height": side})
            for info in sizes:
                self._files[info["file_id"]]["payload"] = sizes
            return _clone(sizes)
        payload = {**self._register_file(kind, size=size), **_MEDIA_DEFAULTS.get(kind, {})}
        if kind == "document":
            payload["file_name"] = filename or payload["file_name"]
            payload["mime_type"] = mime_type or payload["mime_type"]
        self._files[payload["file_id"]]["payload"] = payload
        return _clone(payload)

    def _register_file(self, kind: str, *, size: int) -> JSONDict:
        seq = next(self._file_seq)
        file_id = f"{kind[:2].upper()}ACAgFAKE{self.bot_id:x}{seq:06d}"
        info = {"file_id": file_id, "file_unique_id": f"AQAD{seq:06d}", "file_size": size}
        self._files[file_id] = {
            **info,
            "kind": kind,
            "file_path": f"{_FILE_PATH_DIRS.get(kind, 'files')}/file_{seq}",
        }
        return info

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

    # ---- handlers -------------------------------------------------------------------------

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
        content = {key: _clone(source[key]) for key in _CONTENT_KEYS if key in source}
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
        self._admit(chat_id)
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

    @staticmethod
    def _commands_key(scope: Any, language_code: Any) -> tuple[str, str]:
        scope = scope if scope else {"type": "default"}
        return json.dumps(scope, sort_keys=True), str(language_code or "")

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
                f"(returns {' or '.join(spec.returns)}); add one in bot/offline_api.py",
            )

        return handler

    async def _get_updates(self, params: JSONDict) -> list[JSONDict]:
        if self._webhook_url:
            raise _ApiError(
                409,
                "Conflict: can't use getUpdates method while webhook is active; use "
                "deleteWebhook to delete the webhook first",
            )
        offset = int(params.get("offset", 0))
        limit = min(max(int(params.get("limit", 100)), 1), 100)
        timeout = max(float(params.get("timeout", 0)), 0.0)
        allowed = params.get("allowed_updates") or None
        if offset > 0:
            self._updates = [u for u in self._updates if u["update_id"] >= offset]
        elif offset < 0:
            self._updates = self._updates[offset:]

        def available() -> list[JSONDict]:
            return [u for u in self._updates if allowed is None or any(key in u for key in allowed)]

        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while not available() and not self._closed:
            remaining = deadline - loop.time()
            if remaining <= 0:
                break
            waiter = asyncio.Event()
            self._update_waiters.append(waiter)
            try:
                await asyncio.wait_for(waiter.wait(), remaining)
            except TimeoutError:
                break
            finally:
                self._update_waiters.remove(waiter)
        return _clone(available()[:limit])
