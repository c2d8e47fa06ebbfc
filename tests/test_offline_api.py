"""Tests for the fake Bot API (bot.channels.telegram_fake), driven through a real telegram.Bot."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from importlib.resources import files as resource_files
from typing import Any

import pytest
from telegram import (
    Bot,
    BotCommand,
    BotCommandScopeChat,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    InputMediaPhoto,
    KeyboardButton,
    MaybeInaccessibleMessage,
    MenuButtonCommands,
    Message,
    MessageEntity,
    ReplyKeyboardMarkup,
    ReplyParameters,
    Update,
)
from telegram.error import (
    BadRequest,
    Conflict,
    EndPointNotFound,
    Forbidden,
    NetworkError,
    RetryAfter,
    TimedOut,
)
from telegram.ext import ApplicationBuilder, CallbackContext, CommandHandler, Defaults, ExtBot
from telegram.request import RequestData
from telegram.request._requestparameter import RequestParameter

from bot.channels.telegram_fake import (
    FakeBotAPI,
    RateLimits,
    load_method_specs,
    parse_html,
    parse_markdown_v2,
    utf16_len,
)

# PTB 22 warns whenever it builds RetryAfter.retry_after; not what these tests are about.
pytestmark = pytest.mark.filterwarnings(
    "ignore:Deprecated since version v22.2.*retry_after:telegram.warnings.PTBDeprecationWarning"
)

TOKEN = "123456:TEST-TOKEN"
LAN = 1001
HOA = 1002


class FakeClock:
    """Manually advanced clock for the flood limits."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def markup(*buttons: InlineKeyboardButton) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup([list(buttons)])


def button(data: str = "m:home", text: str = "Trang chủ") -> InlineKeyboardButton:
    return InlineKeyboardButton(text, callback_data=data)


@contextmanager
def rejected(fake: FakeBotAPI, text: str, exc: type[Exception] = BadRequest) -> Iterator[None]:
    """Expect ``exc`` from PTB and ``text`` in the exact description the fake served."""
    with pytest.raises(exc):
        yield
    description = fake.calls[-1].description
    assert description is not None and text in description, description


@pytest.fixture
def fake() -> FakeBotAPI:
    return FakeBotAPI()


@pytest.fixture
def lan(fake: FakeBotAPI) -> dict[str, Any]:
    return fake.user(LAN, "Lan")


@pytest.fixture
async def bot(fake: FakeBotAPI) -> AsyncIterator[Bot]:
    async with Bot(TOKEN, request=fake, get_updates_request=fake) as the_bot:
        yield the_bot


async def raw(fake: FakeBotAPI, method: str, **params: Any) -> tuple[int, dict[str, Any]]:
    """Call the fake directly (bypassing PTB) and decode the envelope."""
    data = RequestData([RequestParameter(k, v, None) for k, v in params.items()])
    code, body = await fake.do_request(
        f"https://api.telegram.org/bot{TOKEN}/{method}", "POST", data
    )
    return code, json.loads(body)


# --- method data ---------------------------------------------------------------------------


def test_method_data_is_packaged_with_licence() -> None:
    specs = load_method_specs()
    send = specs["sendmessage"]
    assert send.name == "sendMessage"
    assert send.params["chat_id"].required and send.params["text"].required
    assert send.params["chat_id"].types == ("Integer", "String")
    assert not send.params["parse_mode"].required
    assert len(specs) > 150
    data_dir = resource_files("bot") / "data"
    assert "MIT License" in (data_dir / "botapi_methods.LICENSE").read_text(encoding="utf-8")


# --- envelope, routing, parameters ---------------------------------------------------------


async def test_envelope_ok_and_error(fake: FakeBotAPI, lan: dict[str, Any]) -> None:
    code, body = await raw(fake, "sendMessage", chat_id=LAN, text="xin chào")
    assert code == 200 and body["ok"] is True and body["result"]["text"] == "xin chào"
    code, body = await raw(fake, "sendMessage", chat_id=LAN, text="x" * 4097)
    assert code == 400
    assert body == {
        "ok": False,
        "error_code": 400,
        "description": "Bad Request: message is too long",
    }


async def test_method_names_are_case_insensitive_and_any_base_url(
    fake: FakeBotAPI, lan: dict[str, Any]
) -> None:
    data = RequestData(
        [RequestParameter("chat_id", LAN, None), RequestParameter("text", "hi", None)]
    )
    code, body = await fake.do_request("http://localhost:8081/botX:Y/SENDMESSAGE", "POST", data)
    assert code == 200 and json.loads(body)["result"]["text"] == "hi"
    assert fake.calls[-1].method == "sendMessage"


async def test_unknown_method_is_404(fake: FakeBotAPI, bot: Bot) -> None:
    code, body = await raw(fake, "sendMesage")
    assert (code, body["description"]) == (404, "Not Found")
    with pytest.raises(EndPointNotFound):
        await bot.do_api_request("fooBar")


async def test_missing_required_parameter(fake: FakeBotAPI, bot: Bot, lan: dict[str, Any]) -> None:
    with rejected(fake, "text is required"):
        await bot.send_message(LAN, None)  # type: ignore[arg-type]
    code, body = await raw(fake, "answerCallbackQuery")
    assert (code, body["description"]) == (400, "Bad Request: callback_query_id is required")


async def test_unknown_parameter_is_rejected(
    fake: FakeBotAPI, bot: Bot, lan: dict[str, Any]
) -> None:
    with rejected(fake, 'unknown parameter "parse_mod"'):
        await bot.send_message(LAN, "hi", api_kwargs={"parse_mod": "HTML"})


