"""/support and /requests: confidential requests for help ("Địa chỉ tin cậy").

A member tells the ward union what is wrong (a category, her words, optionally a photo) and who
may read it: only the ward's request handlers ("người tiếp nhận"), or also her chapter head.
The handlers are told through the outbox that a request came, never what it says; they read it
in /requests (every read is written to the audit log), acknowledge it, write back and set its
status. She is told of each through the outbox, without the words (a phone's preview must not
give her away): "📖 Read" shows her the thread, "↩ Reply" (or replying to it) goes on with it.
Not acknowledged within BOT_SUPPORT_ACK_HOURS, the ward's admins are told once (`escalate`).
Every screen she sees first, and every acknowledgement, carries the emergency numbers and says
the assistant is no emergency service; words that suggest danger bring the numbers at once.
"""

from __future__ import annotations

import html
import re
import secrets
import unicodedata
from datetime import datetime, time, timedelta
from typing import Any

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Message, Update
from telegram.ext import BaseHandler, CallbackQueryHandler, CommandHandler, MessageHandler, filters

from bot import callbacks, orgtree
from bot import disclosure as control
from bot.choices import Choice, Option
from bot.context import BotContext
from bot.i18n import N_, Translator, nfc, translator
from bot.permissions import Role, handles_requests_of
from handlers.kit import answers, menu, offers, outbox
from handlers.kit.flow import END, Flow
from handlers.kit.replies import (
    STALE,
    acknowledge,
    answer_stale,
    member_with_chapter,
    refuse,
    retire_buttons,
    say,
    typed_text,
)
from handlers.kit.scope import scope_name
from handlers.kit.screens import Screen, Views, put, remember
from storage import admin, audit, support, units
from storage.db import to_iso
from storage.support import BODY_MAX, CATEGORIES, Request

PREFIX = "sup"  # the member's flow: sup:<nonce>:<step>:o:<key>
LIST = "spl"  # /requests screens (kit.screens.Views)
WRITE = "spw"  # a free-text answer in a thread: spw:x cancels it
REPLY = "spm"  # "↩ Reply" under a message to the member: spm:<request id>
READ = "spv"  # "📖 Read" under a message to the member: spv:<request id> shows the thread
CATEGORY, WORDS, PHOTO, AUDIENCE, CONFIRM = "sp_cat", "sp_words", "sp_photo", "sp_who", "sp_ok"
PAGE_SIZE = 8
TEXT_LIMIT = 4000

CATEGORY_LABELS = {
    "family_conflict": N_("family conflict"),
    "domestic_violence": N_("domestic violence"),
    "legal_advice": N_("legal advice"),
    "livelihood": N_("livelihood hardship"),
    "other": N_("other"),
}
STATUS_LABELS = {
    "new": N_("new"),
    "acknowledged": N_("received"),
    "in_progress": N_("being resolved"),
    "resolved": N_("resolved"),
    "referred": N_("referred to the authorities"),
}
STATUS_MARKS = {"new": "🆕", "acknowledged": "👀", "in_progress": "🔧", "resolved": "✅",
                "referred": "↗"}
ERASED = N_("This request was deleted at the member's request.")
CANCEL = N_("✖ Cancel")
_READER = Flow("support", prefixes=(PREFIX,), entry_points=[], states={}, fallbacks=[])
"""Reads the step the request waits at (the application's own Flow is built in `handlers`)."""


# --- safety ----------------------------------------------------------------------------------


def safety_note(context: BotContext, t: Translator | None = None) -> str:
    """The emergency numbers, and that the assistant is not an emergency service."""
    t = t or context.t
    return t._("🆘 In an emergency call {numbers} at once. This assistant is not an emergency "
               "service: it passes your request to the ward union, who answer as soon as they "
               "can.", numbers=html.escape(context.settings.emergency_numbers))


