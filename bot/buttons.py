"""How wide a button may be on a narrow phone with a large font, and the one layout that keeps
every inline keyboard within it.

An older member's phone shows about 24 characters on a button that has its row to itself, half
that when two share a row, and about 8 when three or more do; a longer label is cut by the
phone, mid-word. Every keyboard is laid out here (`rows`), and the strict fake Bot API checks
every keyboard the bot sends against the same widths (`faults`).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from telegram import InlineKeyboardButton

from bot.i18n import nfc

ALONE = 24
"""A button with its row to itself."""
PAIR = 12
"""Each of two buttons sharing a row."""
CROWD = 8
"""Each of three or more buttons sharing a row."""


def width(label: str) -> int:
    """The characters a phone draws for `label` (NFC; a variation selector draws nothing)."""
    return sum(1 for ch in nfc(label) if ch not in "\ufe0f\u200d")


def limit(per_row: int) -> int:
    """The widest label allowed when `per_row` buttons share a row."""
    return ALONE if per_row <= 1 else PAIR if per_row == 2 else CROWD


ABBREVIATIONS = (("tổ dân phố", "TDP"), ("Tổ dân phố", "TDP"), ("Phường ", "P. "),
                 ("Quận ", "Q. "), ("Chi hội ", "CH "))
"""How the union itself shortens unit names on a form, applied in turn to a label too wide."""


def clip(label: str, per_row: int = 1) -> str:
    """`label` made to fit a row of `per_row` buttons: unit words shortened as the union
    writes them ("Chi hội TDP số 12"), then cut (a last resort: give short labels)."""
    most = limit(per_row)
    for long, short in ABBREVIATIONS:
        if width(label) <= most:
            return label
        label = label.replace(long, short)
    if width(label) <= most:
        return label
    return label[: most - 1].rstrip() + "…"


def rows(buttons: Sequence[InlineKeyboardButton], *,
         columns: int = 1) -> list[list[InlineKeyboardButton]]:
    """Buttons in order, up to `columns` a row while they fit the widths; a button too wide
    even alone is clipped."""
    laid: list[list[InlineKeyboardButton]] = []
    row: list[InlineKeyboardButton] = []
    for button in buttons:
        grown = [*row, button]
        if row and len(grown) <= columns and fits([b.text for b in grown]):
            row = grown
            continue
        if row:
            laid.append(row)
        row = [button if width(button.text) <= ALONE else _clipped(button)]
    if row:
        laid.append(row)
    return laid


def fits(labels: Sequence[str]) -> bool:
    """Whether these labels may share one row."""
    return all(width(label) <= limit(len(labels)) for label in labels)


def _clipped(button: InlineKeyboardButton) -> InlineKeyboardButton:
    return InlineKeyboardButton(clip(button.text), callback_data=button.callback_data,
                                url=button.url)


_NUMBERED = re.compile(r"^\d+\.\s*")  # "3. " in front of a label


def faults(inline_keyboard: Any) -> list[str]:
    """The buttons of a sent keyboard (Bot API JSON) too wide for their row, or shown twice."""
    found = []
    for row in inline_keyboard if isinstance(inline_keyboard, list) else []:
        labels = [str(b.get("text", "")) for b in row if isinstance(b, dict)]
        most = limit(len(labels))
        found += [f"{label!r} is {width(label)} characters, over {most} for a row of "
                  f"{len(labels)}" for label in labels if width(label) > most]
    # The same words twice (numbers aside): which one does she press? A long catalog label cut
    # to fit ("…") may collide with its neighbour; the message above it names them in full.
    every = [_NUMBERED.sub("", str(b.get("text", ""))) for row in inline_keyboard
             if isinstance(row, list) for b in row if isinstance(b, dict)] \
        if isinstance(inline_keyboard, list) else []
    found += [f"{label!r} twice in one keyboard" for label in dict.fromkeys(every)
              if every.count(label) > 1 and not label.endswith("…")]
    return found


def distinct(labels: list[str]) -> list[str]:
    """Labels told apart: a repeated one gets "(2)", "(3)" (two reports of one day)."""
    seen: dict[str, int] = {}
    told = []
    for label in labels:
        seen[label] = seen.get(label, 0) + 1
        told.append(label if seen[label] == 1 else f"{label} ({seen[label]})")
    return told