async def test_parameter_types_are_checked(fake: FakeBotAPI, lan: dict[str, Any]) -> None:
    code, body = await raw(fake, "sendMessage", chat_id=LAN, text="hi", disable_notification="x")
    assert code == 400 and "Boolean" in body["description"]
    # Object parameters may arrive JSON-serialized, as over HTTP.
    keyboard = json.dumps({"inline_keyboard": [[{"text": "a", "callback_data": "b"}]]})
    code, body = await raw(fake, "sendMessage", chat_id=LAN, text="hi", reply_markup=keyboard)
    assert code == 200 and body["result"]["reply_markup"]["inline_keyboard"][0][0]["text"] == "a"


async def test_ptb_exceptions_for_each_error_kind(
    fake: FakeBotAPI, bot: Bot, lan: dict[str, Any]
) -> None:
    with pytest.raises(BadRequest):
        await bot.send_message(LAN, "x" * 4097)
    fake.block(LAN)
    with pytest.raises(Forbidden, match="bot was blocked by the user"):
        await bot.send_message(LAN, "hi")
    fake.unblock(LAN)
    fake.fail_next(
        "sendMessage", error_code=429, description="Too Many Requests: retry after 7", retry_after=7
    )
    with pytest.raises(RetryAfter) as info:
        await bot.send_message(LAN, "hi")
    assert info.value.retry_after == 7


# --- multipart files -----------------------------------------------------------------------


async def test_photo_upload_file_id_reuse_and_get_file(
    fake: FakeBotAPI, bot: Bot, lan: dict[str, Any]
) -> None:
    sent = await bot.send_photo(LAN, b"\x89PNG fake", caption="Ảnh thẻ")
    assert sent.caption == "Ảnh thẻ" and len(sent.photo) == 2
    upload = fake.calls[-1].files["photo"]
    assert upload.content == b"\x89PNG fake" and upload.field_name == "photo"
    again = await bot.send_photo(LAN, sent.photo[-1].file_id)
    assert again.photo[-1].file_id == sent.photo[-1].file_id
    file = await bot.get_file(sent.photo[-1].file_id)
    assert file.file_path is not None and "/photos/" in file.file_path
    with rejected(fake, "wrong file identifier"):
        await bot.send_photo(LAN, "not-a-file-id")
    with rejected(fake, "invalid file_id"):
        await bot.get_file("nope")
    with rejected(fake, "type of file mismatch"):
        await bot.send_document(LAN, sent.photo[-1].file_id)


async def test_document_upload_and_media_group(
    fake: FakeBotAPI, bot: Bot, lan: dict[str, Any]
) -> None:
    doc = await bot.send_document(LAN, b"%PDF", filename="don.pdf", caption="Đơn")
    assert doc.document is not None and doc.document.file_name == "don.pdf"
    assert doc.document.file_size == 4 and doc.caption == "Đơn"
    album = await bot.send_media_group(LAN, [InputMediaPhoto(b"a"), InputMediaPhoto(b"b")])
    assert len(album) == 2 and album[0].media_group_id == album[1].media_group_id
    assert sorted(f.content for f in fake.calls[-1].files.values()) == [b"a", b"b"]


# --- limits --------------------------------------------------------------------------------


async def test_text_limit_counts_utf16_code_units(
    fake: FakeBotAPI, bot: Bot, lan: dict[str, Any]
) -> None:
    await bot.send_message(LAN, "a" * 4096)
    await bot.send_message(LAN, "ế" * 4096)  # BMP: one unit each, though 3 UTF-8 bytes
    await bot.send_message(LAN, "😀" * 2048)  # astral: two units each
    with rejected(fake, "too long"):
        await bot.send_message(LAN, "😀" * 2048 + "a")
    with rejected(fake, "message text is empty"):
        await bot.send_message(LAN, "   ")
    assert utf16_len("😀a") == 3


async def test_text_limit_applies_after_entity_parsing(
    fake: FakeBotAPI, bot: Bot, lan: dict[str, Any]
) -> None:
    body = "x" * 4090
    await bot.send_message(LAN, f"<b>{body}</b>&lt;&gt;", parse_mode="HTML")  # 4092 visible
    with rejected(fake, "too long"):
        await bot.send_message(LAN, f"<b>{body}</b>")  # no parse_mode: raw length 4097
    with rejected(fake, "message text is empty"):
        await bot.send_message(LAN, "<b></b>", parse_mode="HTML")


async def test_caption_limit(fake: FakeBotAPI, bot: Bot, lan: dict[str, Any]) -> None:
    await bot.send_photo(LAN, b"img", caption="<i>" + "c" * 1024 + "</i>", parse_mode="HTML")
    with rejected(fake, "caption is too long"):
        await bot.send_photo(LAN, b"img", caption="c" * 1025)


async def test_callback_data_is_1_to_64_utf8_bytes(
    fake: FakeBotAPI, bot: Bot, lan: dict[str, Any]
) -> None:
    await bot.send_message(LAN, "ok", reply_markup=markup(button("x" * 64)))
    for bad in ("x" * 65, "đ" * 33):  # 66 bytes in UTF-8, although only 33 characters
        with rejected(fake, "BUTTON_DATA_INVALID"):
            await bot.send_message(LAN, "bad", reply_markup=markup(button(bad)))
    with rejected(fake, "BUTTON_DATA_INVALID"):
        await bot.send_message(
            LAN,
            "bad",
            api_kwargs={
                "reply_markup": {"inline_keyboard": [[{"text": "a", "callback_data": ""}]]}
            },
        )


