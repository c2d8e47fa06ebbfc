"""Members' data rights: /privacy, /deleteme, consents per purpose (/mydata: my_data.py).

- /privacy (and the menu button): the full privacy notice (`bot.consent.notice_lines`),
  paginated; anyone may read it at any time, also before agreeing to anything.
- /deleteme: after a confirmation, her personal data is erased (`storage.privacy.erase`): the
  anonymised member row keeps the statistics right; she is told what was kept and why.
- Consent per purpose (`kit.consents.PURPOSES`, each with a version): /settings offers to
  withdraw each (`withdrawal_label`, `family_withdrawal_label`), as do the buttons under /mydata.
  Withdrawing the membership consent means leaving: the same confirmation and erasure as
  /deleteme. Withdrawing the family self-check consent, after a confirmation, deletes her
  answers of every year and keeps her household registrations.
- `ConsentGate` is the first handler of group 0: when the membership consent text has a new
  version, a member who agreed to an older one is asked again at her next interaction, before
  anything else (only /privacy, /mydata and /deleteme still work until she answers). A new
  version of the family self-check text is not gated here: /family asks again when she next
  opens the self-check.

Buttons: ``pv:c:<purpose>:<version>:o:<yes|no>`` (consent asked again), ``pv:d:<nonce>:o:<yes|
no>`` (confirm erasure), ``pv:w:<purpose>`` (withdraw). Every press is checked on arrival.
"""

from __future__ import annotations

import html
import secrets
from typing import Any, TypedDict

from telegram import (
    BotCommandScopeChat,
    ReplyKeyboardRemove,
    Update,
)
from telegram.error import TelegramError
from telegram.ext import (
    Application,
    ApplicationHandlerStop,
    BaseHandler,
    CallbackQueryHandler,
    CommandHandler,
    MessageHandler,
    filters,
)

from bot import callbacks, consent
from bot.choices import Choice, Option
from bot.context import BotContext
from bot.i18n import N_, Translator
from bot.permissions import Role
from bot.processing import set_outcome
from bot.settings import SUPPORTED_LOCALES
from handlers.kit import answers, membership_consent, menu, offers
from handlers.kit.consents import PREFIX, WITHDRAW_BUTTONS, Purpose, purposes
from handlers.kit.replies import answer_stale, retire_buttons, say
from storage import privacy
from storage.db import to_iso

EXEMPT_COMMANDS = ("privacy", "mydata", "deleteme")


# --- asking again when a consent text has a new version --------------------------------------


class ConsentGate(BaseHandler[Update, BotContext, None]):
    """Intercepts everything from a member whose consent is for an older text version."""

    def __init__(self) -> None:
        super().__init__(self._intercept)
        self.pending: dict[int, str] = {}  # Telegram user id → purpose to ask about

    async def load(self, application: Application) -> None:
        """Find, once at start, the members who agreed to an older version of a text."""
        db = application.bot_data.db
        self.pending = {}
        for purpose in purposes().values():
            if not purpose.leaving:  # asked where it is needed (the family self-check)
                continue
            for user_id in await privacy.outdated_consents(db, purpose.key, purpose.version):
                self.pending.setdefault(user_id, purpose.key)

    def check_update(self, update: object) -> bool:
        if not self.pending or not isinstance(update, Update):
            return False
        user = update.effective_user
        if user is None or user.id not in self.pending:
            return False
        if update.callback_query is not None:
            return not (update.callback_query.data or "").startswith(f"{PREFIX}:")
        message = update.message
        if message is None:
            return False
        command = (message.text or "").split(maxsplit=1)[0][1:].split("@")[0] if (
            message.text or "").startswith("/") else ""
        if message.text in menu.button_labels(menu.PRIVACY):  # the notice, before she answers
            return False
        return command not in EXEMPT_COMMANDS

    async def _intercept(self, update: Update, context: BotContext) -> None:
        set_outcome("consent")
        assert update.effective_user is not None
        member = context.principal.member if context.principal else None
        purpose = purposes().get(self.pending.get(update.effective_user.id, ""))
        if member is None or purpose is None:  # left meanwhile: nothing to ask
            self.pending.pop(update.effective_user.id, None)
            if update.callback_query is not None:
                await answer_stale(update, context)
            raise ApplicationHandlerStop
        text = (update.message.text or "") if update.message else ""
        option = _consent_choice(context.t).resolve(text) if text else None
        if option is not None:
            await _consent_answered(update, context, purpose, option.key)
        elif update.callback_query is not None:
            await update.callback_query.answer(
                context.t._("Please answer the consent question first."), show_alert=True)
            await _ask_consent_again(update, context, purpose)
        else:
            await _ask_consent_again(update, context, purpose)
        raise ApplicationHandlerStop


