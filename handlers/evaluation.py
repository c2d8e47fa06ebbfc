"""/evaluate (chapter heads and admins): the year-end evaluation; /year close (admins).

It stays over 500 lines because it is one flow: its five screens share one set of parameters
and each act re-renders one of them.

Screens: choose a chapter (admins) → the chapter's paginated list of registered members →
a member's card with Đạt / Chưa đạt for the standard and recognised / not yet for a household
that self-assessed as meeting every criterion; a bulk "mark all remaining" with a confirmation.
Every press is authorised again (`may_act_on_unit` on the chapter, and the member must be
registered in it), every decision records who and when, the last decision wins, and each
screen is re-read from the database so two heads always see the current state. Heads never
see criterion answers: only "meets every criterion: yes/no" and counts.

A decision is not sent when it is recorded: a slip of the thumb ("Chưa đạt" for the wrong
member) must never reach her. The list shows how many results are unsent; "📨 Gửi kết quả"
and one confirmation hand them to the outbox (`bot/delivery.py`: paced, resumable, recorded),
one message per member in her language with only her own results. A decision not yet sent can
be taken back; one corrected after sending is unsent again and tells her it was corrected.
"""

from __future__ import annotations

import html
import logging
import secrets
from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from telegram import InlineKeyboardButton, Message, Update
from telegram.ext import BaseHandler

from bot import callbacks, orgtree
from bot.choices import Choice, Option
from bot.context import BotContext
from bot.i18n import N_, Translator, sort_key, translator
from bot.permissions import Role, may_act_on_unit
from handlers.kit import answers
from handlers.kit.replies import STALE, acknowledge, erased_member, refuse, requires, say, say_kept
from handlers.kit.screens import Params, Screen, Views, put, remember
from storage import campaigns, deliveries, units
from storage.campaigns import FAMILY, STANDARD, EvaluationRow, NotEligible, Unsent, YearClosed
from storage.db import to_iso
from storage.deliveries import NewBroadcast
from storage.units import Unit

log = logging.getLogger(__name__)

PREFIX = "ev"
PAGE_SIZE = 8
FIRST_YEAR = 2000
PICK, LIST, CARD, CONFIRM, SEND = "n", "l", "c", "k", "g"
BROADCAST_KIND = "evaluation"  # the outbox's kind: not a notice, not listed in /broadcasts
CAMPAIGN_KEYS = {"s": STANDARD, "f": FAMILY}
# Card options: (campaign, result).
DECISIONS = {
    "sa": (STANDARD, campaigns.ACHIEVED),
    "sn": (STANDARD, campaigns.NOT_ACHIEVED),
    "fr": (FAMILY, campaigns.RECOGNISED),
    "fn": (FAMILY, campaigns.NOT_RECOGNISED),
}
UNDO = {"su": STANDARD, "fu": FAMILY}  # take back a decision not yet sent

STANDARD_STATUS = {
    None: N_("⭐ not decided"),
    campaigns.ACHIEVED: N_("⭐ achieved"),
    campaigns.NOT_ACHIEVED: N_("⭐ not achieved"),
}
HOUSEHOLD_STATUS = {
    campaigns.RECOGNISED: N_("🏡 recognised"),
    campaigns.NOT_RECOGNISED: N_("🏡 not recognised"),
}

NOTICE_TEXTS = {
    campaigns.ACHIEVED: N_("🎉 Congratulations! Your chapter has evaluated the women's standard "
                           "for {year}: you achieved it. Thank you for your efforts!"),
    campaigns.NOT_ACHIEVED: N_("Your chapter has evaluated the women's standard for {year}: "
                               "not achieved this time. Thank you for taking part; we hope to "
                               "see you register again."),
    campaigns.RECOGNISED: N_("🎉 Congratulations! Your household has been recognised as a "
                             "“5 không, 3 sạch” family for {year}."),
    campaigns.NOT_RECOGNISED: N_("Your chapter has evaluated your household for {year}: not "
                                 "recognised as a “5 không, 3 sạch” family this time. Thank you "
                                 "for taking part."),
}


