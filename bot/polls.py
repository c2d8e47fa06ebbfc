"""Polls as members see them, their results by unit, and the minute tick that closes and reminds.

Results of an anonymous poll are read from its published batches (storage/polls.py) and go
through `disclosure.protect` for the whole subtree at once, with the option codes as the cells
and every answer counting as "failing" (so a cell that (nearly) every respondent chose is
hidden too): a unit with fewer than K answers shows only its response rate. Named polls show
live counts.
"""

from __future__ import annotations

import html
import json
import logging
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, tzinfo
from typing import TYPE_CHECKING, Any

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from bot import callbacks, disclosure, orgtree
from bot.i18n import N_, Translator, translator
from bot.stats import percent
from storage import deliveries, members, polls
from storage.db import Database, to_iso
from storage.deliveries import SYSTEM_SENDER, NewBroadcast
from storage.polls import OTHER, NewPoll, Poll, UnitCounts

if TYPE_CHECKING:
    from bot.context import AppState

log = logging.getLogger(__name__)

VOTE = "sv"  # a member's press on a poll: sv:<poll>:o|t:<code>, sv:<poll>:s
BUTTON_MAX = 24
OTHER_LABEL = N_("Other (please specify)")


@dataclass(frozen=True, slots=True)
class UnitResult:
    """One unit's figures as they may be shown: cells None when hidden."""

    unit_id: int
    name: str
    recipients: int
    answered: int  # members who answered (the response rate)
    counted: int  # answers the cells are out of (published ones for an anonymous poll)
    cells: dict[int, int | None]
    hidden: bool  # too few answers: only the response rate is shown
    has_children: bool


@dataclass(frozen=True, slots=True)
class Results:
    """A poll's results at one unit and its child units."""

    poll: Poll
    scope: UnitResult
    children: list[UnitResult]


def labels(t: Translator, poll: Poll) -> dict[int, str]:
    """Option code → label (the "other" option in her language)."""
    found = {code: label for code, label in enumerate(poll.options, 1)}
    if poll.other:
        found[OTHER] = t._(OTHER_LABEL)
    return found


def _numbered(t: Translator, poll: Poll) -> list[str]:
    return [f"{number}. {html.escape(label)}"
            for number, label in enumerate(labels(t, poll).values(), 1)]


def labels_fit(t: Translator, poll: Poll) -> bool:
    """Whether every option fits on its button (else the text lists them, buttons say 1, 2 …)."""
    box = 2 if poll.multiple else 0
    return all(len(label) + box <= BUTTON_MAX for label in labels(t, poll).values())


def closing_text(t: Translator, poll: Poll, timezone: tzinfo) -> str:
    """'lúc 20:00 ngày 30/5/2026'-style closing time."""
    when = datetime.fromisoformat(poll.closes_at).astimezone(timezone)
    return t._("at {time} on {date}", time=f"{when:%H:%M}", date=t.date(when))


def message_text(t: Translator, poll: Poll, *, unit_name: str, timezone: tzinfo) -> str:
    """The poll exactly as members receive it (HTML)."""
    how = t._("Choose one or more, then press “Send”.") if poll.multiple else t._(
        "Choose one answer.")
    kind = t._("Anonymous: nobody sees who answered what.") if poll.anonymous else t._(
        "Named: the union sees your answer.")
    listed = [] if labels_fit(t, poll) else ["", *_numbered(t, poll)]
    lines = [t._("📋 <b>Survey of {unit}</b>", unit=html.escape(unit_name)), "",
             html.escape(poll.question), *listed, "", how, kind,
             t._("Answers are taken until {when}; you may change yours until then.",
                 when=closing_text(t, poll, timezone))]
    return "\n".join(lines)


def keyboard(t: Translator, poll: Poll, selected: frozenset[int] = frozenset()
             ) -> InlineKeyboardMarkup:
    """Buttons under the poll: the labels when they fit a phone, else the numbers only."""
    shown = labels(t, poll)
    fits = labels_fit(t, poll)
    buttons = []
    for number, (code, label) in enumerate(shown.items(), 1):
        text = label if fits else str(number)
        if poll.multiple:
            text = ("☑ " if code in selected else "☐ ") + text
        buttons.append(InlineKeyboardButton(text, callback_data=callbacks.encode(
            VOTE, poll.id, "t" if poll.multiple else "o", code)))
    width = 1 if fits else (4 if poll.multiple else 5)
    rows = [buttons[i:i + width] for i in range(0, len(buttons), width)]
    if poll.multiple:
        rows.append([InlineKeyboardButton(t._("📨 Send"), callback_data=callbacks.encode(
            VOTE, poll.id, "s"))])
    return InlineKeyboardMarkup(rows)


def short_label(label: str, limit: int = 20) -> str:
    """A label that fits its button with its number ("12. " + 20 characters); the end of a
    unit's name tells it apart ("…tổ dân phố số 12")."""
    return label if len(label) <= limit else "…" + label[-(limit - 1):]


def markup_json(markup: InlineKeyboardMarkup) -> str:
    """Buttons as the outbox stores them."""
    return json.dumps(markup.to_dict(), ensure_ascii=False)


