"""/polls: members answer open polls; officers and members see their results.

Members answer by button or typed number ("1 3"), "other" in their own words; /polls lists the
open polls to answer and the results she may see, by unit, with a chart and, for a named poll's
creator, who answered what. bot/polls.py renders the poll and its results (protected when
anonymous); `handlers/poll_create.py` is the /poll flow that sends them.
"""

from __future__ import annotations

import functools
import html
import re
from dataclasses import replace
from typing import Any, TypedDict

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Message, Update
from telegram.ext import BaseHandler, CallbackQueryHandler, CommandHandler, filters

from bot import callbacks, orgtree
from bot import polls as service
from bot.choices import Choice, Option
from bot.context import BotContext
from bot.i18n import nfc
from bot.permissions import Role, may_act_on_unit
from handlers.kit import answers, scope
from handlers.kit.pictures import send_picture
from handlers.kit.replies import acknowledge, answer_stale, refuse, retire_buttons, say
from handlers.kit.screens import Params, Screen, Views, put, remember
from storage import polls
from storage.db import to_iso
from storage.polls import OTHER, Poll

LIST = "pl"  # /polls screens
OTHER_TEXT = "po"  # the typed "other" answer


class Held(TypedDict, total=False):
    """The poll she is answering (persisted in `user_data["sv"]`, typed numbers go to it)."""

    poll: int
    sel: list[int]  # the codes ticked so far (several answers), not yet sent


class Other(TypedDict, total=False):
    """Her answer waiting for its own words (persisted in `user_data["po"]`)."""

    poll: int
    choices: list[int]  # the codes chosen, "other" among them


def _held(context: BotContext) -> Held:
    held: Held = (context.user_data or {}).get(service.VOTE) or Held()
    return held


def _other(context: BotContext) -> Other:
    other: Other = (context.user_data or {}).get(OTHER_TEXT) or Other()
    return other
OTHER_MAX = 200


# --- answering ------------------------------------------------------------------------------


async def _answerable(update: Update, context: BotContext, poll_id: int | None
                      ) -> tuple[Poll, int, int] | None:
    """The poll, her member id and unit, if she may answer it now; else a clear sentence."""
    t = context.t
    poll = await polls.get(context.db, poll_id) if poll_id else None
    member = context.principal.member if context.principal else None
    text = None
    if poll is None:
        text = t._("This survey does not exist (or this button is from an old message).")
    elif member is None or member.unit_id is None:
        text = t._("Please register first with /start.")
    elif not poll.is_open(to_iso(context.clock.now())):
        text = t._("This survey closed {when}; answers are no longer taken.",
                   when=service.closing_text(t, poll, context.settings.timezone))
    elif not await polls.in_audience(context.db, poll, member.id):
        text = t._("This survey was not sent to you, so your answer cannot be counted.")
    if text is not None:
        await acknowledge(update, context, text)
        return None
    assert poll is not None and member is not None and member.unit_id is not None
    return poll, member.id, member.unit_id


async def _record(update: Update, context: BotContext, *, poll: Poll, member_id: int,
                  unit_id: int, choices: list[int], other_text: str | None = None) -> None:
    """Record her answer (asking first for her own words when she chose "other")."""
    t = context.t
    if OTHER in choices and other_text is None:
        assert context.user_data is not None
        context.user_data[OTHER_TEXT] = Other(poll=poll.id, choices=choices)
        answers.ask(context, OTHER_TEXT)
        await acknowledge(update, context)
        await say(update, context, t._("Please type your answer for “{other}” (at most {n} "
                                       "characters).", other=t._(service.OTHER_LABEL),
                                       n=OTHER_MAX),
                  InlineKeyboardMarkup([[InlineKeyboardButton(
                      t._("✖ Cancel"), callback_data=callbacks.encode(OTHER_TEXT, "x", poll.id))]]))
        return
    changed = await polls.answer_of(context.db, poll.id, member_id) is not None
    if not await polls.answer(context.db, poll, member_id=member_id, unit_id=unit_id,
                              choices=choices, other_text=other_text,
                              at=to_iso(context.clock.now())):
        await acknowledge(update, context, t._("This survey has just closed; your answer was "
                                               "not counted."))
        return
    shown = service.labels(t, poll)
    if other_text:  # her own words, not "Other (please specify)"
        words = other_text if len(other_text) <= 80 else other_text[:79] + "…"
        shown[OTHER] = t._("Other: “{words}”", words=words)
    chosen = ", ".join(html.escape(shown[c]) for c in sorted(choices, key=poll.codes.index))
    text = (t._("✅ Your answer was changed: {chosen}.", chosen=chosen) if changed
            else t._("✅ Thank you, your answer was recorded: {chosen}.", chosen=chosen))
    note = t._("You may change it until the survey closes {when}.",
               when=service.closing_text(t, poll, context.settings.timezone))
    await acknowledge(update, context)
    await say(update, context, f"{text}\n{note}")


