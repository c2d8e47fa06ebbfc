"""Member registration (/start): consent, full name, phone, unit, confirmation.

The same conversation edits a registered member's profile (entered from /me at the summary).
Every choice is a `Choice`, so each button also works as a typed number. The draft lives in
`user_data["reg"]` and the state in the persisted ConversationHandler, so a member halfway
through continues after a restart.
"""

from __future__ import annotations

import html
import secrets
from typing import Any

from telegram import (
    InlineKeyboardButton,
    KeyboardButton,
    Message,
    ReplyKeyboardMarkup,
    ReplyKeyboardRemove,
    Update,
)
from telegram.ext import (
    BaseHandler,
    CallbackQueryHandler,
    CommandHandler,
    ConversationHandler,
    MessageHandler,
    filters,
)

from bot import callbacks, consent, orgtree
from bot.choices import Choice, Option
from bot.context import BotContext
from bot.i18n import LANGUAGE_NAMES, N_, Translator
from bot.settings import SUPPORTED_LOCALES
from bot.validators import InvalidInput, clean_full_name, display_phone, normalise_phone
from handlers.kit import membership_consent, menu
from handlers.kit.replies import (
    answer_stale,
    conversation_handler,
    draft_press,
    move_in_tree,
    pressed_option,
    retire_buttons,
    say,
    typed_text,
)
from handlers.kit.replies import edit as edit_message
from storage import members, units
from storage.db import utc_now
from storage.members import NewMember

CONSENT, NAME, PHONE, UNIT, CONFIRM = "consent", "name", "phone", "unit", "confirm"
PREFIX = "reg"
END = ConversationHandler.END

KIND_LABELS = {
    "district": N_("district"),
    "ward": N_("ward (cơ sở Hội)"),
    "chapter": N_("chapter (chi hội)"),
    "group": N_("group (tổ)"),
}

# --- the draft -------------------------------------------------------------------------------


def _draft(context: BotContext) -> dict[str, Any]:
    assert context.user_data is not None
    return context.user_data.setdefault("reg", {})


def _new_draft(context: BotContext, **values: Any) -> dict[str, Any]:
    assert context.user_data is not None
    draft = {"nonce": secrets.token_hex(3), "parent": None, "page": 0, **values}
    context.user_data["reg"] = draft
    return draft


def _drop_draft(context: BotContext) -> None:
    if context.user_data is not None:
        context.user_data.pop("reg", None)


# --- choices ---------------------------------------------------------------------------------


def _consent_choice(t: Translator) -> Choice:
    return Choice([Option("yes", t._("✅ I agree")), Option("no", t._("✖ I do not agree"))])


def _confirm_choice(t: Translator, editing: bool) -> Choice:
    return Choice(
        [
            Option("ok", t._("💾 Save changes") if editing else t._("✅ Confirm")),
            Option("name", t._("✏️ Change name")),
            Option("phone", t._("✏️ Change phone")),
            Option("unit", t._("✏️ Change chapter")),
            Option("cancel", t._("✖ Cancel")),
        ]
    )


async def _unit_choice(context: BotContext) -> tuple[Choice, str, bool]:
    """The units to choose from now, the question, and whether 'back' makes sense."""
    draft = _draft(context)
    parent = draft.get("parent")
    top = await orgtree.top_parent(context.db)
    if parent is None:
        parent = top
    children = await orgtree.children(context.db, parent)
    t = context.t
    kind = children[0].kind if children else ""
    label = t._(KIND_LABELS[kind]) if kind in KIND_LABELS else kind
    question = t._("Which {kind} do you belong to?", kind=label)
    choice = Choice([Option(str(u.id), u.name) for u in children], page=draft.get("page", 0))
    return choice.at_page(choice.page), question, parent != top


# --- asking ----------------------------------------------------------------------------------


async def _ask_consent(update: Update, context: BotContext) -> str:
    await say(update, context, _consent_screen(context), _consent_keyboard(context))
    return CONSENT


def _consent_screen(context: BotContext) -> str:
    """The short layer of the notice: the consent text, who is responsible, the full notice."""
    t = context.t
    return t._(membership_consent.CONSENT_TEXT) + "\n\n" + t._(
        "<i>Responsible for your data: {org}. Saying no does not affect your membership of "
        "the union. The full notice (what is kept, for how long, your rights and how to "
        "reach a person): “📖 Read in full” or /privacy.</i>",
        org=html.escape(context.settings.org_name))