# --- telling members -------------------------------------------------------------------------


def result_message(locale: str, year: int, items: Sequence[Unsent]) -> str:
    """One member's message: only her own results, in her language; corrections say so.

    A household's result is only "recognised" or "not this time", never which criterion.
    """
    t = translator(locale)
    new = [t._(NOTICE_TEXTS[i.result], year=year) for i in items if i.told_result is None]
    corrected = [t._(NOTICE_TEXTS[i.result], year=year) for i in items
                 if i.told_result is not None]
    if corrected:
        new += [t._("📝 Your chapter has corrected your {year} evaluation result:", year=year),
                *corrected]
    return "\n\n".join(new)


def _by_member(items: Sequence[Unsent]) -> dict[int, list[Unsent]]:
    grouped: dict[int, list[Unsent]] = defaultdict(list)
    for item in items:
        grouped[item.member_id].append(item)
    return grouped


# --- screens ---------------------------------------------------------------------------------


def _scope_units(context: BotContext) -> list[int]:
    """Units her grants give her for evaluating (chapter head or more)."""
    assert context.principal is not None
    return sorted({g.unit_id for g in context.principal.grants})


async def _pick_root(context: BotContext) -> int | None:
    """Where choosing a chapter starts (0: her scope's list); None: she has one chapter only."""
    assert context.principal is not None
    scope = _scope_units(context)
    if context.principal.is_super_admin or len(scope) != 1:
        return 0
    unit = await units.get(context.db, scope[0])
    if unit is None or await _selectable(context, unit):
        return None
    return unit.id


async def _selectable(context: BotContext, unit: Unit) -> bool:
    """A chapter (or any unit without children) is evaluated as a whole."""
    return unit.kind == "chapter" or not await units.has_children(context.db, [unit.id])


async def _pick_screen(context: BotContext, year: int, node: int, page: int) -> Screen:
    """Choose the chapter: her scope (node 0) or the children of `node`."""
    t = context.t
    assert context.principal is not None
    if node:
        found = await units.children(context.db, node)
    elif context.principal.is_super_admin:
        found = await units.children(context.db, await orgtree.top_parent(context.db))
    else:
        found = [u for u in [await units.get(context.db, i) for i in _scope_units(context)] if u]
    found.sort(key=lambda u: sort_key(u.name))
    options = [Option(str(u.id), u.name) for u in found]
    if node:
        options.append(Option("up", t._("⬆ Back")))
    choice = Choice(options, page=page, page_size=PAGE_SIZE).at_page(page)
    where = html.escape(await orgtree.unit_path(context.db, node)) if node else ""
    lines = [t._("<b>Evaluation {year}</b>", year=year),
             t._("Which chapter? Tap it or type its number."), where]
    remember(context, PREFIX, view=PICK, year=year, node=node, page=choice.page)
    return Screen("\n".join(line for line in lines if line),
                  choice.keyboard(PREFIX, PICK, year, node), choice)


def _standard_status(t: Translator, row: EvaluationRow) -> str:
    if row.standard is None:
        return t._("⭐ not registered")
    return t._(STANDARD_STATUS[row.standard.result])


def _household_status(t: Translator, row: EvaluationRow) -> str | None:
    family = row.family
    if family is None:
        return None
    if family.result is not None:
        return t._(HOUSEHOLD_STATUS[family.result])
    if family.meets_all:
        return t._("🏡 meets every criterion (self-assessed), not decided")
    return t._("🏡 does not meet every criterion (self-assessed)")


def _given_name_key(row: EvaluationRow) -> tuple[Any, ...]:
    """Vietnamese lists are ordered by given name (the last word), then the full name."""
    return sort_key(row.full_name.split()[-1] if row.full_name.split() else ""), sort_key(
        row.full_name)


