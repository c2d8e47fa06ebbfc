"""/support: a member asks the ward union for help in confidence ("Địa chỉ tin cậy").

She tells the union what is wrong (a category, her words, optionally a photo) and who may read
it: only the ward's request handlers ("người tiếp nhận"), or also her chapter head. The handlers
are told through the outbox that a request came, never what it says; they read and answer it in
/requests (`handlers/requests.py`). She is told of each answer without the words (a phone's
preview must not give her away): "📖 Read" shows her the thread, "↩ Reply" (or replying to it)
goes on with it. Not acknowledged within BOT_SUPPORT_ACK_HOURS, the ward's admins are told once
(`escalate`). Every screen she sees first carries the emergency numbers and says the assistant
is no emergency service; words that suggest danger bring the numbers at once. What both sides
share is in `bot/support.py`.
"""

from __future__ import annotations

import html
import secrets
from datetime import timedelta
from typing import Any, TypedDict

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Message, Update
from telegram.ext import BaseHandler, CallbackQueryHandler, CommandHandler, MessageHandler, filters

from bot import callbacks
from bot import support as service
from bot.choices import Choice, Option
from bot.context import BotContext
from bot.i18n import Translator, nfc
from bot.support import CANCEL, CANCELLED, CATEGORY_LABELS, ERASED, READ, REPLY, STATUS_LABELS
from handlers.kit import answers, menu, outbox
from handlers.kit.flow import END, Flow, drop_draft, text_or_option
from handlers.kit.replies import (
    STALE,
    acknowledge,
    answer_stale,
    member_with_chapter,
    retire_buttons,
    say,
    typed_text,
)
from storage import support
from storage.db import to_iso
from storage.support import BODY_MAX, CATEGORIES, Request

PREFIX = "sup"  # the member's flow: sup:<nonce>:<step>:o:<key>
CATEGORY, WORDS, PHOTO, AUDIENCE, CONFIRM = "sp_cat", "sp_words", "sp_photo", "sp_who", "sp_ok"
_READER = Flow("support", prefixes=(PREFIX,), entry_points=[], states={}, fallbacks=[])
"""Reads the step the request waits at (the application's own Flow is built in `handlers`)."""


# --- safety ----------------------------------------------------------------------------------


def safety_note(context: BotContext, t: Translator | None = None) -> str:
    """The emergency numbers, and that the assistant is not an emergency service."""
    return service.safety_note(t or context.t, context.settings.emergency_numbers)


def suggests_danger(context: BotContext, text: str) -> bool:
    """Whether her words contain one of the catalog's danger words (whole words)."""
    return service.suggests_danger(context.catalog.danger_words, text)


async def _warn_if_danger(update: Update, context: BotContext, text: str) -> None:
    if suggests_danger(context, text):
        await say(update, context, context.t._("⚠️ If you are in danger right now, please call "
                                               "for help immediately: {numbers}.",
                                               numbers=html.escape(
                                                   context.settings.emergency_numbers)))


# --- the member's request --------------------------------------------------------------------


class Draft(TypedDict, total=False):
    """The request she is writing (persisted in `user_data["sup"]`, so a restart keeps it)."""

    nonce: str  # carried by the buttons of this draft: older buttons are stale
    category: str  # a key of CATEGORY_LABELS
    body: str  # her words
    photo: str | None  # Telegram file_id
    audience: str  # "handlers" or "with_head"


class Answering(TypedDict):
    """The request her next text answers ("↩ Reply"; persisted in `user_data["spm"]`)."""

    id: int | None


def _draft(context: BotContext) -> Draft:
    assert context.user_data is not None
    draft: Draft = context.user_data.setdefault(PREFIX, {})
    return draft