def _consent_keyboard(context: BotContext) -> Any:
    other = next(loc for loc in SUPPORTED_LOCALES if loc != context.locale)
    switch = InlineKeyboardButton(
        LANGUAGE_NAMES[other],
        callback_data=callbacks.encode(PREFIX, _draft(context)["nonce"], "lang", other),
    )
    full = InlineKeyboardButton(
        context.t._("📖 Read in full"),
        callback_data=callbacks.encode(PREFIX, _draft(context)["nonce"], "full"),
    )
    return _consent_choice(context.t).keyboard(
        PREFIX, _draft(context)["nonce"], "c", extra_rows=[[full, switch]]
    )


async def _ask_name(update: Update, context: BotContext) -> str:
    await say(
        update,
        context,
        context.t._("What is your full name? (for example: Nguyễn Thị Hoa)"),
        ReplyKeyboardRemove(),
    )
    return NAME


async def _ask_phone(update: Update, context: BotContext) -> str:
    t = context.t
    keyboard = ReplyKeyboardMarkup(
        [[KeyboardButton(t._("📱 Share my phone number"), request_contact=True)]],
        resize_keyboard=True,
        one_time_keyboard=True,
    )
    await say(
        update,
        context,
        t._("Please tap the button below to share your phone number, or type it."),
        keyboard,
    )
    return PHONE


async def _ask_unit(update: Update, context: BotContext, *, edit: Message | None = None) -> str:
    choice, question, can_go_up = await _unit_choice(context)
    if not choice.options:
        await say(
            update,
            context,
            context.t._(
                "The organisation list is not set up yet, so registration cannot finish. "
                "Please contact your union officer. What you entered is kept."
            ),
        )
        return UNIT
    nonce = _draft(context)["nonce"]
    extra = []
    if can_go_up:
        extra.append(
            [
                InlineKeyboardButton(
                    context.t._("⬅ Back"), callback_data=callbacks.encode(PREFIX, nonce, "up")
                )
            ]
        )
    text = question + "\n" + context.t._("Tap a button or type its number.")
    keyboard = choice.keyboard(PREFIX, nonce, "u", extra_rows=extra)
    if edit is not None:
        await edit_message(edit, text, keyboard)
    else:
        await say(update, context, text, keyboard)
    return UNIT


async def _ask_confirm(update: Update, context: BotContext) -> str:
    t = context.t
    draft = _draft(context)
    editing = bool(draft.get("editing"))
    unit_text = await orgtree.unit_path(context.db, draft.get("unit_id"))
    text = "\n".join(
        [
            t._("<b>Please check your details:</b>"),
            t._("Full name: {name}", name=html.escape(draft.get("name", "—"))),
            t._("Phone: {phone}", phone=display_phone(draft.get("phone"))),
            t._("Chapter: {unit}", unit=html.escape(unit_text)),
            "",
            t._("Tap a button or type its number."),
        ]
    )
    keyboard = _confirm_choice(t, editing).keyboard(PREFIX, draft["nonce"], "k")
    await say(update, context, text, keyboard)
    return CONFIRM


async def _next_after_detail(update: Update, context: BotContext) -> str:
    """After a name or phone: back to the summary when correcting, else the next step."""
    draft = _draft(context)
    if draft.get("review"):
        return await _ask_confirm(update, context)
    if "phone" not in draft:
        return await _ask_phone(update, context)
    if draft.get("unit_id"):
        return await _ask_confirm(update, context)
    return await _ask_unit(update, context)


# --- entry points ----------------------------------------------------------------------------