async def _list_screen(context: BotContext, *, unit_id: int, year: int, page: int,
                       note: str | None = None) -> Screen:
    """The chapter's registered members, with counts and the bulk actions."""
    t = context.t
    rows = sorted(await campaigns.evaluation_rows(context.db, year, unit_id), key=_given_name_key)
    counts = await campaigns.counts(context.db, year, unit_id)
    closed = await campaigns.is_closed(context.db, year, unit_id)
    members = Choice([Option(str(r.member_id), r.full_name) for r in rows], page=page,
                     page_size=PAGE_SIZE).at_page(page)
    open_standard = sum(1 for r in rows if r.standard and r.standard.result is None)
    open_households = sum(1 for r in rows if r.family and r.family.meets_all
                          and r.family.result is None)
    unsent = 0 if closed else len(_by_member(await campaigns.unsent(context.db, year, unit_id)))
    actions = []
    if unsent:
        actions.append(Option("send", t._("📨 Send results ({n})", n=t.number(unsent))))
    if not closed and open_standard:
        actions.append(Option("alls", t._("✅ Rest achieved ({n})",
                                           n=t.number(open_standard))))
    if not closed and open_households:
        actions.append(Option("allf", t._("🏡 Recognise all ({n})",
                                          n=t.number(open_households))))
    other = year - 1 if year == context.this_year else context.this_year
    actions.append(Option(f"y{other}", t._("📅 Evaluation {year}", year=other)))
    if await _pick_root(context) is not None:
        actions.append(Option("pick", t._("⬅ Another chapter")))
    lines = [t._("<b>Evaluation {year}</b>", year=year),
             html.escape(await orgtree.unit_path(context.db, unit_id))]
    if note:
        lines += [note]
    lines += [
        "",
        t._("⭐ Women's standard: {registered} registered, {achieved} achieved, "
            "{not_achieved} not achieved, {open} not decided yet.",
            registered=t.number(counts.standard_registered),
            achieved=t.number(counts.standard_achieved),
            not_achieved=t.number(counts.standard_not_achieved),
            open=t.number(counts.standard_registered - counts.standard_achieved
                          - counts.standard_not_achieved)),
        t._("🏡 Households: {registered} registered, {meeting} self-assessed as meeting every "
            "criterion, {recognised} recognised.",
            registered=t.number(counts.households_registered),
            meeting=t.number(counts.households_meeting_all),
            recognised=t.number(counts.households_recognised)),
    ]
    if unsent:
        lines.append(t.n_("📨 {n} member's results are not sent yet: she is told only when you "
                          "press “Send results”.",
                          "📨 {n} members' results are not sent yet: they are told only when you "
                          "press “Send results”.", unsent))
    if closed:
        lines.append(t._("🔒 {year} is closed: the results are read-only.", year=year))
    lines.append("")
    if not rows:
        lines.append(t._("Nobody in this chapter has registered for {year}.", year=year))
    else:
        if members.pages > 1:
            lines.append(t._("Page {page} of {pages}.", page=members.page + 1,
                             pages=members.pages))
        by_id = {str(r.member_id): r for r in rows}
        for number, option in members.visible():
            row = by_id[option.key]
            parts = [_standard_status(t, row), _household_status(t, row)]
            lines.append(f"{number}. <b>{html.escape(row.full_name)}</b> — "
                         + "; ".join(p for p in parts if p))
        lines += ["", t._("Tap a member (or type her number) to record her results.")]
    first_action = len(members.options) + 1
    extra = [[InlineKeyboardButton(
        f"{first_action + i}. {a.label}",
        callback_data=callbacks.encode(PREFIX, LIST, unit_id, year, "o", a.key))]
        for i, a in enumerate(actions)]
    keyboard = members.keyboard(PREFIX, LIST, unit_id, year, extra_rows=extra)
    remember(context, PREFIX, view=LIST, unit=unit_id, year=year, page=members.page)
    return Screen("\n".join(lines), keyboard, Choice([*members.options, *actions]))


def _decision_line(context: BotContext, *, result: str | None, decided_at: str | None,
                   decider: str | None, labels: dict[Any, str]) -> str:
    t = context.t
    if result is None or decided_at is None:
        return t._("Result: ⏳ not decided yet")
    when = t.datetime(datetime.fromisoformat(decided_at).astimezone(context.settings.timezone))
    who = html.escape(decider) if decider else t._("an administrator")
    return t._("Result: {result} — by {who}, {when}", result=t._(labels[result]), who=who,
               when=when)


