"""/poll: an officer asks her members a question; /polls: answer open polls, see results.

Creating (admin: her scope, head: her chapter): question → options → one or several answers →
"other" option → anonymous or named → results shown to members after closing or never →
closing time → optional reminder → audience (a unit and a filter, as /broadcast) → a preview
exactly as members get it → the delivery outbox sends it. Members answer by button or typed
number ("1 3"); bot/polls.py renders the poll and its results (protected when anonymous).
"""

from __future__ import annotations

import html
import re
import secrets
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Message, Update
from telegram.ext import (
    BaseHandler,
    CallbackQueryHandler,
    CommandHandler,
    MessageHandler,
    filters,
)

from bot import callbacks, orgtree
from bot import polls as service
from bot.choices import Choice, Option
from bot.context import BotContext
from bot.i18n import N_, nfc
from bot.permissions import Role, may_act_on_unit
from handlers.kit import answers, scope
from handlers.kit.days import parse_local_datetime
from handlers.kit.flow import END, Flow
from handlers.kit.replies import (
    acknowledge,
    answer_stale,
    draft_press,
    refuse,
    requires,
    retire_buttons,
    say,
    typed_text,
)
from handlers.kit.replies import edit as edit_message
from handlers.kit.screens import Screen, Views, put, remember
from storage import deliveries, polls
from storage.db import to_iso
from storage.deliveries import NewBroadcast
from storage.polls import OTHER, NewPoll, Poll

PREFIX = "pc"  # the create flow
LIST = "pl"  # /polls screens
OTHER_TEXT = "po"  # the typed "other" answer
QUESTION_MAX, OPTION_MAX, OPTIONS_MAX, OTHER_MAX = 300, 100, 10, 200
HORIZON = timedelta(days=90)  # within the retention of delivery rows (its audience)

QUESTION, OPTIONS, KIND, WITH_OTHER, NAMING, SHOWING, CLOSING, REMINDER, UNIT, FILTER, PREVIEW = (
    "p_question", "p_options", "p_kind", "p_other", "p_naming", "p_showing", "p_closing",
    "p_reminder", "p_unit", "p_filter", "p_preview")
STEP = {QUESTION: "q", OPTIONS: "o", KIND: "k", WITH_OTHER: "h", NAMING: "n", SHOWING: "s",
        CLOSING: "c", REMINDER: "r", UNIT: "u", FILTER: "f", PREVIEW: "v"}

FILTER_LABELS = {
    "all": N_("Everyone"),
    "no_standard": N_("Not in standard yet"),
    "no_household": N_("Household not in yet"),
}


@dataclass(frozen=True, slots=True)
class Ask:
    """A step answered by one of a few buttons: the draft field it sets and what comes next."""

    field: str
    question: str
    options: tuple[tuple[str, str], ...]
    next: str


ASKS = {
    KIND: Ask("multiple", N_("May a member choose one answer or several?"),
              (("0", N_("One answer")), ("1", N_("Several answers"))), WITH_OTHER),
    WITH_OTHER: Ask("other", N_("Add an option “Other (please specify)” where she types her "
                                "own answer?"), (("1", N_("Yes, add it")), ("0", N_("No"))),
                    NAMING),
    NAMING: Ask("anonymous", N_("Anonymous (nobody sees who answered what) or named?"),
                (("1", N_("Anonymous")), ("0", N_("Named"))), SHOWING),
    SHOWING: Ask("show", N_("May members see the results once the survey has closed?"),
                 (("1", N_("Yes, after closing")), ("0", N_("No, never"))), CLOSING),
    PREVIEW: Ask("send", N_("Send it?"), (("1", N_("📤 Send now")), ("0", N_("✖ Cancel"))), ""),
}


def _draft(context: BotContext) -> dict[str, Any]:
    assert context.user_data is not None
    return context.user_data.setdefault(PREFIX, {})