async def test_inline_button_rules(fake: FakeBotAPI, lan: dict[str, Any]) -> None:
    def send(keyboard: list[list[dict[str, Any]]]) -> Any:
        return raw(
            fake, "sendMessage", chat_id=LAN, text="t", reply_markup={"inline_keyboard": keyboard}
        )

    grid = [[{"text": f"{r}{c}", "callback_data": "d"} for c in range(10)] for r in range(10)]
    assert (await send(grid))[0] == 200
    code, body = await send([*grid, [{"text": "x", "callback_data": "d"}]])
    assert code == 400 and "REPLY_MARKUP_TOO_LONG" in body["description"]
    code, body = await send([[{"text": "", "callback_data": "d"}]])
    assert code == 400 and "BUTTON_TEXT_INVALID" in body["description"]
    code, body = await send([[{"text": "a"}]])
    assert code == 400 and "text buttons are unallowed" in body["description"]
    code, body = await send([[{"text": "a", "url": "javascript:alert(1)"}]])
    assert code == 400 and "URL" in body["description"]
    assert (await send([[{"text": "a", "url": "https://hoivien.vn"}]]))[0] == 200


async def test_reply_keyboard_buttons_must_have_text(
    fake: FakeBotAPI, bot: Bot, lan: dict[str, Any]
) -> None:
    sent = await bot.send_message(
        LAN,
        "Chia sẻ số",
        reply_markup=ReplyKeyboardMarkup(
            [[KeyboardButton("Gửi số điện thoại", request_contact=True)]]
        ),
    )
    assert sent.reply_markup is None  # Telegram only echoes inline keyboards
    with rejected(fake, "non-empty"):
        await bot.send_message(LAN, "x", reply_markup=ReplyKeyboardMarkup([[""]]))


async def test_answer_callback_query_text_limit(
    fake: FakeBotAPI, bot: Bot, lan: dict[str, Any]
) -> None:
    sent = await bot.send_message(LAN, "m", reply_markup=markup(button()))
    query = fake.to_update(fake.callback_update(lan, sent.message_id, "m:home"), bot)
    assert query.callback_query is not None
    with rejected(fake, "MESSAGE_TOO_LONG"):
        await query.callback_query.answer("x" * 201)
    assert await query.callback_query.answer("x" * 200)


async def test_set_my_commands_rules(fake: FakeBotAPI, bot: Bot) -> None:
    await bot.set_my_commands([BotCommand(f"c{i}", "d") for i in range(100)])
    with rejected(fake, "too many commands"):
        await bot.set_my_commands([BotCommand(f"c{i}", "d") for i in range(101)])
    for bad in ("Start", "a" * 33, "bắt_đầu", "/start", ""):
        with rejected(fake, "BOT_COMMAND_INVALID"):
            await bot.set_my_commands([BotCommand(bad, "d")])
    for bad_description in ("", "d" * 257):
        with rejected(fake, "DESCRIPTION_INVALID"):
            await bot.set_my_commands([BotCommand("start", bad_description)])
    await bot.set_my_commands([BotCommand("a" * 32, "d" * 256)])


async def test_edit_message_text_limits(fake: FakeBotAPI, bot: Bot, lan: dict[str, Any]) -> None:
    sent = await bot.send_message(LAN, "m")
    with rejected(fake, "too long"):
        await bot.edit_message_text("x" * 4097, LAN, sent.message_id)
    with rejected(fake, "can't parse entities"):
        await bot.edit_message_text("1 < 2", LAN, sent.message_id, parse_mode="HTML")


# --- HTML and MarkdownV2 -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("html", "plain"),
    [
        ("a &lt; b &amp;&amp; c &gt; d &quot;q&quot;", 'a < b && c > d "q"'),
        ("&#60;&#x3C;&#x1F600;", "<<😀"),
        ("<b>b</b><strong>s</strong><i>i</i><em>e</em><u>u</u><ins>n</ins>", "bsieun"),
        ("<s>1</s><strike>2</strike><del>3</del>", "123"),
        ('<span class="tg-spoiler">x</span><tg-spoiler>y</tg-spoiler>', "xy"),
        ('<a href="https://t.me/x?a=1&amp;b=2">link</a>', "link"),
        ('<pre><code class="language-python">print(1)</code></pre>', "print(1)"),
        ("<blockquote expandable>q</blockquote><blockquote>r</blockquote>", "qr"),
        ('<tg-emoji emoji-id="5368324170671202286">👍</tg-emoji>', "👍"),
        ("<B>upper</B> 1 > 0", "upper 1 > 0"),
        ("<b>x</>", "x"),
    ],
)
def test_html_accepted(html: str, plain: str) -> None:
    assert parse_html(html)[0] == plain


@pytest.mark.parametrize(
    ("html", "error"),
    [
        ("Tom & Jerry", 'Unescaped "&" at byte offset 4'),
        ("&apos;", 'Unescaped "&"'),
        ("I <3 you", 'Unsupported start tag "3" at byte offset 2'),
        ("a < b", 'Unsupported start tag "" at byte offset 2'),
        ("Hà Nội <br>", 'Unsupported start tag "br" at byte offset 10'),
        ("<b>bold", 'Can\'t find end tag corresponding to start tag "b"'),
        ("<b>x</i>", 'expected "</b>", found "</i>"'),
        ("x</b>", "Unexpected end tag at byte offset 1"),
        ("<span>x</span>", 'Tag "span" must have class "tg-spoiler"'),
        ('<tg-emoji emoji-id="abc">x</tg-emoji>', "Invalid custom emoji identifier"),
        ('<a href="x', "Unclosed start tag at byte offset 0"),
        ("<a href=x", "Unexpected end of name token at byte offset 8"),
        ("<b", "Unclosed start tag"),
        ("<a href>x</a>", "Expected equal sign"),
    ],
)
def test_html_rejected(html: str, error: str) -> None:
    with pytest.raises(ValueError, match=error.replace("(", r"\(")):
        parse_html(html)