def _choice(context: BotContext, step: str) -> Choice:
    t = context.t
    cancel = Option("x", t._(CANCEL))
    if step == CATEGORY:
        return Choice([*(Option(c, t._(CATEGORY_LABELS[c]).capitalize()) for c in CATEGORIES),
                       cancel], page_size=len(CATEGORIES) + 1)
    if step == PHOTO:
        return Choice([Option("skip", t._("Skip: no photo")), cancel])
    if step == AUDIENCE:
        return Choice([Option("handlers", t._("Only ward officers")),
                       Option("with_head", t._("Also my chapter head")), cancel])
    if step == CONFIRM:
        return Choice([Option("send", t._("✅ Send")), Option("words", t._("✏️ Change my words")),
                       cancel])
    return Choice([cancel])  # the words: free text


async def _ask(update: Update, context: BotContext, step: str, text: str) -> str:
    keyboard = _choice(context, step).keyboard(PREFIX, _draft(context)["nonce"], step)
    await say(update, context, text, keyboard)
    return step


async def start(update: Update, context: BotContext) -> str | None:
    """/support or the menu button: the first screen, with the emergency numbers."""
    member = await member_with_chapter(update, context)
    if member is None:
        return None
    t = context.t
    assert context.user_data is not None
    context.user_data[PREFIX] = Draft(nonce=secrets.token_hex(3))
    lines = [t._("🤝 <b>Ask the union for help</b>"), "",
             t._("What you write is read only by the ward union's officers who handle requests "
                 "(and your chapter head if you allow it). Nobody else sees it."), "",
             safety_note(context)]
    mine = await support.of_member(context.db, member.id)
    if mine:
        lines += ["", t._("Your requests:"), *(_member_line(t, r) for r in mine[:5])]
    lines += ["", t._("What is it about? Tap a button or type its number.")]
    return await _ask(update, context, CATEGORY, "\n".join(lines))


def _member_line(t: Translator, request: Request) -> str:
    return t._("• #{id} {category}: {status}", id=request.id,
               category=t._(CATEGORY_LABELS[request.category]),
               status=t._(STATUS_LABELS[request.status]))


async def _ask_words(update: Update, context: BotContext) -> str:
    t = context.t
    return await _ask(update, context, WORDS, t._(
        "Please tell us in your own words what is happening and what help you need (up to "
        "{limit} characters). You may also send one photo.", limit=t.number(BODY_MAX)))


async def _ask_confirm(update: Update, context: BotContext) -> str:
    t = context.t
    draft = _draft(context)
    who = (t._("the ward officers who handle requests and your chapter head")
           if draft["audience"] == "with_head" else t._("only the ward officers who handle "
                                                        "requests"))
    lines = [t._("Please check your request:"),
             t._("Category: {category}", category=t._(CATEGORY_LABELS[draft["category"]])),
             t._("Your words: {text}", text=html.escape(draft["body"])),
             t._("Photo: 📷 attached") if draft.get("photo") else t._("Photo: none"),
             t._("Who may read it: {who}", who=who), "", t._("Send it now?")]
    return await _ask(update, context, CONFIRM, "\n".join(lines))


async def _next(update: Update, context: BotContext) -> str:
    """The first question not answered yet."""
    draft = _draft(context)
    if not draft.get("body"):
        return await _ask_words(update, context)
    if "photo" not in draft:
        return await _ask(update, context, PHOTO, context.t._(
            "You may send one photo with it (optional), or tap the button."))
    if "audience" not in draft:
        return await _ask(update, context, AUDIENCE, context.t._(
            "Who may read your request? By default only the ward union's officers who handle "
            "requests; you may also allow your chapter head."))
    return await _ask_confirm(update, context)


async def _chosen(update: Update, context: BotContext, step: str, key: str) -> str | int:
    """Carry out an option of the current step (pressed or typed)."""
    draft = _draft(context)
    if key == "x":
        return await cancel(update, context)
    if step == CATEGORY:
        draft["category"] = key
    elif step == PHOTO:
        draft["photo"] = None
    elif step == AUDIENCE:
        draft["audience"] = key
    elif step == CONFIRM and key == "words":
        draft.pop("body", None)
        return await _ask_words(update, context)
    elif step == CONFIRM:
        return await _send(update, context)
    return await _next(update, context)