def _cancel_row(context: BotContext) -> list[InlineKeyboardButton]:
    return [InlineKeyboardButton(context.t._("✖ Cancel"), callback_data=callbacks.encode(
        PREFIX, _draft(context)["nonce"], "x"))]


async def _prompt(update: Update, context: BotContext, text: str,
                  *rows: list[InlineKeyboardButton]) -> None:
    """A free-text question, with "✖ Hủy" under it."""
    await say(update, context, text, InlineKeyboardMarkup([*rows, _cancel_row(context)]))


def _choice(context: BotContext, state: str) -> Choice:
    t = context.t
    if state == FILTER:
        return Choice([Option(key, t._(FILTER_LABELS.get(key, key)))
                       for key in deliveries.AUDIENCE_FILTERS])
    return Choice([Option(key, t._(label)) for key, label in ASKS[state].options])


async def _ask_choice(update: Update, context: BotContext, state: str) -> str:
    question = (context.t._("Send it to everyone there, or only to members who are …")
                if state == FILTER else context.t._(ASKS[state].question))
    keyboard = _choice(context, state).keyboard(PREFIX, _draft(context)["nonce"], STEP[state])
    await say(update, context, question, keyboard)
    return state


# --- entry, question, options ---------------------------------------------------------------


@requires(Role.CHAPTER_HEAD)
async def start_poll(update: Update, context: BotContext) -> str:
    """/poll: begin a survey."""
    assert context.user_data is not None
    context.user_data[PREFIX] = {"nonce": secrets.token_hex(3), "options": [], "page": 0}
    await _prompt(update, context, context.t._(
        "A new survey. Please type the question (at most {n} characters).", n=QUESTION_MAX))
    return QUESTION


async def question_typed(update: Update, context: BotContext) -> str:
    """The question: not empty, at most QUESTION_MAX characters."""
    text = nfc(typed_text(update)).strip()
    t = context.t
    if not text:
        await _prompt(update, context, t._("The question is empty. Please type it."))
        return QUESTION
    if len(text) > QUESTION_MAX:
        await _prompt(update, context, t._(
            "That is {length} characters; a question may have at most {n}. Please shorten it.",
            length=t.number(len(text)), n=QUESTION_MAX))
        return QUESTION
    _draft(context)["question"] = text
    await _prompt(update, context, t._(
        "Now the options, 2 to {n}: one per message, or several at once, one per line.",
        n=OPTIONS_MAX))
    return OPTIONS


def _fold(text: str) -> str:
    return nfc(text).casefold().strip()


async def options_typed(update: Update, context: BotContext) -> str:
    """Options, one per line; empty, duplicate, too long and the 11th are refused."""
    t = context.t
    draft = _draft(context)
    have: list[str] = draft["options"]
    problems = []
    for line in typed_text(update).splitlines() or [""]:
        option = re.sub(r"\s+", " ", nfc(line)).strip()
        if not option:
            problems.append(t._("An empty option was left out."))
        elif len(option) > OPTION_MAX:
            problems.append(t._("An option may have at most {n} characters: “{option}…” was "
                                "left out.", n=OPTION_MAX, option=html.escape(option[:30])))
        elif _fold(option) in {_fold(o) for o in have}:
            problems.append(t._("“{option}” is there already.", option=html.escape(option)))
        elif len(have) >= OPTIONS_MAX:
            problems.append(t._("A survey has at most {n} options: “{option}” was left out.",
                                n=OPTIONS_MAX, option=html.escape(option)))
        else:
            have.append(option)
    listed = "\n".join(f"{n}. {html.escape(o)}" for n, o in enumerate(have, 1))
    lines = [*problems, t._("Options so far:"), listed] if have else problems
    done = [InlineKeyboardButton(t._("✅ Done with options"), callback_data=callbacks.encode(
        PREFIX, draft["nonce"], "o", "done"))] if len(have) >= 2 else []
    more = t._("Type another option, or press “Done with options”.") if len(have) >= 2 else t._(
        "Please type at least two options.")
    await _prompt(update, context, "\n".join([*lines, "", more]), *([done] if done else []))
    return OPTIONS