def test_html_entities_have_utf16_offsets() -> None:
    plain, entities = parse_html('😀 <b>đậm</b> <a href="https://x.vn">l</a> <code>c</code>')
    assert plain == "😀 đậm l c"
    assert entities == [
        {"type": "bold", "offset": 3, "length": 3},
        {"type": "text_link", "offset": 7, "length": 1, "url": "https://x.vn"},
        {"type": "code", "offset": 9, "length": 1},
    ]
    _, pre = parse_html('<pre><code class="language-py">x</code></pre>')
    assert pre == [{"type": "pre", "offset": 0, "length": 1, "language": "py"}]


def test_bare_ampersand_can_be_allowed_like_tdlib() -> None:
    assert parse_html("Tom & Jerry", strict_ampersand=False)[0] == "Tom & Jerry"


async def test_html_errors_reach_ptb_as_bad_request(
    fake: FakeBotAPI, bot: Bot, lan: dict[str, Any]
) -> None:
    for bad in ("Tom & Jerry", "I <3 you", "<b>x", "<b>x</i>"):
        with rejected(fake, "can't parse entities"):
            await bot.send_message(LAN, bad, parse_mode="HTML")
    sent = await bot.send_message(LAN, "a &lt; b <b>đậm</b>", parse_mode="HTML")
    assert sent.text == "a < b đậm"
    assert sent.entities == (MessageEntity("bold", 6, 3),)
    await bot.send_message(LAN, "Tom & Jerry <3")  # no parse_mode: nothing is parsed
    fake.html_strict_ampersand = False
    await bot.send_message(LAN, "Tom & Jerry", parse_mode="HTML")


async def test_markdown_v2_and_parse_mode_names(
    fake: FakeBotAPI, bot: Bot, lan: dict[str, Any]
) -> None:
    with rejected(fake, "reserved"):
        await bot.send_message(LAN, "Xin chào.", parse_mode="MarkdownV2")
    sent = await bot.send_message(LAN, r"*Xin chào\.* [web](https://x.vn)", parse_mode="MarkdownV2")
    assert sent.text == "Xin chào. web"
    with rejected(fake, "Can't find end of Bold"):
        await bot.send_message(LAN, "*bold", parse_mode="MarkdownV2")
    with rejected(fake, "unsupported parse_mode"):
        await bot.send_message(LAN, "x", parse_mode="Markdown3")
    await bot.send_message(LAN, "<b>x</b>", parse_mode="html")  # case-insensitive


def test_markdown_v2_parser() -> None:
    plain, entities = parse_markdown_v2("__u__ ~s~ ||sp|| `c.d` ```py\nx = 1\n```")
    assert plain == "u s sp c.d x = 1\n"
    assert [e["type"] for e in entities] == ["underline", "strikethrough", "spoiler", "code", "pre"]
    assert entities[-1]["language"] == "py"


# --- chats ---------------------------------------------------------------------------------


async def test_unknown_chat_and_add_chat(fake: FakeBotAPI, bot: Bot) -> None:
    with rejected(fake, "chat not found"):
        await bot.send_message(999, "hi")
    fake.add_chat(999)
    assert (await bot.send_message(999, "hi")).chat.type == "private"
    group = fake.add_chat(
        {"id": -100123, "type": "supergroup", "title": "Chi hội", "username": "chihoi"}
    )
    assert group["title"] == "Chi hội"
    assert (await bot.send_message("@chihoi", "xin chào")).chat.id == -100123
    assert (await bot.send_message("-100123", "xin chào")).chat.id == -100123


async def test_block_and_unblock(fake: FakeBotAPI, bot: Bot, lan: dict[str, Any]) -> None:
    sent = await bot.send_message(LAN, "m")
    fake.block(LAN)
    for call in (
        bot.send_message(LAN, "hi"),
        bot.send_chat_action(LAN, "typing"),
        bot.edit_message_text("x", LAN, sent.message_id),
    ):
        with pytest.raises(Forbidden, match="bot was blocked by the user"):
            await call
    assert fake.calls[-1].error_code == 403
    fake.unblock(LAN)
    await bot.send_message(LAN, "again")


async def test_my_chat_member_kicked_blocks_and_member_unblocks(
    fake: FakeBotAPI, bot: Bot, lan: dict[str, Any]
) -> None:
    update = fake.to_update(fake.my_chat_member_update(lan, "kicked"), bot)
    assert update.my_chat_member is not None
    assert update.my_chat_member.old_chat_member.status == "member"
    assert update.my_chat_member.new_chat_member.status == "kicked"
    assert update.my_chat_member.new_chat_member.user.id == fake.bot_id
    with pytest.raises(Forbidden):
        await bot.send_message(LAN, "hi")
    back = fake.to_update(fake.my_chat_member_update(lan, "member"), bot)
    assert back.my_chat_member is not None
    assert back.my_chat_member.old_chat_member.status == "kicked"
    await bot.send_message(LAN, "chào mừng trở lại")
    with pytest.raises(ValueError, match="unsupported"):
        fake.my_chat_member_update(lan, "restricted")


async def test_get_chat_and_member(fake: FakeBotAPI, bot: Bot, lan: dict[str, Any]) -> None:
    chat = await bot.get_chat(LAN)
    assert chat.first_name == "Lan"
    assert (await bot.get_chat_member(LAN, LAN)).status == "member"
    fake.add_chat(-100)
    assert (await bot.get_chat_member(-100, LAN)).status == "left"
    fake.set_member_status(-100, LAN, "administrator")
    assert (await bot.get_chat_member(-100, LAN)).status == "administrator"
    assert await bot.get_chat_member_count(-100) == 1
    with rejected(fake, "user not found"):
        await bot.get_chat_member(-100, 5)


# --- messages ------------------------------------------------------------------------------


