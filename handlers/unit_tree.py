"""/unit add|rename|code|move|merge … (unit admins): change the organisation tree.

See `USAGE`; every change after a confirmation. Merging two units moves the members, the units
below and the roles; history stays with the unit it was recorded in and is counted in the
surviving unit (storage/admin.py); old codes keep working as deep links. Everyone moved is told
(through the outbox). Every change is checked again when carried out and audited.
"""

from __future__ import annotations

import html
import re
import secrets
from typing import Any, TypedDict

from telegram import Message, Update
from telegram.ext import BaseHandler, CallbackQueryHandler, CommandHandler, filters

from bot import callbacks, orgtree, qr
from bot.choices import Choice, Option
from bot.context import BotContext
from bot.i18n import N_, Translator, nfc, translator
from bot.permissions import Role
from handlers.kit import answers, outbox
from handlers.kit.flow import kept
from handlers.kit.outbox import stop_lost_notices
from handlers.kit.replies import STALE, press_of, refuse, requires, say, show
from handlers.kit.scope import escaped_path, may_see
from storage import admin, units
from storage.admin import ChangeRefused
from storage.db import to_iso
from storage.units import Unit

UNIT = "ua"  # a pending /unit change
CODE = re.compile(r"[A-Za-z0-9_.\-]{1,40}")
CHILD_KIND = {"district": "ward", "ward": "chapter", "chapter": "group"}

USAGE = N_(
    "<b>Changing the organisation tree</b>\n"
    "/unit add PARENT_CODE NEW_CODE Name — a new unit under PARENT_CODE\n"
    "/unit rename CODE New name\n"
    "/unit code CODE NEW_CODE — a new code (the old one keeps working)\n"
    "/unit move CODE NEW_PARENT_CODE — with everything below it\n"
    "/unit merge CODE INTO_CODE — members, units below and roles move; history is kept and "
    "counted in INTO_CODE; the old code keeps working\n"
    "Example: /unit merge HM-HL-07 HM-HL-02"
)
REFUSALS = {
    "code_taken": N_("The code {code} is already used (or was used before) by another unit."),
    "name": N_("A name must have 1 to 200 characters."),
    "same_parent": N_("{unit} is already there."),
    "into_own_subtree": N_("A unit cannot go into itself or into a unit below it."),
    "same_unit": N_("That is the same unit (the code of a merged unit leads to the unit it "
                    "was merged into)."),
    "kind": N_("Only units of the same level can be merged."),
    "merged": N_("That unit has already been merged into another one."),
    "no_unit": N_("That unit no longer exists."),
}


# --- /unit ---------------------------------------------------------------------------------------


class Change(TypedDict, total=False):
    """The /unit change awaiting her confirmation (persisted in `user_data["ua"]`)."""

    op: str  # add, rename, code, move or merge
    nonce: str  # carried by its yes/no buttons: older buttons are stale
    unit: int  # the unit changed (all but add)
    parent: int  # add: the new unit's parent; move: the new parent
    into: int  # merge: the unit it is merged into
    code: str  # add, code: the (new) code
    name: str  # add, rename: the (new) name
    kind: str  # add: the new unit's kind, as its siblings'


def _change(context: BotContext) -> Change:
    """The change awaiting confirmation in this chat (an empty one, kept nowhere, if none)."""
    return kept(context, UNIT)


def _refusal(t: Translator, reason: str, **values: Any) -> str:
    return t._(REFUSALS.get(reason, REFUSALS["no_unit"]), **values)


async def _unit_arg(update: Update, context: BotContext, code: str) -> Unit | None:
    unit = await units.by_code(context.db, code[:40])
    if unit is None:
        await say(update, context, context.t._("There is no unit with the code {code}.",
                                               code=html.escape(code[:40])))
    return unit


async def _may_change(context: BotContext, op: Change) -> bool:
    """Whether she may carry out this change (checked when asked and when confirmed)."""
    kind = op["op"]
    if kind == "add":
        return await may_see(context, op["parent"], Role.UNIT_ADMIN)
    if kind in ("rename", "code"):
        return await may_see(context, op["unit"], Role.UNIT_ADMIN)
    unit = await orgtree.get(context.db, op["unit"])
    if unit is None:
        return False
    other = op["parent"] if kind == "move" else op["into"]
    return (await may_see(context, unit.parent_id, Role.UNIT_ADMIN)
            and await may_see(context, other, Role.UNIT_ADMIN))


