"""People and units in chat (unit admins): /grant, /revoke, /unit, /audit.

/grant [name or phone] and /revoke [name or phone]: find a registered member of her units,
choose the role (chapter head, unit admin) and the unit (hers, or a code typed), confirm; the
person is told in her language and gets her new command menu.

/unit add|rename|code|move|merge …: change the tree (see `USAGE`), after a confirmation. Merging
two units moves the members, the units below and the roles; history stays with the unit it
was recorded in and is counted in the surviving unit (storage/admin.py); old codes keep
working as deep links. Everyone moved is told.

/audit: who changed what, and when, in her units.

Every step is checked again when it is carried out (`may_act_on_unit`); a press from an older
screen or with forged data changes nothing. Every change is written to the audit log.
"""

from __future__ import annotations

import html
import re
import secrets
from datetime import datetime
from typing import Any

from telegram import InlineKeyboardMarkup, Message, Update
from telegram.error import TelegramError
from telegram.ext import BaseHandler, CallbackQueryHandler, CommandHandler, filters

from bot import callbacks, orgtree, senders
from bot import stats as figures_of
from bot.choices import Choice, Option
from bot.context import BotContext
from bot.i18n import N_, Translator, nfc, translator
from bot.permissions import Role, load_principal, may_act_on_unit
from bot.stats import METRIC_BY_CODE
from bot.validators import InvalidInput, display_phone, normalise_phone
from handlers.kit import answers, menu, outbox
from handlers.kit.replies import edit as edit_message
from handlers.kit.replies import erased_member, page_buttons, paginate, refuse, requires, say
from storage import admin, audit, units
from storage.admin import ChangeRefused, MemberBrief
from storage.db import to_iso
from storage.units import Unit

GRANT = "ga"  # the /grant and /revoke flow
UNIT = "ua"  # a pending /unit change
AUDIT = "au"
FOUND_MAX = 24
CODE = re.compile(r"[A-Za-z0-9_.\-]{1,40}")
CHILD_KIND = {"district": "ward", "ward": "chapter", "chapter": "group"}

ROLE_LABELS = {"chapter_head": N_("chapter head"), "unit_admin": N_("unit admin")}
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
ACTIONS = {
    "role.grant": N_("made {member} {role} of {unit}"),
    "role.revoke": N_("took the role {role} of {unit} from {member}"),
    "unit.add": N_("added the unit {unit} ({code})"),
    "unit.rename": N_("renamed {old} to {unit}"),
    "unit.recode": N_("changed the code of {unit} from {old} to {new}"),
    "unit.move": N_("moved {unit}"),
    "unit.merge": N_("merged {old} ({code}) into {unit}"),
    "target.set": N_("set the target {metric} {year} of {unit} to {new}"),
    "target.remove": N_("removed the target {metric} {year} of {unit}"),
    "export": N_("exported the statistics {year} of {unit}"),
}


# --- scope ---------------------------------------------------------------------------------------


def _admin_roots(context: BotContext) -> list[int] | None:
    """The units she administers (None: everything, for a super-admin)."""
    principal = context.principal
    assert principal is not None
    if principal.is_super_admin:
        return None
    return sorted({g.unit_id for g in principal.grants if g.role == Role.UNIT_ADMIN})


async def _manages(context: BotContext, unit_id: int | None) -> bool:
    """Whether she is a unit admin over this unit (None: only a super-admin)."""
    assert context.principal is not None
    if unit_id is None:
        return context.principal.is_super_admin
    return await may_act_on_unit(context.db, context.principal, Role.UNIT_ADMIN, unit_id)


async def _path(context: BotContext, unit_id: int | None) -> str:
    return html.escape(await orgtree.unit_path(context.db, unit_id))


# --- /grant and /revoke --------------------------------------------------------------------------


def _draft(context: BotContext) -> dict[str, Any]:
    assert context.user_data is not None
    return context.user_data.setdefault(GRANT, {})


def _forget_draft(context: BotContext) -> None:
    if context.user_data is not None:
        context.user_data.pop(GRANT, None)
        if context.user_data.get("pending_choice") == GRANT:
            context.user_data.pop("pending_choice")