def _plain(text: str) -> str:
    """NFC, lower case, without diacritics (đ → d): what danger words are matched on."""
    decomposed = unicodedata.normalize("NFD", nfc(text).casefold().replace("đ", "d"))
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def suggests_danger(context: BotContext, text: str) -> bool:
    """Whether her words contain one of the catalog's danger words (whole words)."""
    words = _words_of(text)
    return any(_words_of(w) in words for w in context.catalog.danger_words)


def _words_of(text: str) -> str:
    """' word word … ' of a text, plain: a phrase matches whole words only."""
    return " " + " ".join(re.findall(r"\w+", _plain(text))) + " "


async def _warn_if_danger(update: Update, context: BotContext, text: str) -> None:
    if suggests_danger(context, text):
        await say(update, context, context.t._("⚠️ If you are in danger right now, please call "
                                               "for help immediately: {numbers}.",
                                               numbers=html.escape(
                                                   context.settings.emergency_numbers)))


# --- the member's request --------------------------------------------------------------------


def _draft(context: BotContext) -> dict[str, Any]:
    assert context.user_data is not None
    return context.user_data.setdefault(PREFIX, {})


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
    context.user_data[PREFIX] = {"nonce": secrets.token_hex(3)}
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
        return await _cancelled(update, context)
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
    draft = (context.user_data or {}).get(PREFIX) or {}
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
        return await _words(update, context, text)
    option = _choice(context, step or "").resolve(text)
    if option is None:
        await say(update, context, context.t._("Please tap one of the buttons or type its "
                                               "number."))
        return await _next(update, context) if step != CATEGORY else await _ask(
            update, context, CATEGORY, context.t._("What is it about? Tap a button or type "
                                                   "its number."))
    return await _chosen(update, context, step or "", option.key)


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


async def _cancelled(update: Update, context: BotContext) -> int:
    if context.user_data is not None:
        context.user_data.pop(PREFIX, None)
    await say(update, context, context.t._("Cancelled; nothing was sent."))
    return END


async def cancel(update: Update, context: BotContext) -> int:
    """/cancel during the request."""
    return await _cancelled(update, context)


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
    if not await _tell_officers(context, request, _new_notice):
        admins = await support.admins_of(context.db, request.unit_id)
        await _tell(context, request, admins, _no_handler_notice)
    await say(update, context, "\n\n".join([
        t._("✅ Your request #{id} has been sent to the ward union. You will be told here when "
            "they answer; you can reply to them with the “↩ Reply” button.", id=request_id),
        safety_note(context)]))
    return END


# --- telling people (always through the outbox) -----------------------------------------------


def _new_notice(t: Translator, request: Request) -> str:
    return t._("📩 New request for help #{id} ({category}) — /requests", id=request.id,
               category=t._(CATEGORY_LABELS[request.category]))


def _answer_notice(t: Translator, request: Request) -> str:
    return t._("💬 The member answered in request #{id} ({category}) — /requests",
               id=request.id, category=t._(CATEGORY_LABELS[request.category]))


def _no_handler_notice(t: Translator, request: Request) -> str:
    return t._("📩 New request for help #{id} ({category}), but nobody handles requests in "
               "your unit yet. Please make an officer “request handler” with /grant.",
               id=request.id, category=t._(CATEGORY_LABELS[request.category]))


def _late_notice(t: Translator, request: Request, hours: float) -> str:
    return t._("⏰ Request for help #{id} ({category}) has not been acknowledged within {hours} "
               "hours. Please make sure a request handler takes it up.", id=request.id,
               category=t._(CATEGORY_LABELS[request.category]), hours=t.number(hours))


async def _tell(context: BotContext, request: Request, people: list[tuple[int, str]],
                text: Any, *, markup: str | None = None) -> bool:
    """One message per (member id, locale), written in her language; False: nobody."""
    if not people:
        return False
    await outbox.tell(context, [(member_id, text(translator(locale), request))
                                for member_id, locale in people],
                      kind="support", unit_id=request.unit_id, reply_markup=markup)
    return True


