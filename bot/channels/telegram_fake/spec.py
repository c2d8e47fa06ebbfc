"""The Bot API as the fake knows it: the method list, Telegram's limits and error texts,
and the records every part of the fake shares (calls, uploads, rate limits).
"""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cache
from importlib.resources import files as resource_files
from typing import Any, Final

import orjson
from telegram.request import RequestData

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
    """Flood limits, as the Bot FAQ states them: on new messages (send*, copy*, forward*).

    Edits count only in a group's bucket; callback answers and the rest are not limited.
    Global: at most ``global_per_second`` new messages in any sliding one-second window.
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


def _clone(value: Any) -> Any:
    """A deep copy of JSON-shaped data (orjson: much faster than copy.deepcopy)."""
    try:
        return orjson.loads(orjson.dumps(value))
    except TypeError:  # not JSON-shaped (orjson.JSONEncodeError is a TypeError)
        return copy.deepcopy(value)


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


# --- parameters against the spec ---


def collect_uploads(request_data: RequestData | None) -> dict[str, UploadedFile]:
    """The files of a multipart request, by field name."""
    if request_data is None or not request_data.contains_files:
        return {}
    uploads = {}
    for name, value in request_data.multipart_data.items():
        filename, content, mime_type = value
        if not isinstance(content, bytes):
            content = content.read()
        uploads[name] = UploadedFile(name, filename, mime_type, content)
    return uploads


def validate_params(
    spec: MethodSpec, params: JSONDict, uploads: Mapping[str, UploadedFile]
) -> None:
    """Refuse unknown or missing parameters and wrong types, as Telegram does."""
    for name in params:
        if name not in spec.params and name not in _PTB_DEFAULTS:
            raise _bad(f'unknown parameter "{name}" for method {spec.name}')
    for name, pspec in spec.params.items():
        if name not in params:
            if pspec.required and name not in uploads:
                raise _bad(f"{name} is required")
            continue
        value = params[name]
        if not any(_type_matches(value, t) for t in pspec.types):
            decoded = _decode_json_param(value, pspec.types)
            if decoded is None:
                expected = " or ".join(pspec.types)
                raise _bad(f'parameter "{name}" must be of type {expected}')
            params[name] = decoded


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
            type_name == "String" and isinstance(value, int | float) and not isinstance(value, bool)
        )
    if type_name.startswith("Array of"):
        return isinstance(value, list)
    return isinstance(value, dict)


def _decode_json_param(value: Any, types: tuple[str, ...]) -> Any:
    """Object/array parameters may also come JSON-serialized (as over HTTP)."""
    if not isinstance(value, str):
        return None
    try:
        decoded = json.loads(value)
    except ValueError:
        return None
    if isinstance(decoded, list | dict) and any(_type_matches(decoded, t) for t in types):
        return decoded
    return None
