"""The real HTTP transports (BOT_HTTP_CLIENT) against the strict fake served on loopback."""

from __future__ import annotations

import dataclasses
import socket
from collections.abc import AsyncIterator

import pytest
from telegram import InlineKeyboardButton, InlineKeyboardMarkup
from telegram.error import BadRequest, NetworkError

from bot.app import build_application
from bot.channels.telegram_fake import FakeBotAPI
from bot.channels.telegram_fake.http_front import FakeApiServer
from bot.http import AiohttpRequest, OrjsonHTTPXRequest
from bot.settings import Settings
from tests.conftest import stop_application


@pytest.fixture
async def server(api: FakeBotAPI) -> AsyncIterator[FakeApiServer]:
    """The test's fake Bot API, over HTTP on 127.0.0.1."""
    front = FakeApiServer(api)
    await front.start()
    yield front
    await front.stop()


@pytest.mark.parametrize("client", ["aiohttp", "httpx"])
async def test_calls_go_over_http_with_the_chosen_client(client, server, api, settings):
    settings = dataclasses.replace(settings, api_base_url=server.base_url, http_client=client)
    application = build_application(settings, background=False)
    expected = AiohttpRequest if client == "aiohttp" else OrjsonHTTPXRequest
    assert isinstance(application.bot.request, expected)
    api.user(4101, first_name="Hoa")  # her chat exists
    await application.initialize()
    try:
        markup = InlineKeyboardMarkup([[InlineKeyboardButton("Đồng ý", callback_data="ok:1")]])
        sent = await application.bot.send_message(4101, "<b>Chào chị</b> & em", parse_mode=None,
                                                  reply_markup=markup)
        assert sent.text == "<b>Chào chị</b> & em"
        keyboard = api.messages(4101)[-1]["reply_markup"]["inline_keyboard"]
        assert keyboard[0][0]["text"] == "Đồng ý"

        document = await application.bot.send_document(4101, b"a,b\n1,2\n", filename="x.csv",
                                                       caption="Tệp")
        assert document.document is not None
        upload = api.calls[-1].files["document"]
        assert upload.content == b"a,b\n1,2\n" and upload.filename == "x.csv"

        with pytest.raises(BadRequest, match=r"(?i)can't parse entities"):
            await application.bot.send_message(4101, "<b>unclosed")
    finally:
        await stop_application(application)  # also closes the database persistence opened


def test_the_settings_choose_the_client_and_the_concurrency():
    default = Settings.from_env({}, env_file=None)
    assert (default.http_client, default.concurrency) == ("aiohttp", 16)
    chosen = Settings.from_env({"BOT_HTTP_CLIENT": "httpx", "BOT_CONCURRENCY": "4"},
                               env_file=None)
    assert (chosen.http_client, chosen.concurrency) == ("httpx", 4)


async def test_aiohttp_takes_its_proxy_from_the_environment(server, api, settings, monkeypatch):
    """HTTP_PROXY is used (here one nobody listens on: the call fails), NO_PROXY exempts."""
    with socket.socket() as probe:  # a free port: nothing listens there
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    for name in ("HTTP_PROXY", "http_proxy", "HTTPS_PROXY", "https_proxy", "NO_PROXY",
                 "no_proxy", "ALL_PROXY", "all_proxy"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HTTP_PROXY", f"http://127.0.0.1:{port}")
    settings = dataclasses.replace(settings, api_base_url=server.base_url, http_client="aiohttp")
    for no_proxy, works in (("", False), ("127.0.0.1", True)):
        monkeypatch.setenv("NO_PROXY", no_proxy)
        application = build_application(settings, background=False)
        await application.bot.request.initialize()
        try:
            if works:
                assert (await application.bot.get_me()).is_bot
            else:
                with pytest.raises(NetworkError):
                    await application.bot.get_me()
        finally:
            await application.bot.request.shutdown()