async def start(update: Update, context: BotContext) -> str | int:
    """/start [chapter code]: the main menu for members, else registration (resumed if begun)."""
    principal = context.principal
    t = context.t
    if principal is not None and update.effective_chat is not None:
        await menu.ensure_chat_commands(context, update.effective_chat.id, principal)
    if principal is not None and principal.member is not None:
        if principal.member.status == "stopped":
            await members.set_status(context.db, principal.member.id, "active")
            await say(update, context, t._("Notices are on again."))
        await say(
            update,
            context,
            t._("Welcome back, {name}! Choose from the menu below.",
                name=html.escape(principal.member.full_name)),
            menu.main_menu(principal, t),
        )
        return END
    typed_command = bool(update.message and (update.message.text or "").startswith("/"))
    if principal is not None and principal.is_super_admin and typed_command and not context.args:
        await say(
            update,
            context,
            t._("Hello, administrator. Choose from the menu below; you can also register "
                "as a member."),
            menu.main_menu(principal, t),
        )
        return END
    draft = (context.user_data or {}).get("reg")
    if draft and draft.get("consent_at") and not draft.get("editing"):
        await say(update, context, t._("Let us continue where you left off."))
        return await _resume(update, context)
    preselected: dict[str, Any] = {}
    if context.args:
        unit = await units.by_code(context.db, context.args[0][:40])
        if unit is None:
            await say(update, context, t._("That chapter link is not valid; you can choose "
                                           "your chapter later."))
        elif await orgtree.has_children(context.db, unit.id):
            preselected = {"parent": unit.id}
        else:
            preselected = {"unit_id": unit.id}
    _new_draft(context, **preselected)
    return await _ask_consent(update, context)


async def _resume(update: Update, context: BotContext) -> str:
    draft = _draft(context)
    if "name" not in draft:
        return await _ask_name(update, context)
    return await _next_after_detail(update, context)


async def edit_profile(update: Update, context: BotContext) -> str | int | None:
    """The 'Edit' button under /me: the registration summary, prefilled, in editing mode."""
    query = update.callback_query
    assert query is not None
    member = context.principal.member if context.principal else None
    if member is None:
        await query.answer(context.t._("Please register first with /start."), show_alert=True)
        return END
    await query.answer()
    await retire_buttons(query)
    _new_draft(
        context,
        editing=True,
        review=True,
        name=member.full_name,
        phone=member.phone,
        unit_id=member.unit_id,
    )
    return await _ask_confirm(update, context)


# --- answers ---------------------------------------------------------------------------------


async def consent_pressed(update: Update, context: BotContext) -> str | int | None:
    """Agree, decline or switch language on the consent screen."""
    query = update.callback_query
    assert query is not None
    data = draft_press(update, context, "reg")
    if data is None:
        await answer_stale(update, context)
        return None
    if data.arg(1) == "lang" and data.arg(2) in SUPPORTED_LOCALES:
        assert context.user_data is not None
        context.user_data["locale"] = data.arg(2)
        await query.answer()
        if isinstance(query.message, Message):
            await query.message.edit_text(
                _consent_screen(context), reply_markup=_consent_keyboard(context)
            )
        return CONSENT
    option = _consent_choice(context.t).by_key(data.arg(3))
    if option is None:
        await answer_stale(update, context)
        return None
    await query.answer()
    await retire_buttons(query, f"<i>{html.escape(option.label)}</i>")
    return await _consent_given(update, context, option.key)


async def notice_pressed(update: Update, context: BotContext) -> str | None:
    """“📖 Read in full” on the consent screen: the full notice, then the question again."""
    query = update.callback_query
    assert query is not None
    if draft_press(update, context, "reg") is None:
        await answer_stale(update, context)
        return None
    await query.answer()
    await retire_buttons(query)
    for page in consent.notice_pages(context.t, context.settings):
        await say(update, context, page)
    return await _ask_consent(update, context)


async def consent_typed(update: Update, context: BotContext) -> str | int | None:
    """A typed answer on the consent screen ("1", "2")."""
    option = _consent_choice(context.t).resolve(typed_text(update))
    if option is None:
        await _reask_choice(update, context, _consent_keyboard(context))
        return None
    return await _consent_given(update, context, option.key)


async def _consent_given(update: Update, context: BotContext, key: str) -> str | int:
    t = context.t
    if key == "no":
        _drop_draft(context)
        await say(
            update,
            context,
            t._("No problem: nothing has been stored. Whenever you want to register, "
                "send /start."),
            ReplyKeyboardRemove(),
        )
        return END
    _draft(context)["consent_at"] = utc_now()
    return await _ask_name(update, context)


async def name_typed(update: Update, context: BotContext) -> str:
    """Her full name."""
    try:
        name = clean_full_name(typed_text(update))
    except InvalidInput as exc:
        await say(update, context, context.t._(exc.reason, **exc.values))
        return await _ask_name(update, context)
    _draft(context)["name"] = name
    return await _next_after_detail(update, context)