async def pressed(update: Update, context: BotContext) -> str | int | None:
    """A button of the current step."""
    query = update.callback_query
    assert query is not None
    data = callbacks.decode(query.data)
    draft: Draft = (context.user_data or {}).get(PREFIX) or Draft()
    step = data.arg(1) if data else None
    option = _choice(context, step).by_key(data.arg(3)) if data and step else None
    if (data is None or data.arg(0) != draft.get("nonce") or step is None
            or step != _READER.step(context) or option is None):
        await answer_stale(update, context)
        return None
    await query.answer()
    await retire_buttons(query, f"<i>{html.escape(option.label)}</i>")
    return await _chosen(update, context, step, option.key)


async def typed(update: Update, context: BotContext) -> str | int | None:
    """A typed answer: her words at the words step, else an option's number or name."""
    step = _READER.step(context)
    text = typed_text(update)
    if step == WORDS:
        return await _words_answered(update, context)
    option = _choice(context, step or "").resolve(text)
    if option is None:
        await say(update, context, context.t._("Please tap one of the buttons or type its "
                                               "number."))
        return await _next(update, context) if step != CATEGORY else await _ask(
            update, context, CATEGORY, context.t._("What is it about? Tap a button or type "
                                                   "its number."))
    return await _chosen(update, context, step or "", option.key)


async def _words_typed(update: Update, context: BotContext) -> str:
    return await _words(update, context, typed_text(update))


async def _words_option(update: Update, context: BotContext, key: str) -> str | int | None:
    return await _chosen(update, context, WORDS, key)


def _words_keyboard(context: BotContext) -> InlineKeyboardMarkup:
    return _choice(context, WORDS).keyboard(PREFIX, _draft(context)["nonce"], WORDS)


_words_answered = text_or_option(choice=lambda context: _choice(context, WORDS),
                                 chosen=_words_option, taken=_words_typed,
                                 keyboard=_words_keyboard)
"""Her words; a bare "1" is the "✖ Hủy" under them, another bare number is asked back."""


async def _words(update: Update, context: BotContext, text: str) -> str:
    """Her words: 1 to BODY_MAX characters; longer is refused with the limit, the rest kept."""
    t = context.t
    body = nfc(text).strip()
    await _warn_if_danger(update, context, body)
    if not body:
        await say(update, context, t._("Please write a few words about what happened."))
        return WORDS
    if len(body) > BODY_MAX:
        await say(update, context, t._(
            "That is {length} characters; the limit is {limit}. Please shorten it and send it "
            "again; what you chose so far is kept.", length=t.number(len(body)),
            limit=t.number(BODY_MAX)))
        return WORDS
    _draft(context)["body"] = body
    return await _next(update, context)


async def photo_given(update: Update, context: BotContext) -> str:
    """A photo (at the words or the photo step); its caption counts as her words."""
    message = update.effective_message
    assert message is not None and message.photo
    draft = _draft(context)
    draft["photo"] = message.photo[-1].file_id
    caption = nfc(message.caption or "").strip()
    if caption and not draft.get("body"):
        return await _words(update, context, caption)
    if not draft.get("body"):
        await say(update, context, context.t._("📷 Thank you, the photo is kept."))
    return await _next(update, context)


async def not_text(update: Update, context: BotContext) -> str | None:
    """A sticker, a file or a voice message in the flow: say what is expected."""
    await say(update, context, context.t._("Please write your answer as text (or send a "
                                           "photo), or tap a button."))
    return None


cancel = drop_draft(PREFIX)
"""/cancel (or its "✖ Hủy" option) during the request."""


