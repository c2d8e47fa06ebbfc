"""The purposes a member consents to, shared by /privacy (asking again, withdrawing, erasing)
and /mydata (listing them, with a button to withdraw each).

The withdraw buttons (``pv:w:<purpose>``) are answered by handlers/privacy.py; /mydata only
shows them, so the two features share this floor instead of importing each other.
"""

from __future__ import annotations

from dataclasses import dataclass

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from bot import callbacks, consent
from bot.context import BotContext
from bot.i18n import N_
from handlers.kit import membership_consent

PREFIX = "pv"
"""The buttons of /privacy's questions (handlers/privacy.py answers every one of them)."""


@dataclass(frozen=True, slots=True)
class Purpose:
    """A purpose she consents to, with the version of its text."""

    key: str
    name: str  # msgid
    version: int
    text: str  # msgid: what she agrees to
    leaving: bool  # withdrawing it means her membership data must be erased


PURPOSES: dict[str, Purpose] = {
    membership_consent.CONSENT_PURPOSE: Purpose(
        membership_consent.CONSENT_PURPOSE, N_("Membership data (name, phone, chapter)"),
        membership_consent.CONSENT_VERSION, membership_consent.CONSENT_TEXT, leaving=True,
    ),
    consent.FAMILY_PURPOSE: Purpose(
        consent.FAMILY_PURPOSE, consent.FAMILY_NAME, consent.FAMILY_VERSION,
        consent.FAMILY_TEXT, leaving=False,
    ),
}
# The text of every version ever asked (msgids), so /mydata shows what she agreed to. A new
# version of a text goes here next to the old one; a text must never change under its version.
TEXTS: dict[tuple[str, int], str] = {
    (membership_consent.CONSENT_PURPOSE, 1): membership_consent.CONSENT_TEXT,
    (consent.FAMILY_PURPOSE, 1): consent.FAMILY_TEXT,
}


def purposes() -> dict[str, Purpose]:
    """The purposes with their current versions (read at call time: tests bump a version)."""
    found = dict(PURPOSES)
    membership = found[membership_consent.CONSENT_PURPOSE]
    if membership.version != membership_consent.CONSENT_VERSION:
        found[membership_consent.CONSENT_PURPOSE] = Purpose(
            membership.key, membership.name, membership_consent.CONSENT_VERSION,
            membership_consent.CONSENT_TEXT, membership.leaving)
    return found


WITHDRAW_BUTTONS = {membership_consent.CONSENT_PURPOSE: N_("↩ Withdraw: membership"),
                    consent.FAMILY_PURPOSE: N_("↩ Withdraw: family check")}
"""What a button that withdraws a consent says (the purpose's full name is in the text)."""


def withdraw_keyboard(context: BotContext, given: set[str]) -> InlineKeyboardMarkup:
    """One button per purpose she may withdraw (membership always: it means leaving)."""
    t = context.t
    return InlineKeyboardMarkup([
        [InlineKeyboardButton(t._(WITHDRAW_BUTTONS[p.key]) if p.key in WITHDRAW_BUTTONS
                              else t._("↩ Withdraw consent: {purpose}", purpose=t._(p.name)),
                              callback_data=callbacks.encode(PREFIX, "w", p.key))]
        for p in purposes().values() if p.leaving or p.key in given
    ])
