"""/requests: the ward's request handlers read and answer requests for help.

A request handler over her unit ("người tiếp nhận"), or her chapter head when she allowed it,
lists the requests, reads one (every read is written to the audit log), acknowledges it, writes
back and sets its status, closing it with a note. The member is told of each through the outbox,
without the words (`bot/support.py` writes the notices); she reads and answers in her own chat
(`handlers/support.py`). Also the requests' figures, a screen of /stats.
"""

from __future__ import annotations

import html
from typing import Any, TypedDict

from telegram import Message, Update
from telegram.ext import BaseHandler, CommandHandler, filters

from bot import orgtree
from bot import support as service
from bot.choices import Choice, Option
from bot.context import BotContext
from bot.i18n import nfc, translator
from bot.permissions import Role
from bot.support import CANCELLED, CATEGORY_LABELS, ERASED, STATUS_LABELS, STATUS_MARKS
from handlers.kit import answers, offers, outbox
from handlers.kit.replies import STALE, acknowledge, refuse, say
from handlers.kit.scope import scope_name
from handlers.kit.screens import Params, Screen, Views, put, remember
from storage import admin, audit, support
from storage.db import to_iso
from storage.support import BODY_MAX, CATEGORIES, Request

LIST = "spl"  # /requests screens (kit.screens.Views)
WRITE = "spw"  # an officer's free-text answer or closing note
PAGE_SIZE = 8


# --- who may read ----------------------------------------------------------------------------


async def may_read(context: BotContext, request: Request) -> bool:
    """A handler over her unit, or her chapter head when she allowed it; nobody else."""
    return await service.may_read(context.db, context.principal, request)


async def _readable(context: BotContext, request_id: int | None) -> Request | None:
    """The request, if it exists and she may read it now (her role may be gone)."""
    request = await support.get(context.db, request_id or 0)
    return request if request is not None and await may_read(context, request) else None


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


def _when(context: BotContext, iso: str) -> str:
    return service.when(context.t, context.settings.timezone, iso)


async def requests_command(update: Update, context: BotContext) -> None:
    """/requests: her list of requests, newest first."""
    principal = context.principal
    if principal is None or not (principal.handles or _head_units(context)):
        # Who may, so she knows whom to ask (a super-admin is no request handler either).
        t = context.t
        await say(update, context, t._("Sorry, you do not have permission to do this.") + "\n"
                  + t._("Requests for help are read by the request handlers the ward's officers "
                        "name (with /grant), and by a chapter head where the member allowed it."))
        return
    await put(update, context, await _render(context, "l", {"page": 0}), None)