async def _send(update: Update, context: BotContext) -> int:
    """Store the request, tell the ward's handlers (without its content), thank her."""
    t = context.t
    member = await member_with_chapter(update, context)
    draft = _draft(context)
    if member is None or member.unit_id is None:
        return END
    at = to_iso(context.clock.now())
    request_id = await support.open_request(
        context.db, member_id=member.id, unit_id=member.unit_id, category=draft["category"],
        audience=draft["audience"], body=draft["body"], photo_file_id=draft.get("photo"), at=at)
    assert context.user_data is not None
    context.user_data.pop(PREFIX, None)
    request = await support.get(context.db, request_id)
    assert request is not None
    if not await _tell_officers(context, request, service.new_notice):
        admins = await support.admins_of(context.db, request.unit_id)
        await _tell(context, request, admins, service.no_handler_notice)
    await say(update, context, "\n\n".join([
        t._("✅ Your request #{id} has been sent to the ward union. You will be told here when "
            "they answer; you can reply to them with the “↩ Reply” button.", id=request_id),
        safety_note(context)]))
    return END


# --- telling the officers (always through the outbox) -----------------------------------------


async def _tell(context: BotContext, request: Request, people: list[tuple[int, str]],
                text: service.Notice) -> bool:
    """One message per (member id, locale), written in her language; False: nobody."""
    if not people:
        return False
    await outbox.tell(context, service.letters(people, request, text), kind=service.KIND,
                      unit_id=request.unit_id)
    return True


async def _tell_officers(context: BotContext, request: Request, text: service.Notice) -> bool:
    """The handlers over her unit, and her chapter head if she allowed it."""
    people = await support.handlers_of(context.db, request.unit_id)
    if request.audience == "with_head":
        people += await support.heads_of(context.db, request.unit_id)
    return await _tell(context, request, list(dict.fromkeys(people)), text)


async def escalate(context: BotContext) -> int:
    """Requests not acknowledged in time: the ward's admins are told once; how many."""
    hours = context.settings.support_ack_hours
    before = to_iso(context.clock.now() - timedelta(hours=hours))
    done = 0
    for request in await support.overdue(context.db, created_before=before):
        if not await support.mark_escalated(context.db, request.id, to_iso(context.clock.now())):
            continue
        admins = await support.admins_of(context.db, request.unit_id)
        await _tell(context, request, admins, lambda t, r: service.late_notice(t, r, hours))
        done += 1
    return done


# --- her thread: "📖 Read", "↩ Reply" and her answers ------------------------------------------


async def _her_request(update: Update, context: BotContext) -> Request | None:
    """The request a press under a message to her names, if it is hers and not erased (else
    the press is answered)."""
    data = callbacks.decode(update.callback_query.data if update.callback_query else None)
    request = await support.get(context.db, answers.int_arg(data.arg(0) if data else None) or 0)
    member = context.principal.member if context.principal else None
    if request is None or member is None or request.member_id != member.id:
        await answer_stale(update, context)
        return None
    if request.erased_at is not None:
        await acknowledge(update, context, context.t._(ERASED))
        return None
    return request


async def read_pressed(update: Update, context: BotContext) -> None:
    """"📖 Read": her request's thread, shown to her in her chat (with "↩ Reply")."""
    request = await _her_request(update, context)
    if request is None:
        return
    await acknowledge(update, context)
    t = context.t
    lines = service.heading(t, request) + await service.thread_lines(
        context.db, t, request, tz=context.settings.timezone, you=t._("You"))
    await say(update, context, service.fit(lines, keep=2), InlineKeyboardMarkup([[
        InlineKeyboardButton(t._("↩ Reply"), callback_data=callbacks.encode(REPLY, request.id))]]))


async def reply_pressed(update: Update, context: BotContext) -> None:
    """"↩ Reply" under a message relayed to her: her answer goes into the same thread."""
    request = await _her_request(update, context)
    if request is None:
        return
    await acknowledge(update, context)
    _expect_answer(context, request.id)
    await say(update, context, context.t._(
        "Write your answer about request #{id}; it goes only to the officers who handle it.",
        id=request.id), answers.cancel_keyboard(context, REPLY))


