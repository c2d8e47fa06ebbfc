"""The membership consent: asked by registration, listed (and withdrawn) under /privacy.

A new version (CONSENT_VERSION) makes the consent gate ask every member again.
"""

from __future__ import annotations

from bot.i18n import N_

CONSENT_PURPOSE = "membership"
CONSENT_VERSION = 1

CONSENT_TEXT = N_(
    "<b>Welcome to the Women's Union bot!</b>\n"
    "Here you can register as a member, keep your details up to date and receive your "
    "chapter's notices.\n\n"
    "<b>Before we start, we need your consent.</b>\n"
    "• <b>What is stored:</b> your full name, phone number, chapter, Telegram account and "
    "language.\n"
    "• <b>Why:</b> so your chapter and the union can manage membership, send you notices and "
    "count participation.\n"
    "• <b>Who sees it:</b> your chapter head and the union officers responsible for your unit.\n"
    "• <b>Your rights:</b> you can see and correct your data at any time with /me, and ask "
    "for it to be deleted.\n\n"
    "Do you agree?"
)