async def _tell_officers(context: BotContext, request: Request, text: Any) -> bool:
    """The handlers over her unit, and her chapter head if she allowed it."""
    people = await support.handlers_of(context.db, request.unit_id)
    if request.audience == "with_head":
        people += await support.heads_of(context.db, request.unit_id)
    return await _tell(context, request, list(dict.fromkeys(people)), text)


async def _tell_member(context: BotContext, request: Request, text: Any) -> None:
    """Her, in her language, with the "↩ Reply" button under the message."""
    member = await admin.member(context.db, request.member_id)
    if member is None:
        return
    t = translator(member.locale)
    markup = InlineKeyboardMarkup([[
        InlineKeyboardButton(t._("📖 Read"), callback_data=callbacks.encode(READ, request.id)),
        InlineKeyboardButton(t._("↩ Reply"), callback_data=callbacks.encode(REPLY, request.id)),
    ]]).to_json()
    await _tell(context, request, [(member.id, member.locale)], text, markup=markup)


# --- who may read ----------------------------------------------------------------------------


async def may_read(context: BotContext, request: Request) -> bool:
    """A handler over her unit, or her chapter head when she allowed it; nobody else."""
    principal = context.principal
    if principal is None:
        return False
    if await handles_requests_of(context.db, principal, request.unit_id):
        return True
    if request.audience != "with_head":
        return False
    chain = {u.id for u in await units.ancestry(context.db, request.unit_id)}
    return any(g.role == Role.CHAPTER_HEAD and g.unit_id in chain for g in principal.grants)


def _head_units(context: BotContext) -> list[int]:
    principal = context.principal
    assert principal is not None
    return [g.unit_id for g in principal.grants if g.role == Role.CHAPTER_HEAD]


async def _visible(context: BotContext) -> list[Request]:
    principal = context.principal
    assert principal is not None
    return await support.visible_to(context.db, handler_units=principal.handles,
                                    head_units=_head_units(context))


# --- /requests -------------------------------------------------------------------------------


def _local(context: BotContext, iso: str) -> datetime:
    return datetime.fromisoformat(iso.replace("Z", "+00:00")).astimezone(
        context.settings.timezone)


def _when(context: BotContext, iso: str) -> str:
    local = _local(context, iso)
    return context.t._("at {time} on {date}", time=f"{local:%H:%M}", date=context.t.date(local))


async def requests_command(update: Update, context: BotContext) -> None:
    """/requests: her list of requests, newest first."""
    principal = context.principal
    if principal is None or not (principal.handles or _head_units(context)):
        await refuse(update, context)
        return
    await put(update, context, await _render(context, "l", {"page": 0}), None)


async def _list_screen(context: BotContext, page: int) -> Screen:
    t = context.t
    found = await _visible(context)
    choice = Choice([Option(str(r.id), f"#{r.id} {STATUS_MARKS[r.status]} "
                            f"{t.date(_local(context, r.created_at))}")
                     for r in found], page_size=PAGE_SIZE).at_page(page)
    lines = [t._("📂 <b>Requests for help</b>")]
    if not found:
        lines.append(t._("There are no requests for you to handle."))
    for number, option in choice.visible():
        request = next(r for r in found if str(r.id) == option.key)
        lines.append(t._("{n}. #{id} · {category} · {status} · {when}", n=number, id=request.id,
                         category=t._(CATEGORY_LABELS[request.category]),
                         status=t._(STATUS_LABELS[request.status]),
                         when=_when(context, request.created_at)))
    lines += ["", t._("Tap a request to read it (each reading is recorded).")]
    remember(context, LIST, view="l", page=choice.page)
    return Screen("\n".join(lines), choice.keyboard(LIST, "l"), choice)