async def _list_screen(context: BotContext, page: int) -> Screen:
    t = context.t
    found = await _visible(context)
    choice = Choice([Option(str(r.id), f"#{r.id} {STATUS_MARKS[r.status]} "
                            f"{t.date(service.local(context.settings.timezone, r.created_at))}")
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
    # No requests: no keyboard (an empty one is refused by Telegram).
    return Screen("\n".join(lines), choice.keyboard(LIST, "l") if found else None, choice)


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
    lines = [*service.heading(t, request),
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
        lines += await service.thread_lines(context.db, t, request,
                                            tz=context.settings.timezone, you=t._("Member"))
    text = service.fit(lines, keep=len(lines) if request.erased_at is not None else head)
    choice = _card_choice(context, request)
    remember(context, LIST, view="r", id=request.id)
    return Screen(text, choice.keyboard(LIST, "r", request.id), choice)


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


async def _render(context: BotContext, view: str, p: Params) -> Screen | None:
    if view == "l":
        return await _list_screen(context, p.get("page", 0))
    request = await _readable(context, p.get("id"))
    if request is None:
        return None
    return await (_card_screen if view == "r" else _status_screen)(context, request)


async def _allowed(update: Update, context: BotContext, view: str, p: Params) -> bool:
    """The list is hers; a request only if she may read it now (her role may be gone)."""
    if view == "l" or await _readable(context, p.get("id")) is not None:
        return True
    await refuse(update, context)
    return False


async def _read(context: BotContext, request: Request) -> None:
    """Every showing of a request's content is recorded (without the content or her name)."""
    assert context.principal is not None
    await audit.log(context.db, at=to_iso(context.clock.now()), actor_id=context.principal.user_id,
                    action="support.read", unit_id=request.unit_id,
                    details={"request": request.id})


async def _open(update: Update, context: BotContext, request_id: int | None,
                message: Message | None) -> None:
    request = await _readable(context, request_id)
    if request is None:
        await refuse(update, context)
        return
    await acknowledge(update, context)
    await put(update, context, await _card_screen(context, request), message)


async def _act(update: Update, context: BotContext, *, view: str, p: Params, key: str,
               message: Message | None) -> None:
    """Carry out one press or typed number on a /requests screen."""
    if not await _allowed(update, context, view, p):
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
    await _change_status(update, context, request, status="acknowledged", message=message)


async def _change_status(update: Update, context: BotContext, request: Request, *, status: str,
                         message: Message | None, note: str | None = None) -> None:
    """Set the status (and closing note); she is told when it changed; the card again."""
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
        await _tell_member(context, fresh, lambda t, r: service.status_notice(t, r, numbers))
    await put(update, context, await _card_screen(context, fresh), message)


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
        await _change_status(update, context, request, status=status, message=message)

    return action


_CARD_ACTIONS = {"ack": _acknowledge, "photo": _photo, "status": _to_status,
                 "write": _to_write}
_STATUS_ACTIONS = {s: _status_action(s) for s in ("in_progress", "resolved", "referred")}

VIEWS = Views(prefix=LIST, role=Role.MEMBER, shapes={"l": (), "r": ("id",), "s": ("id",)},
              words={}, render=_render, allowed=_allowed, act=_act)
VIEWS.register()




# --- writing to her, the closing note -----------------------------------------------------------


async def _tell_member(context: BotContext, request: Request, text: service.Notice) -> None:
    """Her, in her language, with "📖 Read" and "↩ Reply" under the message."""
    member = await admin.member(context.db, request.member_id)
    if member is None:
        return
    await outbox.tell(context, service.letters([(member.id, member.locale)], request, text),
                      kind=service.KIND, unit_id=request.unit_id,
                      reply_markup=service.member_buttons(translator(member.locale), request))


class Writing(TypedDict):
    """What her next text is (persisted in `user_data["spw"]`): see `_ask_text`."""

    id: int  # the request
    kind: str  # "officer": an answer; else the status it closes with


async def _ask_text(update: Update, context: BotContext, *, request_id: int, kind: str,
                    text: str) -> None:
    """Her next text is an answer (`kind` "officer") or a closing note (`kind` the status)."""
    assert context.user_data is not None
    context.user_data[WRITE] = Writing(id=request_id, kind=kind)
    answers.ask(context, WRITE)
    await say(update, context, text, answers.cancel_keyboard(context, WRITE))


async def write_typed(update: Update, context: BotContext, text: str) -> bool:
    """The text asked for by `_ask_text`."""
    pending: Writing | None = (context.user_data or {}).get(WRITE)
    if not pending:
        return False
    body = nfc(text).strip()
    refused = service.refused_text(context.t, body)
    if refused is not None:
        await say(update, context, refused)
        return True
    answers.forget(context, WRITE)
    request = await support.get(context.db, pending["id"])
    if request is None or request.erased_at is not None:
        await say(update, context, context.t._(ERASED if request is not None else STALE))
    elif not await may_read(context, request):
        await refuse(update, context)
    elif pending["kind"] == "officer":
        await _officer_writes(update, context, request, body)
    else:  # a closing note
        await _change_status(update, context, request, status=pending["kind"], message=None,
                             note=body)
    return True


async def _officer_writes(update: Update, context: BotContext, request: Request,
                          body: str) -> None:
    """Her answer into the thread; a new request is acknowledged by it."""
    assert context.principal is not None
    await support.add_message(context.db, request_id=request.id, author="officer",
                              officer_id=context.principal.user_id, body=body,
                              at=to_iso(context.clock.now()))
    if request.status == "new":
        await support.set_status(context.db, request.id, status="acknowledged",
                                 by=context.principal.user_id, at=to_iso(context.clock.now()))
    await _tell_member(context, request, service.written_notice)
    await say(update, context, context.t._("✅ Your answer is passed to her."))


answers.register(WRITE, write_typed, cancel=answers.leave_prompt(WRITE, CANCELLED))


# --- statistics (a screen of /stats) ------------------------------------------------------------


async def support_stats(update: Update, context: BotContext, unit_id: int | None,
                        year: int) -> None:
    """Requests received, acknowledged in time and closed, by category, under disclosure
    control (categories are the cells; a unit's figures need K requests)."""
    t = context.t
    settings = context.settings
    k = settings.disclosure_k
    total, view = await service.figures(context.db, unit_id, year=year, tz=settings.timezone,
                                        ack_hours=settings.support_ack_hours, k=k)
    lines = [t._("🤝 <b>Requests for help {year}</b>", year=year),
             f"<b>{await scope_name(context, unit_id)}</b>", ""]
    if view is None or view.reason is not None:
        lines.append(t._("Fewer than {k} requests: no figures are shown, so that nobody can "
                         "be recognised.", k=k))
    else:
        lines += [t._("• Received: {n}", n=t.number(total.received)),
                  t._("• Acknowledged within {hours} hours: {n}",
                      hours=t.number(settings.support_ack_hours),
                      n=t.number(total.acknowledged_in_time)),
                  t._("• Resolved or referred: {n}", n=t.number(total.resolved)), "",
                  t._("By category:")]
        for code in CATEGORIES:
            cell = view.cells.get(code)
            lines.append(t._("• {category}: {n}", category=t._(CATEGORY_LABELS[code]),
                             n=f"&lt;{k}" if cell is None else t.number(cell)))
    await say(update, context, "\n".join(lines))


offers.offer_scope_action("support", support_stats)


# --- wiring ----------------------------------------------------------------------------------


def handlers() -> list[BaseHandler[Any, Any, Any]]:
    """The handlers of the officers' side, new for each application."""
    return [
        CommandHandler("requests", requests_command, filters.ChatType.PRIVATE),
        VIEWS.handler(),
    ]
