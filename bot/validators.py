"""Checking and normalising what members type: names and Vietnamese phone numbers."""

from __future__ import annotations

import re
import unicodedata

import phonenumbers

from bot.i18n import N_, nfc

NAME_MAX = 100
_NAME_PUNCTUATION = set(" .'-")


class InvalidInput(ValueError):
    """The input was refused; `reason` is a msgid to translate, `values` fill its placeholders."""

    def __init__(self, reason: str, **values: object) -> None:
        super().__init__(reason)
        self.reason = reason
        self.values = values


_INVISIBLE = re.compile("[\u115f\u1160\u3164\uffa0\u200b-\u200f\u2060-\u2064\ufeff\u00ad]")
"""Characters a phone draws as nothing (zero-width, Hangul fillers): a name of only these is
no name at all."""


def clean_full_name(text: str | None) -> str:
    """A full name: NFC, single spaces, 2-100 characters, letters with spaces . ' - only,
    each word capitalised as Vietnamese writes names ("nguyễn thị hoa" → "Nguyễn Thị Hoa")."""
    name = re.sub(r"\s+", " ", _INVISIBLE.sub("", nfc(text or ""))).strip()
    if not name:
        raise InvalidInput(N_("Please type your full name, e.g. Nguyễn Thị Hoa."))
    if len(name) > NAME_MAX:
        raise InvalidInput(
            N_("That is {length} characters; a name can have at most {limit}."),
            length=len(name),
            limit=NAME_MAX,
        )
    letters = sum(1 for ch in name if unicodedata.category(ch).startswith("L"))
    allowed = all(
        unicodedata.category(ch)[0] in "LM" or ch in _NAME_PUNCTUATION for ch in name
    )
    if not allowed or letters < 2:
        raise InvalidInput(
            N_("A name can only contain letters, spaces and the signs . ' - (no digits or emoji).")
        )
    return title_case(name)


def title_case(name: str) -> str:
    """Each word with a capital first letter, the rest as typed when she mixed cases herself
    ("McLean" stays), lowered when she typed the whole name in one case."""
    one_case = name == name.lower() or name == name.upper()
    return " ".join(word[:1].upper() + (word[1:].lower() if one_case else word[1:])
                    for word in name.split(" "))


def given_name(full_name: str) -> str:
    """The name she is called by: the last word of a Vietnamese full name ("Nguyễn Thị Hoa"
    → "Hoa")."""
    words = full_name.split()
    return words[-1] if words else full_name


def normalise_phone(text: str | None) -> str:
    """A Vietnamese mobile or landline number in E.164 (+84…); raises InvalidInput."""
    raw = nfc(text or "").strip()
    if not raw or len(raw) > 30 or not re.fullmatch(r"[+0-9 .()\-]+", raw):
        raise InvalidInput(N_("Please type a phone number with digits only, e.g. 0912 345 678."))
    try:
        number = phonenumbers.parse(raw, "VN")
    except phonenumbers.NumberParseException:
        raise InvalidInput(
            N_("Please type a phone number with digits only, e.g. 0912 345 678.")
        ) from None
    if phonenumbers.region_code_for_number(number) != "VN" and number.country_code != 84:
        raise InvalidInput(N_("Only Vietnamese phone numbers can be registered."))
    if not phonenumbers.is_valid_number(number):
        raise InvalidInput(
            N_("{phone} is not a valid Vietnamese phone number. Please check it."), phone=raw
        )
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def display_phone(e164: str | None) -> str:
    """+84912345678 → 0912 345 678 (the way members write it)."""
    if not e164:
        return "—"
    number = phonenumbers.parse(e164, "VN")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.NATIONAL)
