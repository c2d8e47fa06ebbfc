"""Member registration (/start): consent, full name, phone, unit, confirmation.

Over 500 lines because it is one flow (five steps, each by button or typed answer, shared with
the profile edit under /me); the greeting of known members is `kit.greeting.welcome_known`.

The same flow edits a registered member's profile (entered from /me at the summary, by the
button or by typing its number). Every choice is a `Choice`, so each button also works as a
typed number. The draft, with the step it waits at, lives in the persisted `user_data["reg"]`,
so a member halfway through continues after a restart; typed answers reach it through the
typed-answer router (`kit.answers`) like every other question.
"""

from __future__ import annotations

import functools
import html
import secrets
from collections.abc import Callable, Coroutine
from typing import Any, TypedDict, Unpack

from telegram import (
    CallbackQuery,
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
    MessageHandler,
    filters,
)

from bot import callbacks, consent, orgtree
from bot.callbacks import CallbackData
from bot.choices import Choice, Option, fold
from bot.context import BotContext
from bot.i18n import LANGUAGE_NAMES, N_, Translator
from bot.settings import SUPPORTED_LOCALES
from bot.validators import (
    InvalidInput,
    clean_full_name,
    display_phone,
    given_name,
    normalise_phone,
)
from handlers.kit import answers, greeting, membership_consent, menu
from handlers.kit.replies import (
    answer_stale,
    checked_press,
    pressed_option,
    retire_buttons,
    say,
    tree_move,
    typed_text,
)
from handlers.kit.replies import edit as edit_message
from storage import members, units
from storage.db import utc_now
from storage.members import NewMember

CONSENT, NAME, PHONE, UNIT, CONFIRM = "consent", "name", "phone", "unit", "confirm"
PREFIX = "reg"
PROFILE = "me"
"""The question under /me (its one option: edit my details)."""

KIND_LABELS = dict(district=N_("district"), ward=N_("ward (cơ sở Hội)"),
                   chapter=N_("chapter (chi hội)"), group=N_("group (tổ)"))

# --- the draft -------------------------------------------------------------------------------


class Draft(TypedDict, total=False):
    """What she has entered so far (persisted in `user_data["reg"]`, so a restart keeps it)."""

    nonce: str  # carried by the buttons of this draft: older buttons are stale
    step: str  # the step the flow waits at
    parent: int | None  # the unit chooser's level
    page: int
    consent_at: str
    name: str
    phone: str | None
    unit_id: int | None
    editing: bool  # correcting a registered member's profile (from /me)
    review: bool  # back to the summary after a correction


def _draft(context: BotContext) -> Draft:
    assert context.user_data is not None
    draft: Draft = context.user_data.setdefault("reg", {})
    return draft


def _new_draft(context: BotContext, **values: Unpack[Draft]) -> Draft:
    assert context.user_data is not None
    draft = Draft(nonce=secrets.token_hex(3), parent=None, page=0)
    draft.update(values)
    context.user_data["reg"] = draft
    return draft


def _drop_draft(context: BotContext) -> None:
    answers.release(context, PREFIX)
    if context.user_data is not None:
        context.user_data.pop("reg", None)


def _at(context: BotContext, step: str) -> None:
    """The flow now waits at `step`: its question is the chat's latest."""
    _draft(context)["step"] = step
    answers.ask(context, PREFIX)


def _held(context: BotContext) -> Draft:
    """Her draft as it is, without starting one (empty: no registration is running)."""
    draft: Draft | None = (context.user_data or {}).get("reg")
    return draft or Draft()


def _step(context: BotContext) -> str | None:
    """The step the flow waits at (None: no registration is running)."""
    return _held(context).get("step")


Pressed = Callable[[Update, BotContext, CallbackQuery, CallbackData], Coroutine[Any, Any, None]]


def _checked(handler: Pressed) -> Callable[[Update, BotContext], Coroutine[Any, Any, None]]:
    """`handler` gets the presses of her current draft's buttons (the query and its data);
    a button of an older draft is answered as stale."""

    @functools.wraps(handler)
    async def pressed(update: Update, context: BotContext) -> None:
        query = update.callback_query
        assert query is not None
        data = await checked_press(update, context, PREFIX)
        if data is not None:
            await handler(update, context, query, data)

    return pressed


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


