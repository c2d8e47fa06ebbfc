"""Requests for help ("Địa chỉ tin cậy"): what the member's side and the officers' side share.

`handlers/support.py` is hers (/support, her thread, her answers), `handlers/requests.py` the
officers' (/requests, reading, answering, the status); the SQL is in `storage/support.py`. Here
is what needs no update: the labels, who may read a request, the notices (they say that
something happened, never her words: a phone's preview must not give her away), the thread as
text, the danger words, and the content-free figures of /stats.
"""

from __future__ import annotations

import html
import re
import unicodedata
from collections.abc import Callable, Iterable
from datetime import datetime, time, tzinfo

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from bot import callbacks, orgtree
from bot import disclosure as control
from bot.i18n import N_, Translator, nfc, translator
from bot.permissions import Principal, Role, handles_requests_of
from storage import support, units
from storage.db import Database, to_iso
from storage.support import BODY_MAX, CATEGORIES, Counts, Request

REPLY = "spm"  # "↩ Reply" under a message to the member: spm:<request id>
READ = "spv"  # "📖 Read" under a message to the member: spv:<request id> shows the thread
KIND = "support"  # what the outbox calls these messages
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
CANCELLED = N_("Cancelled; nothing was sent.")

Notice = Callable[[Translator, Request], str]
"""The text of a message about a request, in the reader's language."""


# --- safety ----------------------------------------------------------------------------------


def safety_note(t: Translator, numbers: str) -> str:
    """The emergency numbers, and that the assistant is not an emergency service."""
    return t._("🆘 In an emergency call {numbers} at once. This assistant is not an emergency "
               "service: it passes your request to the ward union, who answer as soon as they "
               "can.", numbers=html.escape(numbers))


def _plain(text: str) -> str:
    """NFC, lower case, without diacritics (đ → d): what danger words are matched on."""
    decomposed = unicodedata.normalize("NFD", nfc(text).casefold().replace("đ", "d"))
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def suggests_danger(danger_words: Iterable[str], text: str) -> bool:
    """Whether her words contain one of the catalog's danger words (whole words)."""
    words = _words_of(text)
    return any(_words_of(w) in words for w in danger_words)


def _words_of(text: str) -> str:
    """' word word … ' of a text, plain: a phrase matches whole words only."""
    return " " + " ".join(re.findall(r"\w+", _plain(text))) + " "


# --- who may read, who is told ---------------------------------------------------------------


async def may_read(db: Database, principal: Principal | None, request: Request) -> bool:
    """A handler over her unit, or her chapter head when she allowed it; nobody else."""
    if principal is None:
        return False
    if await handles_requests_of(db, principal, request.unit_id):
        return True
    if request.audience != "with_head":
        return False
    chain = {u.id for u in await units.ancestry(db, request.unit_id)}
    return any(g.role == Role.CHAPTER_HEAD and g.unit_id in chain for g in principal.grants)


def letters(people: list[tuple[int, str]], request: Request,
            text: Notice) -> list[tuple[int, str]]:
    """One (member id, text) per person, written in her language."""
    return [(member_id, text(translator(locale), request)) for member_id, locale in people]


def member_buttons(t: Translator, request: Request) -> str:
    """"📖 Read" and "↩ Reply" under a message to her (JSON for the outbox)."""
    return InlineKeyboardMarkup([[
        InlineKeyboardButton(t._("📖 Read"), callback_data=callbacks.encode(READ, request.id)),
        InlineKeyboardButton(t._("↩ Reply"), callback_data=callbacks.encode(REPLY, request.id)),
    ]]).to_json()


# --- the notices -----------------------------------------------------------------------------


def _category(t: Translator, request: Request) -> str:
    return t._(CATEGORY_LABELS[request.category])


def new_notice(t: Translator, request: Request) -> str:
    return t._("📩 New request for help #{id} ({category}) — /requests", id=request.id,
               category=_category(t, request))


def answer_notice(t: Translator, request: Request) -> str:
    return t._("💬 The member answered in request #{id} ({category}) — /requests",
               id=request.id, category=_category(t, request))


def no_handler_notice(t: Translator, request: Request) -> str:
    return t._("📩 New request for help #{id} ({category}), but nobody handles requests in "
               "your unit yet. Please make an officer “request handler” with /grant.",
               id=request.id, category=_category(t, request))


def late_notice(t: Translator, request: Request, hours: float) -> str:
    return t._("⏰ Request for help #{id} ({category}) has not been acknowledged within {hours} "
               "hours. Please make sure a request handler takes it up.", id=request.id,
               category=_category(t, request), hours=t.number(hours))


def written_notice(t: Translator, request: Request) -> str:
    """What her phone shows of the union's answer: that there is one, never its words (the
    preview on a shared phone must not give her away)."""
    return t._("💬 The ward union wrote to you about your request #{id}. Tap “📖 Read” to see "
               "it here.", id=request.id)


