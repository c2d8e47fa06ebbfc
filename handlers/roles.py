"""/grant [name or phone] and /revoke [name or phone] (unit admins): roles in her units.

Find a registered member of her units, choose the role (chapter head, unit admin) and the unit
(hers, or a code typed), confirm; the person is told in her language (through the outbox) and
gets her new command menu. Every step is checked again when it is carried out
(`may_act_on_unit`); a press from an older screen or with forged data changes nothing. Every
change is written to the audit log.
"""

from __future__ import annotations

import html
import re
import secrets
from typing import Any, TypedDict

from telegram import InlineKeyboardMarkup, Message, Update
from telegram.error import TelegramError
from telegram.ext import BaseHandler, CallbackQueryHandler, CommandHandler, filters

from bot import callbacks, orgtree
from bot.buttons import distinct
from bot.choices import Choice, Option
from bot.context import BotContext
from bot.i18n import N_, nfc, translator
from bot.permissions import Role, load_principal
from bot.validators import InvalidInput, display_phone, normalise_phone
from handlers.kit import answers, menu, outbox
from handlers.kit.flow import kept
from handlers.kit.outbox import stop_lost_notices
from handlers.kit.replies import STALE, acknowledge, press_of, refuse, requires, say, show
from handlers.kit.scope import ROLE_LABELS, admin_roots, escaped_path, may_see
from storage import admin, units
from storage.admin import MemberBrief
from storage.db import to_iso

GRANT = "ga"  # the /grant and /revoke flow
FOUND_MAX = 24


# --- /grant and /revoke --------------------------------------------------------------------------


class Draft(TypedDict, total=False):
    """The /grant or /revoke being prepared (persisted in `user_data["ga"]`)."""

    nonce: str  # carried by the buttons of this draft: older buttons are stale
    action: str  # "grant" or "revoke"
    step: str  # the step it waits at: who, pick, role, held, unit, code, confirm
    found: list[int]  # the members the search found (ids), offered to pick from
    member: int  # the member chosen
    role: str  # a Role value
    units: list[int]  # the units offered (her unit up to the highest one administered)
    unit: int  # the unit chosen


def _draft(context: BotContext) -> Draft:
    """The draft of this chat (`_start` made it); an empty one, kept nowhere, when none is
    being prepared."""
    return kept(context, GRANT)


def _forget_draft(context: BotContext) -> None:
    answers.forget(context, GRANT)


async def _start(update: Update, context: BotContext, action: str) -> None:
    t = context.t
    assert context.user_data is not None
    context.user_data[GRANT] = Draft(nonce=secrets.token_hex(3), action=action, step="who")
    context.user_data["pending_choice"] = GRANT
    query = " ".join(context.args or []).strip()
    if query:
        await _search(update, context, query)
        return
    question = (t._("Whom do you want to give a role? Type part of her name or her phone "
                    "number (or /cancel).") if action == "grant" else
                t._("Whose role do you want to take back? Type part of her name or her phone "
                    "number (or /cancel)."))
    await say(update, context, question, answers.cancel_keyboard(context, GRANT))


@requires(Role.UNIT_ADMIN)
async def grant_command(update: Update, context: BotContext) -> None:
    """/grant [name or phone]."""
    await _start(update, context, "grant")


@requires(Role.UNIT_ADMIN)
async def revoke_command(update: Update, context: BotContext) -> None:
    """/revoke [name or phone]."""
    await _start(update, context, "revoke")


def _keyboard(draft: Draft, step: str, choice: Choice) -> InlineKeyboardMarkup:
    return choice.keyboard(GRANT, draft["nonce"], step)


async def _search(update: Update, context: BotContext, query: str) -> None:
    t = context.t
    draft = _draft(context)
    text = nfc(query).strip()[:100]
    digits = re.sub(r"\D", "", text)
    roots = admin_roots(context)
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
                                       query=html.escape(text)),
                  answers.cancel_keyboard(context, GRANT))
        return
    draft["found"] = [m.id for m in found[:FOUND_MAX]]
    draft["step"] = "pick"
    await _show_found(update, context, found=found[:FOUND_MAX], total=len(found), page=0,
                      message=None)


def _member_button(member: MemberBrief) -> str:
    """Her name and the end of her phone on a button (the text above names her chapter)."""
    phone = display_phone(member.phone) if member.phone else ""
    return f"{member.full_name} (…{phone[-3:]})" if phone and phone != "—" else member.full_name