def _selected(context: BotContext, poll_id: int) -> set[int]:
    """The answers she has ticked so far on a several-answers poll (not yet sent)."""
    held = _held(context)
    return set(held.get("sel", [])) if held.get("poll") == poll_id else set()


def _hold(context: BotContext, poll_id: int, selected: set[int]) -> None:
    """The poll she is answering owns her next typed numbers."""
    assert context.user_data is not None
    context.user_data[service.VOTE] = Held(poll=poll_id, sel=sorted(selected))
    answers.ask(context, service.VOTE)


async def vote_pressed(update: Update, context: BotContext) -> None:
    """A press under a poll: an answer (one choice), a toggle (several) or "Send"."""
    query = update.callback_query
    assert query is not None
    data = callbacks.decode(query.data)
    poll_id = answers.int_arg(data.arg(0)) if data else None
    found = await _answerable(update, context, poll_id)
    if found is None or data is None:
        return
    poll, member_id, unit_id = found
    action, code = data.arg(1), answers.int_arg(data.arg(2))
    valid = code is not None and code in poll.codes
    if action == "o" and valid and not poll.multiple:
        assert code is not None
        await _record(update, context, poll=poll, member_id=member_id, unit_id=unit_id,
                      choices=[code])
    elif action == "t" and valid and poll.multiple:
        selected = _selected(context, poll.id) or set(await _answered(context, poll, member_id))
        selected ^= {code}  # type: ignore[arg-type]
        _hold(context, poll.id, selected)
        await query.answer()
        if isinstance(query.message, Message):
            await query.message.edit_reply_markup(reply_markup=service.keyboard(
                context.t, poll, frozenset(selected)))
    elif action == "s" and poll.multiple and data.arg(2) is None:
        selected = _selected(context, poll.id)
        if not selected:
            await acknowledge(update, context, context.t._("Please choose at least one answer "
                                                           "first."))
            return
        await _record(update, context, poll=poll, member_id=member_id, unit_id=unit_id,
                      choices=sorted(selected))
    else:
        await answer_stale(update, context)


async def _answered(context: BotContext, poll: Poll, member_id: int) -> tuple[int, ...]:
    """The answer she has recorded already (empty if none)."""
    found = await polls.answer_of(context.db, poll.id, member_id)
    return found.choices if found else ()


def _numbers(text: str) -> list[int] | None:
    """'1 3', '1,3', '2.' → [1, 3]; None if it is not a list of numbers."""
    parts = [p for p in re.split(r"[\s,;]+", text.strip()) if p]
    if not parts or not all(p.rstrip(".").isascii() and p.rstrip(".").isdigit()
                            and len(p) < 4 for p in parts):
        return None
    return [int(p.rstrip(".")) for p in parts]


async def vote_typed(update: Update, context: BotContext, text: str) -> bool:
    """Typed numbers answering the poll she opened or pressed last."""
    held = _held(context)
    numbers = _numbers(text)
    if numbers is None or not held.get("poll"):
        return False
    found = await _answerable(update, context, held["poll"])
    if found is None:
        return True
    poll, member_id, unit_id = found
    codes = poll.codes
    t = context.t
    if any(not 1 <= n <= len(codes) for n in numbers) or (len(numbers) > 1 and not poll.multiple):
        await say(update, context, t._("Please type one number from 1 to {n}.", n=len(codes))
                  if not poll.multiple else t._("Please type numbers from 1 to {n}, e.g. “1 3”.",
                                                n=len(codes)))
        return True
    await _record(update, context, poll=poll, member_id=member_id, unit_id=unit_id,
                  choices=[codes[n - 1] for n in numbers])
    return True