def _card_choice(context: BotContext, request: Request) -> Choice:
    t = context.t
    options = []
    if request.erased_at is None:
        if request.status == "new":
            options.append(Option("ack", t._("✅ Acknowledge")))
        options += [Option("write", t._("✍️ Write to her")), Option("status", t._("🔄 Status"))]
        if request.photo_file_id:
            options.append(Option("photo", t._("📷 See the photo")))
    options.append(Option("back", t._("◀ All requests")))
    return Choice(options, page_size=len(options))


async def _card_screen(context: BotContext, request: Request) -> Screen:
    t = context.t
    lines = [t._("<b>Request #{id}</b> · {category}", id=request.id,
                 category=t._(CATEGORY_LABELS[request.category])),
             t._("Status: {status}", status=t._(STATUS_LABELS[request.status])),
             t._("Sent {when} from {unit}", when=_when(context, request.created_at),
                 unit=html.escape(await orgtree.unit_path(context.db, request.unit_id)))]
    if request.erased_at is not None:
        lines += ["", t._(ERASED)]
    else:  # the content is shown: that is a read, recorded
        await _read(context, request)
        lines += ["", html.escape(request.body or "")]
        if request.photo_file_id:
            lines.append(t._("📷 A photo is attached."))
        head = len(lines)
        lines += await _thread_lines(context, request, you=t._("Member"))
    text = _fit(lines, keep=len(lines) if request.erased_at is not None else head)
    choice = _card_choice(context, request)
    remember(context, LIST, view="r", id=request.id)
    return Screen(text, choice.keyboard(LIST, "r", request.id), choice)


async def _thread_lines(context: BotContext, request: Request, *, you: str) -> list[str]:
    """The thread (newest last) and the closing note, one entry per message."""
    t = context.t
    lines = []
    for message in await support.thread(context.db, request.id):
        who = you if message.author == "member" else t._("Union")
        lines.append(f"\n<b>{who}</b> ({_when(context, message.at)}):\n"
                     f"{html.escape(message.body)}")
    if request.closing_note:
        lines.append("\n" + t._("Closing note: {note}", note=html.escape(request.closing_note)))
    return lines


def _fit(lines: list[str], *, keep: int) -> str:
    """The lines under Telegram's limit: the oldest thread messages (after the first `keep`
    lines, the request itself) give way first, shown as "…"."""
    while len("\n".join(lines)) > TEXT_LIMIT and len(lines) > keep + 1:
        lines = [*lines[:keep], "…", *lines[keep + 2:]] if lines[keep] == "…" else [
            *lines[:keep], "…", *lines[keep + 1:]]
    return "\n".join(lines)[:TEXT_LIMIT]


def _status_choice(context: BotContext) -> Choice:
    t = context.t
    return Choice([Option("in_progress", t._("🔧 Being resolved")),
                   Option("resolved", t._("✅ Resolved")),
                   Option("referred", t._("↗ Referred on")),
                   Option("back", t._("◀ Back"))])


async def _status_screen(context: BotContext, request: Request) -> Screen:
    t = context.t
    choice = _status_choice(context)
    remember(context, LIST, view="s", id=request.id)
    return Screen(t._("Request #{id}: which status now? (She is told.) “Referred on” means "
                      "referred to the authorities.", id=request.id), choice.keyboard(
                          LIST, "s", request.id), choice)


async def _render(context: BotContext, view: str, p: dict[str, Any]) -> Screen | None:
    if view == "l":
        return await _list_screen(context, p.get("page", 0))
    request = await support.get(context.db, p.get("id") or 0)
    if request is None or not await may_read(context, request):
        return None
    return await (_card_screen if view == "r" else _status_screen)(context, request)


async def _allowed(update: Update, context: BotContext, view: str, p: dict[str, Any]) -> bool:
    """The list is hers; a request only if she may read it now (her role may be gone)."""
    if view == "l":
        return True
    request = await support.get(context.db, p.get("id") or 0)
    if request is None or not await may_read(context, request):
        await refuse(update, context)
        return False
    return True