async def _card_screen(context: BotContext, *, unit_id: int, year: int, page: int,
                       member_id: int) -> Screen | None:
    """One member's results (None when she is not registered in this chapter)."""
    t = context.t
    rows = await campaigns.evaluation_rows(context.db, year, unit_id, member_id)
    if not rows:
        return None
    row = rows[0]
    closed = await campaigns.is_closed(context.db, year, unit_id)
    unsent = {u.campaign: u for u in await campaigns.unsent(context.db, year, unit_id)
              if u.member_id == member_id}
    tz = context.settings.timezone
    lines = [f"<b>{html.escape(row.full_name)}</b>",
             t._("Evaluation {year}", year=year) + " · "
             + html.escape(await orgtree.unit_path(context.db, unit_id)), ""]
    options = []
    reg = row.standard
    if reg is None:
        lines.append(t._("⭐ <b>Women's standard</b>: not registered."))
    else:
        registered = t.date(datetime.fromisoformat(reg.registered_at).astimezone(tz))
        lines.append(t._("⭐ <b>Women's standard</b>: registered on {date}.", date=registered))
        written = await campaigns.commitments(context.db, reg.id)
        order = [q.code for q in context.catalog.entries["qualities"]]
        for code, text in sorted(written.items(), key=lambda item: order.index(item[0])
                                 if item[0] in order else len(order)):
            quality = context.catalog.find("qualities", code)
            label = quality.label(t.locale) if quality else code
            clipped = text if len(text) <= 300 else text[:299] + "…"
            lines.append(f"• {html.escape(label)}: <i>{html.escape(clipped)}</i>")
        lines.append(_decision_line(context, result=reg.result, decided_at=reg.decided_at,
                                    decider=row.standard_decider
                                    or erased_member(t, reg.decided_by), labels=STANDARD_STATUS))
        if not closed:
            options += [Option("sa", t._("✅ Standard: achieved")),
                        Option("sn", t._("❌ Standard: not met"))]  # ✖ is Hủy
            if STANDARD in unsent and unsent[STANDARD].told_result is None:
                options.append(Option("su", t._("↩ Undo standard")))
    lines.append("")
    household = row.family
    if household is None:
        lines.append(t._("🏡 <b>“5 không, 3 sạch” household</b>: not registered."))
    else:
        registered = t.date(datetime.fromisoformat(household.registered_at).astimezone(tz))
        lines.append(t._("🏡 <b>“5 không, 3 sạch” household</b>: registered on {date}.",
                         date=registered))
        lines.append(t._("Self-assessed as meeting every criterion: yes") if household.meets_all
                     else t._("Self-assessed as meeting every criterion: no"))
        if household.meets_all or household.result is not None:
            lines.append(_decision_line(context, result=household.result,
                                        decided_at=household.decided_at,
                                        decider=row.family_decider or erased_member(
                                            t, household.decided_by), labels=HOUSEHOLD_STATUS))
        if household.meets_all and not closed:
            options += [Option("fr", t._("🏡 Household: yes")),
                        Option("fn", t._("🏡 Household: not yet"))]
            if FAMILY in unsent and unsent[FAMILY].told_result is None:
                options.append(Option("fu", t._("↩ Undo household")))
    if closed:
        lines += ["", t._("🔒 {year} is closed: the results are read-only.", year=year)]
    elif unsent:
        lines += ["", t._("📨 Not sent to her yet: she is told when you press “Send results” "
                          "on the list.")]
    options.append(Option("back", t._("⬅ Back to the list")))
    choice = Choice(options, page_size=len(options))
    remember(context, PREFIX, view=CARD, unit=unit_id, year=year, page=page, member=member_id)
    return Screen("\n".join(lines), choice.keyboard(PREFIX, CARD, unit_id, year, page, member_id),
                  choice)