async def other_typed(update: Update, context: BotContext, text: str) -> bool:
    """Her own words for "other"."""
    held = _other(context)
    found = await _answerable(update, context, held.get("poll"))
    if found is None:
        answers.release(context, OTHER_TEXT)
        return True
    words = nfc(text).strip()
    t = context.t
    if not words or len(words) > OTHER_MAX:
        await say(update, context, t._("Please type your answer in at most {n} characters.",
                                       n=OTHER_MAX))
        return True
    answers.release(context, OTHER_TEXT)
    poll, member_id, unit_id = found
    await _record(update, context, poll=poll, member_id=member_id, unit_id=unit_id,
                  choices=list(held["choices"]), other_text=words)
    return True


async def other_cancelled(update: Update, context: BotContext) -> bool:
    """/cancel while she was asked for her "other" answer."""
    answers.release(context, OTHER_TEXT)
    await say(update, context, context.t._("Cancelled; your answer was not changed."))
    return True


# --- /polls ---------------------------------------------------------------------------------


LIST_VIEW, RESULTS_VIEW = "l", "r"


async def _scope_units(context: BotContext) -> list[int] | None:
    """Every unit of her scope (None: all of them)."""
    found = await scope.roots(context)
    if found is None:
        return None
    ids: list[int] = []
    for root in found:
        ids += [unit.id for unit, _depth in await orgtree.sorted_tree(context.db, root)]
    return ids


async def _list_screen(context: BotContext) -> Screen:
    """/polls: the open polls she may answer, and the results she may see."""
    t = context.t
    now = to_iso(context.clock.now())
    member = context.principal.member if context.principal else None
    options: list[Option] = []
    lines = [t._("<b>Surveys</b>")]
    mine = await polls.for_member(context.db, member.id) if member else []
    for poll in mine:
        if poll.is_open(now):
            lines.append(t._("#{id} {question} (open until {when})", id=poll.id,
                             question=html.escape(poll.question[:80]),
                             when=service.closing_text(t, poll, context.settings.timezone)))
            options.append(Option(f"a{poll.id}", t._("✍ Answer #{id}", id=poll.id)))
        elif poll.show_results:
            options.append(Option(f"m{poll.id}", t._("📊 Results #{id}", id=poll.id)))
    principal = context.principal
    if principal is not None and principal.at_least(Role.CHAPTER_HEAD):
        for poll in await polls.in_units(context.db, await _scope_units(context)):
            if not any(o.key == f"r{poll.id}" for o in options):
                state = t._("open") if poll.is_open(now) else t._("closed")
                lines.append(t._("#{id} {question} ({state})", id=poll.id,
                                 question=html.escape(poll.question[:80]), state=state))
                options.append(Option(f"r{poll.id}", t._("📊 Results #{id}", id=poll.id)))
    if len(lines) == 1:
        lines.append(t._("No surveys for you right now."))
    choice = Choice(options[:20], page_size=20)
    return Screen("\n".join(lines), choice.keyboard(LIST, LIST_VIEW) if options else None,
                  choice)


async def _may_see_results(context: BotContext, poll: Poll) -> bool:
    """Its creator and the officers whose scope holds it see its results."""
    principal = context.principal
    assert principal is not None
    return poll.created_by == principal.user_id or await may_act_on_unit(
        context.db, principal, Role.CHAPTER_HEAD, poll.unit_id)


async def _visible_poll(update: Update, context: BotContext, poll_id: int | None) -> Poll | None:
    """The poll, if she may see its results; else she is refused."""
    poll = await polls.get(context.db, poll_id or 0)
    if poll is None or not await _may_see_results(context, poll):
        await refuse(update, context)
        return None
    return poll


async def _results(context: BotContext, poll: Poll, unit_id: int) -> service.Results:
    """The poll's figures at `unit_id` and its child units, as they may be shown now."""
    return await service.results(context.db, poll, scope_id=unit_id,
                                 k=context.settings.disclosure_k, now=context.clock.now())