async def _read(context: BotContext, request: Request) -> None:
    """Every showing of a request's content is recorded (without the content or her name)."""
    assert context.principal is not None
    await audit.log(context.db, at=to_iso(context.clock.now()), actor_id=context.principal.user_id,
                    action="support.read", unit_id=request.unit_id,
                    details={"request": request.id})


async def _open(update: Update, context: BotContext, request_id: int | None,
                message: Message | None) -> None:
    request = await support.get(context.db, request_id or 0)
    if request is None or not await may_read(context, request):
        await refuse(update, context)
        return
    await acknowledge(update, context)
    await put(update, context, await _card_screen(context, request), message)


async def _act(update: Update, context: BotContext, *, view: str, p: dict[str, Any], key: str,
               message: Message | None) -> None:
    """Carry out one press or typed number on a /requests screen."""
    if not await _allowed(update, context, view, p):
        return
    if not key:  # a page of the list
        await acknowledge(update, context)
        await put(update, context, await _render(context, view, p), message)
        return
    if view == "l":
        await _open(update, context, answers.int_arg(key), message)
        return
    request = await support.get(context.db, p["id"])
    assert request is not None
    if key == "back":
        await acknowledge(update, context)
        screen = (await _list_screen(context, 0) if view == "r"
                  else await _card_screen(context, request))
        await put(update, context, screen, message)
        return
    if request.erased_at is not None:
        await acknowledge(update, context, context.t._(ERASED))
        return
    action = (_CARD_ACTIONS if view == "r" else _STATUS_ACTIONS).get(key)
    if action is None:
        await acknowledge(update, context, context.t._(STALE))
        return
    await action(update, context, request, message)


async def _acknowledge(update: Update, context: BotContext, request: Request,
                       message: Message | None) -> None:
    await _change_status(update, context, request, "acknowledged", message)


async def _change_status(update: Update, context: BotContext, request: Request, status: str,
                         message: Message | None, note: str | None = None) -> None:
    assert context.principal is not None
    changed = await support.set_status(context.db, request.id, status=status, note=note,
                                       by=context.principal.user_id,
                                       at=to_iso(context.clock.now()))
    await acknowledge(update, context, None if changed else context.t._(
        "Nothing changed: the request already has this status."))
    fresh = await support.get(context.db, request.id)
    assert fresh is not None
    if changed:
        numbers = context.settings.emergency_numbers
        await _tell_member(context, fresh, lambda t, r: _status_notice(t, r, numbers))
    await put(update, context, await _card_screen(context, fresh), message)


def _written_notice(t: Translator, request: Request) -> str:
    """What her phone shows of the union's answer: that there is one, never its words (the
    preview on a shared phone must not give her away)."""
    return t._("💬 The ward union wrote to you about your request #{id}. Tap “📖 Read” to see "
               "it here.", id=request.id)


def _status_notice(t: Translator, request: Request, numbers: str) -> str:
    lines = [t._("🔔 Your request for help #{id}: {status}.", id=request.id,
                 status=t._(STATUS_LABELS[request.status]))]
    if request.closing_note:
        lines.append(t._("The union wrote a closing note: tap “📖 Read” to see it."))
    if request.status == "acknowledged":
        lines.append(t._("An officer of the ward union has your request and will get back to "
                         "you."))
    lines.append(t._("🆘 In an emergency call {numbers} at once; this assistant is not an "
                     "emergency service.", numbers=html.escape(numbers)))
    return "\n\n".join(lines)


async def _photo(update: Update, context: BotContext, request: Request,
                 message: Message | None) -> None:
    await acknowledge(update, context)
    await _read(context, request)
    assert update.effective_chat is not None and request.photo_file_id is not None
    await context.bot.send_photo(update.effective_chat.id, request.photo_file_id)