async def _ask_consent(update: Update, context: BotContext) -> None:
    await say(update, context, _consent_screen(context), _consent_keyboard(context))
    _at(context, CONSENT)


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


async def _ask_name(update: Update, context: BotContext) -> None:
    await say(
        update,
        context,
        context.t._("What is your full name? (for example: Nguyễn Thị Hoa)"),
        answers.cancel_keyboard(context, PREFIX),
    )
    _at(context, NAME)


async def _ask_phone(update: Update, context: BotContext) -> None:
    t = context.t
    keyboard = ReplyKeyboardMarkup(
        [[KeyboardButton(t._("📱 Share my phone number"), request_contact=True)],
         [KeyboardButton(t._("✖ Cancel"))]],  # sends "✖ Hủy": the router's word for /cancel
        resize_keyboard=True,
        one_time_keyboard=True,
    )
    await say(
        update,
        context,
        t._("Please tap the button below to share your phone number, or type it."),
        keyboard,
    )
    _at(context, PHONE)


async def _ask_unit(update: Update, context: BotContext, *, edit: Message | None = None,
                    missing: str | None = None) -> None:
    """The unit chooser; after a typed number `missing` from it, that is said with the list."""
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
        _at(context, UNIT)
        return
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
    if missing is not None:
        text = "\n".join([context.t._(
            "There is no option {number} here. Please type one of these numbers (or tap a button "
            "of the latest message):", number=missing),
            *(f"{n}. {html.escape(o.label)}" for n, o in choice.visible())])
    keyboard = choice.keyboard(PREFIX, nonce, "u", extra_rows=extra)
    if edit is not None:
        await edit_message(edit, text, keyboard)
    else:
        await say(update, context, text, keyboard)
    _at(context, UNIT)


async def _ask_confirm(update: Update, context: BotContext) -> None:
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
    _at(context, CONFIRM)


async def _next_after_detail(update: Update, context: BotContext) -> None:
    """After a name or phone: back to the summary when correcting, else the next step."""
    draft = _draft(context)
    if draft.get("review"):
        await _ask_confirm(update, context)
        return
    if "phone" not in draft:
        await _ask_phone(update, context)
        return
    if draft.get("unit_id"):
        await _ask_confirm(update, context)
        return
    await _ask_unit(update, context)


# --- entry points ----------------------------------------------------------------------------


async def start(update: Update, context: BotContext) -> None:
    """/start [chapter code]: the main menu for members, else registration (resumed if begun)."""
    principal = context.principal
    t = context.t
    if principal is not None and update.effective_chat is not None:
        await menu.ensure_chat_commands(context, update.effective_chat.id, principal)
    if await greeting.welcome_known(update, context):
        return None
    draft = _held(context)
    if draft.get("step") and not draft.get("editing") and not context.args:
        await _in_the_middle(update, context)  # "menu"/"0" on Zalo, /start: not a restart
        return
    if draft and draft.get("consent_at") and not draft.get("editing"):
        await say(update, context, t._("Let us continue where you left off."))
        await _resume(update, context)
        return
    preselected = Draft()
    if context.args:
        unit = await units.by_code(context.db, context.args[0][:40])
        if unit is None:
            await say(update, context, t._("That chapter link is not valid; you can choose "
                                           "your chapter later."))
        elif await orgtree.has_children(context.db, unit.id):
            preselected = Draft(parent=unit.id)
        else:
            preselected = Draft(unit_id=unit.id)
    _new_draft(context, **preselected)
    await _ask_consent(update, context)


async def _in_the_middle(update: Update, context: BotContext) -> None:
    """She asked for the start or the menu while registering: say so briefly, then the step's
    question again (at the consent step only its choices, not the whole welcome)."""
    said = context.t._("You are in the middle of registering. Please answer the question to go "
                       "on, or send /cancel to stop.")
    if _step(context) == CONSENT:
        await say(update, context, said, _consent_keyboard(context))
        _at(context, CONSENT)
        return
    await say(update, context, said)
    await _resume(update, context)


async def _resume(update: Update, context: BotContext) -> None:
    draft = _draft(context)
    if "name" not in draft:
        await _ask_name(update, context)
        return
    await _next_after_detail(update, context)


