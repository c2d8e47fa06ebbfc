"""The HTTP client that talks to the Bot API (BOT_HTTP_CLIENT): aiohttp by default, httpx kept.

python-telegram-bot ships only an httpx transport. `AiohttpRequest` is the same contract on
aiohttp, which costs noticeably less CPU per call: calls without files go as one JSON body
(encoded by orjson, as Telegram accepts), files as multipart form data; answers are decoded by
orjson. Timeouts mean what they mean for PTB's `HTTPXRequest` (connect, read, pool; aiohttp has
no separate write timeout, so uploads are bounded by connect + write + read in total). Proxies
come from the usual environment variables (HTTPS_PROXY, NO_PROXY …) for both clients, as before
(aiohttp: looked up once per origin, not on every call).
Either client's pool holds `pool_size` connections: the updates processed at once plus the
outbox, so no call waits for a free connection at the configured concurrency.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any

import aiohttp
import orjson
from aiohttp.helpers import get_env_proxy_for_url
from telegram._utils.defaultvalue import DefaultValue
from telegram._utils.types import JSONDict, ODVInput
from telegram.error import NetworkError, TelegramError, TimedOut
from telegram.request import BaseRequest, HTTPXRequest, RequestData
from yarl import URL

log = logging.getLogger(__name__)

CONNECT_TIMEOUT = 5.0
READ_TIMEOUT = 5.0
WRITE_TIMEOUT = 5.0
MEDIA_WRITE_TIMEOUT = 20.0
POOL_TIMEOUT = 1.0
_JSON = {"Content-Type": "application/json", "User-Agent": BaseRequest.USER_AGENT}
_FORM = {"User-Agent": BaseRequest.USER_AGENT}


def _parse_json(payload: bytes) -> JSONDict:
    try:
        return orjson.loads(payload)
    except orjson.JSONDecodeError as exc:
        # Not the payload itself: an answer may quote what was sent (names, texts).
        log.error("the Bot API sent a response that is not JSON (%d bytes)", len(payload))
        raise TelegramError("Invalid server response") from exc


def _value(value: ODVInput[float], default: float | None) -> float | None:
    return default if isinstance(value, DefaultValue) else value


class AiohttpRequest(BaseRequest):
    """A `telegram.request.BaseRequest` on one aiohttp session (created in `initialize`)."""

    def __init__(self, *, pool_size: int, read_timeout: float | None = READ_TIMEOUT) -> None:
        self._pool_size = pool_size
        self._read_timeout = read_timeout
        self._session: aiohttp.ClientSession | None = None
        # The proxy for each origin, looked up once: aiohttp's `trust_env` would look it up
        # (and read ~/.netrc) in a worker thread on every call.
        self._proxies: dict[str, tuple[URL | None, aiohttp.BasicAuth | None]] = {}

    @property
    def read_timeout(self) -> float | None:
        """The default read timeout (PTB adds it to getUpdates' long-polling timeout)."""
        return self._read_timeout

    async def initialize(self) -> None:
        """Open the session (idempotent)."""
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(limit=self._pool_size),
                json_serialize=lambda obj: orjson.dumps(obj).decode(),
            )

    async def shutdown(self) -> None:
        """Close the session and its connections (idempotent)."""
        if self._session is not None and not self._session.closed:
            await self._session.close()

    @staticmethod
    def parse_json_payload(payload: bytes) -> JSONDict:
        """Decode an answer with orjson."""
        return _parse_json(payload)

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
        """One HTTP call; returns (status, body) for PTB to interpret."""
        if self._session is None or self._session.closed:
            raise RuntimeError("This AiohttpRequest is not initialized!")
        files = request_data is not None and request_data.contains_files
        connect = _value(connect_timeout, CONNECT_TIMEOUT)
        pool = _value(pool_timeout, POOL_TIMEOUT)
        read = _value(read_timeout, self._read_timeout)
        write = _value(write_timeout, MEDIA_WRITE_TIMEOUT if files else WRITE_TIMEOUT)
        timeout = aiohttp.ClientTimeout(
            total=None if not files or None in (connect, write, read)
            else connect + write + read,  # type: ignore[operator]
            connect=None if connect is None or pool is None else connect + pool,
            sock_connect=connect,
            sock_read=read,
        )
        body: Any = None
        headers = _FORM
        if request_data is not None and files:
            body = aiohttp.FormData(request_data.json_parameters)
            for name, (filename, content, mime_type) in request_data.multipart_data.items():
                body.add_field(name, content, filename=filename, content_type=mime_type)
        elif request_data is not None:
            body, headers = orjson.dumps(request_data.parameters), _JSON
        proxy, proxy_auth = await self._proxy(url)
        try:
            async with self._session.request(
                method, url, data=body, headers=headers, timeout=timeout, proxy=proxy,
                proxy_auth=proxy_auth,
            ) as response:
                return response.status, await response.read()
        except TimeoutError as exc:
            raise TimedOut from exc
        except aiohttp.ClientError as exc:
            raise NetworkError(f"aiohttp.{type(exc).__name__}: {exc}") from exc


    async def _proxy(self, url: str) -> tuple[URL | None, aiohttp.BasicAuth | None]:
        """HTTPS_PROXY / HTTP_PROXY / NO_PROXY for this URL's origin, as httpx reads them."""
        origin = str(URL(url).origin())
        if origin not in self._proxies:
            found: tuple[URL | None, aiohttp.BasicAuth | None] = (None, None)
            with contextlib.suppress(LookupError):  # no proxy for it
                found = await asyncio.to_thread(get_env_proxy_for_url, URL(url))
            self._proxies[origin] = found
        return self._proxies[origin]


class OrjsonHTTPXRequest(HTTPXRequest):
    """PTB's httpx transport (BOT_HTTP_CLIENT=httpx), decoding answers with orjson."""

    @staticmethod
    def parse_json_payload(payload: bytes) -> JSONDict:
        """Decode an answer with orjson."""
        return _parse_json(payload)


def make_request(client: str, *, pool_size: int, read_timeout: float | None = READ_TIMEOUT
                 ) -> BaseRequest:
    """The transport for the real Bot API (`client` is BOT_HTTP_CLIENT)."""
    if client == "httpx":
        return OrjsonHTTPXRequest(connection_pool_size=pool_size, read_timeout=read_timeout)
    return AiohttpRequest(pool_size=pool_size, read_timeout=read_timeout)