async def _start(update: Update, context: BotContext, action: str) -> None:
    t = context.t
    assert context.user_data is not None
    context.user_data[GRANT] = {"nonce": secrets.token_hex(3), "action": action, "step": "who"}
    context.user_data["pending_choice"] = GRANT
    query = " ".join(context.args or []).strip()
    if query:
        await _search(update, context, query)
        return
    await say(update, context, t._("Whom do you mean? Type part of her name or her phone "
                                   "number (or /cancel)."))


@requires(Role.UNIT_ADMIN)
async def grant_command(update: Update, context: BotContext) -> None:
    """/grant [name or phone]."""
    await _start(update, context, "grant")


@requires(Role.UNIT_ADMIN)
async def revoke_command(update: Update, context: BotContext) -> None:
    """/revoke [name or phone]."""
    await _start(update, context, "revoke")


def _keyboard(draft: dict[str, Any], step: str, choice: Choice) -> InlineKeyboardMarkup:
    return choice.keyboard(GRANT, draft["nonce"], step)


async def _search(update: Update, context: BotContext, query: str) -> None:
    t = context.t
    draft = _draft(context)
    text = nfc(query).strip()[:100]
    digits = re.sub(r"\D", "", text)
    roots = _admin_roots(context)
    if len(digits) >= 9 and len(digits) >= len(re.sub(r"\s", "", text)) - 2:
        try:
            phone = normalise_phone(text)
        except InvalidInput:
            found = []
        else:
            found = await admin.members_in_scope(context.db, roots, phone=phone)
    else:
        found = admin.match_name(await admin.members_in_scope(context.db, roots), text)
    if not found:
        await say(update, context, t._("Nobody registered in your units matches “{query}”. "
                                       "Type another name or number, or /cancel.",
                                       query=html.escape(text)))
        return
    draft["found"] = [m.id for m in found[:FOUND_MAX]]
    draft["step"] = "pick"
    await _show_found(update, context, found[:FOUND_MAX], len(found), 0, None)


async def _member_label(context: BotContext, member: MemberBrief) -> str:
    phone = display_phone(member.phone) if member.phone else ""
    tail = f" (…{phone[-3:]})" if phone and phone != "—" else ""
    unit = await orgtree.get(context.db, member.unit_id)
    return f"{member.full_name} — {unit.name if unit else '—'}{tail}"


async def _show_found(update: Update, context: BotContext, found: list[MemberBrief], total: int,
                      page: int, message: Message | None) -> None:
    t = context.t
    draft = _draft(context)
    choice = Choice([Option(str(m.id), await _member_label(context, m)) for m in found],
                    page=page).at_page(page)
    lines = [t._("Who is it? Tap her name or type its number.")]
    if total > len(found):
        lines.append(t._("{n} members match; the first {shown} are listed. Type more of the "
                         "name to narrow it down.", n=t.number(total), shown=len(found)))
    await _put(update, context, "\n".join(lines), _keyboard(draft, "pick", choice), message)


async def _put(update: Update, context: BotContext, text: str,
               keyboard: InlineKeyboardMarkup | None, message: Message | None) -> None:
    if message is not None:
        await edit_message(message, text, keyboard)
    else:
        await say(update, context, text, keyboard)


async def _found(context: BotContext) -> list[MemberBrief]:
    """The members offered, read again (one query) and still in her scope, in list order."""
    wanted = _draft(context).get("found", [])
    found = {m.id: m for m in await admin.members_in_scope(context.db, _admin_roots(context),
                                                           ids=wanted)}
    return [found[i] for i in wanted if i in found]