async def options_done(update: Update, context: BotContext) -> str | None:
    """'Done with options' (only offered with two or more)."""
    query = update.callback_query
    assert query is not None
    if draft_press(update, context, PREFIX) is None or len(_draft(context)["options"]) < 2:
        await answer_stale(update, context)
        return None
    await query.answer()
    await retire_buttons(query)
    return await _ask_choice(update, context, KIND)


# --- the button steps -----------------------------------------------------------------------


async def _chosen(update: Update, context: BotContext, state: str, key: str) -> str | int:
    draft = _draft(context)
    if state == FILTER:
        draft["audience"] = key
        return await _preview(update, context)
    if state == PREVIEW:
        return await _send(update, context) if key == "1" else await cancel(update, context)
    ask = ASKS[state]
    draft[ask.field] = key == "1"
    if ask.next in ASKS:
        return await _ask_choice(update, context, ask.next)
    return await _ask_closing(update, context)


async def step_pressed(update: Update, context: BotContext) -> str | int | None:
    """A button of a choice step (the step is in the callback data)."""
    query = update.callback_query
    assert query is not None
    data = draft_press(update, context, PREFIX)
    state = next((s for s, code in STEP.items() if data and code == data.arg(1)), None)
    if data is None or state is None or state not in (*ASKS, FILTER):
        await answer_stale(update, context)
        return None
    option = _choice(context, state).by_key(data.arg(3))
    if option is None:
        await answer_stale(update, context)
        return None
    await query.answer()
    await retire_buttons(query, f"<i>{html.escape(option.label)}</i>")
    return await _chosen(update, context, state, option.key)


def _typed_step(state: str) -> Any:
    async def typed(update: Update, context: BotContext) -> str | int | None:
        option = _choice(context, state).resolve(typed_text(update))
        if option is None:
            await say(update, context, context.t._("Please tap one of the buttons or type its "
                                                   "number."))
            return None
        return await _chosen(update, context, state, option.key)

    typed.__doc__ = f"The {state} step answered by number."
    return typed


# --- closing, reminder ----------------------------------------------------------------------


async def _ask_closing(update: Update, context: BotContext) -> str:
    await _prompt(update, context, context.t._(
        "When does the survey close? Type the date and time, e.g. 30/5 20:00 or 30/5/2026 "
        "20:00 (Vietnam time)."))
    return CLOSING


def _when(context: BotContext, text: str) -> datetime | None:
    local_now = context.clock.now().astimezone(context.settings.timezone)
    return parse_local_datetime(text, local_now)


async def closing_typed(update: Update, context: BotContext) -> str:
    """The closing time: in the future, within HORIZON."""
    t = context.t
    when, now = _when(context, typed_text(update)), context.clock.now()
    if when is None:
        await _prompt(update, context, t._("I could not read that. Please type it like 30/5 "
                                           "20:00 or 30/5/2026 20:00."))
        return CLOSING
    if when <= now or when - now > HORIZON:
        await _prompt(update, context, t._("Please choose a time in the future, within {days} "
                                           "days.", days=HORIZON.days))
        return CLOSING
    _draft(context)["closes_at"] = to_iso(when)
    none = InlineKeyboardButton(t._("No reminder"), callback_data=callbacks.encode(
        PREFIX, _draft(context)["nonce"], "r", "none"))
    await _prompt(update, context, t._(
        "Remind those who have not answered yet? Type when (once, before the closing time), "
        "e.g. 29/5 19:00, or press “No reminder”."), [none])
    return REMINDER