async def _results_screen(context: BotContext, poll: Poll, unit_id: int) -> Screen:
    """The results at one unit, with buttons to its child units, the chart and who answered."""
    t = context.t
    view = await _results(context, poll, unit_id)
    closed = not poll.is_open(to_iso(context.clock.now()))
    text = service.results_text(t, view, closed=closed, k=context.settings.disclosure_k)
    if not poll.anonymous:
        texts = await polls.other_texts(context.db, poll.id, limit=10)
        if texts:
            text += "\n\n" + t._("<b>“Other” answers</b>") + "\n" + "\n".join(
                f"– {html.escape(x[:200])}" for x in texts)
    options = [Option(f"u{kid.unit_id}", service.short_label(kid.name)) for kid in view.children
               if kid.has_children]
    options.append(Option("c", t._("📈 Chart")))
    if not poll.anonymous and poll.created_by == (context.principal.user_id
                                                  if context.principal else None):
        options.append(Option("w", t._("👥 Who answered what")))
    if view.scope.unit_id != poll.unit_id:
        options.append(Option("up", t._("⬅ Back")))
    # Unnumbered: the text's "1. Sáng: 5 (50%)" is an answer, not the option "1. 📈 Biểu đồ"
    choice = Choice(options, page_size=20, numbered=False)
    return Screen(text[:4000], choice.keyboard(LIST, RESULTS_VIEW, poll.id, view.scope.unit_id),
                  choice)


async def _render(context: BotContext, view: str, p: Params) -> Screen | None:
    """The list, or a poll's results at a unit."""
    if view == LIST_VIEW:
        return await _list_screen(context)
    poll = await polls.get(context.db, p.get("poll") or 0)
    return await _results_screen(context, poll, p["unit"]) if poll is not None else None


async def _allowed(update: Update, context: BotContext, view: str, p: Params) -> bool:
    """The list is hers; a poll's results only if she may see them now."""
    return view == LIST_VIEW or await _visible_poll(update, context, p.get("poll")) is not None


async def _open_poll(update: Update, context: BotContext, poll_id: int) -> None:
    """Show an open poll to answer (typed numbers now answer it)."""
    found = await _answerable(update, context, poll_id)
    if found is None:
        return
    poll, member_id, _unit = found
    t = context.t
    unit = await orgtree.get(context.db, poll.unit_id)
    before = await _answered(context, poll, member_id)
    _hold(context, poll.id, set(before) if poll.multiple else set())
    await acknowledge(update, context)
    text = service.message_text(t, poll, unit_name=unit.name if unit else "",
                                timezone=context.settings.timezone)
    if before:
        shown = service.labels(t, poll)
        text += "\n\n" + t._("Your answer now: {chosen}.", chosen=", ".join(
            html.escape(shown[c]) for c in before if c in shown))
    await say(update, context, text + "\n" + t._("Tap a button or type its number."),
              service.keyboard(t, poll, frozenset(before) if poll.multiple else frozenset()))


async def _members_results(update: Update, context: BotContext, poll_id: int) -> None:
    """Results for a member: only once closed, only if the creator chose to show them."""
    t = context.t
    poll = await polls.get(context.db, poll_id)
    member = context.principal.member if context.principal else None
    if (poll is None or member is None or not poll.show_results
            or poll.is_open(to_iso(context.clock.now()))
            or not await polls.in_audience(context.db, poll, member.id)):
        await acknowledge(update, context, t._("These results are not shown to members."))
        return
    view = await _results(context, poll, poll.unit_id)
    await acknowledge(update, context)
    await say(update, context, service.results_text(t, replace(view, children=[]), closed=True,
                                                     k=context.settings.disclosure_k)[:4000])


async def _act(update: Update, context: BotContext, *, view: str, p: Params, key: str,
               message: Message | None) -> None:
    """A press or typed number on the list (answer, results) or on a results screen."""
    if view == LIST_VIEW:
        number = answers.int_arg(key[1:])
        if key[:1] == "a" and number:
            await _open_poll(update, context, number)
        elif key[:1] == "m" and number:
            await _members_results(update, context, number)
        elif key[:1] == "r" and number:
            await _open_results(update, context, poll_id=number, unit_id=None, message=None)
        else:
            await acknowledge(update, context)
            await put(update, context, await _list_screen(context), message)
        return
    await _results_action(update, context, p=p, key=key, message=message)


async def _open_results(update: Update, context: BotContext, *, poll_id: int,
                        unit_id: int | None, message: Message | None) -> None:
    """Show a poll's results at a unit (its own unit when None)."""
    poll = await _visible_poll(update, context, poll_id)
    if poll is None:
        return
    await acknowledge(update, context)
    unit = unit_id if unit_id is not None else poll.unit_id
    remember(context, LIST, view=RESULTS_VIEW, poll=poll.id, unit=unit)
    await put(update, context, await _results_screen(context, poll, unit), message)


