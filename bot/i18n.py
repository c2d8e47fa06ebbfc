"""Translations (gettext catalogs compiled in memory at load) and locale-aware formatting."""

from __future__ import annotations

import re
import unicodedata
from datetime import date, datetime
from decimal import Decimal
from functools import cache
from importlib import resources
from io import BytesIO

from babel import Locale
from babel.dates import format_date, format_datetime
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.numbers import format_decimal
from babel.support import Translations

from bot.settings import SUPPORTED_LOCALES

LANGUAGE_NAMES = {"vi": "🇻🇳 Tiếng Việt", "en": "🇬🇧 English"}


def N_(message: str) -> str:
    """Mark a string for extraction; it is translated later, where it is shown."""
    return message


def nfc(text: str) -> str:
    """Normalise user input to NFC (phones often send decomposed Vietnamese marks)."""
    return unicodedata.normalize("NFC", text)


_VI_ALPHABET = "aăâbcdđeêghiklmnoôơpqrstuưvxy"
_VOWEL_MARKS = "\u0306\u0302\u031b"  # breve, circumflex, horn: ă â ê ô ơ ư are letters


def sort_key(text: str) -> tuple[tuple[int, int | str, int], ...]:
    """Vietnamese alphabetical order (đ after d, ă/â after a) with numbers compared as numbers."""
    key: list[tuple[int, int | str, int]] = []
    for part in re.findall(r"\d+|\D", nfc(text).casefold()):
        if part.isdigit():
            key.append((0, int(part), 0))
            continue
        decomposed = unicodedata.normalize("NFD", part)
        base = decomposed[0]
        marks = decomposed[1:]
        # Letters with a breve, circumflex or horn are letters of their own; tones are not.
        letter = unicodedata.normalize("NFC", base + "".join(m for m in marks if m in _VOWEL_MARKS))
        tone = next((ord(m) for m in marks if m not in _VOWEL_MARKS), 0)
        position = _VI_ALPHABET.find(letter)
        if position < 0:
            position = 100 + ord(letter[0]) if letter.isalpha() else -1
        key.append((1, position, tone))
    return tuple(key)


@cache
def load_catalog(locale: str) -> Translations:
    """Read `locales/<locale>/LC_MESSAGES/messages.po` and compile it in memory."""
    po = resources.files("locales") / locale / "LC_MESSAGES" / "messages.po"
    with po.open("rb") as handle:
        catalog = read_po(handle, locale=locale)
    buffer = BytesIO()
    write_mo(buffer, catalog, use_fuzzy=False)
    buffer.seek(0)
    return Translations(buffer, domain="messages")


class Translator:
    """Everything a handler needs to speak one locale: gettext plus number and date formats."""

    def __init__(self, locale: str) -> None:
        self.locale = locale if locale in SUPPORTED_LOCALES else SUPPORTED_LOCALES[0]
        self._babel_locale = Locale.parse(self.locale)
        self._translations = load_catalog(self.locale)

    def _(self, message: str, /, **values: object) -> str:
        """Translate a message and fill its named placeholders."""
        text = self._translations.gettext(message)
        return text.format(**values) if values else text

    def n_(self, singular: str, plural: str, n: int, /, **values: object) -> str:
        """Translate a message that depends on a count; `{n}` is the formatted count."""
        text = self._translations.ngettext(singular, plural, n)
        return text.format(n=self.number(n), **values)

    def number(self, value: float | Decimal) -> str:
        """33740 → '33.740' in vi, '33,740' in en."""
        return format_decimal(value, locale=self._babel_locale)

    def date(self, value: date | datetime) -> str:
        """24/5/2024 in vi, 5/24/24-style short dates in en."""
        if self.locale == "vi":
            return f"{value.day}/{value.month}/{value.year}"
        return format_date(value, format="medium", locale=self._babel_locale)

    def datetime(self, value: datetime) -> str:
        """A local instant as a sentence says it: 'lúc 06:30 ngày 24/5/2024' in vi."""
        if self.locale == "vi":
            return f"lúc {value:%H:%M} ngày {self.date(value)}"
        return format_datetime(value, format="medium", locale=self._babel_locale)


@cache
def translator(locale: str) -> Translator:
    """The shared translator for a locale."""
    return Translator(locale)