def gate(application: Application) -> ConsentGate | None:
    """This application's consent gate."""
    for handlers in application.handlers.values():
        for handler in handlers:
            if isinstance(handler, ConsentGate):
                return handler
    return None


async def load_consent_state(application: Application) -> None:
    """At start (post_init): who has to be asked again."""
    found = gate(application)
    if found is not None:
        await found.load(application)


def _consent_choice(t: Translator) -> Choice:
    return Choice([Option("yes", t._("✅ I agree")), Option("no", t._("✖ I do not agree"))])


async def _ask_consent_again(update: Update, context: BotContext, purpose: Purpose) -> None:
    t = context.t
    intro = t._("We have updated the information on how the bot uses your data (version "
                "{version}). Please read it and tell us whether you agree; you can continue "
                "right after.", version=purpose.version)
    keyboard = _consent_choice(t).keyboard(PREFIX, "c", purpose.key, purpose.version)
    await say(update, context, intro + "\n\n" + t._(purpose.text), keyboard)


async def _consent_answered(update: Update, context: BotContext, purpose: Purpose,
                            key: str) -> None:
    t = context.t
    assert update.effective_user is not None
    if key == "yes":
        await privacy.give_consent(context.db, update.effective_user.id, purpose.key,
                                   purpose.version, to_iso(context.clock.now()))
        found = gate(context.application)
        if found is not None:
            found.pending.pop(update.effective_user.id, None)
        await say(update, context, t._("Thank you! You can continue."),
                  menu.main_menu(context.principal, t))
        return
    await say(update, context, t._(
        "Understood. Without your consent the union cannot keep your membership data. You can "
        "agree at any time (send me any message), see your data with /mydata, or delete it "
        "with /deleteme."))


async def consent_pressed(update: Update, context: BotContext, data: callbacks.CallbackData
                          ) -> None:
    """``pv:c:<purpose>:<version>:o:<yes|no>``."""
    query = update.callback_query
    assert query is not None and update.effective_user is not None
    purpose = purposes().get(data.arg(1) or "")
    found = gate(context.application)
    asked = found.pending.get(update.effective_user.id) if found else None
    option = _consent_choice(context.t).by_key(data.arg(4)) if data.arg(3) == "o" else None
    if (purpose is None or option is None or asked != purpose.key
            or data.arg(2) != str(purpose.version)):
        await answer_stale(update, context)
        return
    await query.answer()
    await retire_buttons(query, f"<i>{html.escape(option.label)}</i>")
    await _consent_answered(update, context, purpose, option.key)


# --- withdrawal (from /settings) and /deleteme -------------------------------------------------


async def withdrawal_label(context: BotContext) -> str:
    """/settings: the item that withdraws her consent (with the purpose and its version)."""
    return context.t._(WITHDRAW_BUTTONS[membership_consent.CONSENT_PURPOSE])


async def choose_withdrawal(update: Update, context: BotContext) -> str | None:
    """/settings: withdrawing the membership consent asks to confirm the erasure."""
    await ask_delete(update, context, reason="withdrawal")
    return None


def _erase_choice(t: Translator, reason: str | None = None) -> Choice:
    if reason == FAMILY:
        return Choice([Option("yes", t._("↩ Yes, withdraw")),
                       Option("no", t._("✖ No, keep my answers"))])
    return Choice([Option("yes", t._("🗑 Yes, delete my data")),
                   Option("no", t._("✖ No, keep my data"))])


FAMILY = "family"  # the pending confirmation is about the self-check consent


class Pending(TypedDict):
    """The erasure confirmation she was asked (persisted in `user_data["pv"]`)."""

    nonce: str  # carried by its buttons: older buttons are stale
    reason: str  # "deleteme", "withdrawal" or FAMILY


def _pending(context: BotContext) -> Pending | None:
    pending: Pending | None = (context.user_data or {}).get(PREFIX)
    return pending


def _ask_erasure(context: BotContext, reason: str) -> str:
    """The erasure confirmation about `reason` is the chat's latest question: its nonce."""
    assert context.user_data is not None
    nonce = secrets.token_hex(3)
    context.user_data[PREFIX] = Pending(nonce=nonce, reason=reason)
    answers.ask(context, PREFIX)
    return nonce


async def family_withdrawal_label(context: BotContext) -> str:
    """/settings: the item that withdraws the family self-check consent."""
    return context.t._(WITHDRAW_BUTTONS[consent.FAMILY_PURPOSE])


async def choose_family_withdrawal(update: Update, context: BotContext) -> str | None:
    """/settings: withdrawing the self-check consent asks to confirm deleting the answers."""
    await ask_withdraw_family(update, context)
    return None