async def _to_status(update: Update, context: BotContext, request: Request,
                     message: Message | None) -> None:
    await acknowledge(update, context)
    await put(update, context, await _status_screen(context, request), message)


async def _to_write(update: Update, context: BotContext, request: Request,
                    message: Message | None) -> None:
    await acknowledge(update, context)
    await _ask_text(update, context, request_id=request.id, kind="officer", text=context.t._(
        "Write your answer to request #{id} (up to {limit} characters); it is passed to her "
        "as the union's message.", id=request.id, limit=context.t.number(BODY_MAX)))


def _status_action(status: str) -> Any:
    async def action(update: Update, context: BotContext, request: Request,
                     message: Message | None) -> None:
        if status in support.CLOSED:
            await acknowledge(update, context)
            await _ask_text(update, context, request_id=request.id, kind=status,
                            text=context.t._("Write a short closing note for request #{id} "
                                             "(she is told it).", id=request.id))
            return
        await _change_status(update, context, request, status, message)

    return action


_CARD_ACTIONS = {"ack": _acknowledge, "photo": _photo, "status": _to_status,
                 "write": _to_write}
_STATUS_ACTIONS = {s: _status_action(s) for s in ("in_progress", "resolved", "referred")}

VIEWS = Views(prefix=LIST, role=Role.MEMBER, shapes={"l": (), "r": ("id",), "s": ("id",)},
              words={}, render=_render, allowed=_allowed, act=_act)
VIEWS.register()


# --- free text in a thread (officer's answer, closing note, the member's reply) --------------


async def _ask_text(update: Update, context: BotContext, *, request_id: int, kind: str,
                    text: str) -> None:
    assert context.user_data is not None
    context.user_data[WRITE] = {"id": request_id, "kind": kind}
    answers.ask(context, WRITE)
    await say(update, context, text, InlineKeyboardMarkup([[InlineKeyboardButton(
        context.t._(CANCEL), callback_data=callbacks.encode(WRITE, "x"))]]))


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
    lines = [t._("<b>Request #{id}</b> · {category}", id=request.id,
                 category=t._(CATEGORY_LABELS[request.category])),
             t._("Status: {status}", status=t._(STATUS_LABELS[request.status]))]
    lines += await _thread_lines(context, request, you=t._("You"))
    await say(update, context, _fit(lines, keep=2), InlineKeyboardMarkup([[InlineKeyboardButton(
        t._("↩ Reply"), callback_data=callbacks.encode(REPLY, request.id))]]))


async def reply_pressed(update: Update, context: BotContext) -> None:
    """"↩ Reply" under a message relayed to her: her answer goes into the same thread."""
    request = await _her_request(update, context)
    if request is None:
        return
    await acknowledge(update, context)
    await _ask_text(update, context, request_id=request.id, kind="member", text=context.t._(
        "Write your answer about request #{id}; it goes only to the officers who handle it.",
        id=request.id))


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
    assert message is not None and context.user_data is not None
    context.user_data[WRITE] = {"id": replied_request(message), "kind": "member"}
    answers.ask(context, WRITE)  # a text too long is refused; the next one answers the same
    await write_typed(update, context, message.text or "")


async def write_typed(update: Update, context: BotContext, text: str) -> bool:
    """The text asked for by `_ask_text`."""
    pending = (context.user_data or {}).get(WRITE)
    if not pending:
        return False
    t = context.t
    body = nfc(text).strip()
    if pending["kind"] == "member":
        await _warn_if_danger(update, context, body)
    if not body or len(body) > BODY_MAX:
        await say(update, context, t._("Please write between 1 and {limit} characters; nothing "
                                       "was sent yet.", limit=t.number(BODY_MAX)))
        return True
    request = await support.get(context.db, pending["id"])
    assert context.user_data is not None and context.principal is not None
    context.user_data.pop(WRITE, None)
    answers.release(context, WRITE)
    if request is None or request.erased_at is not None:
        await say(update, context, t._(ERASED if request is not None else STALE))
        return True
    await _WRITERS[pending["kind"] if pending["kind"] in _WRITERS else "close"](
        update, context, request, body, pending["kind"])
    return True