async def _results_action(update: Update, context: BotContext, *, p: Params, key: str,
                          message: Message | None) -> None:
    """A press on a results screen: chart, who answered what, a child unit, back."""
    poll = await _visible_poll(update, context, p.get("poll"))
    if poll is None:
        return
    unit = p.get("unit") or poll.unit_id
    if key == "c":
        await acknowledge(update, context)
        await _send_chart(update, context, poll=poll, unit_id=unit)
    elif key == "w" and not poll.anonymous and context.principal is not None \
            and poll.created_by == context.principal.user_id:
        await acknowledge(update, context)
        await _send_who(update, context, poll)
    elif key == "up":
        target = await orgtree.get(context.db, unit)
        await _open_results(update, context, poll_id=poll.id,
                            unit_id=target.parent_id if target else poll.unit_id, message=message)
    elif key.startswith("u") and answers.int_arg(key[1:]):
        await _open_results(update, context, poll_id=poll.id, unit_id=answers.int_arg(key[1:]),
                            message=message)
    else:
        await _open_results(update, context, poll_id=poll.id, unit_id=unit, message=message)


async def _send_chart(update: Update, context: BotContext, *, poll: Poll, unit_id: int) -> None:
    """The results at a unit as a bar chart (hidden figures drawn as "not shown"); where the
    chat cannot show a picture (Zalo without a web address), the same figures as text."""
    from bot import charts  # matplotlib loads only when a chart is drawn

    t = context.t
    view = await _results(context, poll, unit_id)
    bars = [(label, None if view.scope.hidden else view.scope.cells.get(code))
            for code, label in service.labels(t, poll).items()]
    draw = functools.partial(charts.poll, bars, total=view.scope.counted, title=t._(
        "Survey #{id}: {question}", id=poll.id, question=poll.question[:80]),
        empty=t._("Too few answers to show yet."), hidden=t._("not shown"))
    chat = update.effective_chat
    assert chat is not None
    await send_picture(context, chat.id, draw=draw, caption=t._(
        "Survey #{id} · {unit} · {rate}", id=poll.id, unit=html.escape(view.scope.name),
        rate=service.rate_text(t, view.scope))[:1000], table=service.option_lines(t, view))


async def _send_who(update: Update, context: BotContext, poll: Poll) -> None:
    """A named poll's answers by member (for its creator), 40 to a message."""
    t = context.t
    shown = service.labels(t, poll)
    lines = [t._("<b>Who answered what</b> (survey #{id})", id=poll.id)]
    for name, found in await polls.named_answers(context.db, poll.id):
        chosen = ", ".join(html.escape(shown.get(c, "?")) for c in found.choices)
        extra = f" ({html.escape(found.other_text)})" if found.other_text else ""
        lines.append(f"• {html.escape(name)}: {chosen}{extra}")
    if len(lines) == 1:
        lines.append(t._("Nobody has answered yet."))
    for start in range(0, len(lines), 40):
        await say(update, context, "\n".join(lines[start:start + 40])[:4000])


VIEWS = Views(
    prefix=LIST,
    role=Role.MEMBER,
    shapes={LIST_VIEW: (), RESULTS_VIEW: ("poll", "unit")},
    words={},
    render=_render,
    allowed=_allowed,
    act=_act,
)
VIEWS.register()
answers.register(service.VOTE, vote_typed)
answers.register(OTHER_TEXT, other_typed, cancel=other_cancelled)


async def list_polls(update: Update, context: BotContext) -> None:
    """/polls: open surveys to answer; results she may see."""
    if context.principal is None or (context.principal.member is None
                                     and not context.principal.is_super_admin):
        await say(update, context, context.t._("Please register first with /start."))
        return
    remember(context, LIST, view=LIST_VIEW)
    screen = await _list_screen(context)
    await say(update, context, screen.text, screen.keyboard)


async def other_cancel_pressed(update: Update, context: BotContext) -> None:
    """'✖ Hủy' under the question for her "other" answer."""
    query = update.callback_query
    assert query is not None
    await query.answer()
    await retire_buttons(query)
    await other_cancelled(update, context)


def handlers() -> list[BaseHandler[Any, Any, Any]]:
    """The handlers of this feature, new for each application."""
    return [
        CommandHandler("polls", list_polls, filters.ChatType.PRIVATE),
        CallbackQueryHandler(vote_pressed, pattern=callbacks.pattern(service.VOTE)),
        CallbackQueryHandler(other_cancel_pressed, pattern=callbacks.pattern(OTHER_TEXT)),
        VIEWS.handler(),
    ]