async def ask_withdraw_family(update: Update, context: BotContext) -> None:
    """What withdrawing the self-check consent deletes and keeps, and a confirmation."""
    t = context.t
    assert context.user_data is not None and update.effective_user is not None
    state = (await privacy.latest_consents(context.db, update.effective_user.id)).get(
        consent.FAMILY_PURPOSE)
    if state is None or not state.active:
        await say(update, context, t._("You have not given this consent, so no self-check "
                                       "answer of yours is stored."))
        return
    nonce = _ask_erasure(context, FAMILY)
    lines = [
        t._("<b>Withdraw your consent to the family self-check?</b>"),
        t._("Your self-check answers of every year are then deleted. Your household's "
            "registrations and your chapter's results stay, and your membership is not "
            "affected. You can agree again later in /family."),
        "",
        t._("Tap a button or type its number."),
    ]
    await say(update, context, "\n".join(lines),
              _erase_choice(t, FAMILY).keyboard(PREFIX, "d", nonce))


async def _family_withdrawn(update: Update, context: BotContext) -> None:
    t = context.t
    member = context.principal.member if context.principal else None
    assert member is not None
    deleted = await privacy.withdraw_family_consent(
        context.db, member.telegram_user_id, member.id, purpose=consent.FAMILY_PURPOSE,
        at=to_iso(context.clock.now()))
    await say(update, context, t.n_(
        "↩ Your consent to the family self-check is withdrawn and {n} answer was deleted. "
        "Your household's registration stays.",
        "↩ Your consent to the family self-check is withdrawn and {n} answers were deleted. "
        "Your household's registration stays.", deleted), menu.main_menu(context.principal, t))


# --- /privacy ----------------------------------------------------------------------------------


async def show_notice(update: Update, context: BotContext) -> None:
    """/privacy or the menu button: the full notice, for anyone, at any time."""
    for page in consent.notice_pages(context.t, context.settings):
        await say(update, context, page)


async def ask_delete(update: Update, context: BotContext, *, reason: str = "deleteme") -> None:
    """/deleteme: what would be erased and kept, and a confirmation."""
    t = context.t
    member = context.principal.member if context.principal else None
    assert context.user_data is not None
    if member is None:
        had_draft = bool(context.user_data)
        context.user_data.clear()
        text = t._("You are not registered, so the bot stores nothing about you.")
        if had_draft:
            text += "\n" + t._("Your unfinished entries have been deleted.")
        await say(update, context, text, ReplyKeyboardRemove())
        return
    nonce = _ask_erasure(context, reason)
    lines = []
    if reason == "withdrawal":
        lines.append(t._("Your membership data can only be kept with your consent, so "
                         "withdrawing it means deleting that data."))
    lines += [
        t._("<b>Delete your data?</b>"),
        t._("Deleted: your name, phone number, Telegram account, your commitments, your "
            "self-assessment answers, notes and photos you sent, your roles, and your consent "
            "records."),
        t._("Kept without your name: your registrations for the women's standard and the "
            "family campaign with their results, and which notices were delivered, so that your "
            "chapter's figures stay correct; and a record that you withdrew your consent, "
            "which the union must be able to show."),
        t._(RECALL_NOTE),
        t._("This cannot be undone. You can register again later with /start."),
        "",
        t._("Tap a button or type its number."),
    ]
    await say(update, context, "\n".join(lines), _erase_choice(t).keyboard(PREFIX, "d", nonce))


async def delete_command(update: Update, context: BotContext) -> None:
    """/deleteme."""
    await ask_delete(update, context)


async def typed(update: Update, context: BotContext, text: str) -> bool:
    """A typed number answering the erasure confirmation; False if it is not an option."""
    pending = _pending(context)
    reason = pending["reason"] if pending else None
    option = _erase_choice(context.t, reason).resolve(text)
    if option is None:
        return False
    await _erase_answered(update, context, option.key)
    return True


async def _erase_answered(update: Update, context: BotContext, key: str) -> None:
    t = context.t
    assert context.user_data is not None
    pending: Pending | None = context.user_data.pop(PREFIX, None)
    answers.release(context, PREFIX)
    member = context.principal.member if context.principal else None
    if key != "yes" or member is None:
        await say(update, context, t._("Nothing was deleted."),
                  menu.main_menu(context.principal, t) if member else None)
        return
    reason = pending["reason"] if pending else "deleteme"
    if reason == FAMILY:
        await _family_withdrawn(update, context)
        return
    await erase_member(update, context, reason=reason)


