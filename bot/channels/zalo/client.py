"""A thin client of the Zalo Bot Platform API over httpx: ``<base><token>/<method>``.

Zalo answers ``{"ok": true, "result": …}`` or ``{"ok": false, "error_code", "description"}``;
we check `ok`, not the HTTP status. `getUpdates` hands out one event per call and answers 408
when there is none. Rate limits are unpublished: a 429 ("Quota exceeded") raises
`ZaloError` with `code == 429`; the caller backs off (`backoff`).
"""

from __future__ import annotations

import random
from typing import Any

import httpx

DEFAULT_BASE_URL = "https://bot-api.zaloplatforms.com/bot"
POLL_TIMEOUT = 30


class ZaloError(Exception):
    """Zalo refused a call; `code` is Zalo's error code (429: quota exceeded)."""

    def __init__(self, code: int, description: str) -> None:
        super().__init__(f"{code}: {description}")
        self.code = code
        self.description = description


def backoff(attempt: int, *, cap: float = 60.0) -> float:
    """Seconds to wait after the `attempt`-th 429 in a row: doubling, with jitter."""
    base = min(cap, 2.0 ** max(0, attempt - 1))
    return base * random.uniform(0.8, 1.2)


class ZaloClient:
    """The nine-method API; `transport` swaps the network (the in-process fake in tests)."""

    def __init__(
        self, *, token: str, base_url: str = DEFAULT_BASE_URL,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self._url = f"{base_url.rstrip('/')}{token}/"
        self._http = httpx.AsyncClient(transport=transport, timeout=httpx.Timeout(10.0))

    async def close(self) -> None:
        """Release the HTTP connections."""
        await self._http.aclose()

    async def call(self, method: str, params: dict[str, Any] | None = None, *,
                   long_poll_s: float | None = None) -> Any:
        """One call; its `result`, or `ZaloError` (`long_poll_s`: how long Zalo may hold it)."""
        response = await self._http.post(
            self._url + method, json=params or {},
            timeout=httpx.Timeout(long_poll_s + 10.0) if long_poll_s else httpx.USE_CLIENT_DEFAULT,
        )
        try:
            body = response.json()
        except ValueError:
            raise ZaloError(response.status_code, "not a JSON answer") from None
        if not isinstance(body, dict) or not body.get("ok"):
            code = body.get("error_code", response.status_code) if isinstance(body, dict) else 0
            description = body.get("description", "") if isinstance(body, dict) else ""
            raise ZaloError(int(code or response.status_code), str(description))
        return body.get("result")

    async def get_me(self) -> dict[str, Any]:
        """The bot's own account (checks the token)."""
        return dict(await self.call("getMe"))

    async def get_update(self, wait_s: int = POLL_TIMEOUT) -> dict[str, Any] | None:
        """The next event, or None when there was none within `wait_s` seconds (408)."""
        try:
            result = await self.call("getUpdates", {"timeout": wait_s}, long_poll_s=wait_s)
        except ZaloError as exc:
            if exc.code == 408:
                return None
            raise
        return dict(result) if result else None

    async def send_message(self, chat_id: str, text: str) -> dict[str, Any]:
        """A text of 1-2000 characters."""
        return dict(await self.call("sendMessage", {"chat_id": chat_id, "text": text}))

    async def send_photo(self, chat_id: str, photo_url: str, caption: str | None = None
                         ) -> dict[str, Any]:
        """A photo by public URL (Zalo cannot take uploads)."""
        params: dict[str, Any] = {"chat_id": chat_id, "photo": photo_url}
        if caption:
            params["caption"] = caption
        return dict(await self.call("sendPhoto", params))

    async def send_chat_action(self, chat_id: str, action: str = "typing") -> None:
        """"typing" or "upload_photo"."""
        await self.call("sendChatAction", {"chat_id": chat_id, "action": action})

    async def set_webhook(self, url: str, secret_token: str) -> None:
        """Have Zalo POST events to `url` with `X-Bot-Api-Secret-Token: secret_token`."""
        await self.call("setWebhook", {"url": url, "secret_token": secret_token})

    async def delete_webhook(self) -> None:
        """Back to getUpdates."""
        await self.call("deleteWebhook")