def status_notice(t: Translator, request: Request, numbers: str) -> str:
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


# --- a request as text -----------------------------------------------------------------------


def local(tz: tzinfo, iso: str) -> datetime:
    """A stored UTC time where the union is."""
    return datetime.fromisoformat(iso.replace("Z", "+00:00")).astimezone(tz)


def when(t: Translator, tz: tzinfo, iso: str) -> str:
    """'at 08:00 on 24/05/2026', where the union is."""
    at = local(tz, iso)
    return t._("at {time} on {date}", time=f"{at:%H:%M}", date=t.date(at))


def heading(t: Translator, request: Request) -> list[str]:
    """The first two lines of a request shown to her or to an officer."""
    return [t._("<b>Request #{id}</b> · {category}", id=request.id,
                category=_category(t, request)),
            t._("Status: {status}", status=t._(STATUS_LABELS[request.status]))]


async def thread_lines(db: Database, t: Translator, request: Request, *, tz: tzinfo,
                       you: str) -> list[str]:
    """The thread (newest last) and the closing note, one entry per message."""
    lines = []
    for message in await support.thread(db, request.id):
        who = you if message.author == "member" else t._("Union")
        lines.append(f"\n<b>{who}</b> ({when(t, tz, message.at)}):\n"
                     f"{html.escape(message.body)}")
    if request.closing_note:
        lines.append("\n" + t._("Closing note: {note}", note=html.escape(request.closing_note)))
    return lines


def fit(lines: list[str], *, keep: int) -> str:
    """The lines under Telegram's limit: the oldest thread messages (after the first `keep`
    lines, the request itself) give way first, shown as "…"."""
    while len("\n".join(lines)) > TEXT_LIMIT and len(lines) > keep + 1:
        lines = [*lines[:keep], "…", *lines[keep + 2:]] if lines[keep] == "…" else [
            *lines[:keep], "…", *lines[keep + 1:]]
    return "\n".join(lines)[:TEXT_LIMIT]


def refused_text(t: Translator, body: str) -> str | None:
    """Why a text for a thread is not sent (None: it may be), the rest kept."""
    if not body or len(body) > BODY_MAX:
        return t._("Please write between 1 and {limit} characters; nothing was sent yet.",
                   limit=t.number(BODY_MAX))
    return None


# --- the figures (a screen of /stats) ----------------------------------------------------------


async def figures(db: Database, unit_id: int | None, *, year: int, tz: tzinfo,
                  ack_hours: float, k: int) -> tuple[Counts, control.Shown | None]:
    """A year's requests under `unit_id` (content-free counts) and what disclosure control lets
    be shown of them by category (categories are the cells; a unit's figures need K
    requests)."""
    start = datetime.combine(datetime(year, 1, 1).date(), time(), tz)
    end = datetime.combine(datetime(year + 1, 1, 1).date(), time(), tz)
    total, shown, _by_unit = await figures_between(db, unit_id, start=start, end=end,
                                                   ack_hours=ack_hours, k=k)
    return total, shown


async def figures_between(db: Database, unit_id: int | None, *, start: datetime,
                          end: datetime, ack_hours: float,
                          k: int) -> tuple[Counts, control.Shown | None, dict[int, Counts]]:
    """`figures` for the requests made in [start, end), with each unit's own counts (all
    categories together; the report adds up the units whose figure was not entered)."""
    counts = await support.counts(db, start=to_iso(start), end=to_iso(end), ack_hours=ack_hours)
    by_id = await orgtree.units_by_id(db)
    children: dict[int | None, list[int]] = {}
    for unit in by_id.values():
        if unit.merged_into is None:
            children.setdefault(unit.parent_id, []).append(unit.id)
    own: dict[int | None, control.Aggregate] = {}
    total = Counts()
    inside = _subtree(children, unit_id)
    for where, cells in counts.items():
        shown = where if where in by_id and by_id[where].merged_into is None else (
            by_id[where].parent_id if where in by_id else None)
        n = sum(c.received for c in cells.values())
        own[shown] = own.get(shown, control.Aggregate()) + control.Aggregate(
            n, n, {code: c.received for code, c in cells.items()})
        if shown in inside or unit_id is None:
            for c in cells.values():
                total = total + c
    by_unit = {where: sum(cells.values(), Counts()) for where, cells in counts.items()}
    view = control.protect(children=children, own=own, codes=CATEGORIES, k=k).get(unit_id)
    return total, view, by_unit


def _subtree(children: dict[int | None, list[int]], unit_id: int | None) -> set[int | None]:
    found: set[int | None] = {unit_id}
    stack = list(children.get(unit_id, ()))
    while stack:
        unit = stack.pop()
        found.add(unit)
        stack.extend(children.get(unit, ()))
    return found
