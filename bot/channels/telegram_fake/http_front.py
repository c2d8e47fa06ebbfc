"""The in-process fake Bot API served over HTTP on loopback (benchmarks, transport tests).

`FakeApiServer` answers ``POST /bot<token>/<method>`` like api.telegram.org, by handing the
call to a `bot.channels.telegram_fake.FakeBotAPI`: JSON bodies (what `bot.http.AiohttpRequest`
sends),
form-encoded and multipart bodies (PTB's httpx transport, aiogram, file uploads). So a bot in
another process can be measured against the same strict fake the tests use. Loopback only.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import orjson
from aiohttp import web
from telegram import InputFile
from telegram.request import RequestData
from telegram.request._requestparameter import RequestParameter

from bot.channels.telegram_fake import FakeBotAPI

HOST = "127.0.0.1"


class FakeApiServer:
    """An aiohttp server in front of a `FakeBotAPI` (swap it per run with `use`)."""

    def __init__(self, api: FakeBotAPI | None = None) -> None:
        self.api = api or FakeBotAPI()
        self.polled = asyncio.Event()
        self.on_message: Callable[[int], None] | None = None
        self._runner: web.AppRunner | None = None
        self.port = 0

    @property
    def base_url(self) -> str:
        """What TELEGRAM_API_BASE_URL would be for this server."""
        return f"http://{HOST}:{self.port}/bot"

    async def use(self, api: FakeBotAPI, *,
                  on_message: Callable[[int], None] | None = None) -> None:
        """Serve another fake from now on; `on_message(chat_id)` after each message sent."""
        old, self.api = self.api, api
        await old.shutdown()  # wake its long polls
        self.on_message = on_message
        self.polled = asyncio.Event()

    async def start(self, port: int = 0) -> None:
        """Listen on 127.0.0.1 (`port` 0: any free port)."""
        app = web.Application(client_max_size=64 * 1024 * 1024)
        app.router.add_post("/{prefix}/{method}", self._handle)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, HOST, port)
        await site.start()
        self.port = self._runner.addresses[0][1]

    async def stop(self) -> None:
        """Stop listening."""
        if self._runner is not None:
            await self._runner.cleanup()
        await self.api.shutdown()

    async def _handle(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        params = await _parameters(request)
        if method.lower() == "getupdates":
            self.polled.set()
        api = self.api
        status, body = await api.do_request(
            url=f"{self.base_url}/{method}", method="POST", request_data=params)
        if status == 200 and self.on_message is not None and method.lower() == "sendmessage":
            chat = params.parameters.get("chat_id")
            if chat is not None:
                self.on_message(int(str(chat)))
        return web.Response(status=status, body=body, content_type="application/json")


async def _parameters(request: web.Request) -> RequestData:
    """The call's parameters as PTB's `RequestData` (what the fake reads)."""
    found: list[RequestParameter] = []
    if request.content_type == "application/json":
        body = await request.read()
        values: dict[str, Any] = orjson.loads(body) if body else {}
        found = [RequestParameter(name, value, None) for name, value in values.items()]
    elif request.can_read_body:
        for name, value in (await request.post()).items():
            if isinstance(value, web.FileField):
                upload = InputFile(value.file.read(), filename=value.filename)
                found.append(RequestParameter(name, None, input_files=[upload]))
            else:
                found.append(RequestParameter(name, value, None))
    elif request.query:
        found = [RequestParameter(name, value, None) for name, value in request.query.items()]
    return RequestData(found)