async def reminder_typed(update: Update, context: BotContext) -> str | int:
    """The reminder time: after now, before the closing time."""
    t = context.t
    draft = _draft(context)
    when, now = _when(context, typed_text(update)), context.clock.now()
    if when is None:
        await _prompt(update, context, t._("I could not read that. Please type it like 29/5 "
                                           "19:00, or press “No reminder”."))
        return REMINDER
    if when <= now or to_iso(when) >= draft["closes_at"]:
        await _prompt(update, context, t._("The reminder must be in the future and before the "
                                           "survey closes."))
        return REMINDER
    draft["remind_at"] = to_iso(when)
    return await _ask_unit(update, context)


async def no_reminder(update: Update, context: BotContext) -> str | int | None:
    """'No reminder'."""
    query = update.callback_query
    assert query is not None
    if draft_press(update, context, PREFIX) is None:
        await answer_stale(update, context)
        return None
    await query.answer()
    await retire_buttons(query)
    _draft(context)["remind_at"] = None
    return await _ask_unit(update, context)


# --- audience -------------------------------------------------------------------------------


async def _unit_choice(context: BotContext) -> Choice:
    """The units she may address: the top of her scope and, below one top unit, its children."""
    t = context.t
    found = await scope.roots(context)
    tops = [u.id for u in await orgtree.children(context.db, None)] if found is None else found
    options = []
    for unit_id in tops:
        unit = await orgtree.get(context.db, unit_id)
        if unit is None:
            continue
        label = t._("📣 The whole unit") if len(tops) == 1 else _short(unit.name)
        options.append(Option(str(unit.id), label))
        if len(tops) == 1:
            options += [Option(str(kid.id), _short(kid.name))
                        for kid in await orgtree.children(context.db, unit.id)]
    return Choice(options, page=_draft(context).get("page", 0))


def _short(label: str, limit: int = 20) -> str:
    """A label that fits its button with its number ("12. " + 20 characters); the end of a
    unit's name tells it apart ("…tổ dân phố số 12")."""
    return label if len(label) <= limit else "…" + label[-(limit - 1):]


async def _ask_unit(update: Update, context: BotContext, *, edit: Message | None = None
                    ) -> str | int:
    choice = await _unit_choice(context)
    if len(choice.options) == 1:
        return await _unit_chosen(update, context, int(choice.options[0].key))
    keyboard = choice.keyboard(PREFIX, _draft(context)["nonce"], "u")
    tops = await scope.roots(context)
    top = await orgtree.get(context.db, tops[0]) if tops and len(tops) == 1 else None
    where = [context.t._("Unit: {unit}", unit=html.escape(top.name))] if top else []
    text = "\n".join([*where, context.t._("Who should receive it?"),
                      context.t._("Tap a button or type its number.")])
    if edit is not None:
        await edit_message(edit, text, keyboard)
    else:
        await say(update, context, text, keyboard)
    return UNIT


async def _unit_chosen(update: Update, context: BotContext, unit_id: int) -> str | int:
    assert context.principal is not None
    if not await may_act_on_unit(context.db, context.principal, Role.CHAPTER_HEAD, unit_id):
        await refuse(update, context)
        return UNIT
    _draft(context)["unit_id"] = unit_id
    if len(deliveries.AUDIENCE_FILTERS) > 1:
        return await _ask_choice(update, context, FILTER)
    _draft(context)["audience"] = "all"
    return await _preview(update, context)


async def unit_pressed(update: Update, context: BotContext) -> str | int | None:
    """A unit, or a page of them."""
    query = update.callback_query
    assert query is not None
    data = draft_press(update, context, PREFIX)
    if data is None:
        await answer_stale(update, context)
        return None
    if data.arg(2) == "p" and answers.int_arg(data.arg(3)) is not None:
        await query.answer()
        _draft(context)["page"] = answers.int_arg(data.arg(3))
        message = query.message if isinstance(query.message, Message) else None
        return await _ask_unit(update, context, edit=message)
    option = (await _unit_choice(context)).by_key(data.arg(3))
    if option is None:
        await answer_stale(update, context)
        return None
    await query.answer()
    await retire_buttons(query, f"<i>{html.escape(option.label)}</i>")
    return await _unit_chosen(update, context, int(option.key))


