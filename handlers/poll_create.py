"""/poll: an officer asks her members a question (the create flow, its preview and sending).

Creating (admin: her scope, head: her chapter): question → options → one or several answers →
"other" option → anonymous or named → results shown to members after closing or never →
closing time → optional reminder → audience (a unit and a filter, as /broadcast) → a preview
exactly as members get it → the delivery outbox sends it. Answering and results are
`handlers/polls.py`; bot/polls.py renders the poll as members get it.
"""

from __future__ import annotations

import functools
import html
import re
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Literal, TypedDict

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.ext import BaseHandler, CommandHandler, MessageHandler, filters

from bot import callbacks, orgtree
from bot import polls as service
from bot.choices import Choice, Option
from bot.context import BotContext
from bot.i18n import N_, nfc
from bot.permissions import Role, may_act_on_unit
from bot.when import parse_local_datetime
from handlers.kit import answers, audience
from handlers.kit.flow import END, Flow, drop_draft, on_step, option_typed, text_or_option
from handlers.kit.replies import (
    answer_stale,
    draft_press,
    pressed_option,
    refuse,
    requires,
    retire_buttons,
    say,
    say_kept,
    typed_text,
)
from storage import deliveries, polls
from storage.db import to_iso
from storage.deliveries import NewBroadcast

PREFIX = "pc"  # the create flow
QUESTION_MAX, OPTION_MAX, OPTIONS_MAX = 300, 100, 10
HORIZON = timedelta(days=90)  # within the retention of delivery rows (its audience)

QUESTION, OPTIONS, KIND, WITH_OTHER, NAMING, SHOWING, CLOSING, REMINDER, UNIT, FILTER, PREVIEW = (
    "p_question", "p_options", "p_kind", "p_other", "p_naming", "p_showing", "p_closing",
    "p_reminder", "p_unit", "p_filter", "p_preview")
STEP = {QUESTION: "q", OPTIONS: "o", KIND: "k", WITH_OTHER: "h", NAMING: "n", SHOWING: "s",
        CLOSING: "c", REMINDER: "r", UNIT: "u", FILTER: "f", PREVIEW: "v"}

@dataclass(frozen=True, slots=True)
class Ask:
    """A step answered by one of a few buttons: the draft field it sets and what comes next."""

    field: Literal["multiple", "other", "anonymous", "show"] | None  # None: the preview (sends)
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
    PREVIEW: Ask(None, N_("Send it?"), (("1", N_("📤 Send now")), ("0", N_("✖ Cancel"))), ""),
}


class Draft(TypedDict, total=False):
    """The survey being drafted (persisted in `user_data["pc"]`, so a restart keeps it)."""

    nonce: str  # carried by the buttons of this draft: older buttons are stale
    question: str
    options: list[str]
    multiple: bool  # the fields of ASKS
    other: bool
    anonymous: bool
    show: bool
    closes_at: str  # UTC instant (ISO)
    remind_at: str | None  # UTC instant (ISO); None: no reminder
    level: int | None  # the unit chooser's (kit.audience)
    page: int
    top: int | None
    unit_id: int  # the unit addressed
    audience: str  # a key of deliveries.AUDIENCE_FILTERS


def _draft(context: BotContext) -> Draft:
    assert context.user_data is not None
    draft: Draft = context.user_data.setdefault(PREFIX, {})
    return draft


async def _prompt(update: Update, context: BotContext, text: str,
                  *rows: list[InlineKeyboardButton]) -> None:
    """A free-text question, with the kit's "✖ Hủy" under it."""
    await say(update, context, text, answers.cancel_keyboard(context, PREFIX, rows=list(rows)))


def _choice(context: BotContext, state: str) -> Choice:
    """The options of a button step (the audience filter or one of ASKS)."""
    t = context.t
    if state == FILTER:
        return audience.filter_choice(t)
    return Choice([Option(key, t._(label)) for key, label in ASKS[state].options])


async def _ask_choice(update: Update, context: BotContext, state: str) -> str:
    """Ask a button step's question, its options under it."""
    question = (context.t._("Send it to everyone there, or only to members who are …")
                if state == FILTER else context.t._(ASKS[state].question))
    keyboard = _choice(context, state).keyboard(PREFIX, _draft(context)["nonce"], STEP[state])
    await say(update, context, question, keyboard)
    return state


async def _took_press(update: Update, context: BotContext,
                      ready: Callable[[Draft], bool] | None = None) -> bool:
    """A press of this draft's own buttons (and `ready` for it): answered, its buttons retired;
    any other press is answered as stale."""
    query = update.callback_query
    assert query is not None
    if draft_press(update, context, PREFIX) is None or (ready and not ready(_draft(context))):
        await answer_stale(update, context)
        return False
    await query.answer()
    await retire_buttons(query)
    return True