async def _confirm_screen(context: BotContext, unit_id: int, year: int, key: str) -> Screen:
    t = context.t
    rows = await campaigns.evaluation_rows(context.db, year, unit_id)
    where = html.escape(await orgtree.unit_path(context.db, unit_id))
    if CAMPAIGN_KEYS[key] == STANDARD:
        n = sum(1 for r in rows if r.standard and r.standard.result is None)
        text = t._("Mark the {n} members of {unit} who have no decision yet as having achieved "
                   "the women's standard {year}? They are told when you send the results.",
                   n=t.number(n), unit=where, year=year)
    else:
        n = sum(1 for r in rows if r.family and r.family.meets_all and r.family.result is None)
        text = t._("Recognise the {n} households of {unit} that self-assessed as meeting every "
                   "criterion and have no decision yet as “5 không, 3 sạch” families for {year}? "
                   "The members are told when you send the results.", n=t.number(n),
                   unit=where, year=year)
    choice = Choice([Option("yes", t._("✅ Yes, go ahead")),
                     Option("no", t._("✖ No, back to the list"))])
    remember(context, PREFIX, view=CONFIRM, unit=unit_id, year=year, campaign=key)
    return Screen(text, choice.keyboard(PREFIX, CONFIRM, unit_id, year, key), choice)


async def _send_screen(context: BotContext, unit_id: int, year: int) -> Screen:
    """What "Send results" would send, in figures, before anything leaves."""
    t = context.t
    items = await campaigns.unsent(context.db, year, unit_id)
    where = html.escape(await orgtree.unit_path(context.db, unit_id))
    if not items:
        choice = Choice([Option("no", t._("⬅ Back to the list"))])
        remember(context, PREFIX, view=SEND, unit=unit_id, year=year)
        return Screen(t._("Every result of {unit} for {year} has been sent; there is nothing new "
                          "to send.", unit=where, year=year),
                      choice.keyboard(PREFIX, SEND, unit_id, year), choice)
    count = {r: sum(1 for i in items if i.result == r) for c in campaigns.CAMPAIGNS
             for r in campaigns.RESULTS[c]}
    lines = [t.n_("Send the {year} evaluation results of {unit} to {n} member?",
                  "Send the {year} evaluation results of {unit} to {n} members?",
                  len(_by_member(items)), year=year, unit=where), ""]
    if any(i.campaign == STANDARD for i in items):
        lines.append(t._("⭐ Women's standard: {achieved} achieved, {not_achieved} not achieved.",
                         achieved=t.number(count[campaigns.ACHIEVED]),
                         not_achieved=t.number(count[campaigns.NOT_ACHIEVED])))
    if any(i.campaign == FAMILY for i in items):
        lines.append(t._("🏡 Households: {recognised} recognised, {not_yet} not yet.",
                         recognised=t.number(count[campaigns.RECOGNISED]),
                         not_yet=t.number(count[campaigns.NOT_RECOGNISED])))
    corrected = sum(1 for i in items if i.told_result is not None)
    if corrected:
        lines.append(t.n_("📝 {n} result corrects one sent before; she is told it was corrected.",
                          "📝 {n} results correct ones sent before; the members are told they "
                          "were corrected.", corrected))
    lines += ["", t._("Each member gets one message in her language with only her own results. "
                      "Once sent, it cannot be taken back.")]
    choice = Choice([Option("yes", t._("📨 Send")),
                     Option("no", t._("✖ Not yet"))])
    remember(context, PREFIX, view=SEND, unit=unit_id, year=year)
    return Screen("\n".join(lines), choice.keyboard(PREFIX, SEND, unit_id, year), choice)


# --- entry -----------------------------------------------------------------------------------