async def unit_typed(update: Update, context: BotContext) -> str | int | None:
    """A unit chosen by number."""
    option = (await _unit_choice(context)).resolve(typed_text(update))
    if option is None:
        await say(update, context, context.t._("Please tap one of the buttons or type its number."))
        return None
    return await _unit_chosen(update, context, int(option.key))


# --- preview and sending --------------------------------------------------------------------


def _drafted(context: BotContext) -> Poll:
    """The draft as the poll members would get (id 0: its buttons answer nothing)."""
    draft = _draft(context)
    assert context.user_data is not None
    return Poll(id=0, created_by=0, unit_id=draft["unit_id"], audience=draft["audience"],
                question=draft["question"], options=tuple(draft["options"]),
                multiple=draft["multiple"], other=draft["other"], anonymous=draft["anonymous"],
                show_results=draft["show"], locale=context.locale, closes_at=draft["closes_at"],
                remind_at=draft.get("remind_at"), reminded_at=None, closed_at=None,
                broadcast_id=None, created_at="")


async def _preview(update: Update, context: BotContext) -> str | int:
    t = context.t
    chat = update.effective_chat
    assert chat is not None
    poll = _drafted(context)
    unit = await orgtree.get(context.db, poll.unit_id)
    count = await deliveries.count_recipients(context.db, poll.unit_id, poll.audience,
                                              context.this_year, sender=chat.id)
    await say(update, context, t._("Preview: this is exactly what members will receive."))
    await say(update, context, service.message_text(
        t, poll, unit_name=unit.name if unit else "", timezone=context.settings.timezone),
        service.keyboard(t, poll))
    if count == 0:
        context.user_data.pop(PREFIX, None)  # type: ignore[union-attr]
        await say(update, context, t._("No member would receive it (nobody in this audience can "
                                       "be reached now). Nothing was sent."))
        return END
    keyboard = _choice(context, PREVIEW).keyboard(PREFIX, _draft(context)["nonce"], "v")
    await say(update, context, t.n_("It will go to {n} member.", "It will go to {n} members.",
                                    count), keyboard)
    return PREVIEW


async def _send(update: Update, context: BotContext) -> int:
    t = context.t
    user, chat = update.effective_user, update.effective_chat
    assert user is not None and chat is not None and context.principal is not None
    draft = _draft(context)
    if not await may_act_on_unit(context.db, context.principal, Role.CHAPTER_HEAD,
                                 draft["unit_id"]):
        await refuse(update, context)
        return END
    now = to_iso(context.clock.now())
    drafted = _drafted(context)
    poll = await polls.create(context.db, NewPoll(
        draft_key=f"{user.id}:{draft['nonce']}", created_by=user.id, unit_id=drafted.unit_id,
        audience=drafted.audience, question=drafted.question, options=drafted.options,
        multiple=drafted.multiple, other=drafted.other, anonymous=drafted.anonymous,
        show_results=drafted.show_results, locale=drafted.locale, closes_at=drafted.closes_at,
        remind_at=drafted.remind_at, created_at=now))
    context.user_data.pop(PREFIX, None)  # type: ignore[union-attr]
    if poll is None:
        await say(update, context, t._("This survey has already been sent."))
        return END
    unit = await orgtree.get(context.db, poll.unit_id)
    status = await say(update, context, t._("⏳ Preparing to send …"))
    broadcast_id = await polls.send(context.db, poll, NewBroadcast(
        draft_key=f"poll:{poll.id}", created_by=user.id, sender_chat_id=chat.id,
        unit_id=poll.unit_id, audience=poll.audience, text_html=service.message_text(
            t, poll, unit_name=unit.name if unit else "", timezone=context.settings.timezone),
        photo_file_id=None, scheduled_at=now, kind="poll",
        reply_markup=service.markup_json(service.keyboard(t, poll))))
    if broadcast_id is not None:
        await deliveries.set_progress_message(context.db, broadcast_id, chat.id,
                                              status.message_id)
        context.delivery.wake()
    await say(update, context, t._("Survey #{id} is on its way. Its results: /polls.",
                                   id=poll.id))
    return END