def drafted(draft: Mapping[str, Any], *, locale: str) -> Poll:
    """A /poll draft as the poll members would get (id 0: its buttons answer nothing)."""
    return Poll(id=0, created_by=0, unit_id=draft["unit_id"], audience=draft["audience"],
                question=draft["question"], options=tuple(draft["options"]),
                multiple=draft["multiple"], other=draft["other"], anonymous=draft["anonymous"],
                show_results=draft["show"], locale=locale, closes_at=draft["closes_at"],
                remind_at=draft.get("remind_at"), reminded_at=None, closed_at=None,
                broadcast_id=None, created_at="")


def to_create(poll: Poll, *, draft_key: str, created_by: int, created_at: str) -> NewPoll:
    """What storage is handed to create the poll previewed as `poll`."""
    return NewPoll(
        draft_key=draft_key, created_by=created_by, unit_id=poll.unit_id,
        audience=poll.audience, question=poll.question, options=poll.options,
        multiple=poll.multiple, other=poll.other, anonymous=poll.anonymous,
        show_results=poll.show_results, locale=poll.locale, closes_at=poll.closes_at,
        remind_at=poll.remind_at, created_at=created_at)


# --- results --------------------------------------------------------------------------------


async def _tree(db: Database, root: int) -> tuple[dict[int | None, list[int]], dict[int, str]]:
    """The visible units below (and including) `root`: children lists and names."""
    by_id = await orgtree.units_by_id(db)
    children: dict[int | None, list[int]] = {None: [root]}
    for unit in by_id.values():
        if unit.merged_into is None and unit.parent_id is not None:
            children.setdefault(unit.parent_id, []).append(unit.id)
    inside = {root}
    stack = [root]
    while stack:
        for kid in children.get(stack.pop(), []):
            inside.add(kid)
            stack.append(kid)
    kept = {parent: [kid for kid in kids if kid in inside]
            for parent, kids in children.items() if parent is None or parent in inside}
    return kept, {unit_id: by_id[unit_id].name for unit_id in inside if unit_id in by_id}


def _where(own: dict[int, UnitCounts], inside: set[int], root: int) -> dict[int, UnitCounts]:
    """Counts of units outside the tree (moved, merged) count at its root."""
    placed: dict[int, UnitCounts] = {}
    for unit, found in own.items():
        where = unit if unit in inside else root
        before = placed.get(where, UnitCounts(0, {}))
        cells = dict(before.cells)
        for code, n in found.cells.items():
            cells[code] = cells.get(code, 0) + n
        placed[where] = UnitCounts(before.respondents + found.respondents, cells)
    return placed


def _sums(children: dict[int | None, list[int]], own: dict[int, int], unit: int) -> int:
    stack, total = [unit], 0
    while stack:
        current = stack.pop()
        total += own.get(current, 0)
        stack.extend(children.get(current, []))
    return total


async def results(db: Database, poll: Poll, *, scope_id: int, k: int, now: datetime) -> Results:
    """The poll's figures at `scope_id` and its child units, protected when anonymous."""
    children, names = await _tree(db, poll.unit_id)
    inside = set(names)
    scope_id = scope_id if scope_id in inside else poll.unit_id
    live = _where(await polls.live_counts(db, poll, cells=not poll.anonymous), inside,
                  poll.unit_id)
    reached = await polls.recipients_per_unit(db, poll)
    sent = {u: c.respondents for u, c in _where(
        {u: UnitCounts(n, {}) for u, n in reached.items()}, inside, poll.unit_id).items()}
    answered = {u: c.respondents for u, c in live.items()}
    codes = poll.codes
    shown: dict[object, disclosure.Shown] = {}
    if poll.anonymous:
        await polls.release_due(db, poll.id, k=k, at=to_iso(now))
        published = _where(await polls.released_counts(db, poll.id), inside, poll.unit_id)
        shown = disclosure.protect(
            children=children, codes=codes, k=k,
            own={u: disclosure.Aggregate(c.respondents, c.respondents, c.cells)
                 for u, c in published.items()})

    def result(unit: int) -> UnitResult:
        found = shown.get(unit)
        cells: dict[int, int | None]
        if found is not None:  # anonymous: the published, protected figures
            cells = {code: found.cells.get(code) for code in codes}
            counted, hidden = found.respondents, found.reason is not None
        else:  # named (or nothing published yet): live, every cell
            total = {} if poll.anonymous else _subtree_cells(children, live, unit)
            cells = {code: None if poll.anonymous else total.get(code, 0) for code in codes}
            counted = 0 if poll.anonymous else _sums(children, answered, unit)
            hidden = poll.anonymous
        return UnitResult(unit, names.get(unit, "?"), _sums(children, sent, unit),
                          _sums(children, answered, unit), counted, cells, hidden,
                          bool(children.get(unit)))

    return Results(poll, result(scope_id), [result(kid) for kid in children.get(scope_id, [])])


def _subtree_cells(children: dict[int | None, list[int]], own: dict[int, UnitCounts],
                   unit: int) -> dict[int, int]:
    stack, cells = [unit], dict[int, int]()
    while stack:
        current = stack.pop()
        for code, n in own.get(current, UnitCounts(0, {})).cells.items():
            cells[code] = cells.get(code, 0) + n
        stack.extend(children.get(current, []))
    return cells


