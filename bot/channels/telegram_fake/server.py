"""The fake Bot API's state and serving: the call log, chats, users, messages, files, flood
limits, failure injection, parameter validation, and ``do_request`` (the `BaseRequest` seam).
"""

from __future__ import annotations

import asyncio
import itertools
import json
import math
import re
import time
from collections import deque
from collections.abc import Callable, Mapping
from typing import Any, NoReturn

from telegram.request import BaseRequest, RequestData

from bot.channels.telegram_fake.spec import (
    _FILE_PATH_DIRS,
    _MEDIA_DEFAULTS,
    BLOCKED,
    ApiCall,
    JSONDict,
    MethodSpec,
    RateLimits,
    UploadedFile,
    _ApiError,
    _bad,
    _clone,
    _Injected,
    _is_message_method,
    collect_uploads,
    load_method_specs,
    validate_params,
)

Handler = Callable[[JSONDict, dict[str, UploadedFile]], Any]

_CREATED: list[FakeBotServer] = []
"""Every fake made since the test harness last emptied it (`take_created`)."""


def take_created() -> list[FakeBotServer]:
    """The fakes made since the last call (a test checks each one's `narrow_faults`)."""
    made = list(_CREATED)
    _CREATED.clear()
    return made
"""One method implementation: parameters and uploads in, the JSON result out."""


class FakeBotServer(BaseRequest):
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
        self.narrow_faults: list[str] = []
        """Buttons sent too wide for a narrow phone (`bot.buttons`), one line each."""
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
        self._handlers = self._method_table()
        _CREATED.append(self)

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

    async def do_request(  # timeouts mean nothing here: nothing waits on a network
        self, url: str, method: str, request_data: RequestData | None = None,
        *_timeouts: Any, **_named_timeouts: Any,
    ) -> tuple[int, bytes]:
        """Serve one Bot API call; returns ``(http_status, json_envelope_bytes)``."""
        name = url.split("?", 1)[0].rstrip("/").rsplit("/", 1)[-1]
        params = _clone(request_data.parameters) if request_data else {}
        uploads = collect_uploads(request_data)
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
            validate_params(spec, params, uploads)
            self._check_chat_access(spec, params)
            if spec.name == "getUpdates":
                result = await self._get_updates(params)
            else:
                result = self._handler_for(spec)(params, uploads)
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

    @staticmethod
    def _commands_key(scope: Any, language_code: Any) -> tuple[str, str]:
        scope = scope if scope else {"type": "default"}
        return json.dumps(scope, sort_keys=True), str(language_code or "")

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

    # ---- chat members ---------------------------------------------------------------------

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

    def _admit(self, chat_id: int, *, edit: bool = False) -> None:
        """Apply the flood limits to a message send/edit that is about to succeed.

        Edits are not new messages: they count neither towards the overall limit nor, in a
        private chat, towards the chat's (the Bot FAQ limits messages sent).
        """
        limits = self.rate_limits
        if limits is None or (edit and chat_id > 0):
            return
        now = self.clock()
        window = self._global_window
        while window and window[0] <= now - 1.0:
            window.popleft()
        if not edit and len(window) + 1 > limits.global_per_second:
            self._too_many(window[0] + 1.0 - now)
        tokens, last = self._chat_buckets.get(chat_id, (float(limits.per_chat_burst), now))
        refill = (now - last) * limits.per_chat_per_second
        tokens = min(float(limits.per_chat_burst), tokens + refill)
        if tokens < 1.0:
            self._too_many((1.0 - tokens) / limits.per_chat_per_second)
        if not edit:
            window.append(now)
        self._chat_buckets[chat_id] = (tokens - 1.0, now)

    @staticmethod
    def _too_many(wait: float) -> NoReturn:
        retry_after = max(1, math.ceil(wait - 1e-9))
        raise _ApiError(429, f"Too Many Requests: retry after {retry_after}", retry_after)

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

    # ---- serving --------------------------------------------------------------------------

    def _method_table(self) -> dict[str, Handler]:
        """The implemented methods (`BotMethods` supplies them)."""
        return {}

    def _handler_for(self, spec: MethodSpec) -> Handler:
        """The implementation of ``spec`` (`BotMethods` supplies them)."""
        raise _ApiError(501, f"Not Implemented: {spec.name}")

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