async def _member_writes(update: Update, context: BotContext, request: Request, body: str,
                         kind: str) -> None:
    member = context.principal.member if context.principal else None
    if member is None or member.id != request.member_id:
        await say(update, context, context.t._(STALE))
        return
    await support.add_message(context.db, request_id=request.id, author="member",
                              officer_id=None, body=body, at=to_iso(context.clock.now()))
    await _tell_officers(context, request, _answer_notice)
    await say(update, context, context.t._("✅ Sent. The officers are told; you will see their "
                                           "answer here."))


async def _officer_writes(update: Update, context: BotContext, request: Request, body: str,
                          kind: str) -> None:
    assert context.principal is not None
    if not await may_read(context, request):
        await refuse(update, context)
        return
    await support.add_message(context.db, request_id=request.id, author="officer",
                              officer_id=context.principal.user_id, body=body,
                              at=to_iso(context.clock.now()))
    if request.status == "new":
        await support.set_status(context.db, request.id, status="acknowledged",
                                 by=context.principal.user_id, at=to_iso(context.clock.now()))

    await _tell_member(context, request, _written_notice)
    await say(update, context, context.t._("✅ Your answer is passed to her."))


async def _closes(update: Update, context: BotContext, request: Request, body: str,
                  kind: str) -> None:
    if not await may_read(context, request):
        await refuse(update, context)
        return
    await _change_status(update, context, request, kind, None, note=body)


_WRITERS = {"member": _member_writes, "officer": _officer_writes, "close": _closes}


async def write_cancel(update: Update, context: BotContext) -> bool:
    """/cancel or ✖ while a thread answer is asked for."""
    if not (context.user_data or {}).get(WRITE):
        return False
    assert context.user_data is not None
    context.user_data.pop(WRITE, None)
    answers.release(context, WRITE)
    await acknowledge(update, context)
    await say(update, context, context.t._("Cancelled; nothing was sent."))
    return True


async def write_cancel_pressed(update: Update, context: BotContext) -> None:
    """✖ under a thread prompt."""
    if not await write_cancel(update, context):
        await answer_stale(update, context)
        if update.callback_query is not None:
            await retire_buttons(update.callback_query)


answers.register(WRITE, write_typed, cancel=write_cancel)


# --- escalation --------------------------------------------------------------------------------


async def escalate(context: BotContext) -> int:
    """Requests not acknowledged in time: the ward's admins are told once; how many."""
    hours = context.settings.support_ack_hours
    before = to_iso(context.clock.now() - timedelta(hours=hours))
    done = 0
    for request in await support.overdue(context.db, created_before=before):
        if not await support.mark_escalated(context.db, request.id, to_iso(context.clock.now())):
            continue
        admins = await support.admins_of(context.db, request.unit_id)
        await _tell(context, request, admins, lambda t, r: _late_notice(t, r, hours))
        done += 1
    return done


# --- statistics (a screen of /stats) ------------------------------------------------------------