async def edit_profile(update: Update, context: BotContext) -> None:
    """The 'Edit' button under /me: the registration summary, prefilled, in editing mode."""
    query = update.callback_query
    assert query is not None
    member = context.principal.member if context.principal else None
    if member is None:
        await query.answer(context.t._("Please register first with /start."), show_alert=True)
        return None
    await query.answer()
    await retire_buttons(query)
    answers.release(context, PROFILE)
    await _edit(update, context)


async def _edit(update: Update, context: BotContext) -> None:
    """Her details, prefilled, at the summary in editing mode."""
    member = context.principal.member if context.principal else None
    assert member is not None
    _new_draft(
        context,
        editing=True,
        review=True,
        name=member.full_name,
        phone=member.phone,
        unit_id=member.unit_id,
    )
    await _ask_confirm(update, context)


# --- answers ---------------------------------------------------------------------------------


@_checked
async def consent_pressed(update: Update, context: BotContext, query: CallbackQuery,
                          data: CallbackData) -> None:
    """Agree, decline or switch language on the consent screen."""
    if data.arg(1) == "lang" and data.arg(2) in SUPPORTED_LOCALES:
        assert context.user_data is not None
        context.user_data["locale"] = data.arg(2)
        await query.answer()
        if isinstance(query.message, Message):
            await query.message.edit_text(
                _consent_screen(context), reply_markup=_consent_keyboard(context)
            )
        return None
    option = _consent_choice(context.t).by_key(data.arg(3))
    if option is None:
        await answer_stale(update, context)
        return None
    await query.answer()
    await retire_buttons(query, f"<i>{html.escape(option.label)}</i>")
    await _consent_given(update, context, option.key)


@_checked
async def notice_pressed(update: Update, context: BotContext, query: CallbackQuery,
                         _data: CallbackData) -> None:
    """“📖 Read in full” on the consent screen: the full notice, then the question again."""
    await query.answer()
    await retire_buttons(query)
    for page in consent.notice_pages(context.t, context.settings):
        await say(update, context, page)
    await _ask_consent(update, context)


async def consent_typed(update: Update, context: BotContext) -> None:
    """A typed answer on the consent screen ("1", "2")."""
    option = _consent_choice(context.t).resolve(typed_text(update))
    if option is None:
        await _reask_choice(update, context, _consent_keyboard(context))
        return None
    await _consent_given(update, context, option.key)


async def _consent_given(update: Update, context: BotContext, key: str) -> None:
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
        return None
    _draft(context)["consent_at"] = utc_now()
    await _ask_name(update, context)


async def name_typed(update: Update, context: BotContext) -> None:
    """Her full name."""
    try:
        name = clean_full_name(typed_text(update))
    except InvalidInput as exc:
        await say(update, context, context.t._(exc.reason, **exc.values))
        await _ask_name(update, context)
        return
    _draft(context)["name"] = name
    await _next_after_detail(update, context)


async def phone_given(update: Update, context: BotContext) -> None:
    """Her phone number, shared as a contact or typed."""
    t = context.t
    message = update.effective_message
    assert message is not None and update.effective_user is not None
    if message.contact is not None:
        if message.contact.user_id != update.effective_user.id:
            await say(update, context, t._("That is someone else's contact. Please share your "
                                           "own number with the button, or type it."))
            await _ask_phone(update, context)
            return
        raw = message.contact.phone_number
    else:
        raw = typed_text(update)
    try:
        phone = normalise_phone(raw)
    except InvalidInput as exc:
        await say(update, context, t._(exc.reason, **exc.values))
        await _ask_phone(update, context)
        return
    _draft(context)["phone"] = phone
    await say(
        update, context, t._("Thank you, noted: {phone}.", phone=display_phone(phone)),
        ReplyKeyboardRemove(),
    )
    await _next_after_detail(update, context)


@_checked
async def unit_pressed(update: Update, context: BotContext, query: CallbackQuery,
                       data: CallbackData) -> None:
    """A unit, a page, or 'back' in the unit chooser."""
    draft = _draft(context)
    message = query.message if isinstance(query.message, Message) else None
    moved = await tree_move(context, data, level=draft.get("parent"), page=draft.get("page", 0))
    if moved is not None:
        draft["parent"], draft["page"] = moved.level, moved.page
        await query.answer()
        if moved.changed:
            await _ask_unit(update, context, edit=message)
        return None
    choice, _question, _up = await _unit_choice(context)
    option = choice.by_key(data.arg(3)) if data.arg(2) == "o" else None
    if option is None:
        await answer_stale(update, context)
        return None
    await query.answer()
    await _unit_chosen(update, context, int(option.key), edit=message)


