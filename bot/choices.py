"""A choice modelled once: shown as numbered inline buttons, answerable by typing the number.

Flows describe what the member chooses between; this module renders it for Telegram and
resolves a typed "3" (or the option's name) to the same option, so channels without buttons
can reuse the flows.
"""

from __future__ import annotations

import html
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from bot import buttons as layout
from bot import callbacks
from bot.i18n import nfc

PAGE_SIZE = 8


def fold(text: str) -> str:
    """Words compared loosely, as she may type them: no case, diacritics, emoji or punctuation
    ("tieng viet" is "🇻🇳 Tiếng Việt")."""
    decomposed = unicodedata.normalize("NFD", text.replace("đ", "d").replace("Đ", "D"))
    kinds = [(c, unicodedata.category(c)[0]) for c in decomposed]
    kept = "".join(c if kind in "LN" else " " for c, kind in kinds if kind in "LNZP")
    return " ".join(kept.casefold().split())


CANCEL_WORDS = frozenset({"huy", "cancel"})
"""Typed words (folded: "Hủy", "huỷ", "✖ Hủy") that do what /cancel does."""


@dataclass(frozen=True, slots=True)
class Option:
    """One thing to choose: a stable key (goes into callback data) and a label."""

    key: str
    label: str


@dataclass(frozen=True, slots=True)
class Choice:
    """Options numbered from 1 across pages; `page` is the page shown now."""

    options: Sequence[Option]
    page: int = 0
    page_size: int = PAGE_SIZE
    columns: int = 1
    numbered: bool = True
    """Buttons start with their number; False where the state leads the label (a checklist:
    the text numbers the lines, and a channel without buttons numbers them in order)."""

    @property
    def pages(self) -> int:
        """How many pages the options fill."""
        return max(1, -(-len(self.options) // self.page_size))

    def at_page(self, page: int) -> Choice:
        """The same choice showing another page (clamped to the existing ones)."""
        page = min(max(page, 0), self.pages - 1)
        return Choice(self.options, page, self.page_size, self.columns, self.numbered)

    def listed(self) -> list[str]:
        """Every option as a line "N. label" (escaped for HTML), to list under a question."""
        return [f"{n}. {html.escape(o.label)}" for n, o in enumerate(self.options, 1)]

    def visible(self) -> list[tuple[int, Option]]:
        """(number, option) on the current page; numbers start at 1 on the first page."""
        start = self.page * self.page_size
        chunk = self.options[start : start + self.page_size]
        return [(start + i + 1, option) for i, option in enumerate(chunk)]

    def keyboard(
        self,
        prefix: str,
        *fixed_args: object,
        extra_rows: Sequence[Sequence[InlineKeyboardButton]] = (),
        previous_label: str = "◀",
        next_label: str = "▶",
    ) -> InlineKeyboardMarkup:
        """Inline keyboard: `prefix:…:o:<key>` per option and `prefix:…:p:<page>` to page."""
        buttons = [
            InlineKeyboardButton(
                f"{number}. {option.label}" if self.numbered else option.label,
                callback_data=callbacks.encode(prefix, *fixed_args, "o", option.key),
            )
            for number, option in self.visible()
        ]
        rows = layout.rows(buttons, columns=self.columns)
        if self.pages > 1:
            nav = []
            if self.page > 0:
                nav.append(
                    InlineKeyboardButton(
                        previous_label,
                        callback_data=callbacks.encode(prefix, *fixed_args, "p", self.page - 1),
                    )
                )
            nav.append(
                InlineKeyboardButton(
                    f"{self.page + 1}/{self.pages}",
                    callback_data=callbacks.encode(prefix, *fixed_args, "p", self.page),
                )
            )
            if self.page < self.pages - 1:
                nav.append(
                    InlineKeyboardButton(
                        next_label,
                        callback_data=callbacks.encode(prefix, *fixed_args, "p", self.page + 1),
                    )
                )
            rows.append(nav)
        for row in extra_rows:
            rows.extend(layout.rows(list(row), columns=len(row)))
        return InlineKeyboardMarkup(rows)

    def resolve(self, text: str) -> Option | None:
        """The option a typed answer means: its number (any page), its exact label, or its
        words typed loosely (the label, or one part of a "state · name" label)."""
        answer = nfc(text).strip().rstrip(".").casefold()
        if answer.isdigit():
            index = int(answer) - 1
            return self.options[index] if 0 <= index < len(self.options) else None
        matches = [o for o in self.options if nfc(o.label).casefold() == answer]
        if not matches and (words := fold(answer)):
            matches = [o for o in self.options
                       if words == fold(o.label)
                       or words in (fold(part) for part in o.label.split(" · "))]
        return matches[0] if len(matches) == 1 else None

    def by_key(self, key: str | None) -> Option | None:
        """The option with this key, if it is still offered."""
        return next((o for o in self.options if o.key == key), None)