async def phone_given(update: Update, context: BotContext) -> str:
    """Her phone number, shared as a contact or typed."""
    t = context.t
    message = update.effective_message
    assert message is not None and update.effective_user is not None
    if message.contact is not None:
        if message.contact.user_id != update.effective_user.id:
            await say(update, context, t._("That is someone else's contact. Please share your "
                                           "own number with the button, or type it."))
            return await _ask_phone(update, context)
        raw = message.contact.phone_number
    else:
        raw = typed_text(update)
    try:
        phone = normalise_phone(raw)
    except InvalidInput as exc:
        await say(update, context, t._(exc.reason, **exc.values))
        return await _ask_phone(update, context)
    _draft(context)["phone"] = phone
    await say(
        update, context, t._("Thank you, noted: {phone}.", phone=display_phone(phone)),
        ReplyKeyboardRemove(),
    )
    return await _next_after_detail(update, context)


async def unit_pressed(update: Update, context: BotContext) -> str | None:
    """A unit, a page, or 'back' in the unit chooser."""
    query = update.callback_query
    assert query is not None
    data = draft_press(update, context, "reg")
    if data is None:
        await answer_stale(update, context)
        return None
    draft = _draft(context)
    message = query.message if isinstance(query.message, Message) else None
    moved = await move_in_tree(context, draft, data, level_key="parent")
    if moved is not None:
        await query.answer()
        return await _ask_unit(update, context, edit=message) if moved else UNIT
    choice, _question, _up = await _unit_choice(context)
    option = choice.by_key(data.arg(3)) if data.arg(2) == "o" else None
    if option is None:
        await answer_stale(update, context)
        return None
    await query.answer()
    return await _unit_chosen(update, context, int(option.key), edit=message)


async def unit_typed(update: Update, context: BotContext) -> str:
    """A unit chosen by typing its number or name."""
    choice, _question, _up = await _unit_choice(context)
    option = choice.resolve(typed_text(update))
    if option is None:
        await say(update, context, context.t._("Please tap one of the buttons or type its number."))
        return await _ask_unit(update, context)
    return await _unit_chosen(update, context, int(option.key), edit=None)


async def _unit_chosen(
    update: Update, context: BotContext, unit_id: int, *, edit: Message | None
) -> str:
    draft = _draft(context)
    if await orgtree.has_children(context.db, unit_id):
        draft["parent"], draft["page"] = unit_id, 0
        return await _ask_unit(update, context, edit=edit)
    draft["unit_id"] = unit_id
    if edit is not None:
        path = html.escape(await orgtree.unit_path(context.db, unit_id))
        await edit.edit_text(f"✅ {path}", reply_markup=None)
    return await _ask_confirm(update, context)


async def confirm_pressed(update: Update, context: BotContext) -> str | int | None:
    """Confirm, correct something, or cancel at the summary."""
    editing = bool((context.user_data or {}).get("reg", {}).get("editing"))
    option = await pressed_option(update, context, "reg", _confirm_choice(context.t, editing))
    if option is None:
        return None
    return await _confirm_chosen(update, context, option.key)


async def confirm_typed(update: Update, context: BotContext) -> str | int | None:
    """The summary answered by number."""
    draft = _draft(context)
    option = _confirm_choice(context.t, bool(draft.get("editing"))).resolve(typed_text(update))
    if option is None:
        keyboard = _confirm_choice(context.t, bool(draft.get("editing"))).keyboard(
            PREFIX, draft["nonce"], "k"
        )
        await _reask_choice(update, context, keyboard)
        return None
    return await _confirm_chosen(update, context, option.key)


async def _confirm_chosen(update: Update, context: BotContext, key: str) -> str | int:
    draft = _draft(context)
    draft["review"] = True
    if key == "name":
        return await _ask_name(update, context)
    if key == "phone":
        return await _ask_phone(update, context)
    if key == "unit":
        unit = await units.get(context.db, draft.get("unit_id") or 0)
        draft["parent"], draft["page"] = (unit.parent_id if unit else None), 0
        return await _ask_unit(update, context)
    if key == "cancel":
        return await cancel(update, context)
    return await _save(update, context)


