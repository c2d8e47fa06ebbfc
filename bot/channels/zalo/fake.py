"""A strict in-process fake of the Zalo Bot Platform API, as an httpx transport.

It rejects what Zalo rejects: an unknown method (404), a parameter Zalo does not know (such
as `reply_markup`), a text over 2000 characters or empty, a photo that is not an http(s) URL,
a chat that never wrote to the bot. `getUpdates` hands each queued event out once and answers
408 when there is none. `quota_storm(n)` answers the next n sends with 429 "Quota exceeded".
Every call is recorded in `calls`.
"""

from __future__ import annotations

import itertools
import json
from dataclasses import dataclass, field
from typing import Any

import httpx

TOKEN = "1234567890:zalo-offline-token"
BASE_URL = "http://zalo.invalid/bot"

_PARAMS: dict[str, tuple[set[str], set[str]]] = {  # method: (required, optional)
    "getMe": (set(), set()),
    "getUpdates": (set(), {"timeout"}),
    "setWebhook": ({"url", "secret_token"}, set()),
    "deleteWebhook": (set(), set()),
    "getWebhookInfo": (set(), set()),
    "sendMessage": ({"chat_id", "text"}, set()),
    "sendPhoto": ({"chat_id", "photo"}, {"caption"}),
    "sendSticker": ({"chat_id", "sticker"}, set()),
    "sendChatAction": ({"chat_id", "action"}, set()),
}
_SENDS = {"sendMessage", "sendPhoto", "sendSticker", "sendChatAction"}


@dataclass
class ZaloCall:
    """One call the bot made, and how the fake answered it."""

    method: str
    params: dict[str, Any]
    ok: bool = False
    error_code: int | None = None


@dataclass
class FakeZaloAPI(httpx.AsyncBaseTransport):
    """The fake; `user(...)` makes a Zalo user, `text_event(...)` what she sends."""

    token: str = TOKEN
    calls: list[ZaloCall] = field(default_factory=list)
    events: list[dict[str, Any]] = field(default_factory=list)
    chats: set[str] = field(default_factory=set)
    storm: int = 0
    _ids: itertools.count = field(default_factory=lambda: itertools.count(1))

    # ---- building what members send ---------------------------------------------------------

    def user(self, zalo_id: str) -> str:
        """A Zalo user who has written to the bot (her chat is known)."""
        self.chats.add(zalo_id)
        return zalo_id

    def event(self, zalo_id: str, kind: str = "text", *, text: str | None = None,
              message_id: str | None = None, name: str = "Hoa") -> dict[str, Any]:
        """A `message.<kind>.received` event from her private chat."""
        self.chats.add(zalo_id)
        message: dict[str, Any] = {
            "from": {"id": zalo_id, "display_name": name, "is_bot": False},
            "chat": {"id": zalo_id, "chat_type": "PRIVATE"},
            "message_id": message_id or f"m{next(self._ids):08x}",
            "date": 1_767_225_600_000,
        }
        if text is not None:
            message["text"] = text
        if kind == "image":
            message["photo"] = "https://zalo.example/photo.jpg"
        return {"event_name": f"message.{kind}.received", "message": message}

    def queue(self, event: dict[str, Any]) -> None:
        """Make an event available to getUpdates."""
        self.events.append(event)

    def quota_storm(self, times: int) -> None:
        """The next `times` send calls get 429 "Quota exceeded"."""
        self.storm = times

    # ---- what the bot sent ------------------------------------------------------------------

    def sent(self, zalo_id: str | None = None) -> list[ZaloCall]:
        """Successful sendMessage/sendPhoto calls, optionally to one chat."""
        return [c for c in self.calls if c.ok and c.method in {"sendMessage", "sendPhoto"}
                and (zalo_id is None or c.params.get("chat_id") == zalo_id)]

    def texts(self, zalo_id: str) -> list[str]:
        """Texts and captions sent to her, oldest first."""
        return [str(c.params.get("text") or c.params.get("caption") or "")
                for c in self.sent(zalo_id)]

    def rejected(self) -> list[ZaloCall]:
        """Calls Zalo would have refused (429s excluded)."""
        return [c for c in self.calls if not c.ok and c.error_code not in {408, 429}]

    # ---- serving ------------------------------------------------------------------------------

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        """Serve one HTTP call."""
        prefix = f"/bot{self.token}/"
        path = request.url.path
        if not path.startswith(prefix):
            return _answer(401, None, "Unauthorized")
        method = path[len(prefix):]
        params = json.loads(request.content or b"{}") if request.content else {}
        call = ZaloCall(method, params)
        self.calls.append(call)
        code, result, description = self._serve(method, params)
        call.ok = code == 200
        call.error_code = None if call.ok else code
        return _answer(code, result, description)

    def _serve(self, method: str, params: dict[str, Any]) -> tuple[int, Any, str]:
        if method not in _PARAMS:
            return 404, None, "Not Found"
        required, optional = _PARAMS[method]
        unknown = set(params) - required - optional
        if unknown:
            return 400, None, f"unknown parameter: {sorted(unknown)[0]}"
        if missing := required - set(params):
            return 400, None, f"missing parameter: {sorted(missing)[0]}"
        if method in _SENDS:
            if str(params["chat_id"]) not in self.chats:
                return 400, None, "Chat not found"
            if self.storm > 0:
                self.storm -= 1
                return 429, None, "Quota exceeded"
        return self._result(method, params)

    def _result(self, method: str, params: dict[str, Any]) -> tuple[int, Any, str]:
        if method == "getMe":
            return 200, {"id": "b0t0000", "account_name": "Bot Hội viên",
                         "display_name": "Bot Hội viên"}, ""
        if method == "getUpdates":
            if not self.events:
                return 408, None, "Request timeout"
            return 200, self.events.pop(0), ""
        text_key = "text" if method == "sendMessage" else "caption"
        text = params.get(text_key)
        if method == "sendMessage" or text is not None:
            if not isinstance(text, str) or not 1 <= len(text) <= 2000:
                return 400, None, f"{text_key} must be 1-2000 characters"
            if "<b>" in text or "</" in text:
                return 400, None, "raw HTML tags are shown as typed"
        if method == "sendPhoto" and not str(params["photo"]).startswith(("http://", "https://")):
            return 400, None, "photo must be a public http(s) URL"
        if method in {"sendMessage", "sendPhoto"}:
            return 200, {"message_id": f"z{next(self._ids):08x}", "date": 0}, ""
        return 200, True, ""


def _answer(code: int, result: Any, description: str) -> httpx.Response:
    body: dict[str, Any] = ({"ok": True, "result": result} if code == 200 else
                            {"ok": False, "error_code": code, "description": description})
    return httpx.Response(code, json=body)