async def unit_typed(update: Update, context: BotContext) -> None:
    """A unit chosen by typing its number or name."""
    choice, _question, can_go_up = await _unit_choice(context)
    text = typed_text(update)
    if can_go_up and fold(text) in {"quay lai", "back", fold(context.t._("⬅ Back"))}:
        draft = _draft(context)
        unit = await orgtree.get(context.db, draft.get("parent"))
        draft["parent"], draft["page"] = (unit.parent_id if unit else None), 0
        await _ask_unit(update, context)
        return
    option = choice.resolve(text)
    if option is None and answers.a_number(text):
        await _ask_unit(update, context, missing=text.strip().rstrip("."))
        return
    if option is None:
        await say(update, context, context.t._("Please tap one of the buttons or type its number."))
        await _ask_unit(update, context)
        return
    await _unit_chosen(update, context, int(option.key), edit=None)


async def _unit_chosen(
    update: Update, context: BotContext, unit_id: int, *, edit: Message | None
) -> None:
    draft = _draft(context)
    if await orgtree.has_children(context.db, unit_id):
        draft["parent"], draft["page"] = unit_id, 0
        await _ask_unit(update, context, edit=edit)
        return
    draft["unit_id"] = unit_id
    if edit is not None:
        path = html.escape(await orgtree.unit_path(context.db, unit_id))
        await edit.edit_text(f"✅ {path}", reply_markup=None)
    await _ask_confirm(update, context)


async def confirm_pressed(update: Update, context: BotContext) -> None:
    """Confirm, correct something, or cancel at the summary."""
    editing = bool(_held(context).get("editing"))
    option = await pressed_option(update, context, "reg", _confirm_choice(context.t, editing))
    if option is None:
        return None
    await _confirm_chosen(update, context, option.key)


async def confirm_typed(update: Update, context: BotContext) -> None:
    """The summary answered by number."""
    draft = _draft(context)
    option = _confirm_choice(context.t, bool(draft.get("editing"))).resolve(typed_text(update))
    if option is None:
        keyboard = _confirm_choice(context.t, bool(draft.get("editing"))).keyboard(
            PREFIX, draft["nonce"], "k"
        )
        await _reask_choice(update, context, keyboard)
        return None
    await _confirm_chosen(update, context, option.key)


async def _confirm_chosen(update: Update, context: BotContext, key: str) -> None:
    draft = _draft(context)
    draft["review"] = True
    if key == "name":
        await _ask_name(update, context)
        return
    if key == "phone":
        await _ask_phone(update, context)
        return
    if key == "unit":
        unit = await units.get(context.db, draft.get("unit_id") or 0)
        draft["parent"], draft["page"] = (unit.parent_id if unit else None), 0
        await _ask_unit(update, context)
        return
    if key == "cancel":
        await cancel(update, context)
        return
    await _save(update, context)


async def _save(update: Update, context: BotContext) -> None:
    draft = _draft(context)
    user = update.effective_user
    chat = update.effective_chat
    assert user is not None and chat is not None
    unit_id = draft.get("unit_id")
    if unit_id is None:  # no chapter yet (a profile whose chapter was removed): choose one
        await _ask_unit(update, context)
        return
    principal = context.principal
    if draft.get("editing") and principal is not None and principal.member is not None:
        await members.update_profile(
            context.db,
            principal.member.id,
            full_name=draft["name"],
            phone=draft.get("phone"),
            unit_id=unit_id,
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
                unit_id=unit_id,
                locale=context.locale,
            ),
            consent_purpose=membership_consent.CONSENT_PURPOSE,
            consent_version=membership_consent.CONSENT_VERSION,
            consent_at=draft["consent_at"],
        )
        name = html.escape(given_name(draft["name"]))
        org = await greeting.union_name(context, unit_id)
        text = context.t._(
            "🎉 Registration complete. Welcome to the assistant of {org}, {name}! "
            "Use the menu below; /help explains everything.", org=org, name=name,
        ) if org else context.t._(
            "🎉 Registration complete. Welcome to the union, {name}! "
            "Use the menu below; /help explains everything.", name=name,
        )
    _drop_draft(context)
    assert context.user_data is not None
    context.user_data.pop("locale", None)
    await context.refresh_principal()
    await say(update, context, text, menu.main_menu(context.principal, context.t))


