"""/mydata: everything the bot holds about her, readable in chat (paginated) and as a JSON file.

What is listed is what `storage.privacy.export` returns (every table is covered there, erasure
too); under the last page, a button per consent she may withdraw (answered by /privacy,
`kit.consents`). It works in every flow, and before she answers a consent asked again.
"""

from __future__ import annotations

import html
import json
from datetime import datetime
from typing import Any

from telegram import InputFile, Update, User
from telegram.ext import BaseHandler, CommandHandler, filters

from bot import orgtree
from bot.context import BotContext
from bot.i18n import LANGUAGE_NAMES, N_
from bot.validators import display_phone
from handlers.kit.consents import PURPOSES, TEXTS, withdraw_keyboard
from handlers.kit.replies import paginate, say
from storage import channels, privacy
from storage.db import to_iso


def _when(context: BotContext, iso: str | None) -> str:
    if not iso:
        return "—"
    return context.t.date(datetime.fromisoformat(iso).astimezone(context.settings.timezone))


_COUNTED = (  # /mydata lines that count what the file holds
    ("support_requests", N_("Your requests for help (with their messages, in the file): {n}")),
    ("notices_sent", N_("Notices you sent as an officer: {n}")),
    ("exports_requested", N_("Exports you requested as an officer: {n}")),
    ("unit_figures_entered", N_("Unit figures you entered or corrected as an officer: {n}")),
    ("audit_log", N_("Entries about you or by you in the union's audit log: {n}")),
    ("survey_answers", N_("Your survey answers (while a survey is open, or named): {n}")),
    ("surveys_created", N_("Surveys you created as an officer: {n}")),
)


async def _summary(context: BotContext, data: dict[str, Any], user: User | None) -> list[str]:
    """Her data as readable lines (escaped): everything `privacy.export` returns."""
    t = context.t
    lines = [t._("<b>Everything the bot holds about you</b>")]
    member = data.get("member")
    if member is None:
        lines.append(t._("You are not registered, so no profile is stored."))
    else:
        lines += await _profile_lines(context, data, user)
    lines += ["", t._("<b>Consents</b>"), *_consent_lines(context, data["consents"])]
    lines += _campaign_lines(context, data)
    lines += _report_lines(context, data.get("activity_reports", []))
    if member is not None:
        notices = data.get("notices") or {}
        lines += ["", t._("Notices received: {n}", n=t.number(notices.get("received") or 0))]
        if data.get("reminders_off_since"):
            lines.append(t._("Environment-day reminders: off since {date}",
                             date=_when(context, data["reminders_off_since"])))
        if data.get("meetings"):
            lines.append(t._("Meetings you were invited to: {n} (present at {present})",
                             n=t.number(len(data["meetings"])),
                             present=t.number(sum(1 for m in data["meetings"]
                                                  if m["attended_at"]))))
        lines += [t._(msgid, n=t.number(len(data[key])))
                  for key, msgid in _COUNTED if data.get(key)]
    if data.get("unfinished_entries"):
        lines.append(t._("Unfinished entries (e.g. a registration not yet confirmed) are kept "
                         "until you finish or cancel them."))
    lines += ["", t._("The same as a file is below. /deleteme deletes your data; /privacy "
                      "explains how it is used.")]
    return lines


async def _profile_lines(context: BotContext, data: dict[str, Any],
                         user: User | None) -> list[str]:
    t = context.t
    member = data["member"]
    unit = await orgtree.unit_path(context.db, await _unit_id(context))
    lines = [
        t._("Full name: {name}", name=html.escape(member["full_name"])),
        t._("Phone: {phone}", phone=display_phone(member["phone"])),
        t._("Chapter: {unit}", unit=html.escape(unit)),
        t._("Language: {language}",
            language=LANGUAGE_NAMES.get(member["locale"], member["locale"])),
        t._("Registered on: {date}", date=_when(context, member["created_at"])),
        t._("Telegram account: {id}",
            id=await _account(context, data["telegram_user_id"], user)),
    ]
    for role in data.get("roles", []):
        label = t._(ROLE_NAMES.get(role["role"], role["role"]))
        lines.append(t._("Role: {role} of {unit}", role=label,
                         unit=html.escape(role["unit_name"])))
    return lines


async def _account(context: BotContext, user_id: int, user: User | None) -> str:
    """Her account as her messenger knows it: on Zalo her Zalo id, on Telegram her name there
    (and @username), never the number the bot files her under (which means nothing to her)."""
    found = await channels.external_id(context.db, user_id)
    if found:
        return html.escape(found[1])
    if user is None or not user.full_name.strip():
        return context.t._("the account you are writing to me from")
    name = html.escape(user.full_name)
    return f"{name} (@{html.escape(user.username)})" if user.username else name