async def _choice_for(context: BotContext, step: str) -> Choice | None:
    """The choice on the screen of this step, rebuilt from the draft."""
    t = context.t
    draft = _draft(context)
    if step == "pick":
        return Choice([Option(str(m.id), await _member_label(context, m))
                       for m in await _found(context)])
    if step == "role":
        return Choice([Option(r, t._(ROLE_LABELS[r])) for r in ("chapter_head", "unit_admin")])
    if step == "held":
        return Choice([Option(f"{r}.{u}", t._("{role} — {unit}", role=t._(ROLE_LABELS[r]),
                                               unit=await _unit_name(context, u)))
                       for r, u in await _held(context, draft["member"])])
    if step == "unit":
        options = [Option(str(u), await orgtree.unit_path(context.db, u))
                   for u in draft.get("units", [])]
        options.append(Option("code", t._("⌨ Another unit: type its code")))
        return Choice(options, page_size=len(options))
    if step == "confirm":
        verb = (t._("✅ Yes, grant it") if draft["action"] == "grant"
                else t._("✅ Yes, take it away"))
        return Choice([Option("yes", verb), Option("no", t._("✖ Cancel"))])
    return None


async def _unit_name(context: BotContext, unit_id: int) -> str:
    unit = await orgtree.get(context.db, unit_id)
    return unit.name if unit else "—"


async def _held(context: BotContext, member_id: int) -> list[tuple[str, int]]:
    """Her roles over units this admin manages."""
    return [(r, u) for r, u in await admin.roles_of(context.db, member_id)
            if await _manages(context, u)]


@requires(Role.UNIT_ADMIN)
async def grant_pressed(update: Update, context: BotContext) -> None:
    """`ga:<nonce>:<step>:o:<key>` or `…:p:<page>`."""
    query = update.callback_query
    assert query is not None
    data = callbacks.decode(query.data)
    draft = (context.user_data or {}).get(GRANT) or {}
    if (data is None or len(data.args) != 4 or data.arg(0) != draft.get("nonce")
            or data.arg(1) != draft.get("step") or data.arg(2) not in ("o", "p")):
        await query.answer(context.t._("This button is no longer active. Please use the latest "
                                       "message."), show_alert=True)
        return
    message = query.message if isinstance(query.message, Message) else None
    if data.arg(2) == "p":
        page = int(data.arg(3) or 0) if (data.arg(3) or "").isdigit() else 0
        await query.answer()
        if draft["step"] == "pick":
            found = await _found(context)
            await _show_found(update, context, found, len(found), page, message)
        return
    await _grant_step(update, context, data.arg(3) or "", message)


async def _grant_step(update: Update, context: BotContext, key: str,
                      message: Message | None) -> None:
    """Carry out the answer to the current step (pressed or typed)."""
    t = context.t
    draft = _draft(context)
    step = draft["step"]
    choice = await _choice_for(context, step)
    option = choice.by_key(key) if choice is not None else None
    if option is None:
        await _answer(update, context, t._("This button is no longer active. Please use the "
                                           "latest message."))
        return
    await _answer(update, context)
    if step == "pick":
        draft["member"] = int(option.key)
        member = await admin.member(context.db, draft["member"])
        assert member is not None
        if draft["action"] == "grant":
            draft["step"] = "role"
            text = t._("Which role should {name} have?", name=html.escape(member.full_name))
        else:
            if not await _held(context, member.id):
                _forget_draft(context)
                await _put(update, context, t._("{name} has no role in your units.",
                                                name=html.escape(member.full_name)), None,
                           message)
                return
            draft["step"] = "held"
            text = t._("Which role of {name} should be taken away?",
                       name=html.escape(member.full_name))
    elif step == "role":
        draft["role"] = option.key
        member = await admin.member(context.db, draft["member"])
        assert member is not None
        chain = [u.id for u in await units.ancestry(context.db, member.unit_id or 0)]
        roots = _admin_roots(context)
        if roots is not None:  # the units from her highest administered one down
            start = next((i for i, u in enumerate(chain) if u in roots), len(chain))
            chain = chain[start:]
        draft["units"] = list(reversed(chain))[:4]
        draft["step"] = "unit"
        text = t._("Of which unit? Tap it, or choose “another unit” to type its code.")
    elif step == "unit":
        if option.key == "code":
            draft["step"] = "code"
            await _put(update, context, t._("Type the code of the unit, e.g. HM-HL-02 (or "
                                            "/cancel)."), None, message)
            return
        draft["unit"] = int(option.key)
        await _confirm(update, context, message)
        return
    elif step == "held":
        role, _, unit = option.key.partition(".")
        draft["role"], draft["unit"] = role, int(unit)
        await _confirm(update, context, message)
        return
    else:  # confirm
        if option.key == "yes":
            await _apply_role(update, context, message)
        else:
            _forget_draft(context)
            await _put(update, context, t._("All right, nothing was changed."), None, message)
        return
    choice = await _choice_for(context, draft["step"])
    assert choice is not None
    await _put(update, context, text, _keyboard(draft, draft["step"], choice), message)


