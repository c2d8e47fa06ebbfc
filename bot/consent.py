"""The privacy notice (/privacy) and the consent to the family self-check.

The notice is layered: registration shows a short screen (`handlers/registration.py`
CONSENT_TEXT) with a button to this full notice, which anyone can read at any time with
/privacy or the menu button. It follows Law 91/2025/QH15 and Decree 356/2025/NĐ-CP: who is
responsible (the controller: BOT_ORG_NAME, BOT_ORG_CONTACT), what is kept, why, who receives it,
how long, every right with the response times, and how to reach a person.

The family self-check ("5 không, 3 sạch") asks for sensitive personal data, so it has its own
purpose with its own text and version, asked with two explicit buttons before her first
self-check and withdrawable on its own (withdrawing deletes the answers). A new
`FAMILY_VERSION` is asked again only when she next opens the self-check.
"""

from __future__ import annotations

import html

from bot.i18n import N_, Translator
from bot.settings import Settings
from storage import privacy
from storage.db import Database

FAMILY_PURPOSE = "family_selfcheck"
FAMILY_VERSION = 1
FAMILY_NAME = N_("Family self-check (sensitive data)")
FAMILY_TEXT = N_(
    "<b>Before your self-check: your consent for sensitive data</b>\n"
    "The “5 không, 3 sạch” self-check asks about poverty, law violations and social evils, "
    "domestic violence, children's nutrition and schooling in your household. By law this is "
    "<b>sensitive personal data</b>.\n"
    "• <b>Why:</b> so that you can assess your own household and your chapter can support "
    "families and recognise those that meet every criterion.\n"
    "• <b>Who sees your answers:</b> only you. Your chapter head and the union see only "
    "whether your household meets every criterion, and counts of households in which small "
    "numbers are never shown.\n"
    "• <b>Your choice:</b> without this consent your household can stay registered, but no "
    "answer is stored. You can withdraw it at any time in /settings or /mydata: your answers "
    "are then deleted, your household's registration stays. Saying no does not affect your "
    "membership.\n\n"
    "Do you agree to the union keeping your self-check answers?"
)


async def family_consented(db: Database, telegram_user_id: int) -> bool:
    """Whether she agreed to the current version of the family self-check text."""
    state = (await privacy.latest_consents(db, telegram_user_id)).get(FAMILY_PURPOSE)
    return state is not None and state.active and state.version >= FAMILY_VERSION


# --- the full notice ------------------------------------------------------------------------

NOTICE_SECTIONS = (
    N_("<b>1. What is kept</b>\n"
       "• Your profile: full name, phone number, chapter, Telegram account and chat, language, "
       "the date you registered.\n"
       "• Your yearly campaigns: registrations for the women's standard and the family "
       "campaign, your commitments, the chapter's results.\n"
       "• Your self-check answers for “5 không, 3 sạch” (sensitive data, only with its own "
       "consent).\n"
       "• Your activity reports with their notes and photos.\n"
       "• Your roles in the union (chapter head, officer), if any.\n"
       "• Records of the notices and reminders delivered to you, your settings, unfinished "
       "entries, and your consents with their version and time."),
    N_("<b>2. Why</b>\n"
       "• Membership (consent “membership data”): to manage membership, send you your "
       "chapter's notices and reminders, and count participation in the union's reports.\n"
       "• The family self-check (its own consent): so that you assess your household and your "
       "chapter can support and recognise families.\n"
       "Nothing is used for advertising or sold."),
    N_("<b>3. Who receives it</b>\n"
       "• Your chapter head and the union officers responsible for your unit (and the units "
       "above it) see your profile, registrations, results and reports.\n"
       "• Your self-check answers: only you. Officers see only whether your household meets "
       "every criterion and counts, never small numbers.\n"
       "• Telegram, the messaging platform that carries this chat, processes the messages.\n"
       "• Officers may export their unit's figures and member list (name, unit, status; "
       "phone numbers only in a chapter's own list) to Excel files; self-check answers are "
       "never exported."),
    N_("<b>4. How long</b>\n"
       "• Your data is kept while you are a member, until you delete it or withdraw your "
       "consent.\n"
       "• Records of delivered notices: {deliveries_days} days after the notice.\n"
       "• If you stopped notices or blocked the bot and did nothing for {years} years, your "
       "data is deleted as if you had asked.\n"
       "• After deletion only what the union's figures need is kept, without your name "
       "(registrations, results, reports without their notes), and the record that you "
       "withdrew your consent."),
    N_("<b>5. Your rights</b>\n"
       "• See your data and get a copy: /mydata (in chat and as a file).\n"
       "• Correct it: /me → Edit my details.\n"
       "• Withdraw a consent: /settings or /mydata; each purpose on its own.\n"
       "• Restrict or object: /stop (no notices), /settings (no reminders), or withdraw the "
       "self-check consent.\n"
       "• Delete your data: /deleteme.\n"
       "• Complain: to {org}, and to the Ministry of Public Security (Bộ Công an), the "
       "authority for personal data protection.\n"
       "In the bot these take effect at once. A request made to the union in person is "
       "answered within 2 working days and carried out within 15 days at most (it can be "
       "extended once, with reasons), as Decree 356/2025/NĐ-CP requires."),
    N_("<b>6. Your choice</b>\n"
       "Giving your data through this bot is voluntary. Saying no, or withdrawing later, does "
       "not affect your membership of the union: your chapter can still work with you in "
       "person. Silence is never taken as consent."),
)


def notice_pages(t: Translator, settings: Settings, *, budget: int = 3500) -> list[str]:
    """The full privacy notice as messages, each well under Telegram's 4096 characters."""
    pages = [""]
    for section in notice_lines(t, settings):
        if pages[-1] and len(pages[-1]) + len(section) + 1 > budget:
            pages.append("")
        pages[-1] = f"{pages[-1]}\n{section}" if pages[-1] else section
    return [page.strip("\n") for page in pages]


def notice_lines(t: Translator, settings: Settings) -> list[str]:
    """The full privacy notice, one section per element."""
    org = html.escape(settings.org_name)
    if settings.org_contact:
        contact = t._("To reach a person: {contact}.", contact=html.escape(settings.org_contact))
    else:
        contact = t._("To reach a person: ask your chapter head (chi hội trưởng), who will "
                      "pass your request to the union.")
    lines = [
        t._("<b>🔒 How your data is used</b>"),
        t._("Responsible for your data (the controller): <b>{org}</b>. {contact}",
            org=org, contact=contact),
    ]
    values = {"org": org, "deliveries_days": t.number(settings.retain_deliveries_days),
              "years": t.number(settings.retain_left_members_years)}
    for section in NOTICE_SECTIONS:
        lines += ["", t._(section, **values)]
    return lines