async def _member_label(context: BotContext, member: MemberBrief) -> str:
    phone = display_phone(member.phone) if member.phone else ""
    tail = f" (…{phone[-3:]})" if phone and phone != "—" else ""
    unit = await orgtree.get(context.db, member.unit_id)
    return f"{member.full_name} — {unit.name if unit else '—'}{tail}"


async def _show_found(update: Update, context: BotContext, *, found: list[MemberBrief], total: int,
                      page: int, message: Message | None) -> None:
    t = context.t
    draft = _draft(context)
    choice = Choice([Option(str(m.id), _member_button(m)) for m in found],
                    page=page).at_page(page)
    lines = [t._("Who is it? Tap her name or type its number.")]
    lines += [f"{n}. {html.escape(await _member_label(context, found[n - 1]))}"
              for n, _option in choice.visible()]
    if total > len(found):
        lines.append(t._("{n} members match; the first {shown} are listed. Type more of the "
                         "name to narrow it down.", n=t.number(total), shown=len(found)))
    await show(update, context, "\n".join(lines), _keyboard(draft, "pick", choice), message)


async def _found(context: BotContext) -> list[MemberBrief]:
    """The members offered, read again (one query) and still in her scope, in list order."""
    wanted = _draft(context).get("found", [])
    found = {m.id: m for m in await admin.members_in_scope(context.db, admin_roots(context),
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
        labels = [(r, t._(ROLE_LABELS[r])) for r in ("chapter_head", "unit_admin",
                                                     "request_handler")]
        return Choice([Option(r, label[:1].upper() + label[1:]) for r, label in labels])
    if step == "held":
        held = await _held(context, draft["member"])
        names = distinct([await _unit_name(context, u) for _r, u in held])
        return Choice([Option(f"{r}.{u}", name) for (r, u), name in zip(held, names, strict=True)])
    if step == "unit":
        options = [Option(str(u), await _unit_name(context, u)) for u in draft.get("units", [])]
        options.append(Option("code", t._("⌨ Type a unit code")))
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
            if await may_see(context, u, Role.UNIT_ADMIN)]


@requires(Role.UNIT_ADMIN)
async def grant_pressed(update: Update, context: BotContext) -> None:
    """`ga:<nonce>:<step>:o:<key>` or `…:p:<page>`."""
    query, data, message = press_of(update)
    draft = _draft(context)
    if (data is None or len(data.args) != 4 or data.arg(0) != draft.get("nonce")
            or data.arg(1) != draft.get("step") or data.arg(2) not in ("o", "p")):
        await query.answer(context.t._(STALE), show_alert=True)
        return
    if data.arg(2) == "p":
        page = int(data.arg(3) or 0) if (data.arg(3) or "").isdigit() else 0
        await query.answer()
        if draft["step"] == "pick":
            found = await _found(context)
            await _show_found(update, context, found=found, total=len(found), page=page,
                              message=message)
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
        await acknowledge(update, context, t._(STALE))
        return
    await acknowledge(update, context)
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
                await show(update, context, t._("{name} has no role in your units.",
                                                name=html.escape(member.full_name)), None,
                           message)
                return
            draft["step"] = "held"
            lines = [t._("Which role of {name} should be taken away?",
                         name=html.escape(member.full_name))]
            lines += [f"{n}. " + t._("{role} — {unit}", role=t._(ROLE_LABELS[r]),
                                     unit=html.escape(await _unit_name(context, u)))
                      for n, (r, u) in enumerate(await _held(context, member.id), 1)]
            text = "\n".join(lines)
    elif step == "role":
        draft["role"] = option.key
        member = await admin.member(context.db, draft["member"])
        assert member is not None
        chain = [u.id for u in await units.ancestry(context.db, member.unit_id or 0)]
        roots = admin_roots(context)
        if roots is not None:  # the units from her highest administered one down
            start = next((i for i, u in enumerate(chain) if u in roots), len(chain))
            chain = chain[start:]
        draft["units"] = list(reversed(chain))[:4]
        draft["step"] = "unit"
        text = t._("Of which unit? Tap it, or choose “another unit” to type its code.")
    elif step == "unit":
        if option.key == "code":
            draft["step"] = "code"
            await show(update, context, t._("Type the code of the unit, e.g. HM-HL-02 (or "
                                            "/cancel)."), answers.cancel_keyboard(context, GRANT),
                       message)
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
            await show(update, context, t._("All right, nothing was changed."), None, message)
        return
    choice = await _choice_for(context, draft["step"])
    assert choice is not None
    await show(update, context, text, _keyboard(draft, draft["step"], choice), message)


async def _confirm(update: Update, context: BotContext, message: Message | None) -> None:
    t = context.t
    draft = _draft(context)
    member = await admin.member(context.db, draft["member"])
    if member is None or not await may_see(context, draft["unit"], Role.UNIT_ADMIN):
        _forget_draft(context)
        await show(update, context, t._("Sorry, you do not have permission to do this."), None,
                   message)
        return
    draft["step"] = "confirm"
    values = {"name": html.escape(member.full_name), "role": t._(ROLE_LABELS[draft["role"]]),
              "unit": await escaped_path(context, draft["unit"])}
    text = (t._("Make {name} {role} of {unit}?", **values) if draft["action"] == "grant"
            else t._("Take the role {role} of {unit} away from {name}?", **values))
    choice = await _choice_for(context, "confirm")
    assert choice is not None
    await show(update, context, text, _keyboard(draft, "confirm", choice), message)


async def _apply_role(update: Update, context: BotContext, message: Message | None) -> None:
    t = context.t
    draft = _draft(context)
    principal = context.principal
    assert principal is not None
    member = await admin.member(context.db, draft["member"])
    role, unit_id, action = draft["role"], draft["unit"], draft["action"]
    _forget_draft(context)
    # Checked again now: the unit and the person must (still) be in her scope.
    if (member is None or member.unit_id is None
            or not await may_see(context, unit_id, Role.UNIT_ADMIN)
            or not await may_see(context, member.unit_id, Role.UNIT_ADMIN)):
        await show(update, context, t._("Sorry, you do not have permission to do this."), None,
                   message)
        return
    if action == "revoke" and member.telegram_user_id == principal.user_id:
        await show(update, context, t._("You cannot take away your own role; please ask "
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
        await stop_lost_notices(context)
    values = {"name": html.escape(member.full_name), "role": t._(ROLE_LABELS[role]),
              "unit": html.escape(where)}
    if not changed:
        text = (t._("{name} already is {role} of {unit}.", **values) if action == "grant"
                else t._("{name} is not {role} of {unit}.", **values))
        await show(update, context, text, None, message)
        return
    await _tell_person(context, member, role=role, unit_id=unit_id, where=where, action=action)
    text = (t._("✅ {name} is now {role} of {unit}.", **values) if action == "grant"
            else t._("✅ {name} is no longer {role} of {unit}.", **values))
    text += "\n" + t._("She will be told in a moment.")
    await show(update, context, text, None, message)


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


async def grant_typed(update: Update, context: BotContext, text: str) -> bool:
    """Typed text in the /grant or /revoke flow: a name, a code or an option's number."""
    principal = context.principal
    draft = _draft(context)
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
        if not await may_see(context, unit.id, Role.UNIT_ADMIN):
            await refuse(update, context)
            return True
        draft["unit"] = unit.id
        await _confirm(update, context, None)
        return True
    choice = await _choice_for(context, step)
    option = choice.resolve(text) if choice is not None else None
    if option is None:
        return await answers.not_an_option(update, context, text)
    await _grant_step(update, context, option.key, None)
    return True


cancel_grant = answers.leave_prompt(GRANT, N_("All right, nothing was changed."))
"""/cancel during /grant or /revoke."""

# Typed answers to this feature's questions (the latest question asked owns them).
async def _grant_options(context: BotContext) -> Choice | None:
    """The options of the step the /grant or /revoke flow waits at (None: it expects text)."""
    principal = context.principal
    draft = _draft(context)
    if principal is None or not principal.at_least(Role.UNIT_ADMIN) or "step" not in draft:
        return None
    return await _choice_for(context, draft["step"])


answers.register(GRANT, grant_typed, cancel=cancel_grant, options=_grant_options)


def handlers() -> list[BaseHandler[Any, Any, Any]]:
    """The handlers of this feature, new for each application."""
    return [
        CommandHandler("grant", grant_command, filters.ChatType.PRIVATE),
        CommandHandler("revoke", revoke_command, filters.ChatType.PRIVATE),
        CallbackQueryHandler(grant_pressed, pattern=callbacks.pattern(GRANT)),
    ]
