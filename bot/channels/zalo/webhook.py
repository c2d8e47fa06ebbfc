"""Zalo webhook mode: Zalo POSTs each event to ZALO_WEBHOOK_URL with the secret in
`X-Bot-Api-Secret-Token` (a plain secret, not an HMAC).

The secret is checked (constant time, 403) and the declared size (413) from the headers alone,
before a byte of the body is read; an accepted event is answered 200 at once and processed in
the background, well within Zalo's 5 seconds. A body that is not an event gets 400.
The same server serves the bridge's expiring file links (`files`), below the webhook's path.
"""

from __future__ import annotations

import asyncio
import json
import logging
from http import HTTPStatus
from typing import Any

import tornado.web

from bot.channels.zalo import files
from bot.channels.zalo.bridge import ZaloBridge
from bot.webhook import GuardedBody, RouteServer

log = logging.getLogger(__name__)

SECRET_HEADER = "X-Bot-Api-Secret-Token"
MAX_BODY = 256 * 1024  # an event is a few kilobytes


@tornado.web.stream_request_body
class _EventHandler(GuardedBody):
    """One POST from Zalo: checked on its headers, read only if they pass."""

    secret_header = SECRET_HEADER
    max_body = MAX_BODY

    def initialize(self, server: ZaloWebhookServer) -> None:  # type: ignore[override]
        super().initialize()
        self.server = server
        self.secret = server.secret

    async def post(self) -> None:
        try:
            body = json.loads(self.body_bytes())
            event = body.get("result", body) if isinstance(body, dict) else None
            if not isinstance(event, dict) or "message" not in event:
                raise ValueError("not an event")
        except ValueError:
            log.warning("zalo webhook: a request whose body is not an event was refused")
            self._refuse(HTTPStatus.BAD_REQUEST)
            return
        self.server.take(event)
        self.set_status(HTTPStatus.OK)
        self.finish({"ok": True})


class ZaloWebhookServer(RouteServer):
    """Serves `path` on `listen:port` for the bridge until `stop`."""

    def __init__(self, bridge: ZaloBridge, *, path: str, secret: str, listen: str,
                 port: int) -> None:
        self.bridge = bridge
        self.secret = secret.encode()
        self._tasks: set[asyncio.Task[None]] = set()
        links = [files.route(path, bridge.files)] if bridge.files is not None else []
        super().__init__(path=path, handler=_EventHandler, options={"server": self},
                         listen=listen, port=port, extra_routes=links)

    def take(self, event: dict[str, Any]) -> None:
        """Process an event in the background (the answer does not wait for it)."""
        task = asyncio.create_task(self._process(event))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _process(self, event: dict[str, Any]) -> None:
        try:
            await self.bridge.handle_event(event)
        except Exception:
            log.exception("zalo event failed")

    async def drain(self) -> None:
        """Wait for every event taken so far."""
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)

    async def stop(self) -> None:
        """Take no more events; finish those taken."""
        await super().stop()
        await self.drain()