async def cancel(update: Update, context: BotContext) -> int:
    """/cancel or "✖ Hủy": drop the draft; nothing is sent."""
    return await answers.cancel(update, context, PREFIX,
                                context.t._("Cancelled; nothing was sent."))


async def cancel_pressed(update: Update, context: BotContext) -> int | None:
    """The "✖ Hủy" button under a question of the draft."""
    query = update.callback_query
    assert query is not None
    if draft_press(update, context, PREFIX) is None:
        await answer_stale(update, context)
        return None
    await query.answer()
    await retire_buttons(query)
    return await cancel(update, context)


async def wrong_input(update: Update, context: BotContext) -> None:
    """Something that does not answer the current question."""
    await say(update, context, context.t._(
        "I cannot use that here. Please answer the last question with text or a button, "
        "or send /cancel to stop."))


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


async def _record(update: Update, context: BotContext, poll: Poll, member_id: int, unit_id: int,
                  choices: list[int], other_text: str | None = None) -> None:
    t = context.t
    if OTHER in choices and other_text is None:
        assert context.user_data is not None
        context.user_data[OTHER_TEXT] = {"poll": poll.id, "choices": choices}
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
    chosen = ", ".join(html.escape(shown[c]) for c in sorted(choices, key=poll.codes.index))
    text = (t._("✅ Your answer was changed: {chosen}.", chosen=chosen) if changed
            else t._("✅ Thank you, your answer was recorded: {chosen}.", chosen=chosen))
    note = t._("You may change it until the survey closes {when}.",
               when=service.closing_text(t, poll, context.settings.timezone))
    await acknowledge(update, context)
    await say(update, context, f"{text}\n{note}")


def _selected(context: BotContext, poll_id: int) -> set[int]:
    held = (context.user_data or {}).get(service.VOTE) or {}
    return set(held.get("sel", [])) if held.get("poll") == poll_id else set()


def _hold(context: BotContext, poll_id: int, selected: set[int]) -> None:
    """The poll she is answering owns her next typed numbers."""
    assert context.user_data is not None
    context.user_data[service.VOTE] = {"poll": poll_id, "sel": sorted(selected)}
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
        await _record(update, context, poll, member_id, unit_id, [code])
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
        await _record(update, context, poll, member_id, unit_id, sorted(selected))
    else:
        await answer_stale(update, context)


async def _answered(context: BotContext, poll: Poll, member_id: int) -> tuple[int, ...]:
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
    held = (context.user_data or {}).get(service.VOTE) or {}
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
    await _record(update, context, poll, member_id, unit_id, [codes[n - 1] for n in numbers])
    return True


async def other_typed(update: Update, context: BotContext, text: str) -> bool:
    """Her own words for "other"."""
    held = (context.user_data or {}).get(OTHER_TEXT) or {}
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
    await _record(update, context, *found, list(held["choices"]), words)
    return True


async def other_cancelled(update: Update, context: BotContext) -> bool:
    """/cancel while she was asked for her "other" answer."""
    answers.release(context, OTHER_TEXT)
    await say(update, context, context.t._("Cancelled; your answer was not changed."))
    return True


# --- /polls ---------------------------------------------------------------------------------


LIST_VIEW, RESULTS_VIEW = "l", "r"