async def _confirm(update: Update, context: BotContext, message: Message | None) -> None:
    t = context.t
    draft = _draft(context)
    member = await admin.member(context.db, draft["member"])
    if member is None or not await _manages(context, draft["unit"]):
        _forget_draft(context)
        await _put(update, context, t._("Sorry, you do not have permission to do this."), None,
                   message)
        return
    draft["step"] = "confirm"
    values = {"name": html.escape(member.full_name), "role": t._(ROLE_LABELS[draft["role"]]),
              "unit": await _path(context, draft["unit"])}
    text = (t._("Make {name} {role} of {unit}?", **values) if draft["action"] == "grant"
            else t._("Take the role {role} of {unit} away from {name}?", **values))
    choice = await _choice_for(context, "confirm")
    assert choice is not None
    await _put(update, context, text, _keyboard(draft, "confirm", choice), message)


async def _apply_role(update: Update, context: BotContext, message: Message | None) -> None:
    t = context.t
    draft = _draft(context)
    principal = context.principal
    assert principal is not None
    member = await admin.member(context.db, draft["member"])
    role, unit_id, action = draft["role"], draft["unit"], draft["action"]
    _forget_draft(context)
    # Checked again now: the unit and the person must (still) be in her scope.
    if (member is None or member.unit_id is None or not await _manages(context, unit_id)
            or not await _manages(context, member.unit_id)):
        await _put(update, context, t._("Sorry, you do not have permission to do this."), None,
                   message)
        return
    if action == "revoke" and member.telegram_user_id == principal.user_id:
        await _put(update, context, t._("You cannot take away your own role; please ask "
                                        "another administrator."), None, message)
        return
    at = to_iso(context.clock.now())
    where = await orgtree.unit_path(context.db, unit_id)
    if action == "grant":
        changed = await admin.grant(context.db, member.id, role, unit_id, by=principal.user_id,
                                    at=at)
    else:
        changed = await admin.revoke(context.db, member.id, role, unit_id,
                                     by=principal.user_id, at=at)
        await _stop_lost_notices(context)
    values = {"name": html.escape(member.full_name), "role": t._(ROLE_LABELS[role]),
              "unit": html.escape(where)}
    if not changed:
        text = (t._("{name} already is {role} of {unit}.", **values) if action == "grant"
                else t._("{name} is not {role} of {unit}.", **values))
        await _put(update, context, text, None, message)
        return
    await _tell_person(context, member, role=role, unit_id=unit_id, where=where, action=action)
    text = (t._("✅ {name} is now {role} of {unit}.", **values) if action == "grant"
            else t._("✅ {name} is no longer {role} of {unit}.", **values))
    text += "\n" + t._("She will be told in a moment.")
    await _put(update, context, text, None, message)


async def _stop_lost_notices(context: BotContext) -> None:
    """A role taken away or a unit moved: notices their senders may no longer send stop now."""
    for broadcast_id in await senders.stop_unauthorised(
        context.db, context.settings.admin_ids, to_iso(context.clock.now()), only_due=False
    ):
        context.delivery.cancelled(broadcast_id)


async def _tell_person(context: BotContext, member: MemberBrief, *, role: str, unit_id: int,
                       where: str, action: str) -> None:
    """Tell her in her language (through the outbox) and give her the command menu of her
    roles now."""
    t = translator(member.locale)
    values = {"role": t._(ROLE_LABELS[role]), "unit": html.escape(where)}
    text = (t._("🎉 You are now {role} of {unit}. Send /help to see what you can do.",
                **values) if action == "grant"
            else t._("Your role {role} of {unit} has ended. Thank you for your work!", **values))
    await outbox.tell(context, [(member.id, text)], kind="role_change", unit_id=unit_id)
    try:
        principal = await load_principal(context.db, member.telegram_user_id,
                                         context.settings.admin_ids)
        await menu.set_chat_commands(context.bot, member.chat_id, principal)
        context.bot_data.chats_with_menus.discard(member.chat_id)
    except TelegramError:  # she blocked the bot: her menu follows when she writes again
        pass