async def test_message_json_is_realistic(fake: FakeBotAPI, bot: Bot, lan: dict[str, Any]) -> None:
    fake.user(HOA, "Hoa")
    first = await bot.send_message(LAN, "một", reply_markup=markup(button()))
    second = await bot.send_message(LAN, "hai")
    other = await bot.send_message(HOA, "ba")
    assert (first.message_id, second.message_id, other.message_id) == (1, 2, 1)
    assert first.from_user is not None and first.from_user.id == fake.bot_id
    assert first.from_user.is_bot and first.chat.first_name == "Lan"
    assert first.reply_markup == markup(button())
    raw_result = fake.calls[-3].result
    assert isinstance(raw_result["date"], int) and raw_result["chat"]["type"] == "private"
    stored = fake.messages(LAN)
    assert [m["text"] for m in stored] == ["một", "hai"]
    assert stored[0]["reply_markup"]["inline_keyboard"][0][0]["callback_data"] == "m:home"


async def test_user_messages_share_the_chat_message_counter(
    fake: FakeBotAPI, bot: Bot, lan: dict[str, Any]
) -> None:
    incoming = fake.message_update(lan, "chào")
    sent = await bot.send_message(LAN, "chào bạn")
    assert sent.message_id == incoming["message"]["message_id"] + 1
    reply = await bot.send_message(LAN, "trả lời", reply_parameters=ReplyParameters(1))
    assert reply.reply_to_message is not None and reply.reply_to_message.text == "chào"
    with rejected(fake, "message to be replied not found"):
        await bot.send_message(LAN, "x", reply_parameters=ReplyParameters(99))
    await bot.send_message(
        LAN, "x", reply_parameters=ReplyParameters(99, allow_sending_without_reply=True)
    )


async def test_edit_message_text(fake: FakeBotAPI, bot: Bot, lan: dict[str, Any]) -> None:
    sent = await bot.send_message(LAN, "cũ", reply_markup=markup(button()))
    edited = await bot.edit_message_text(
        "<b>mới</b>", LAN, sent.message_id, parse_mode="HTML", reply_markup=markup(button())
    )
    assert isinstance(edited, Message) and edited.text == "mới" and edited.edit_date
    assert fake.message(LAN, sent.message_id)["text"] == "mới"
    with rejected(fake, "message is not modified: specified new message"):
        await bot.edit_message_text(
            "<b>mới</b>", LAN, sent.message_id, parse_mode="HTML", reply_markup=markup(button())
        )
    # Same text, different entities: a real modification.
    await bot.edit_message_text("mới", LAN, sent.message_id, reply_markup=markup(button()))
    # Omitting reply_markup removes the keyboard, as in Telegram.
    plain = await bot.edit_message_text("mới", LAN, sent.message_id)
    assert isinstance(plain, Message) and plain.reply_markup is None
    assert "reply_markup" not in fake.message(LAN, sent.message_id)


async def test_edit_unknown_messages(fake: FakeBotAPI, bot: Bot, lan: dict[str, Any]) -> None:
    with rejected(fake, "message to edit not found"):
        await bot.edit_message_text("x", LAN, 42)
    with rejected(fake, "message to edit not found"):
        await bot.edit_message_reply_markup(LAN, 42, reply_markup=markup(button()))
    with rejected(fake, "message to edit not found"):
        await bot.edit_message_caption(LAN, 42, caption="x")
    incoming = fake.message_update(lan, "tin của Lan")["message"]
    with rejected(fake, "can't be edited"):
        await bot.edit_message_text("x", LAN, incoming["message_id"])
    fake.user(HOA)
    sent = await bot.send_message(LAN, "m")
    with rejected(fake, "message to edit not found"):
        await bot.edit_message_text("x", HOA, sent.message_id)  # right id, wrong chat
    with rejected(fake, "message identifier is not specified"):
        await bot.edit_message_text("x", chat_id=LAN)


async def test_edit_reply_markup_and_caption(
    fake: FakeBotAPI, bot: Bot, lan: dict[str, Any]
) -> None:
    sent = await bot.send_message(LAN, "m", reply_markup=markup(button("a")))
    changed = await bot.edit_message_reply_markup(
        LAN, sent.message_id, reply_markup=markup(button("b"))
    )
    assert isinstance(changed, Message) and changed.reply_markup == markup(button("b"))
    with rejected(fake, "not modified"):
        await bot.edit_message_reply_markup(LAN, sent.message_id, reply_markup=markup(button("b")))
    with rejected(fake, "no caption in the message"):
        await bot.edit_message_caption(LAN, sent.message_id, caption="c")
    photo = await bot.send_photo(LAN, b"img", caption="trước")
    edited = await bot.edit_message_caption(
        LAN, photo.message_id, caption="<i>sau</i>", parse_mode="HTML"
    )
    assert isinstance(edited, Message) and edited.caption == "sau"
    with rejected(fake, "no text in the message"):
        await bot.edit_message_text("x", LAN, photo.message_id)
    with rejected(fake, "caption is too long"):
        await bot.edit_message_caption(LAN, photo.message_id, caption="c" * 1025)


async def test_delete_message(fake: FakeBotAPI, bot: Bot, lan: dict[str, Any]) -> None:
    sent = await bot.send_message(LAN, "m")
    incoming = fake.message_update(lan, "xoá tôi")["message"]
    assert await bot.delete_message(LAN, sent.message_id)
    assert await bot.delete_message(LAN, incoming["message_id"])
    assert fake.messages(LAN) == []
    with rejected(fake, "message to delete not found"):
        await bot.delete_message(LAN, sent.message_id)
    with rejected(fake, "message to edit not found"):
        await bot.edit_message_text("x", LAN, sent.message_id)