@requires(Role.CHAPTER_HEAD)
async def evaluate(update: Update, context: BotContext) -> None:
    """/evaluate [UNIT_CODE] [YEAR]: her chapter's list, or the chapter to choose first."""
    t = context.t
    principal = context.principal
    assert principal is not None
    year, code = context.this_year, None
    for arg in context.args or []:
        if arg.isascii() and arg.isdigit() and len(arg) == 4:
            year = int(arg)
        else:
            code = arg
    if not FIRST_YEAR <= year <= context.this_year:
        await say(update, context, t._("Please give a year from {first} to {last}, e.g. "
                                       "/evaluate {last}.", first=FIRST_YEAR,
                                       last=context.this_year))
        return
    if code is not None:
        unit = await units.by_code(context.db, code[:40])
        if unit is None:
            await say(update, context, t._("There is no unit with the code {code}.",
                                           code=html.escape(code[:40])))
            return
        if not await may_act_on_unit(context.db, principal, Role.CHAPTER_HEAD, unit.id):
            await refuse(update, context)
            return
        await _open(update, context, unit, year, None)
        return
    scope = _scope_units(context)
    if len(scope) == 1 and not principal.is_super_admin:
        unit = await units.get(context.db, scope[0])
        if unit is not None:
            await _open(update, context, unit, year, None)
            return
    await put(update, context, await _pick_screen(context, year, 0, 0), None)


async def _open(update: Update, context: BotContext, unit: Unit, year: int,
                message: Message | None) -> None:
    """A chapter's list, or (for a ward and the like) its chapters to choose from."""
    if await _selectable(context, unit):
        await put(update, context, await _list_screen(context, unit_id=unit.id, year=year, page=0),
                  message)
    else:
        await put(update, context, await _pick_screen(context, year, unit.id, 0), message)


# --- presses and typed answers ---------------------------------------------------------------


async def _screen_for(context: BotContext, view: str, p: Params) -> Screen | None:
    if view == PICK:
        return await _pick_screen(context, p["year"], p["node"], p.get("page", 0))
    if view == LIST:
        return await _list_screen(context, unit_id=p["unit"], year=p["year"], page=p.get("page", 0))
    if view == CARD:
        return await _card_screen(context, unit_id=p["unit"], year=p["year"], page=p["page"],
                                  member_id=p["member"])
    if view == CONFIRM:
        return await _confirm_screen(context, p["unit"], p["year"], p["campaign"])
    if view == SEND:
        return await _send_screen(context, p["unit"], p["year"])
    return None


async def _allowed(update: Update, context: BotContext, view: str, p: Params) -> bool:
    """The chapter (or node) is hers and the year is one that can be evaluated."""
    principal = context.principal
    assert principal is not None
    year = p.get("year", 0)
    if not FIRST_YEAR <= year <= context.this_year:
        await acknowledge(update, context, context.t._(STALE))
        return False
    unit = p.get("node") if view == PICK else p.get("unit")
    if unit == 0 and view == PICK:
        return True
    if unit is None or await units.get(context.db, unit) is None or not await may_act_on_unit(
            context.db, principal, Role.CHAPTER_HEAD, unit):
        await refuse(update, context)
        return False
    return True


async def _act(update: Update, context: BotContext, *, view: str, p: Params, key: str,
               message: Message | None) -> None:
    """Carry out one press or typed answer on a screen."""
    t = context.t
    if not await _allowed(update, context, view, p):
        return
    if view == PICK:
        await _act_pick(update, context, p, key, message)
    elif view == LIST:
        await _act_list(update, context, p, key, message)
    elif view == CARD:
        await _act_card(update, context, p, key, message)
    elif view == CONFIRM:
        await acknowledge(update, context)
        if key == "yes":
            await _decide_all(update, context, p, message)
        else:
            await put(update, context, await _list_screen(context, unit_id=p["unit"],
                                                          year=p["year"], page=0),
                       message)
    elif view == SEND:
        if key == "yes":
            await _send_results(update, context, p, message)
        else:
            await acknowledge(update, context)
            await put(update, context, await _list_screen(context, unit_id=p["unit"],
                                                          year=p["year"], page=0),
                       message)
    else:
        await acknowledge(update, context, t._(STALE))