def rate_text(t: Translator, found: UnitResult) -> str:
    """'answered 12/30 (40%)'."""
    share = percent(found.answered, found.recipients)
    return t._("answered {n}/{total} ({percent}%)", n=t.number(found.answered),
               total=t.number(found.recipients), percent=share if share is not None else 0)


def option_lines(t: Translator, view: Results) -> list[str]:
    """Per option: count and % of the answers counted (or "—" when hidden)."""
    found = view.scope
    lines = []
    for number, (code, label) in enumerate(labels(t, view.poll).items(), 1):
        value = found.cells.get(code)
        if value is None or found.hidden:
            figure = "—"
        else:
            figure = t._("{n} ({percent}%)", n=t.number(value),
                         percent=percent(value, found.counted) or 0)
        lines.append(f"{number}. {html.escape(label)}: {figure}")
    return lines


def unit_line(t: Translator, found: UnitResult) -> str:
    """One child unit: its response rate and, when shown, its counts per option number."""
    head = f"• {html.escape(found.name)}: {rate_text(t, found)}"
    if found.hidden or found.counted == 0:
        return head
    cells = " · ".join(f"{number}: {'—' if value is None else t.number(value)}"
                       for number, value in enumerate(found.cells.values(), 1))
    return f"{head} · {cells}"


def results_text(t: Translator, view: Results, *, closed: bool, k: int) -> str:
    """The results screen (HTML)."""
    poll = view.poll
    state = t._("closed") if closed else t._("open")
    lines = [t._("📊 <b>Results of survey #{id}</b> ({state})", id=poll.id, state=state),
             html.escape(poll.question), "",
             t._("{unit}: {rate}", unit=html.escape(view.scope.name),
                 rate=rate_text(t, view.scope)), *option_lines(t, view)]
    if view.scope.hidden:
        lines.append(t._("Too few answers to show them without revealing anyone's; only the "
                         "response rate is shown."))
    if view.children:
        lines += ["", t._("<b>By unit</b>"), *[unit_line(t, kid) for kid in view.children[:40]]]
    if poll.anonymous:
        lines += ["", t._("Anonymous: figures are published in batches of at least {k} answers "
                          "and “—” hides a small number.", k=k)]
    return "\n".join(lines)


# --- the tick -------------------------------------------------------------------------------


async def tick(state: AppState) -> tuple[int, int]:
    """Close polls whose time has come (the creator gets the final result through the outbox)
    and send due reminders, each once; (closed, reminded)."""
    db = state.db
    assert db is not None
    now = state.clock.now()
    stamp = to_iso(now)
    k = state.settings.disclosure_k
    closed = reminded = 0
    for poll in await polls.due_to_close(db, stamp):
        if await polls.close(db, poll, k=k, at=stamp):
            closed += 1
            await _final_result(state, poll, now=now)
    for poll in await polls.due_reminders(db, stamp):
        if await _remind(state, poll):
            reminded += 1
    if (closed or reminded) and state.delivery is not None:
        state.delivery.wake()
    return closed, reminded


async def _final_result(state: AppState, poll: Poll, *, now: datetime) -> None:
    db = state.db
    assert db is not None
    creator = await members.by_user(db, poll.created_by)
    if creator is None or creator.status != "active":
        log.info("poll #%d closed; its creator has no member row to tell", poll.id)
        return
    t = translator(creator.locale)
    fresh = await polls.get(db, poll.id) or poll
    k = state.settings.disclosure_k
    view = await results(db, fresh, scope_id=poll.unit_id, k=k, now=now)
    text = results_text(t, view, closed=True, k=k)[:4000]
    await deliveries.enqueue_personal(db, NewBroadcast(
        draft_key=f"poll_result:{poll.id}", created_by=SYSTEM_SENDER,
        sender_chat_id=SYSTEM_SENDER, unit_id=poll.unit_id, audience="poll_result",
        text_html="", photo_file_id=None, scheduled_at=to_iso(now), kind="poll_result"),
        [(creator.id, text)], now=to_iso(now))


async def _remind(state: AppState, poll: Poll) -> bool:
    db = state.db
    assert db is not None
    t = translator(poll.locale)
    unit = await orgtree.get(db, poll.unit_id)
    text = "\n".join([t._("⏰ A reminder: this survey is still waiting for your answer."), "",
                      message_text(t, poll, unit_name=unit.name if unit else "",
                                   timezone=state.settings.timezone)])
    now = to_iso(state.clock.now())
    sent = await polls.remind(db, poll, NewBroadcast(
        draft_key=f"poll_reminder:{poll.id}:{secrets.token_hex(4)}", created_by=SYSTEM_SENDER,
        sender_chat_id=SYSTEM_SENDER, unit_id=poll.unit_id, audience="poll_reminder",
        text_html=text, photo_file_id=None, scheduled_at=now, kind="poll_reminder",
        reply_markup=markup_json(keyboard(t, poll))), now=now)
    return sent is not None