async def _scope_units(context: BotContext) -> list[int] | None:
    found = await scope.roots(context)
    if found is None:
        return None
    ids: list[int] = []
    for root in found:
        ids += [unit.id for unit, _depth in await orgtree.sorted_tree(context.db, root)]
    return ids


async def _list_screen(context: BotContext) -> Screen:
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
    principal = context.principal
    assert principal is not None
    return poll.created_by == principal.user_id or await may_act_on_unit(
        context.db, principal, Role.CHAPTER_HEAD, poll.unit_id)


async def _results_screen(context: BotContext, poll: Poll, unit_id: int) -> Screen:
    t = context.t
    k = context.settings.disclosure_k
    view = await service.results(context.db, poll, scope_id=unit_id, k=k,
                                 now=context.clock.now())
    closed = not poll.is_open(to_iso(context.clock.now()))
    text = service.results_text(t, view, closed=closed, k=k)
    if not poll.anonymous:
        texts = await polls.other_texts(context.db, poll.id, limit=10)
        if texts:
            text += "\n\n" + t._("<b>“Other” answers</b>") + "\n" + "\n".join(
                f"– {html.escape(x[:200])}" for x in texts)
    options = [Option(f"u{kid.unit_id}", _short(kid.name)) for kid in view.children
               if kid.has_children]
    options.append(Option("c", t._("📈 Chart")))
    if not poll.anonymous and poll.created_by == (context.principal.user_id
                                                  if context.principal else None):
        options.append(Option("w", t._("👥 Who answered what")))
    if view.scope.unit_id != poll.unit_id:
        options.append(Option("up", t._("⬅ Back")))
    choice = Choice(options, page_size=20)
    return Screen(text[:4000], choice.keyboard(LIST, RESULTS_VIEW, poll.id, view.scope.unit_id),
                  choice)


async def _render(context: BotContext, view: str, p: dict[str, Any]) -> Screen | None:
    if view == LIST_VIEW:
        return await _list_screen(context)
    poll = await polls.get(context.db, p.get("poll") or 0)
    return await _results_screen(context, poll, p["unit"]) if poll is not None else None


async def _allowed(update: Update, context: BotContext, view: str, p: dict[str, Any]) -> bool:
    if view == LIST_VIEW:
        return True
    poll = await polls.get(context.db, p.get("poll") or 0)
    if poll is None or not await _may_see_results(context, poll):
        await refuse(update, context)
        return False
    return True


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
    k = context.settings.disclosure_k
    view = await service.results(context.db, poll, scope_id=poll.unit_id, k=k,
                                 now=context.clock.now())
    await acknowledge(update, context)
    await say(update, context, service.results_text(t, replace(view, children=[]), closed=True,
                                                     k=k)[:4000])


async def _act(update: Update, context: BotContext, *, view: str, p: dict[str, Any], key: str,
               message: Message | None) -> None:
    if view == LIST_VIEW:
        number = answers.int_arg(key[1:])
        if key[:1] == "a" and number:
            await _open_poll(update, context, number)
        elif key[:1] == "m" and number:
            await _members_results(update, context, number)
        elif key[:1] == "r" and number:
            await _open_results(update, context, number, None, message=None)
        else:
            await acknowledge(update, context)
            await put(update, context, await _list_screen(context), message)
        return
    await _results_action(update, context, p=p, key=key, message=message)


async def _open_results(update: Update, context: BotContext, poll_id: int, unit_id: int | None,
                        *, message: Message | None) -> None:
    poll = await polls.get(context.db, poll_id)
    if poll is None or not await _may_see_results(context, poll):
        await refuse(update, context)
        return
    await acknowledge(update, context)
    unit = unit_id if unit_id is not None else poll.unit_id
    remember(context, LIST, view=RESULTS_VIEW, poll=poll.id, unit=unit)
    await put(update, context, await _results_screen(context, poll, unit), message)