async def _act_pick(update: Update, context: BotContext, p: Params, key: str,
                    message: Message | None) -> None:
    principal = context.principal
    assert principal is not None
    if key == "up" and p["node"]:
        await acknowledge(update, context)
        parent = (await units.get(context.db, p["node"]))
        up = parent.parent_id if parent else None
        if up is None or not await may_act_on_unit(context.db, principal, Role.CHAPTER_HEAD, up):
            up = 0
        await put(update, context, await _pick_screen(context, p["year"], up, 0), message)
        return
    unit = await units.get(context.db, answers.int_arg(key) or 0)
    if unit is None or (p["node"] and unit.parent_id != p["node"]) or not await may_act_on_unit(
            context.db, principal, Role.CHAPTER_HEAD, unit.id):
        await refuse(update, context)
        return
    await acknowledge(update, context)
    await _open(update, context, unit, p["year"], message)


async def _act_list(update: Update, context: BotContext, p: Params, key: str,
                    message: Message | None) -> None:
    t = context.t
    unit, year = p["unit"], p["year"]
    if key in ("alls", "allf"):
        await acknowledge(update, context)
        if await campaigns.is_closed(context.db, year, unit):
            await put(update, context, await _list_screen(context, unit_id=unit, year=year,
                                                          page=0), message)
            return
        await put(update, context, await _confirm_screen(context, unit, year, key[-1]), message)
    elif key == "send":
        await acknowledge(update, context)
        await put(update, context, await _send_screen(context, unit, year), message)
    elif key.startswith("y") and answers.int_arg(key[1:]) is not None:
        other = answers.int_arg(key[1:]) or 0
        if not FIRST_YEAR <= other <= context.this_year:
            await acknowledge(update, context, t._(STALE))
            return
        await acknowledge(update, context)
        await put(update, context, await _list_screen(context, unit_id=unit, year=other, page=0),
                  message)
    elif key == "pick":
        await acknowledge(update, context)
        root = await _pick_root(context) or 0
        await put(update, context, await _pick_screen(context, year, root, 0), message)
    else:
        screen = await _card_screen(context, unit_id=unit, year=year, page=p.get("page", 0),
                                    member_id=answers.int_arg(key) or 0)
        if screen is None:  # not (or no longer) registered in this chapter, or forged
            await acknowledge(update, context, t._("This member is not on this chapter's list for "
                                                   "{year}.", year=year))
            return
        await acknowledge(update, context)
        await put(update, context, screen, message)


async def _act_card(update: Update, context: BotContext, p: Params, key: str,
                    message: Message | None) -> None:
    t = context.t
    unit, year, page, member = p["unit"], p["year"], p["page"], p["member"]
    if key == "back":
        await acknowledge(update, context)
        await put(update, context, await _list_screen(context, unit_id=unit, year=year, page=page),
                  message)
        return
    rows = await campaigns.evaluation_rows(context.db, year, unit, member)
    if (key not in DECISIONS and key not in UNDO) or not rows:
        await acknowledge(update, context, t._("This member is not on this chapter's list for "
                                               "{year}.", year=year))
        return
    campaign = UNDO[key] if key in UNDO else DECISIONS[key][0]
    reg = rows[0].standard if campaign == STANDARD else rows[0].family
    if reg is None:
        await acknowledge(update, context, t._(STALE))
    else:
        try:
            await _decide_one(update, context, reg.id, key)
        except YearClosed:
            await acknowledge(update, context,
                              t._("🔒 {year} is closed: the results are read-only.", year=year))
        except NotEligible:
            await acknowledge(update, context, t._("This household did not self-assess as meeting "
                                                   "every criterion, so it cannot be recognised."))
    await put(update, context, await _card_screen(context, unit_id=unit, year=year, page=page,
                                                  member_id=member), message)


async def _decide_one(update: Update, context: BotContext, registration_id: int,
                      key: str) -> None:
    """Record (or take back) one decision; nothing is sent to her yet."""
    t = context.t
    assert context.principal is not None
    by, at = context.principal.user_id, to_iso(context.clock.now())
    if key in UNDO:
        if await campaigns.undecide(context.db, UNDO[key], registration_id, by=by, at=at):
            await acknowledge(update, context, t._("Taken back: not decided yet. Nothing was sent "
                                                   "to her."), alert=False)
        else:
            await acknowledge(update, context, t._("This result has already been sent to her; "
                                                   "you can correct it instead."))
        return
    campaign, result = DECISIONS[key]
    await campaigns.decide(context.db, campaign, registration_id, result, by=by, at=at)
    labels = STANDARD_STATUS if campaign == STANDARD else HOUSEHOLD_STATUS
    await acknowledge(update, context, t._("Saved: {result}", result=t._(labels[result])),
                      alert=False)