def _expect_answer(context: BotContext, request_id: int | None) -> None:
    """Her next text answers in the thread of `request_id` (the chat's latest question)."""
    assert context.user_data is not None
    context.user_data[REPLY] = Answering(id=request_id)
    answers.ask(context, REPLY)


def replied_request(message: Message) -> int | None:
    """The request a message answers by replying to a relayed one (its "↩ Reply" button)."""
    replied = message.reply_to_message
    markup = replied.reply_markup if replied is not None else None
    for row in markup.inline_keyboard if markup is not None else ():
        for button in row:
            data = callbacks.decode(button.callback_data
                                    if isinstance(button.callback_data, str) else None)
            if data is not None and data.prefix == REPLY:
                return answers.int_arg(data.arg(0))
    return None


class _RepliesInThread(filters.MessageFilter):
    """A text that replies to a message relayed from a request's thread."""

    def filter(self, message: Message) -> bool:
        return bool(message.text) and replied_request(message) is not None


async def reply_in_thread(update: Update, context: BotContext) -> None:
    """She answered by replying to the union's message: it joins the same thread."""
    message = update.effective_message
    assert message is not None
    _expect_answer(context, replied_request(message))  # a text too long is refused; the next
    await answer_typed(update, context, message.text or "")  # one answers the same


async def answer_typed(update: Update, context: BotContext, text: str) -> bool:
    """Her answer asked for by "↩ Reply": into the thread, the officers told (not of what)."""
    pending: Answering | None = (context.user_data or {}).get(REPLY)
    if not pending:
        return False
    t = context.t
    body = nfc(text).strip()
    await _warn_if_danger(update, context, body)
    refused = service.refused_text(t, body)
    if refused is not None:
        await say(update, context, refused)
        return True
    answers.forget(context, REPLY)
    request = await support.get(context.db, pending["id"] or 0)
    member = context.principal.member if context.principal else None
    if request is not None and request.erased_at is not None:
        await say(update, context, t._(ERASED))
    elif request is None or member is None or member.id != request.member_id:
        await say(update, context, t._(STALE))
    else:
        await support.add_message(context.db, request_id=request.id, author="member",
                                  officer_id=None, body=body, at=to_iso(context.clock.now()))
        await _tell_officers(context, request, service.answer_notice)
        await say(update, context, t._("✅ Sent. The officers are told; you will see their "
                                       "answer here."))
    return True


answers.register(REPLY, answer_typed, cancel=answers.leave_prompt(REPLY, CANCELLED))


# --- wiring ----------------------------------------------------------------------------------


def _steps() -> dict[str, list[BaseHandler[Any, Any, Any]]]:
    press = CallbackQueryHandler(pressed, pattern=callbacks.pattern(PREFIX))
    text = MessageHandler(answers.ANSWER, typed)
    photo = MessageHandler(filters.PHOTO, photo_given)
    return {step: [press, text, photo]
            for step in (CATEGORY, WORDS, PHOTO, AUDIENCE, CONFIRM)}


def handlers() -> list[BaseHandler[Any, Any, Any]]:
    """The handlers of the member's side, new for each application."""
    flow = Flow(
        "support",
        prefixes=(PREFIX,),
        entry_points=[
            CommandHandler("support", start, filters.ChatType.PRIVATE),
            MessageHandler(filters.ChatType.PRIVATE & menu.button_filter(menu.SUPPORT), start),
        ],
        states=_steps(),
        fallbacks=Flow.standard_fallbacks(PREFIX, cancel=cancel, wrong_input=not_text),
    )
    return [
        *flow.handlers(),
        CallbackQueryHandler(reply_pressed, pattern=callbacks.pattern(REPLY)),
        CallbackQueryHandler(read_pressed, pattern=callbacks.pattern(READ)),
        MessageHandler(filters.ChatType.PRIVATE & _RepliesInThread(), reply_in_thread),
    ]