async def _answer(update: Update, context: BotContext, text: str | None = None) -> None:
    if update.callback_query is not None:
        await update.callback_query.answer(text, show_alert=text is not None)
    elif text:
        await say(update, context, text)


async def grant_typed(update: Update, context: BotContext, text: str) -> bool:
    """Typed text in the /grant or /revoke flow: a name, a code or an option's number."""
    principal = context.principal
    draft = (context.user_data or {}).get(GRANT) or {}
    if principal is None or not principal.at_least(Role.UNIT_ADMIN) or "step" not in draft:
        return False
    step = draft["step"]
    if step == "who":
        await _search(update, context, text)
        return True
    if step == "code":
        unit = await units.by_code(context.db, nfc(text).strip()[:40])
        if unit is None:
            await say(update, context, context.t._(
                "There is no unit with the code {code}.", code=html.escape(text.strip()[:40])))
            return True
        if not await _manages(context, unit.id):
            await refuse(update, context)
            return True
        draft["unit"] = unit.id
        await _confirm(update, context, None)
        return True
    choice = await _choice_for(context, step)
    option = choice.resolve(text) if choice is not None else None
    if option is None:
        await say(update, context, context.t._("Please tap one of the buttons or type its "
                                               "number."))
        return True
    await _grant_step(update, context, option.key, None)
    return True


async def cancel_grant(update: Update, context: BotContext) -> bool:
    """/cancel during /grant or /revoke."""
    if not (context.user_data or {}).get(GRANT):
        return False
    _forget_draft(context)
    await say(update, context, context.t._("All right, nothing was changed."))
    return True


# --- /unit ---------------------------------------------------------------------------------------


def _refusal(t: Translator, reason: str, **values: Any) -> str:
    return t._(REFUSALS.get(reason, REFUSALS["no_unit"]), **values)


async def _unit_arg(update: Update, context: BotContext, code: str) -> Unit | None:
    unit = await units.by_code(context.db, code[:40])
    if unit is None:
        await say(update, context, context.t._("There is no unit with the code {code}.",
                                               code=html.escape(code[:40])))
    return unit