async def cancel(update: Update, context: BotContext) -> None:
    """/cancel: leave the flow; nothing half-entered is stored."""
    editing = bool(_held(context).get("editing"))
    _drop_draft(context)
    principal = context.principal
    t = context.t
    if principal is not None and (principal.member is not None or principal.is_super_admin):
        text = t._("Cancelled; your profile is unchanged.") if editing else t._("Cancelled.")
        await say(update, context, text, menu.main_menu(principal, t))
    else:
        await say(update, context, t._("Cancelled. Send /start whenever you want to register."),
                  ReplyKeyboardRemove())


# --- helpers ---------------------------------------------------------------------------------


async def _reask_choice(update: Update, context: BotContext, keyboard: Any) -> None:
    await say(update, context, context.t._("Please tap one of the buttons or type its number."),
              keyboard)


async def wrong_kind(update: Update, context: BotContext) -> None:
    """A photo, sticker or file where text or a button was expected: say what is expected."""
    await say(update, context, context.t._(
        "I cannot use that here. Please answer the last question with text or a button, "
        "or send /cancel to stop."))


def _on(step: str, handler: Any, *, at: str) -> CallbackQueryHandler:
    """A button of the step `at`; pressed at another step (an older message) it is stale."""

    @functools.wraps(handler)
    async def pressed(update: Update, context: BotContext) -> None:
        if _step(context) != at:
            await answer_stale(update, context)
            return
        await handler(update, context)

    return CallbackQueryHandler(pressed, pattern=rf"^{PREFIX}:[0-9a-f]+:{step}(?::|$)")


_TYPED_AT = {CONSENT: consent_typed, NAME: name_typed, PHONE: phone_given, UNIT: unit_typed,
             CONFIRM: confirm_typed}


async def typed(update: Update, context: BotContext, text: str) -> bool:
    """A typed answer to the step the flow waits at."""
    answer = _TYPED_AT.get(_step(context) or "")
    if answer is None:
        return False
    await answer(update, context)
    return True


async def not_text(update: Update, context: BotContext) -> bool:
    """A shared contact answers the phone question; anything else gets what is expected."""
    message = update.effective_message
    if _step(context) is None or message is None:
        return False
    if _step(context) == PHONE and message.contact is not None:
        await phone_given(update, context)
    else:
        await wrong_kind(update, context)
    return True


async def left(update: Update, context: BotContext) -> bool:
    """/cancel while the flow's question is the latest."""
    if _step(context) is None:
        return False
    await cancel(update, context)
    return True


def _profile_choice(t: Translator) -> Choice:
    return Choice([Option("edit", t._(menu.EDIT_PROFILE))])


async def profile_typed(update: Update, context: BotContext, text: str) -> bool:
    """The one option under /me chosen by its number."""
    member = context.principal.member if context.principal else None
    if member is None or _profile_choice(context.t).resolve(text) is None:
        return False
    answers.release(context, PROFILE)
    await _edit(update, context)
    return True


async def _profile_options(context: BotContext) -> Choice:
    return _profile_choice(context.t)


answers.register(PREFIX, typed, cancel=left, other=not_text)
answers.register(PROFILE, profile_typed, options=_profile_options)


def handlers() -> list[BaseHandler[Any, Any, Any]]:
    """The handlers of this feature, new for each application."""
    return [
        CommandHandler("start", start, filters.ChatType.PRIVATE),
        MessageHandler(filters.ChatType.PRIVATE & menu.button_filter(menu.REGISTER), start),
        CallbackQueryHandler(edit_profile, pattern=r"^me:edit$"),
        _on("c", consent_pressed, at=CONSENT), _on("lang", consent_pressed, at=CONSENT),
        _on("full", notice_pressed, at=CONSENT),
        _on("u", unit_pressed, at=UNIT), _on("up", unit_pressed, at=UNIT),
        _on("k", confirm_pressed, at=CONFIRM),
        CallbackQueryHandler(answer_stale, pattern=rf"^{PREFIX}:"),
    ]
