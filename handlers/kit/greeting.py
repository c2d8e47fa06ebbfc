"""Who greets whom: the union's name and an officer's union title, for /start and /help.

The union is `BOT_ORG_NAME` when the installation set it; otherwise it is read off her own
ward ("Phường Hoàng Liệt" → "Hội LHPN phường Hoàng Liệt") when the ward's name starts with a
place word, so a greeting never names a made-up union. Titles are the union's words
("Chi hội trưởng Chi hội TDP số 2", "Cán bộ Hội phường Hoàng Liệt"), not role codes.
"""

from __future__ import annotations

import html

from telegram import Update

from bot import orgtree
from bot.context import BotContext
from bot.i18n import N_, Translator
from bot.permissions import Principal
from bot.settings import DEFAULT_ORG_NAME
from bot.validators import given_name
from handlers.kit import menu
from handlers.kit.replies import say
from storage import members
from storage.units import Unit

PLACE_WORDS = {
    "Phường": N_("{name} ward"), "Xã": N_("{name} commune"), "Thị trấn": N_("{name} township"),
    "Đặc khu": N_("{name} special zone"), "Quận": N_("{name} district"),
    "Huyện": N_("{name} rural district"), "Thị xã": N_("{name} town"),
    "Thành phố": N_("{name} city")}
"""How a unit named after a place begins, and the place in a sentence: "phường Hoàng Liệt" in
Vietnamese (lower case), "Hoàng Liệt ward" in English (not a half-translated "phường")."""


def _place(t: Translator, name: str) -> str | None:
    """'Phường Hoàng Liệt' → 'phường Hoàng Liệt' (None: the name is not a place)."""
    for word, phrase in PLACE_WORDS.items():
        if name.startswith(word + " ") and len(name) > len(word) + 1:
            return t._(phrase, name=name[len(word) + 1:])
    return None


async def _ancestry(context: BotContext, unit_id: int | None) -> list[Unit]:
    """The unit and its ancestors, nearest first (from the cached tree)."""
    chain: list[Unit] = []
    unit = await orgtree.get(context.db, unit_id)
    by_id = await orgtree.units_by_id(context.db)
    while unit is not None and len(chain) < 64:
        chain.append(unit)
        unit = by_id.get(unit.parent_id or 0)
    return chain


async def _union(context: BotContext, unit_id: int | None) -> str | None:
    name = context.settings.org_name
    if name and name != DEFAULT_ORG_NAME:
        return name
    for unit in await _ancestry(context, unit_id):
        place = _place(context.t, unit.name) if unit.kind == "ward" else None
        if place is not None:
            return context.t._("Women's Union of {place}", place=place)
    return None


async def union_name(context: BotContext, unit_id: int | None) -> str | None:
    """The union that runs this assistant, escaped: `BOT_ORG_NAME`, else her ward's union;
    None when neither reads naturally (the greeting then says "the union")."""
    name = await _union(context, unit_id)
    return html.escape(name) if name is not None else None


async def titles(context: BotContext, principal: Principal) -> str:
    """Her union titles, escaped and joined ("Chi hội trưởng Chi hội TDP số 2"); "" for none."""
    t = context.t
    found: list[str] = []
    for grant in principal.grants:
        unit = await orgtree.get(context.db, grant.unit_id)
        if unit is None:
            continue
        if grant.role == "chapter_head":
            found.append(t._("Chapter head of {unit}", unit=unit.name))
        elif grant.role == "unit_admin":
            found.append(t._("Union officer of {unit}", unit=_place(t, unit.name) or unit.name))
    if not found and principal.is_super_admin:
        org = await _union(context, principal.member.unit_id if principal.member else None)
        found.append(t._("Officer of {org}", org=org or context.settings.org_name))
    return html.escape(", ".join(dict.fromkeys(found)))


async def welcome_known(update: Update, context: BotContext) -> bool:
    """/start from a registered member (notices switched on again if she had stopped them), or
    a super admin's typed /start: a greeting and the main menu. False: registration goes on."""
    principal = context.principal
    t = context.t
    if principal is not None and principal.member is not None:
        if principal.member.status == "stopped":
            await members.set_status(context.db, principal.member.id, "active")
            await say(update, context, t._("Notices are on again."))
        name = html.escape(given_name(principal.member.full_name))
        org = await union_name(context, principal.member.unit_id)
        title = await titles(context, principal)
        await say(
            update,
            context,
            t._("Hello {name} — {title}! Choose from the menu below.", name=name, title=title)
            if title else
            t._("Welcome back to the assistant of {org}, {name}! Choose from the menu below.",
                org=org, name=name) if org else
            t._("Welcome back, {name}! Choose from the menu below.", name=name),
            menu.main_menu(principal, t),
        )
        return True
    typed_command = bool(update.message and (update.message.text or "").startswith("/"))
    if principal is not None and principal.is_super_admin and typed_command and not context.args:
        user = update.effective_user
        name = html.escape(given_name(user.first_name)) if user and user.first_name else ""
        title = await titles(context, principal)
        await say(
            update,
            context,
            t._("Hello {name} — {title}! Choose from the menu below; you can also register "
                "your own details as a member.", name=name, title=title) if name else
            t._("Hello — {title}! Choose from the menu below; you can also register your own "
                "details as a member.", title=title),
            menu.main_menu(principal, t),
        )
        return True
    return False