async def _may_change(context: BotContext, op: dict[str, Any]) -> bool:
    """Whether she may carry out this change (checked when asked and when confirmed)."""
    kind = op["op"]
    if kind == "add":
        return await _manages(context, op["parent"])
    if kind in ("rename", "code"):
        return await _manages(context, op["unit"])
    unit = await orgtree.get(context.db, op["unit"])
    if unit is None:
        return False
    other = op["parent"] if kind == "move" else op["into"]
    return await _manages(context, unit.parent_id) and await _manages(context, other)


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
    op: dict[str, Any]
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
        op = {"op": "add", "parent": first.id, "code": code, "name": name, "kind": kind}
        question = t._("Add the unit {name} ({code}) under {parent}?", name=html.escape(name),
                       code=html.escape(code), parent=await _path(context, first.id))
    elif sub == "rename":
        name = " ".join(args[2:])
        op = {"op": "rename", "unit": first.id, "name": name}
        question = t._("Rename {unit} to {name}?", unit=await _path(context, first.id),
                       name=html.escape(name))
    elif sub == "code":
        if not CODE.fullmatch(args[2]):
            await say(update, context, t._("A code has 1 to 40 letters, digits or . _ - "
                                           "(no spaces), e.g. HM-HL-20."))
            return
        op = {"op": "code", "unit": first.id, "code": args[2]}
        question = t._("Change the code of {unit} from {old} to {new}? Links with the old code "
                       "keep working.", unit=await _path(context, first.id),
                       old=html.escape(first.code), new=html.escape(args[2]))
    else:
        second = await _unit_arg(update, context, args[2])
        if second is None:
            return
        if sub == "move":
            op = {"op": "move", "unit": first.id, "parent": second.id}
            question = t._("Move {unit} (with everything below it) under {parent}?",
                           unit=await _path(context, first.id),
                           parent=await _path(context, second.id))
        else:
            op = {"op": "merge", "unit": first.id, "into": second.id}
            count = len(await admin.members_in_scope(context.db, [first.id]))
            question = t._("Merge {unit} into {into}? Its {n} members, the units below it and "
                           "its roles move to {into}; what was recorded in {unit} stays and is "
                           "counted in {into}; the code {code} will lead to {into}. Everyone "
                           "moved is told.", unit=await _path(context, first.id),
                           into=await _path(context, second.id), n=t.number(count),
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


async def _check(update: Update, context: BotContext, op: dict[str, Any]) -> bool:
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
    query = update.callback_query
    assert query is not None
    data = callbacks.decode(query.data)
    op = (context.user_data or {}).get(UNIT) or {}
    if (data is None or data.arg(0) != op.get("nonce") or data.arg(1) != "o"
            or data.arg(2) not in ("yes", "no")):
        await query.answer(context.t._("This button is no longer active. Please use the latest "
                                       "message."), show_alert=True)
        return
    await query.answer()
    message = query.message if isinstance(query.message, Message) else None
    await _unit_decided(update, context, data.arg(2) == "yes", message)


async def unit_typed(update: Update, context: BotContext, text: str) -> bool:
    """A typed answer to the confirmation."""
    principal = context.principal
    op = (context.user_data or {}).get(UNIT) or {}
    if principal is None or not principal.at_least(Role.UNIT_ADMIN) or "op" not in op:
        return False
    option = _unit_choice(context.t).resolve(text)
    if option is None:
        await say(update, context, context.t._("Please tap one of the buttons or type its "
                                               "number."))
        return True
    await _unit_decided(update, context, option.key == "yes", None)
    return True


async def _unit_decided(update: Update, context: BotContext, confirmed: bool,
                        message: Message | None) -> None:
    t = context.t
    assert context.user_data is not None and context.principal is not None
    op = context.user_data.pop(UNIT, {})
    if context.user_data.get("pending_choice") == UNIT:
        context.user_data.pop("pending_choice")
    if not confirmed:
        await _put(update, context, t._("All right, nothing was changed."), None, message)
        return
    if not await _may_change(context, op):
        await _put(update, context, t._("Sorry, you do not have permission to do this."), None,
                   message)
        return
    by, at = context.principal.user_id, to_iso(context.clock.now())
    db = context.db
    notices: list[tuple[int, str]] = []
    try:
        if op["op"] == "add":
            added = await admin.add_unit(db, parent_id=op["parent"], code=op["code"],
                                         name=op["name"], kind=op["kind"], by=by, at=at)
            orgtree.invalidate(db)
            text = t._("✅ {unit} ({code}) was added. Its members can join with the link "
                       "…?start={code}.", unit=await _path(context, added.id),
                       code=html.escape(added.code))
        elif op["op"] == "rename":
            await admin.rename_unit(db, op["unit"], op["name"], by=by, at=at)
            orgtree.invalidate(db)
            text = t._("✅ Renamed: {unit}.", unit=await _path(context, op["unit"]))
        elif op["op"] == "code":
            await admin.recode_unit(db, op["unit"], op["code"], by=by, at=at)
            orgtree.invalidate(db)
            text = t._("✅ {unit} now has the code {code}; the old code keeps working.",
                       unit=await _path(context, op["unit"]), code=html.escape(op["code"]))
        elif op["op"] == "move":
            await admin.move_unit(db, op["unit"], op["parent"], by=by, at=at)
            orgtree.invalidate(db)
            text = t._("✅ Moved: {unit}.", unit=await _path(context, op["unit"]))
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
        await _put(update, context, _refusal(t, exc.reason, code=html.escape(op.get("code", "")),
                                             unit=await _path(context, op.get("unit"))),
                   None, message)
        return
    if op["op"] in ("move", "merge"):
        await _stop_lost_notices(context)
    await _put(update, context, text, None, message)
    await outbox.tell(context, notices, kind="unit_change", unit_id=op.get("into") or 0)


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


# --- /audit --------------------------------------------------------------------------------------


async def _audit_lines(context: BotContext) -> list[str]:
    t = context.t
    roots = _admin_roots(context)
    entries = []
    for root in roots if roots is not None else [None]:
        entries += await audit.recent(context.db, root, limit=200)
    entries = sorted({e.id: e for e in entries}.values(), key=lambda e: e.id, reverse=True)
    lines = []
    for entry in entries[:200]:
        when = t.datetime(datetime.fromisoformat(entry.at.replace("Z", "+00:00")).astimezone(
            context.settings.timezone))
        who = entry.actor_name or erased_member(t, entry.actor_id) or (
            t._("the command line") if entry.actor_id is None
            else t._("administrator {id}", id=entry.actor_id))
        d = entry.details
        metric = d.get("metric")
        values = {
            "member": entry.member_name or erased_member(
                t, None if entry.member_id is None else -entry.member_id) or "—",
            "role": t._(ROLE_LABELS[d["role"]]) if d.get("role") in ROLE_LABELS else "",
            "unit": entry.unit_name or "—", "code": d.get("code") or d.get("from") or "",
            "old": d.get("from_name") or d.get("old") or "",
            "new": (figures_of.target_text(t, METRIC_BY_CODE[metric], d.get("new"))
                    if metric in METRIC_BY_CODE else d.get("new") or ""),
            "metric": t._(METRIC_BY_CODE[metric].label) if metric in METRIC_BY_CODE else "",
            "year": d.get("year", ""),
        }
        what = t._(ACTIONS[entry.action], **values) if entry.action in ACTIONS else entry.action
        lines.append(f"• {when} · <b>{html.escape(who)}</b>: {html.escape(what)}")
    return lines


async def _audit_page(context: BotContext, page: int) -> tuple[str, InlineKeyboardMarkup | None]:
    t = context.t
    lines = await _audit_lines(context)
    if not lines:
        return t._("Nothing has been recorded in your units yet."), None
    pages = paginate(lines, max_lines=15)
    page = min(max(page, 0), len(pages) - 1)
    header = t._("<b>Audit log</b> (newest first; page {page} of {pages})", page=page + 1,
                 pages=len(pages))
    return "\n".join([header, *pages[page]]), page_buttons(AUDIT, page, len(pages))


@requires(Role.UNIT_ADMIN)
async def audit_command(update: Update, context: BotContext) -> None:
    """/audit: the newest entries about her units."""
    text, keyboard = await _audit_page(context, 0)
    await say(update, context, text, keyboard)


@requires(Role.UNIT_ADMIN)
async def audit_pressed(update: Update, context: BotContext) -> None:
    """Another page (her scope is read again on every press)."""
    query = update.callback_query
    assert query is not None
    data = callbacks.decode(query.data)
    if data is None or data.arg(0) != "p" or not (data.arg(1) or "").isdigit():
        await query.answer(context.t._("This button is no longer active."), show_alert=True)
        return
    await query.answer()
    text, keyboard = await _audit_page(context, int(data.arg(1) or 0))
    if isinstance(query.message, Message):
        await edit_message(query.message, text, keyboard)


# Typed answers to this feature's questions (the latest question asked owns them).
answers.register(GRANT, grant_typed, cancel=cancel_grant)
answers.register(UNIT, unit_typed, cancel=cancel_unit)


def handlers() -> list[BaseHandler[Any, Any, Any]]:
    """The handlers of this feature, new for each application."""
    return [
        CommandHandler("grant", grant_command, filters.ChatType.PRIVATE),
        CommandHandler("revoke", revoke_command, filters.ChatType.PRIVATE),
        CommandHandler("unit", unit_command, filters.ChatType.PRIVATE),
        CommandHandler("audit", audit_command, filters.ChatType.PRIVATE),
        CallbackQueryHandler(grant_pressed, pattern=callbacks.pattern(GRANT)),
        CallbackQueryHandler(unit_pressed, pattern=callbacks.pattern(UNIT)),
        CallbackQueryHandler(audit_pressed, pattern=callbacks.pattern(AUDIT)),
    ]