async def _decide_all(update: Update, context: BotContext, p: Params,
                      message: Message | None) -> None:
    t = context.t
    unit, year = p["unit"], p["year"]
    campaign = CAMPAIGN_KEYS[p["campaign"]]
    result = campaigns.ACHIEVED if campaign == STANDARD else campaigns.RECOGNISED
    assert context.principal is not None
    try:
        changed = await campaigns.decide_remaining(
            context.db, campaign, year=year, unit_id=unit, result=result,
            by=context.principal.user_id, at=to_iso(context.clock.now()))
    except YearClosed:
        note = t._("🔒 {year} is closed: the results are read-only.", year=year)
    else:
        note = (t.n_("✅ {n} member marked as achieved.",
                     "✅ {n} members marked as achieved.", len(changed))
                if campaign == STANDARD else
                t.n_("✅ {n} household recognised.", "✅ {n} households recognised.",
                     len(changed)))
    await put(update, context, await _list_screen(context, unit_id=unit, year=year, page=0,
                                                  note=note), message)


async def _send_results(update: Update, context: BotContext, p: Params,
                        message: Message | None) -> None:
    """Hand the unsent results to the outbox: one broadcast, one message per member."""
    t = context.t
    unit, year = p["unit"], p["year"]
    user, chat = update.effective_user, update.effective_chat
    assert user is not None and chat is not None
    await acknowledge(update, context)
    items = await campaigns.unsent(context.db, year, unit)
    grouped = _by_member(items)
    texts = {member: result_message(group[0].locale, year, group)
             for member, group in grouped.items()}
    now = to_iso(context.clock.now())
    new = NewBroadcast(
        draft_key=f"{BROADCAST_KIND}:{unit}:{year}:{secrets.token_hex(8)}", created_by=user.id,
        sender_chat_id=chat.id, unit_id=unit, audience=BROADCAST_KIND, text_html="",
        photo_file_id=None, scheduled_at=now, kind=BROADCAST_KIND)
    broadcast_id, sent = await campaigns.send_results(context.db, new, items=items, texts=texts,
                                                      at=now)
    if broadcast_id is None:
        note = t._("Nothing was sent: every result had already been sent.")
    else:
        note = t.n_("📨 The results are on their way to {n} member; you will get a delivery "
                    "report.", "📨 The results are on their way to {n} members; you will get "
                    "a delivery report.", sent)
        if sent < len(grouped):
            note += "\n" + t._("Some results changed meanwhile and were not sent; please check "
                                "them and send again.")
        status = await say_kept(update, context, t._("⏳ Preparing to send …"))
        if status is not None:
            await deliveries.set_progress_message(context.db, broadcast_id, chat.id,
                                                  status.message_id)
        context.delivery.wake()
    await put(update, context, await _list_screen(context, unit_id=unit, year=year, page=0,
                                                  note=note), message)


# This feature's screens: their buttons, and the typed numbers answering the latest one.
VIEWS = Views(
    prefix=PREFIX,
    role=Role.CHAPTER_HEAD,
    shapes={PICK: ("year", "node"), LIST: ("unit", "year"),
            CARD: ("unit", "year", "page", "member"), CONFIRM: ("unit", "year", "campaign"),
            SEND: ("unit", "year")},
    words={"campaign": frozenset(CAMPAIGN_KEYS)},
    render=_screen_for,
    allowed=_allowed,
    act=_act,
)


def handlers() -> list[BaseHandler[Any, Any, Any]]:
    """The handlers of this feature, new for each application."""
    return VIEWS.opened_by("evaluate", evaluate)