@requires(Role.UNIT_ADMIN)
async def unit_command(update: Update, context: BotContext) -> None:
    """/unit add|rename|code|move|merge …: check, then ask for a confirmation."""
    t = context.t
    args = [nfc(a) for a in context.args or []]
    sub = args[0].lower() if args else ""
    shapes = {"add": 4, "rename": 3, "code": 3, "move": 3, "merge": 3}
    if sub not in shapes or len(args) < shapes[sub] or (
            sub in ("code", "move", "merge") and len(args) != 3):
        await say(update, context, t._(USAGE))
        return
    first = await _unit_arg(update, context, args[1])
    if first is None:
        return
    op: Change
    if sub == "add":
        code, name = args[2], " ".join(args[3:])
        if not CODE.fullmatch(code):
            await say(update, context, t._("A code has 1 to 40 letters, digits or . _ - "
                                           "(no spaces), e.g. HM-HL-20."))
            return
        kids = await orgtree.children(context.db, first.id)
        kinds = [k.kind for k in kids]
        kind = (max(set(kinds), key=kinds.count) if kinds
                else CHILD_KIND.get(first.kind, "unit"))
        op = Change(op="add", parent=first.id, code=code, name=name, kind=kind)
        question = t._("Add the unit {name} ({code}) under {parent}?", name=html.escape(name),
                       code=html.escape(code), parent=await escaped_path(context, first.id))
    elif sub == "rename":
        name = " ".join(args[2:])
        op = Change(op="rename", unit=first.id, name=name)
        question = t._("Rename {unit} to {name}?", unit=await escaped_path(context, first.id),
                       name=html.escape(name))
    elif sub == "code":
        if not CODE.fullmatch(args[2]):
            await say(update, context, t._("A code has 1 to 40 letters, digits or . _ - "
                                           "(no spaces), e.g. HM-HL-20."))
            return
        op = Change(op="code", unit=first.id, code=args[2])
        question = t._("Change the code of {unit} from {old} to {new}? Links with the old code "
                       "keep working.", unit=await escaped_path(context, first.id),
                       old=html.escape(first.code), new=html.escape(args[2]))
    else:
        second = await _unit_arg(update, context, args[2])
        if second is None:
            return
        if sub == "move":
            op = Change(op="move", unit=first.id, parent=second.id)
            question = t._("Move {unit} (with everything below it) under {parent}?",
                           unit=await escaped_path(context, first.id),
                           parent=await escaped_path(context, second.id))
        else:
            op = Change(op="merge", unit=first.id, into=second.id)
            count = len(await admin.members_in_scope(context.db, [first.id]))
            question = t._("Merge {unit} into {into}? Its {n} members, the units below it and "
                           "its roles move to {into}; what was recorded in {unit} stays and is "
                           "counted in {into}; the code {code} will lead to {into}. Everyone "
                           "moved is told.", unit=await escaped_path(context, first.id),
                           into=await escaped_path(context, second.id), n=t.number(count),
                           code=html.escape(first.code))
    if not await _may_change(context, op):
        await refuse(update, context)
        return
    if not await _check(update, context, op):
        return
    op["nonce"] = secrets.token_hex(3)
    assert context.user_data is not None
    context.user_data[UNIT] = op
    context.user_data["pending_choice"] = UNIT
    choice = _unit_choice(t)
    await say(update, context, question, choice.keyboard(UNIT, op["nonce"]))


async def _check(update: Update, context: BotContext, op: Change) -> bool:
    """The rules that can be told before asking (the storage checks them again)."""
    t = context.t
    if op["op"] in ("add", "rename") and not 0 < len(op["name"]) <= admin.NAME_MAX:
        await say(update, context, _refusal(t, "name"))
        return False
    if op["op"] == "merge":
        first = await orgtree.get(context.db, op["unit"])
        second = await orgtree.get(context.db, op["into"])
        if first is None or second is None:
            await say(update, context, _refusal(t, "no_unit"))
            return False
        if first.id == second.id:
            await say(update, context, _refusal(t, "same_unit"))
            return False
        if any(u.id == first.id for u in await units.ancestry(context.db, second.id)):
            await say(update, context, _refusal(t, "into_own_subtree"))
            return False
        if first.kind != second.kind:
            await say(update, context, _refusal(t, "kind"))
            return False
    if op["op"] == "move" and any(
            u.id == op["unit"] for u in await units.ancestry(context.db, op["parent"])):
        await say(update, context, _refusal(t, "into_own_subtree"))
        return False
    return True


def _unit_choice(t: Translator) -> Choice:
    return Choice([Option("yes", t._("✅ Yes, change it")), Option("no", t._("✖ Cancel"))])


@requires(Role.UNIT_ADMIN)
async def unit_pressed(update: Update, context: BotContext) -> None:
    """`ua:<nonce>:o:<yes|no>`."""
    query, data, message = press_of(update)
    op = _change(context)
    if (data is None or data.arg(0) != op.get("nonce") or data.arg(1) != "o"
            or data.arg(2) not in ("yes", "no")):
        await query.answer(context.t._(STALE), show_alert=True)
        return
    await query.answer()
    await _unit_decided(update, context, data.arg(2) == "yes", message)


async def unit_typed(update: Update, context: BotContext, text: str) -> bool:
    """A typed answer to the confirmation."""
    principal = context.principal
    op = _change(context)
    if principal is None or not principal.at_least(Role.UNIT_ADMIN) or "op" not in op:
        return False
    option = _unit_choice(context.t).resolve(text)
    if option is None:
        return await answers.not_an_option(update, context, text)
    await _unit_decided(update, context, option.key == "yes", None)
    return True


