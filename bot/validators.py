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


def clean_full_name(text: str | None) -> str:
    """A full name: NFC, single spaces, 2-100 characters, letters with spaces . ' - only."""
    name = re.sub(r"\s+", " ", nfc(text or "")).strip()
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
    return name


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