async def _results_action(update: Update, context: BotContext, *, p: dict[str, Any], key: str,
                          message: Message | None) -> None:
    poll = await polls.get(context.db, p.get("poll") or 0)
    if poll is None or not await _may_see_results(context, poll):
        await refuse(update, context)
        return
    unit = p.get("unit") or poll.unit_id
    if key == "c":
        await acknowledge(update, context)
        await _send_chart(update, context, poll, unit)
    elif key == "w" and not poll.anonymous and context.principal is not None \
            and poll.created_by == context.principal.user_id:
        await acknowledge(update, context)
        await _send_who(update, context, poll)
    elif key == "up":
        target = await orgtree.get(context.db, unit)
        await _open_results(update, context, poll.id,
                            target.parent_id if target else poll.unit_id, message=message)
    elif key.startswith("u") and answers.int_arg(key[1:]):
        await _open_results(update, context, poll.id, answers.int_arg(key[1:]), message=message)
    else:
        await _open_results(update, context, poll.id, unit, message=message)


async def _send_chart(update: Update, context: BotContext, poll: Poll, unit_id: int) -> None:
    from bot import charts  # matplotlib loads only when a chart is drawn

    t = context.t
    k = context.settings.disclosure_k
    view = await service.results(context.db, poll, scope_id=unit_id, k=k,
                                 now=context.clock.now())
    bars = [(label, None if view.scope.hidden else view.scope.cells.get(code))
            for code, label in service.labels(t, poll).items()]
    png = charts.poll(bars, total=view.scope.counted, title=t._(
        "Survey #{id}: {question}", id=poll.id, question=poll.question[:80]),
        empty=t._("Too few answers to show yet."), hidden=t._("not shown"))
    chat = update.effective_chat
    assert chat is not None
    await context.bot.send_photo(chat.id, png, caption=t._(
        "Survey #{id} · {unit} · {rate}", id=poll.id, unit=html.escape(view.scope.name),
        rate=service.rate_text(t, view.scope))[:1000])


async def _send_who(update: Update, context: BotContext, poll: Poll) -> None:
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


def _on(step: str, handler: Any) -> CallbackQueryHandler:
    return CallbackQueryHandler(handler, pattern=rf"^{PREFIX}:[0-9a-f]+:{step}(?::|$)")


def conversation() -> list[BaseHandler[Any, Any, Any]]:
    """The /poll flow (a new object per application)."""
    text = answers.ANSWER
    return Flow(
        "poll",
        prefixes=(PREFIX,),
        entry_points=[CommandHandler("poll", start_poll, filters.ChatType.PRIVATE)],
        states={
            QUESTION: [MessageHandler(text, question_typed)],
            OPTIONS: [_on("o", options_done), MessageHandler(text, options_typed)],
            **{state: [_on(STEP[state], step_pressed), MessageHandler(text, _typed_step(state))]
               for state in (KIND, WITH_OTHER, NAMING, SHOWING, FILTER, PREVIEW)},
            CLOSING: [MessageHandler(text, closing_typed)],
            REMINDER: [_on("r", no_reminder), MessageHandler(text, reminder_typed)],
            UNIT: [_on("u", unit_pressed), MessageHandler(text, unit_typed)],
        },
        fallbacks=[
            CommandHandler("cancel", cancel),
            _on("x", cancel_pressed),
            CallbackQueryHandler(answer_stale, pattern=rf"^{PREFIX}:"),
            MessageHandler(~filters.COMMAND, wrong_input),
        ],
    ).handlers()


def handlers() -> list[BaseHandler[Any, Any, Any]]:
    """The handlers of this feature, new for each application."""
    return [
        *conversation(),
        CommandHandler("polls", list_polls, filters.ChatType.PRIVATE),
        CallbackQueryHandler(vote_pressed, pattern=callbacks.pattern(service.VOTE)),
        CallbackQueryHandler(other_cancel_pressed, pattern=callbacks.pattern(OTHER_TEXT)),
        VIEWS.handler(),
    ]