async def support_stats(update: Update, context: BotContext, unit_id: int | None,
                        year: int) -> None:
    """Requests received, acknowledged in time and closed, by category, under disclosure
    control (categories are the cells; a unit's figures need K requests)."""
    t = context.t
    tz = context.settings.timezone
    start = datetime.combine(datetime(year, 1, 1).date(), time(), tz)
    end = datetime.combine(datetime(year + 1, 1, 1).date(), time(), tz)
    counts = await support.counts(context.db, start=to_iso(start), end=to_iso(end),
                                  ack_hours=context.settings.support_ack_hours)
    by_id = await orgtree.units_by_id(context.db)
    children: dict[int | None, list[int]] = {}
    for unit in by_id.values():
        if unit.merged_into is None:
            children.setdefault(unit.parent_id, []).append(unit.id)
    own: dict[int | None, control.Aggregate] = {}
    totals: dict[int | None, support.Counts] = {}
    inside = _subtree(children, unit_id)
    for where, cells in counts.items():
        shown = where if where in by_id and by_id[where].merged_into is None else (
            by_id[where].parent_id if where in by_id else None)
        n = sum(c.received for c in cells.values())
        own[shown] = own.get(shown, control.Aggregate()) + control.Aggregate(
            n, n, {code: c.received for code, c in cells.items()})
        if shown in inside or unit_id is None:
            for c in cells.values():
                totals[None] = totals.get(None, support.Counts()) + c
    k = context.settings.disclosure_k
    view = control.protect(children=children, own=own, codes=CATEGORIES, k=k).get(unit_id)
    total = totals.get(None, support.Counts())
    lines = [t._("🤝 <b>Requests for help {year}</b>", year=year),
             f"<b>{await scope_name(context, unit_id)}</b>", ""]
    if view is None or view.reason is not None:
        lines.append(t._("Fewer than {k} requests: no figures are shown, so that nobody can "
                         "be recognised.", k=k))
    else:
        lines += [t._("• Received: {n}", n=t.number(total.received)),
                  t._("• Acknowledged within {hours} hours: {n}",
                      hours=t.number(context.settings.support_ack_hours),
                      n=t.number(total.acknowledged_in_time)),
                  t._("• Resolved or referred: {n}", n=t.number(total.resolved)), "",
                  t._("By category:")]
        for code in CATEGORIES:
            cell = view.cells.get(code)
            lines.append(t._("• {category}: {n}", category=t._(CATEGORY_LABELS[code]),
                             n=f"&lt;{k}" if cell is None else t.number(cell)))
    await say(update, context, "\n".join(lines))


def _subtree(children: dict[int | None, list[int]], unit_id: int | None) -> set[int | None]:
    found: set[int | None] = {unit_id}
    stack = list(children.get(unit_id, ()))
    while stack:
        unit = stack.pop()
        found.add(unit)
        stack.extend(children.get(unit, ()))
    return found


offers.offer_scope_action("support", support_stats)


# --- wiring ----------------------------------------------------------------------------------


def _steps() -> dict[str, list[BaseHandler[Any, Any, Any]]]:
    press = CallbackQueryHandler(pressed, pattern=callbacks.pattern(PREFIX))
    text = MessageHandler(answers.ANSWER, typed)
    photo = MessageHandler(filters.PHOTO, photo_given)
    other = MessageHandler(~filters.COMMAND & ~filters.TEXT & ~filters.PHOTO, not_text)
    return {step: [press, text, photo, other]
            for step in (CATEGORY, WORDS, PHOTO, AUDIENCE, CONFIRM)}


def handlers() -> list[BaseHandler[Any, Any, Any]]:
    """The handlers of this feature, new for each application."""
    flow = Flow(
        "support",
        prefixes=(PREFIX,),
        entry_points=[
            CommandHandler("support", start, filters.ChatType.PRIVATE),
            MessageHandler(filters.ChatType.PRIVATE & menu.button_filter(menu.SUPPORT), start),
        ],
        states=_steps(),
        fallbacks=[CommandHandler("cancel", cancel)],
    )
    return [
        *flow.handlers(),
        CommandHandler("requests", requests_command, filters.ChatType.PRIVATE),
        VIEWS.handler(),
        CallbackQueryHandler(reply_pressed, pattern=callbacks.pattern(REPLY)),
        CallbackQueryHandler(read_pressed, pattern=callbacks.pattern(READ)),
        MessageHandler(filters.ChatType.PRIVATE & _RepliesInThread(), reply_in_thread),
        CallbackQueryHandler(write_cancel_pressed, pattern=callbacks.pattern(WRITE)),
    ]