async def _save(update: Update, context: BotContext) -> int:
    draft = _draft(context)
    user = update.effective_user
    chat = update.effective_chat
    assert user is not None and chat is not None
    principal = context.principal
    if draft.get("editing") and principal is not None and principal.member is not None:
        await members.update_profile(
            context.db,
            principal.member.id,
            full_name=draft["name"],
            phone=draft.get("phone"),
            unit_id=draft["unit_id"],
        )
        text = context.t._("Your profile has been updated.")
    else:
        await members.register(
            context.db,
            NewMember(
                telegram_user_id=user.id,
                chat_id=chat.id,
                full_name=draft["name"],
                phone=draft.get("phone"),
                unit_id=draft["unit_id"],
                locale=context.locale,
            ),
            consent_purpose=membership_consent.CONSENT_PURPOSE,
            consent_version=membership_consent.CONSENT_VERSION,
            consent_at=draft["consent_at"],
        )
        text = context.t._(
            "🎉 Registration complete. Welcome to the union, {name}! "
            "Use the menu below; /help explains everything.",
            name=html.escape(draft["name"]),
        )
    _drop_draft(context)
    assert context.user_data is not None
    context.user_data.pop("locale", None)
    await context.refresh_principal()
    await say(update, context, text, menu.main_menu(context.principal, context.t))
    return END


async def cancel(update: Update, context: BotContext) -> int:
    """/cancel: leave the flow; nothing half-entered is stored."""
    editing = bool((context.user_data or {}).get("reg", {}).get("editing"))
    _drop_draft(context)
    principal = context.principal
    t = context.t
    if principal is not None and (principal.member is not None or principal.is_super_admin):
        text = t._("Cancelled; your profile is unchanged.") if editing else t._("Cancelled.")
        await say(update, context, text, menu.main_menu(principal, t))
    else:
        await say(update, context, t._("Cancelled. Send /start whenever you want to register."),
                  ReplyKeyboardRemove())
    return END


# --- helpers ---------------------------------------------------------------------------------


async def _reask_choice(update: Update, context: BotContext, keyboard: Any) -> None:
    await say(update, context, context.t._("Please tap one of the buttons or type its number."),
              keyboard)
    return None


async def wrong_kind(update: Update, context: BotContext) -> None:
    """A photo, sticker or file where text or a button was expected: say what is expected."""
    await say(update, context, context.t._(
        "I cannot use that here. Please answer the last question with text or a button, "
        "or send /cancel to stop."))


def _on(step: str, handler: Any) -> CallbackQueryHandler:
    return CallbackQueryHandler(handler, pattern=rf"^{PREFIX}:[0-9a-f]+:{step}(?::|$)")


TEXT = filters.TEXT & ~filters.COMMAND

def conversation() -> ConversationHandler[Any]:
    """The registration conversation (a new object per application: it holds state)."""
    return conversation_handler(
        entry_points=[
            CommandHandler("start", start, filters.ChatType.PRIVATE),
            MessageHandler(filters.ChatType.PRIVATE & menu.button_filter(menu.REGISTER), start),
            CallbackQueryHandler(edit_profile, pattern=r"^me:edit$"),
        ],
        states={
            CONSENT: [_on("c", consent_pressed), _on("lang", consent_pressed),
                      _on("full", notice_pressed),
                      MessageHandler(TEXT, consent_typed)],
            NAME: [MessageHandler(TEXT, name_typed)],
            PHONE: [MessageHandler(filters.CONTACT | TEXT, phone_given)],
            UNIT: [
                _on("u", unit_pressed), _on("up", unit_pressed), MessageHandler(TEXT, unit_typed)
            ],
            CONFIRM: [_on("k", confirm_pressed), MessageHandler(TEXT, confirm_typed)],
        },
        fallbacks=[
            CommandHandler("cancel", cancel),
            CallbackQueryHandler(answer_stale, pattern=rf"^{PREFIX}:"),
            MessageHandler(~filters.COMMAND & ~filters.TEXT, wrong_kind),
        ],
        name="registration",
        persistent=True,
        allow_reentry=True,
    )


def handlers() -> list[BaseHandler[Any, Any, Any]]:
    """The handlers of this feature, new for each application."""
    return [conversation()]