# --- entry, question, options ---------------------------------------------------------------


@requires(Role.CHAPTER_HEAD)
async def start_poll(update: Update, context: BotContext) -> str:
    """/poll: begin a survey."""
    assert context.user_data is not None
    context.user_data[PREFIX] = Draft(nonce=secrets.token_hex(3), options=[])
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
    """An option as compared for duplicates."""
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
    more = t._("Type another option, or press “Done with options”.") if len(have) >= 2 else t._(
        "Please type at least two options.")
    await say(update, context, "\n".join([*lines, "", more]), _options_keyboard(context))
    return OPTIONS


def _done_choice(context: BotContext) -> Choice:
    """"✅ Done with options", offered once two options are in."""
    done = Option("done", context.t._("✅ Done with options"))
    return Choice([done] if len(_draft(context)["options"]) >= 2 else [], numbered=False)


def _options_keyboard(context: BotContext) -> InlineKeyboardMarkup:
    rows = _done_choice(context).keyboard(PREFIX, _draft(context)["nonce"]).inline_keyboard
    return answers.cancel_keyboard(context, PREFIX, rows=[list(row) for row in rows])


async def _options_finished(update: Update, context: BotContext, _key: str) -> str:
    return await _ask_choice(update, context, KIND)


options_answered = text_or_option(choice=_done_choice, chosen=_options_finished,
                                  taken=options_typed, keyboard=_options_keyboard)


async def options_done(update: Update, context: BotContext) -> str | None:
    """'Done with options' (only offered with two or more)."""
    if not await _took_press(update, context, lambda draft: len(draft["options"]) >= 2):
        return None
    return await _ask_choice(update, context, KIND)


# --- the button steps -----------------------------------------------------------------------


async def _chosen(update: Update, context: BotContext, *, state: str, key: str) -> str | int:
    """Keep the option chosen at a button step and ask the next question."""
    draft = _draft(context)
    if state == FILTER:
        draft["audience"] = key
        return await _preview(update, context)
    if state == PREVIEW:
        return await _send(update, context) if key == "1" else await cancel(update, context)
    ask = ASKS[state]
    assert ask.field is not None  # the preview was answered above
    draft[ask.field] = key == "1"
    if ask.next in ASKS:
        return await _ask_choice(update, context, ask.next)
    return await _ask_closing(update, context)


async def step_pressed(update: Update, context: BotContext) -> str | int | None:
    """A button of a choice step (the step is in the callback data)."""
    data = draft_press(update, context, PREFIX)
    state = next((s for s, code in STEP.items() if data and code == data.arg(1)), None)
    if data is None or state is None or state not in (*ASKS, FILTER):
        await answer_stale(update, context)
        return None
    option = await pressed_option(update, context, PREFIX, _choice(context, state))
    return await _chosen(update, context, state=state, key=option.key) if option else None


def _typed_step(state: str) -> Any:
    """The typed answer of the button step `state` (by number or name)."""

    async def chosen(update: Update, context: BotContext, key: str) -> str | int:
        return await _chosen(update, context, state=state, key=key)

    return option_typed(lambda context: _choice(context, state), chosen)


# --- closing, reminder ----------------------------------------------------------------------


async def _ask_closing(update: Update, context: BotContext) -> str:
    """Ask when the survey closes."""
    await _prompt(update, context, context.t._(
        "When does the survey close? Type the date and time, e.g. {short} or {full} (Vietnam "
        "time).", **_example(context, days=7, hour=20)))
    return CLOSING


def _example(context: BotContext, *, days: int, hour: int) -> dict[str, str]:
    """An example time `days` ahead (short and full), so she never copies a date that lies in
    the past ("30/5" in December was refused)."""
    local_now = context.clock.now().astimezone(context.settings.timezone)
    day = local_now + timedelta(days=days)
    short = f"{day.day}/{day.month} {hour:02d}:00"
    return {"short": short, "full": f"{day.day}/{day.month}/{day.year} {hour:02d}:00"}


def _reminder_example(context: BotContext, closes: datetime) -> str:
    """The evening before the closing day (or today, if it closes tomorrow), at 19:00."""
    local_now = context.clock.now().astimezone(context.settings.timezone)
    day = max(closes.astimezone(context.settings.timezone) - timedelta(days=1), local_now)
    return f"{day.day}/{day.month} 19:00"


def _when(context: BotContext, text: str) -> datetime | None:
    """A typed date and time where the union is."""
    local_now = context.clock.now().astimezone(context.settings.timezone)
    return parse_local_datetime(text, local_now)