async def test_copy_and_forward_message(fake: FakeBotAPI, bot: Bot, lan: dict[str, Any]) -> None:
    fake.user(HOA)
    incoming = fake.message_update(lan, photo=True, caption="ảnh")["message"]
    copied = await bot.copy_message(HOA, LAN, incoming["message_id"], caption="bản sao")
    stored = fake.message(HOA, copied.message_id)
    assert stored["photo"] == incoming["photo"] and stored["caption"] == "bản sao"
    assert fake.last_text(HOA) == "bản sao"
    with rejected(fake, "message to copy not found"):
        await bot.copy_message(HOA, LAN, 999)
    forwarded = await bot.forward_message(HOA, LAN, incoming["message_id"])
    assert forwarded.forward_origin is not None and forwarded.caption == "ảnh"


# --- callback queries ----------------------------------------------------------------------


async def test_callback_query_lifecycle(fake: FakeBotAPI, bot: Bot, lan: dict[str, Any]) -> None:
    sent = await bot.send_message(LAN, "menu", reply_markup=markup(button("m:join")))
    update = fake.to_update(fake.callback_update(lan, sent.message_id, "m:join"), bot)
    query = update.callback_query
    assert query is not None and isinstance(query.message, Message)
    assert query.message.text == "menu" and query.data == "m:join"
    assert query.message.reply_markup == markup(button("m:join"))
    assert fake.unanswered_callback_queries() == [query.id]
    assert await query.answer("Đã ghi nhận", show_alert=True)
    assert fake.unanswered_callback_queries() == []
    assert fake.callback_answers[query.id]["text"] == "Đã ghi nhận"
    with rejected(fake, "query is too old"):
        await query.answer()
    with rejected(fake, "query is too old"):
        await bot.answer_callback_query("forged-id")
    # The press can edit its own message through the real shortcut.
    edited = await query.edit_message_text("đã chọn")
    assert isinstance(edited, Message) and edited.text == "đã chọn"


async def test_callback_on_unknown_message_is_inaccessible(
    fake: FakeBotAPI, bot: Bot, lan: dict[str, Any]
) -> None:
    update = fake.to_update(fake.callback_update(lan, 77, "x:forged"), bot)
    assert update.callback_query is not None
    # Telegram sends an InaccessibleMessage (date 0); PTB 22 exposes it as a Message whose
    # is_accessible is False.
    assert isinstance(update.callback_query.message, MaybeInaccessibleMessage)
    assert not update.callback_query.message.is_accessible
    assert update.callback_query.message.message_id == 77
    with rejected(fake, "message to edit not found"):
        await update.callback_query.edit_message_text("x")
    assert fake.unanswered_callback_queries() == [update.callback_query.id]


# --- other methods -------------------------------------------------------------------------


async def test_get_me_via_initialize(fake: FakeBotAPI, bot: Bot) -> None:
    assert bot.username == "hoivien_demo_bot" and bot.id == fake.bot_id
    me = await bot.get_me()
    assert me.is_bot and me.can_join_groups is True
    custom = FakeBotAPI(bot_id=5, bot_username="other_bot")
    async with Bot(TOKEN, request=custom, get_updates_request=custom) as other:
        assert (other.id, other.username) == (5, "other_bot")


async def test_commands_per_scope_and_language(
    fake: FakeBotAPI, bot: Bot, lan: dict[str, Any]
) -> None:
    await bot.set_my_commands([BotCommand("start", "Bắt đầu")])
    await bot.set_my_commands([BotCommand("start", "Start")], language_code="en")
    await bot.set_my_commands([BotCommand("admin", "Quản trị")], scope=BotCommandScopeChat(LAN))
    assert fake.commands() == [{"command": "start", "description": "Bắt đầu"}]
    assert fake.commands(language_code="en")[0]["description"] == "Start"
    assert fake.commands({"type": "chat", "chat_id": LAN})[0]["command"] == "admin"
    assert [c.command for c in await bot.get_my_commands(scope=BotCommandScopeChat(LAN))] == [
        "admin"
    ]
    assert await bot.delete_my_commands(language_code="en")
    assert fake.commands(language_code="en") == []
    with rejected(fake, "chat not found"):
        await bot.set_my_commands([BotCommand("a", "b")], scope=BotCommandScopeChat(31337))


async def test_menu_button_chat_action_webhook_close(
    fake: FakeBotAPI, bot: Bot, lan: dict[str, Any]
) -> None:
    assert await bot.set_chat_menu_button(menu_button=MenuButtonCommands())
    assert fake.menu_button() == {"type": "commands"}
    assert await bot.set_chat_menu_button(LAN, MenuButtonCommands())
    assert (await bot.get_chat_menu_button(LAN)).type == "commands"
    assert await bot.send_chat_action(LAN, "typing")
    with rejected(fake, "wrong parameter action"):
        await bot.send_chat_action(LAN, "dancing")
    assert await bot.set_webhook("https://example.org/hook")
    assert (await bot.get_webhook_info()).url == "https://example.org/hook"
    with pytest.raises(Conflict, match="webhook is active"):
        await bot.get_updates()
    with rejected(fake, "HTTPS URL must be provided"):
        await bot.set_webhook("http://example.org/hook")
    fake.queue_update(fake.message_update(lan, "x"))
    assert (await bot.get_webhook_info()).pending_update_count == 1
    assert await bot.delete_webhook(drop_pending_updates=True)
    assert (await bot.get_webhook_info()).pending_update_count == 0
    assert await bot.log_out() and await bot.close()