async def _unit_decided(update: Update, context: BotContext, confirmed: bool,
                        message: Message | None) -> None:
    t = context.t
    assert context.user_data is not None and context.principal is not None
    op = _change(context)
    context.user_data.pop(UNIT, None)
    if context.user_data.get("pending_choice") == UNIT:
        context.user_data.pop("pending_choice")
    if not confirmed:
        await show(update, context, t._("All right, nothing was changed."), None, message)
        return
    if not await _may_change(context, op):
        await show(update, context, t._("Sorry, you do not have permission to do this."), None,
                   message)
        return
    by, at = context.principal.user_id, to_iso(context.clock.now())
    db = context.db
    notices: list[tuple[int, str]] = []
    link = None
    try:
        if op["op"] == "add":
            added = await admin.add_unit(db, parent_id=op["parent"], code=op["code"],
                                         name=op["name"], kind=op["kind"], by=by, at=at)
            orgtree.invalidate(db)
            link = join_link(context, added.code)
            text = t._("✅ {unit} ({code}) was added. Its members can join with this link (or the "
                       "QR code below): {link}", unit=await escaped_path(context, added.id),
                       code=html.escape(added.code), link=html.escape(link))
        elif op["op"] == "rename":
            await admin.rename_unit(db, op["unit"], op["name"], by=by, at=at)
            orgtree.invalidate(db)
            text = t._("✅ Renamed: {unit}.", unit=await escaped_path(context, op["unit"]))
        elif op["op"] == "code":
            await admin.recode_unit(db, op["unit"], op["code"], by=by, at=at)
            orgtree.invalidate(db)
            text = t._("✅ {unit} now has the code {code}; the old code keeps working.",
                       unit=await escaped_path(context, op["unit"]), code=html.escape(op["code"]))
        elif op["op"] == "move":
            await admin.move_unit(db, op["unit"], op["parent"], by=by, at=at)
            orgtree.invalidate(db)
            text = t._("✅ Moved: {unit}.", unit=await escaped_path(context, op["unit"]))
        else:
            old = await orgtree.get(db, op["unit"])
            result = await admin.merge_units(db, op["unit"], op["into"], by=by, at=at)
            orgtree.invalidate(db)
            into = await orgtree.unit_path(db, op["into"])
            notices = _merge_notices(result, old.name if old else "", into)
            text = t._("✅ {old} was merged into {into}: {n} members moved; they are being "
                       "told.", old=html.escape(old.name if old else ""),
                       into=html.escape(into), n=t.number(len(result.members)))
    except ChangeRefused as exc:
        await show(update, context, _refusal(t, exc.reason, code=html.escape(op.get("code", "")),
                                             unit=await escaped_path(context, op.get("unit"))),
                   None, message)
        return
    if op["op"] in ("move", "merge"):
        await stop_lost_notices(context)
    await show(update, context, text, None, message)
    if link is not None and update.effective_chat is not None:
        await context.bot.send_photo(update.effective_chat.id, qr.png(link),
                                     caption=html.escape(link))
    await outbox.tell(context, notices, kind="unit_change", unit_id=op.get("into") or 0)


def join_link(context: BotContext, code: str) -> str:
    """The link that opens the assistant with the chapter already chosen."""
    return f"https://t.me/{context.bot.username}?start={code}"


def _merge_notices(result: admin.MergeResult, old: str, into: str) -> list[tuple[int, str]]:
    notices = []
    holders = {m.id for m in result.role_holders}
    for member in {m.id: m for m in [*result.members, *result.role_holders]}.values():
        if member.status != "active":
            continue
        t = translator(member.locale)
        text = t._("Your unit {old} has merged into {into}. You now belong to {into}; nothing "
                   "else changes for you.", old=html.escape(old), into=html.escape(into))
        if member.id in holders:
            text += "\n" + t._("Your role now covers {into}.", into=html.escape(into))
        notices.append((member.id, text))
    return notices


async def cancel_unit(update: Update, context: BotContext) -> bool:
    """/cancel while a /unit change awaits its confirmation."""
    if not (context.user_data or {}).get(UNIT):
        return False
    await _unit_decided(update, context, False, None)
    return True

# Typed answers to this feature's questions (the latest question asked owns them).
async def _unit_options(context: BotContext) -> Choice | None:
    """The options of the pending change's confirmation."""
    return _unit_choice(context.t) if (context.user_data or {}).get(UNIT) else None


answers.register(UNIT, unit_typed, cancel=cancel_unit, options=_unit_options)


def handlers() -> list[BaseHandler[Any, Any, Any]]:
    """The handlers of this feature, new for each application."""
    return [
        CommandHandler("unit", unit_command, filters.ChatType.PRIVATE),
        CallbackQueryHandler(unit_pressed, pattern=callbacks.pattern(UNIT)),
    ]