async def erase_member(update: Update, context: BotContext, *, reason: str) -> None:
    """Erase her data now and tell her what was kept."""
    t = context.t
    principal = context.principal
    assert principal is not None and principal.member is not None
    assert update.effective_user is not None and update.effective_chat is not None
    user_id = update.effective_user.id
    purpose = purposes()[membership_consent.CONSENT_PURPOSE]
    erased = await privacy.erase(
        context.db, principal.member.id, user_id, reason=reason, purpose=purpose.key,
        version=purpose.version, at=to_iso(context.clock.now()))
    for broadcast_id in erased.broadcasts_cancelled:
        context.delivery.cancelled(broadcast_id)
    had_role = principal.at_least(Role.CHAPTER_HEAD) and not principal.is_super_admin
    assert context.user_data is not None
    context.user_data.clear()  # her drafts and the steps of her flows
    found = gate(context.application)
    if found is not None:
        found.pending.pop(user_id, None)
    if had_role:
        await _drop_chat_menu(context, update.effective_chat.id)
    await context.refresh_principal()
    kept = [  # a count of 0 is nothing kept: not said
        t.n_("Kept without your name, so that statistics stay correct: {n} campaign "
             "registration.", "Kept without your name, so that statistics stay correct: {n} "
             "campaign registrations.", erased.registrations_kept)
        if erased.registrations_kept else None,
        t.n_("Also kept without your name: {n} record of a delivered notice.",
             "Also kept without your name: {n} records of delivered notices.",
             erased.deliveries_kept) if erased.deliveries_kept else None,
    ]
    lines = [
        t._("🗑 Your personal data has been deleted."),
        *(line for line in kept if line is not None),
        t._("Kept with your Telegram account: only the record that you withdrew your consent, "
            "as proof for the union that your wish was carried out."),
        t._(RECALL_NOTE),
        t._("Thank you for your time with the union. Send /start whenever you want to "
            "register again."),
    ]
    await say(update, context, "\n".join(lines), ReplyKeyboardRemove())


# Erasure cannot reach into other people's chats: said before and after she confirms.
RECALL_NOTE = N_("Messages already delivered to other chats cannot be recalled: notices you sent "
                 "as a chapter head or officer stay with the members who received them, and so "
                 "do messages about you that officers have already received. Your notices not "
                 "sent yet are cancelled together with your data.")


async def _drop_chat_menu(context: BotContext, chat_id: int) -> None:
    """A former chapter head or admin: back to the default command menu."""
    scope = BotCommandScopeChat(chat_id)
    try:
        for locale in (*SUPPORTED_LOCALES, None):
            await context.bot.delete_my_commands(scope, locale)
    except TelegramError:
        pass
    context.bot_data.chats_with_menus.discard(chat_id)


# --- presses -------------------------------------------------------------------------------------


async def pressed(update: Update, context: BotContext) -> None:
    """Every ``pv:`` button: checked against what she was shown and who she is now."""
    query = update.callback_query
    assert query is not None
    data = callbacks.decode(query.data)
    if data is None:
        await answer_stale(update, context)
        return
    step = data.arg(0)
    member = context.principal.member if context.principal else None
    if step == "c":
        await consent_pressed(update, context, data)
        return
    if member is None:
        await query.answer(context.t._("Please register first with /start."), show_alert=True)
        return
    if step == "w" and data.arg(1) in purposes() and len(data.args) == 2:
        await query.answer()
        if data.arg(1) == consent.FAMILY_PURPOSE:
            await ask_withdraw_family(update, context)
        else:
            await ask_delete(update, context, reason="withdrawal")
        return
    pending = _pending(context)
    choice = _erase_choice(context.t, pending["reason"] if pending else None)
    option = choice.by_key(data.arg(3)) if data.arg(2) == "o" else None
    if step != "d" or option is None or pending is None or data.arg(1) != pending["nonce"]:
        await answer_stale(update, context)
        return
    await query.answer()
    await retire_buttons(query, f"<i>{html.escape(option.label)}</i>")
    await _erase_answered(update, context, option.key)

offers.offer_setting(offers.Setting("consent", 30, withdrawal_label, offers.is_member,
                                    choose_withdrawal))
offers.offer_setting(offers.Setting("fconsent", 40, family_withdrawal_label, offers.is_member,
                                    choose_family_withdrawal))

# Typed answers to this feature's questions (the latest question asked owns them).
async def _options(context: BotContext) -> Choice:
    """The options of the erasure confirmation."""
    pending = _pending(context)
    return _erase_choice(context.t, pending["reason"] if pending else None)


answers.register(PREFIX, typed, options=_options)


def handlers() -> list[BaseHandler[Any, Any, Any]]:
    """The handlers of this feature, new for each application; the gate must come first."""
    return [
        ConsentGate(),
        CommandHandler("privacy", show_notice, filters.ChatType.PRIVATE),
        MessageHandler(filters.ChatType.PRIVATE & menu.button_filter(menu.PRIVACY), show_notice),
        CommandHandler("deleteme", delete_command, filters.ChatType.PRIVATE),
        CallbackQueryHandler(pressed, pattern=callbacks.pattern(PREFIX)),
    ]