async def test_generic_methods(fake: FakeBotAPI, bot: Bot, lan: dict[str, Any]) -> None:
    sent = await bot.send_message(LAN, "ghim")
    assert await bot.pin_chat_message(LAN, sent.message_id)
    assert fake.calls[-1].method == "pinChatMessage"
    location = await bot.send_location(LAN, 21.03, 105.85)
    assert location.location is not None and location.location.latitude == 21.03
    assert (await bot.send_dice(LAN)).dice is not None
    with pytest.raises(NetworkError, match="no handler for getStickerSet"):
        await bot.get_sticker_set("x")
    assert await bot.set_my_description("Hội viên", language_code="vi")
    assert (await bot.get_my_description("vi")).description == "Hội viên"


async def test_get_updates_offset_limit_timeout(
    fake: FakeBotAPI, bot: Bot, lan: dict[str, Any]
) -> None:
    assert await bot.get_updates(timeout=0) == ()
    ids = []
    for text in ("1", "2", "3"):
        data = fake.message_update(lan, text)
        fake.queue_update(data)
        ids.append(data["update_id"])
    assert [u.update_id for u in await bot.get_updates(limit=2)] == ids[:2]
    assert [u.update_id for u in await bot.get_updates(offset=ids[1])] == ids[1:]
    assert [u.update_id for u in await bot.get_updates(offset=ids[2] + 1)] == []
    # Long poll: waits (asyncio) until an update is queued.
    waiting = asyncio.create_task(bot.get_updates(offset=ids[2] + 1, timeout=5))
    for _ in range(200):  # turns of the loop, not time: an answer at once would be done by now
        await asyncio.sleep(0)
    assert not waiting.done()
    late = fake.message_update(lan, "muộn")
    fake.queue_update(late)
    got = await asyncio.wait_for(waiting, 1)
    assert [u.update_id for u in got] == [late["update_id"]]


async def test_application_polls_the_fake(fake: FakeBotAPI, lan: dict[str, Any]) -> None:
    app = ApplicationBuilder().token(TOKEN).request(fake).get_updates_request(fake).build()
    done = asyncio.Event()

    async def start(update: Update, context: CallbackContext[Any, Any, Any, Any]) -> None:
        assert update.effective_message is not None
        await update.effective_message.reply_text(f"Chào {context.args}")
        done.set()

    app.add_handler(CommandHandler("start", start))
    async with app:
        await app.start()
        assert app.updater is not None
        await app.updater.start_polling(poll_interval=0, timeout=5)
        fake.queue_update(fake.command_update(lan, "/start", "ref42"))
        await asyncio.wait_for(done.wait(), 2)
        await app.updater.stop()
        await app.stop()
    assert fake.last_text(LAN) == "Chào ['ref42']"
    assert [c.method for c in fake.calls][:2] == ["getMe", "deleteWebhook"]


# --- rate limits ---------------------------------------------------------------------------


async def test_rate_limits_off_by_default(fake: FakeBotAPI, bot: Bot, lan: dict[str, Any]) -> None:
    for i in range(40):
        await bot.send_message(LAN, str(i))


async def test_per_chat_burst_then_retry_after(lan: dict[str, Any]) -> None:
    clock = FakeClock()
    fake = FakeBotAPI(clock=clock, rate_limits=RateLimits())
    fake.add_chat(lan)
    async with Bot(TOKEN, request=fake, get_updates_request=fake) as bot:
        for i in range(3):
            await bot.send_message(LAN, f"burst {i}")
        await bot.send_chat_action(LAN, "typing")  # not a message: not limited
        with pytest.raises(RetryAfter) as info:
            await bot.send_message(LAN, "one too many")
        assert info.value.retry_after == 1 and fake.rate_limited_count == 1
        assert fake.calls[-1].description == "Too Many Requests: retry after 1"
        clock.now += 0.5
        with pytest.raises(RetryAfter):
            await bot.send_message(LAN, "still too early")
        clock.now += 0.5
        sent = await bot.send_message(LAN, "after a second")
        # Edits are not new messages (Bot FAQ): not limited in a private chat.
        await bot.edit_message_text("edited", LAN, sent.message_id)
        with pytest.raises(RetryAfter):
            await bot.send_message(LAN, "a send still waits")
        assert fake.rate_limited_count == 3


async def test_global_limit_sliding_window() -> None:
    clock = FakeClock()
    fake = FakeBotAPI(clock=clock, rate_limits=RateLimits(global_per_second=5))
    async with Bot(TOKEN, request=fake, get_updates_request=fake) as bot:
        for user_id in range(1, 6):
            fake.user(user_id)
            await bot.send_message(user_id, "broadcast")
            clock.now += 0.1
        fake.user(6)
        with pytest.raises(RetryAfter) as info:
            await bot.send_message(6, "sixth within one second")
        assert info.value.retry_after == 1
        clock.now = 1000.0 + 1.0 + 1e-6  # the first send left the window
        await bot.send_message(6, "now fits")
        with pytest.raises(RetryAfter):
            await bot.send_message(6, "window full again")
    assert fake.rate_limited_count == 2


# --- failure injection ---------------------------------------------------------------------


async def test_fail_next(fake: FakeBotAPI, bot: Bot, lan: dict[str, Any]) -> None:
    fake.fail_next("sendmessage", error_code=403, description=BLOCKED_TEXT, times=2)
    for _ in range(2):
        with pytest.raises(Forbidden):
            await bot.send_message(LAN, "x")
    await bot.send_message(LAN, "works again")
    fake.fail_next("*", error_code=400, description="Bad Request: injected")
    with rejected(fake, "injected"):
        await bot.get_me()
    fake.fail_next(
        "sendMessage", error_code=429, description="Too Many Requests: retry after 3", retry_after=3
    )
    with pytest.raises(RetryAfter):
        await bot.send_message(LAN, "x")
    assert fake.rate_limited_count == 1
    assert [c.ok for c in fake.calls[-3:]] == [True, False, False]