async def closing_typed(update: Update, context: BotContext) -> str:
    """The closing time: in the future, within HORIZON."""
    t = context.t
    when, now = _when(context, typed_text(update)), context.clock.now()
    if when is None:
        await _prompt(update, context, t._("I could not read that. Please type it like {short} "
                                           "or {full}.", **_example(context, days=7, hour=20)))
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
        "e.g. {short}, or press “No reminder”.", short=_reminder_example(context, when)), [none])
    return REMINDER


async def reminder_typed(update: Update, context: BotContext) -> str | int:
    """The reminder time: after now, before the closing time."""
    t = context.t
    draft = _draft(context)
    when, now = _when(context, typed_text(update)), context.clock.now()
    if when is None:
        await _prompt(update, context, t._(
            "I could not read that. Please type it like {short}, or press “No reminder”.",
            short=_reminder_example(context, datetime.fromisoformat(draft["closes_at"]))))
        return REMINDER
    if when <= now or to_iso(when) >= draft["closes_at"]:
        await _prompt(update, context, t._("The reminder must be in the future and before the "
                                           "survey closes."))
        return REMINDER
    draft["remind_at"] = to_iso(when)
    return await UNITS.start(update, context)


async def no_reminder(update: Update, context: BotContext) -> str | int | None:
    """'No reminder'."""
    if not await _took_press(update, context):
        return None
    _draft(context)["remind_at"] = None
    return await UNITS.start(update, context)


# --- audience -------------------------------------------------------------------------------


async def _unit_chosen(update: Update, context: BotContext) -> str | int:
    """The unit is hers to address: the audience filter, or (only one) the preview."""
    if audience.needs_filter():
        return await _ask_choice(update, context, FILTER)
    _draft(context)["audience"] = "all"
    return await _preview(update, context)


UNITS = audience.UnitChooser(PREFIX, step=STEP[UNIT], state=UNIT, chosen=_unit_chosen)


# --- preview and sending --------------------------------------------------------------------


async def _preview(update: Update, context: BotContext) -> str | int:
    """The survey exactly as members get it, how many will, and "Send it?"."""
    t = context.t
    chat = update.effective_chat
    assert chat is not None
    poll = service.drafted(_draft(context), locale=context.locale)
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
    await say(update, context, t.n_("The survey will go to {n} member.",
                                    "The survey will go to {n} members.", count), keyboard)
    return PREVIEW


async def _send(update: Update, context: BotContext) -> int:
    """Store the survey (once per draft) and hand it to the delivery outbox."""
    t = context.t
    user, chat = update.effective_user, update.effective_chat
    assert user is not None and chat is not None and context.principal is not None
    draft = _draft(context)
    if not await may_act_on_unit(context.db, context.principal, Role.CHAPTER_HEAD,
                                 draft["unit_id"]):
        await refuse(update, context)
        return END
    now = to_iso(context.clock.now())
    poll = await polls.create(context.db, service.to_create(
        service.drafted(draft, locale=context.locale), draft_key=f"{user.id}:{draft['nonce']}",
        created_by=user.id, created_at=now))
    context.user_data.pop(PREFIX, None)  # type: ignore[union-attr]
    if poll is None:
        await say(update, context, t._("This survey has already been sent."))
        return END
    unit = await orgtree.get(context.db, poll.unit_id)
    status = await say_kept(update, context, t._("⏳ Preparing to send …"))
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


cancel = drop_draft(PREFIX)
"""/cancel, the kit's "✖ Hủy" (through the router) or "✖ Hủy" at the preview: drop the draft;
nothing is sent."""


def conversation() -> list[BaseHandler[Any, Any, Any]]:
    """The /poll flow (a new object per application)."""
    text, on = answers.ANSWER, functools.partial(on_step, PREFIX)
    return Flow(
        "poll",
        prefixes=(PREFIX,),
        entry_points=[CommandHandler("poll", start_poll, filters.ChatType.PRIVATE)],
        states={
            QUESTION: [MessageHandler(text, question_typed)],
            OPTIONS: [on("o", options_done), MessageHandler(text, options_answered)],
            **{state: [on(STEP[state], step_pressed), MessageHandler(text, _typed_step(state))]
               for state in (KIND, WITH_OTHER, NAMING, SHOWING, FILTER, PREVIEW)},
            CLOSING: [MessageHandler(text, closing_typed)],
            REMINDER: [on("r", no_reminder), MessageHandler(text, reminder_typed)],
            UNIT: UNITS.handlers(),
        },
        fallbacks=Flow.standard_fallbacks(PREFIX, cancel=cancel),
    ).handlers()


def handlers() -> list[BaseHandler[Any, Any, Any]]:
    """The handlers of this feature, new for each application."""
    return conversation()
