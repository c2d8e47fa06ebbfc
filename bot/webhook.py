"""Webhook mode's HTTP server: Telegram posts each update to it.

PTB's own server (`telegram.ext._utils.webhookhandler`) reads the whole body before looking
at the request, compares the secret with `!=` (its timing tells how much of a guess was
right) and logs bodies at DEBUG. This one, on the same tornado, decides from the headers
alone, before a byte of the body is read: the secret (`hmac.compare_digest`, 403), then the
declared size (over `MAX_BODY`: 413). A chunked body has no declared size; it is counted while
it arrives and refused at the same limit. An accepted update goes to the application's
`update_queue`, as with PTB's server.
"""

from __future__ import annotations

import hmac
import json
import logging
import re
from collections.abc import Sequence
from http import HTTPStatus

import tornado.web
from telegram import Update
from telegram.ext import Application, ExtBot
from tornado.httpserver import HTTPServer

log = logging.getLogger(__name__)

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
MAX_BODY = 1024 * 1024  # 1 MB: an update is a few kilobytes
BODY_TIMEOUT = 10.0  # seconds to send the body (a slow sender holds no connection for long)


class GuardedBody(tornado.web.RequestHandler):
    """A POST judged on its headers first: the secret (constant time, 403), then the declared
    size (413); a chunked body is counted as it arrives and refused at the same limit.

    Subclasses (one per channel) set `secret_header` and `max_body`, set `self.secret` in
    `initialize`, and read the accepted body from `self.body_bytes()` in `post`.
    """

    SUPPORTED_METHODS = ("POST",)
    secret_header = SECRET_HEADER
    max_body = MAX_BODY
    secret = b""

    def initialize(self) -> None:
        self.chunks: list[bytes] = []
        self.size = 0
        self.refused = False

    def prepare(self) -> None:
        given = self.request.headers.get(self.secret_header, "").encode()
        if not hmac.compare_digest(given, self.secret):
            self._refuse(HTTPStatus.FORBIDDEN)
            return
        declared = self.request.headers.get("Content-Length")
        if declared is not None and not (declared.isdigit() and int(declared) <= self.max_body):
            self._refuse(HTTPStatus.REQUEST_ENTITY_TOO_LARGE)

    def data_received(self, chunk: bytes) -> None:
        if self.refused:
            return
        self.size += len(chunk)
        if self.size > self.max_body:
            self.chunks.clear()
            self._refuse(HTTPStatus.REQUEST_ENTITY_TOO_LARGE)
            return
        self.chunks.append(chunk)

    def body_bytes(self) -> bytes:
        """The accepted body."""
        return b"".join(self.chunks)

    def _refuse(self, status: HTTPStatus) -> None:
        """Answer at once with a bare status; the rest of the body is not read."""
        self.refused = True
        self.set_status(status)
        self.finish()


@tornado.web.stream_request_body
class _UpdateHandler(GuardedBody):
    """One POST from Telegram: checked on its headers, read only if they pass."""

    def initialize(self, ptb: Application, secret: bytes) -> None:  # type: ignore[override]
        super().initialize()
        self.ptb = ptb
        self.secret = secret

    async def post(self) -> None:
        bot = self.ptb.bot
        try:
            update = Update.de_json(json.loads(self.body_bytes()), bot)
        except Exception:  # not JSON, or not an update: Telegram never sends that
            log.warning("webhook: a request with a body that is not an update was refused")
            self._refuse(HTTPStatus.BAD_REQUEST)
            return
        if isinstance(bot, ExtBot):
            bot.insert_callback_data(update)
        await self.ptb.update_queue.put(update)
        self.set_status(HTTPStatus.OK)
        self.finish()


class RouteServer:
    """One POST route on `listen:port`, served by tornado until `stop` (each channel's webhook),
    and any `extra_routes` beside it (Zalo's expiring file links)."""

    def __init__(self, *, path: str, handler: type[GuardedBody], options: dict[str, object],
                 listen: str, port: int,
                 extra_routes: Sequence[tuple[str, type[tornado.web.RequestHandler],
                                              dict[str, object]]] = ()) -> None:
        route = "/" + path.strip("/")
        app = tornado.web.Application(
            [(rf"{re.escape(route)}/?", handler, options), *extra_routes],
            log_function=lambda _handler: None,  # our own update log line says enough
        )
        # Tornado's own cap, a backstop: a single chunk announced past it gets 400 unread. Any
        # body over the handler's max_body gets our 413 first (tornado checks before passing
        # the data on).
        self._server = HTTPServer(app, max_body_size=2 * handler.max_body,
                                  body_timeout=BODY_TIMEOUT)
        self.listen = listen
        self.port = port
        self.running = False

    def start(self) -> None:
        """Listen (raises OSError if the port is taken)."""
        self._server.listen(self.port, address=self.listen)
        self.running = True

    async def stop(self) -> None:
        """Take no more requests; close open connections."""
        if self.running:
            self.running = False
            self._server.stop()
            await self._server.close_all_connections()


class WebhookServer(RouteServer):
    """Serves `path` on `listen:port` for one application until `stop`."""

    def __init__(self, application: Application, *, path: str, secret: str, listen: str,
                 port: int) -> None:
        super().__init__(path=path, handler=_UpdateHandler,
                         options={"ptb": application, "secret": secret.encode()},
                         listen=listen, port=port)