async def test_raise_next(fake: FakeBotAPI, bot: Bot, lan: dict[str, Any]) -> None:
    fake.raise_next("sendMessage", TimedOut())
    with pytest.raises(TimedOut):
        await bot.send_message(LAN, "x")
    assert isinstance(fake.calls[-1].raised, TimedOut) and not fake.calls[-1].ok
    fake.raise_next("sendMessage", OSError("connection reset"), times=2)
    for _ in range(2):
        with pytest.raises(NetworkError, match="connection reset"):
            await bot.send_message(LAN, "x")
    assert (await bot.send_message(LAN, "ok")).text == "ok"
    assert fake.messages(LAN)[-1]["message_id"] == 1  # failed calls stored nothing


BLOCKED_TEXT = "Forbidden: bot was blocked by the user"


# --- recording -----------------------------------------------------------------------------


async def test_recording_queries(fake: FakeBotAPI, bot: Bot, lan: dict[str, Any]) -> None:
    fake.user(HOA)
    with pytest.raises(LookupError):
        fake.last_text(LAN)
    first = await bot.send_message(LAN, "một")
    await bot.send_photo(LAN, b"img", caption="ảnh")
    assert fake.last_text(LAN) == "ảnh"
    await bot.send_message(HOA, "hai")
    with pytest.raises(BadRequest):
        await bot.send_message(LAN, "")
    await bot.send_chat_action(LAN, "typing")
    await bot.edit_message_text("một (sửa)", LAN, first.message_id)
    assert fake.last_text(LAN) == "một (sửa)"
    assert [c.method for c in fake.sent()] == ["sendMessage", "sendPhoto", "sendMessage"]
    assert [c.params.get("text") for c in fake.sent(chat_id=LAN, method="sendmessage")] == ["một"]
    failed = [c for c in fake.calls if not c.ok]
    assert (
        failed[0].error_code == 400
        and failed[0].description == "Bad Request: message text is empty"
    )
    assert fake.calls[-1].result["text"] == "một (sửa)"
    assert [m["text"] for m in fake.messages(LAN) if "text" in m] == ["một (sửa)"]
    fake.clear_calls()
    assert fake.calls == [] and fake.messages(LAN)


# --- update builders -----------------------------------------------------------------------


async def test_builders_produce_real_updates(fake: FakeBotAPI, bot: Bot) -> None:
    lan = fake.user(LAN, "Lan", username="lan_hn")
    assert lan == {
        "id": LAN,
        "is_bot": False,
        "first_name": "Lan",
        "username": "lan_hn",
        "language_code": "vi",
    }
    command = fake.command_update(lan, "/start", "ref42")
    contact = fake.contact_update(lan, "+84901234567")
    other_contact = fake.contact_update(lan, "+84907654321", contact_user_id=None, first_name="Mẹ")
    photo = fake.message_update(lan, photo=True, caption="thẻ")
    document = fake.message_update(lan, document=True)
    ids = [u["update_id"] for u in (command, contact, other_contact, photo, document)]
    assert ids == sorted(ids) and len(set(ids)) == 5

    cmd = fake.to_update(command, bot)
    assert cmd.message is not None and cmd.message.text == "/start ref42"
    assert cmd.message.entities == (MessageEntity("bot_command", 0, 6),)
    assert CommandHandler("start", lambda u, c: None).check_update(cmd)
    mention = fake.to_update(fake.command_update(lan, "/start@hoivien_demo_bot"), bot)
    assert CommandHandler("start", lambda u, c: None).check_update(mention)

    shared = fake.to_update(contact, bot).message
    assert shared is not None and shared.contact is not None
    assert shared.contact.user_id == LAN and shared.contact.phone_number == "+84901234567"
    foreign = fake.to_update(other_contact, bot).message
    assert foreign is not None and foreign.contact is not None
    assert foreign.contact.user_id is None and foreign.contact.first_name == "Mẹ"

    pic = fake.to_update(photo, bot).message
    assert pic is not None and pic.photo and pic.caption == "thẻ"
    assert (await bot.get_file(pic.photo[-1].file_id)).file_path
    doc = fake.to_update(document, bot).message
    assert doc is not None and doc.document is not None
    assert (await bot.get_file(doc.document.file_id)).file_id == doc.document.file_id

    with pytest.raises(ValueError, match="needs text"):
        fake.message_update(lan)


async def test_builder_does_not_share_state_with_caller(fake: FakeBotAPI, bot: Bot) -> None:
    lan = fake.user(LAN)
    data = fake.message_update(lan, "hi")
    data["message"]["text"] = "changed"
    fake.queue_update(data)
    data["message"]["text"] = "changed again"
    (update,) = await bot.get_updates()
    assert update.message is not None and update.message.text == "changed"
    assert isinstance(fake.to_update(data, bot), Update)


async def test_ptb_defaults_injected_everywhere_are_tolerated(
    fake: FakeBotAPI, lan: dict[str, Any]
) -> None:
    defaults = Defaults(parse_mode="HTML", disable_notification=True, protect_content=True)
    async with ExtBot(TOKEN, defaults=defaults, request=fake, get_updates_request=fake) as bot:
        sent = await bot.send_message(LAN, "<b>đậm</b>", reply_markup=markup(button("a")))
        assert sent.text == "đậm" and fake.calls[-1].params["parse_mode"] == "HTML"
        # PTB sends parse_mode/disable_notification/protect_content here too.
        await bot.edit_message_reply_markup(LAN, sent.message_id, reply_markup=markup(button("b")))
        assert fake.calls[-1].ok and "parse_mode" in fake.calls[-1].params
        with rejected(fake, 'unknown parameter "parse_mod"'):
            await bot.send_message(LAN, "x", api_kwargs={"parse_mod": "HTML"})