def _consent_lines(context: BotContext, consents: list[dict[str, Any]]) -> list[str]:
    """Each consent record, and under the latest one per purpose the text she agreed to."""
    t = context.t
    if not consents:
        return ["—"]
    latest = {c["purpose"]: c for c in consents}
    lines = []
    for record in consents:
        purpose = PURPOSES.get(record["purpose"])
        name = t._(purpose.name) if purpose else record["purpose"]
        if record["withdrawn_at"]:
            lines.append(t._("{purpose} (version {version}): given on {given}, withdrawn on "
                             "{withdrawn}", purpose=name, version=record["version"],
                             given=_when(context, record["given_at"]),
                             withdrawn=_when(context, record["withdrawn_at"])))
            continue
        lines.append(t._("{purpose} (version {version}): given on {given}", purpose=name,
                         version=record["version"], given=_when(context, record["given_at"])))
        text = TEXTS.get((record["purpose"], record["version"]))
        if latest[record["purpose"]] is record and text is not None:
            lines.append(t._("<i>The text you agreed to:</i>") + "\n" + t._(text))
    return lines


def _campaign_lines(context: BotContext, data: dict[str, Any]) -> list[str]:
    t = context.t
    lines: list[str] = []
    for reg in data.get("womens_standard", []):
        lines += ["", t._("<b>Women's standard {year}</b>: registered on {date}; result: "
                          "{result}", year=reg["year"], date=_when(context, reg["registered_at"]),
                          result=t._(RESULTS.get(reg["result"], RESULTS[None])))]
        for commitment in reg["commitments"]:
            entry = context.catalog.find("qualities", commitment["quality"])
            label = entry.label(t.locale) if entry else commitment["quality"]
            lines.append(f"• <b>{html.escape(label)}</b>: <i>{html.escape(commitment['text'])}</i>")
    for household in data.get("family_households", []):
        criteria_set = context.catalog.criteria_set(household["year"], household["criteria_set"])
        lines += ["", t._("<b>{campaign} {year}</b>: registered on {date}; result: {result}",
                          campaign=html.escape(criteria_set.name(t.locale)),
                          year=household["year"],
                          date=_when(context, household["registered_at"]),
                          result=t._(RESULTS.get(household["result"], RESULTS[None])))]
        for answer in household["answers"]:
            entry = criteria_set.find(answer["criterion"])
            label = entry.label(t.locale) if entry else answer["criterion"]
            lines.append(f"{'✅' if answer['met'] else '⬜'} {html.escape(label)}")
    return lines


def _report_lines(context: BotContext, reports: list[dict[str, Any]]) -> list[str]:
    """Her activity reports with their notes, photos and any doubt mark."""
    t = context.t
    if not reports:
        return []
    lines = ["", t.n_("<b>Your activity reports</b> ({n} report)",
                      "<b>Your activity reports</b> ({n} reports)", len(reports))]
    for report in reports:
        entry = context.catalog.find("activities", report["activity_code"])
        parts = [t.date(datetime.fromisoformat(report["day"]).date()),
                 html.escape(entry.label(t.locale) if entry else report["activity_code"])]
        if report["quantity"] is not None:
            unit = entry.unit(t.locale) if entry and entry.unit else ""
            parts.append(f"{t.number(report['quantity'])} {html.escape(unit)}".strip())
        line = "• " + " — ".join(parts)
        if report["note"]:
            line += "\n  " + t._("Note: {note}", note=f"<i>{html.escape(report['note'])}</i>")
        if report["photo"]:
            line += "\n  " + t._("📷 with a photo")
        if report["flag_reason"]:
            line += "\n  " + t._("⚠️ Marked as doubtful: {reason}",
                                  reason=html.escape(report["flag_reason"]))
        lines.append(line)
    return lines


ROLE_NAMES = {
    "chapter_head": N_("chapter head"),
    "unit_admin": N_("union officer"),
    "request_handler": N_("request handler"),
}
RESULTS = {
    None: N_("not evaluated yet"),
    "achieved": N_("achieved"),
    "not_achieved": N_("not achieved"),
    "recognised": N_("recognised"),
    "not_recognised": N_("not recognised"),
}


async def _unit_id(context: BotContext) -> int | None:
    member = context.principal.member if context.principal else None
    return member.unit_id if member else None


async def show_my_data(update: Update, context: BotContext) -> None:
    """/mydata: what the bot holds about her, in chat and as a JSON file."""
    assert update.effective_user is not None and update.effective_chat is not None
    data = await privacy.export(context.db, update.effective_user.id)
    lines = await _summary(context, data, update.effective_user)
    given = {c["purpose"] for c in data["consents"] if not c["withdrawn_at"]}
    keyboard = withdraw_keyboard(context, given) if data.get("member") else None
    pages = paginate(lines)
    for number, page in enumerate(pages):
        await say(update, context, "\n".join(page),
                  keyboard if number == len(pages) - 1 else None)
    exported = {"exported_at": to_iso(context.clock.now()), **data}
    if isinstance(exported.get("unfinished_entries"), str):
        exported["unfinished_entries"] = json.loads(exported["unfinished_entries"])
    document = json.dumps(exported, ensure_ascii=False, indent=2).encode()
    day = context.clock.now().astimezone(context.settings.timezone).date().isoformat()
    await context.bot.send_document(
        update.effective_chat.id, InputFile(document, filename=f"hoivien-mydata-{day}.json"),
        caption=context.t._("All your data in one file."),
    )


def handlers() -> list[BaseHandler[Any, Any, Any]]:
    """The handlers of this feature, new for each application."""
    return [CommandHandler("mydata", show_my_data, filters.ChatType.PRIVATE)]
