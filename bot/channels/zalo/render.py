"""What Telegram's HTML messages and keyboards become on Zalo: plain text and numbered lists,
in pieces of at most 2000 characters cut at paragraph or line boundaries."""

from __future__ import annotations

import html
import itertools
import re
import unicodedata
from collections.abc import Iterable

MAX_TEXT = 2000

_BREAK_TAGS = re.compile(r"<br\s*/?>", re.IGNORECASE)
_TAG = re.compile(r"</?[a-zA-Z][a-zA-Z0-9-]*(\s[^<>]*)?/?>")
_LINK = re.compile(r'<a\s+href="([^"]*)"[^>]*>(.*?)</a>', re.IGNORECASE | re.DOTALL)
_OWN_NUMBER = re.compile(r"\s*(\d{1,3})\.\s+(.+)", re.DOTALL)
PAGE_COUNTER = re.compile(r"\s*\d+\s*/\s*\d+\s*")  # "1/2" between paging buttons
_BARE_NUMBER = re.compile(r"\s*([☐☑]\s*)?(\d{1,3})\s*")  # a button "2" or "☐ 2"
# A bold numbered heading ("<b>1. What is kept</b>", /privacy): without bold, its "1." reads
# as an option she could type, so on Zalo it is a heading in capitals without the number.
_NUMBERED_HEADING = re.compile(r"^<b>\d{1,3}\.\s+([^<>\n]+)</b>$", re.MULTILINE)


def numbered(labels: list[str], *, after: int = 0) -> list[tuple[int, str]]:
    """(number, label without its number) per button: buttons the features numbered
    ("2. Đồng ý") keep their number, so what is typed is what is shown; the rest (paging,
    cancel) take the next free ones above `after`. Zalo's lists and the demo's console both
    use this."""
    own = [_OWN_NUMBER.match(label) for label in labels]
    taken = {int(m.group(1)) for m in own if m}
    free = (n for n in itertools.count(after + 1) if n not in taken)
    out: list[tuple[int, str]] = []
    used: set[int] = set()
    for label, match in zip(labels, own, strict=True):
        if match and int(match.group(1)) not in used:
            out.append((int(match.group(1)), match.group(2)))
        else:
            out.append((next(free), label))
        used.add(out[-1][0])
    return out


def highest_own(labels: list[str]) -> int:
    """The highest number the features put on these buttons (0: none): on Zalo the others
    count on after it (page 2: "9." … "14.", then "15. ◀ Trang trước", not "1." above "9.")."""
    return max((int(m.group(1)) for label in labels if (m := _OWN_NUMBER.match(label))),
               default=0)


def spelled_out(labels: list[str], text: str) -> tuple[list[str], list[int]]:
    """Buttons that show only a number ("2", "☐ 2") because the text lists the options ("2.
    Buổi sáng trước giờ làm"; long options on Telegram) take the text's words ("2. ☐ Buổi
    sáng …"), else Zalo's list read "2. 2"; also which numbers, so the text drops its copy."""
    items: dict[int, str] = {}
    for line in text.split("\n"):
        if (item := _OWN_NUMBER.fullmatch(line)) is not None:
            items.setdefault(int(item.group(1)), item.group(2).strip())
    out: list[str] = []
    spelled: list[int] = []
    for label in labels:
        bare = _BARE_NUMBER.fullmatch(label)
        number = int(bare.group(2)) if bare else 0
        if bare is None or number not in items or number in spelled:
            out.append(label)
            continue
        out.append(f"{number}. {bare.group(1) or ''}{items[number]}")
        spelled.append(number)
    return out, spelled


def as_in_text(labels: list[str], numbers: list[int], text: str
               ) -> tuple[list[str], list[int]]:
    """Options the text lists already under the same numbers ("1. ⬜ Không đói nghèo" …, then
    buttons "⬜ Không đói nghèo" …, or a report "1. 2/12/2026 · Biến rác thành tiền · 2,5 kg"
    and its button "1. 2/12 · Biến rác thàn…"): the text's full words, and which numbers, so
    the list is shown once, not twice; the other options (paging, back) as they are. A text
    whose numbers are not all options is left alone."""
    items: dict[int, str] = {}
    for line in text.split("\n"):
        if (item := _OWN_NUMBER.fullmatch(line)) is not None:
            items.setdefault(int(item.group(1)), item.group(2).strip())
    if not items or not set(items) <= set(numbers):
        return labels, []
    return ([items.get(number, label) for number, label in zip(numbers, labels, strict=True)],
            sorted(items))


def clashing(text: str, numbers: list[int]) -> int:
    """The highest "N." of the text's own list when the options would reuse one of its
    numbers for something else ("1. Buổi sáng" above the option "1. ✅ Xong"): the options
    then count on above it. 0 when nothing clashes."""
    items = {int(m.group(1)) for line in text.split("\n")
             if (m := _OWN_NUMBER.fullmatch(line)) is not None}
    return max(items) if items & set(numbers) else 0


def without_items(text: str, numbers: list[int]) -> str:
    """`text` without its lines "N. …" for these numbers (the list under it says them)."""
    if not numbers:
        return text
    kept = [line for line in text.split("\n")
            if not ((item := _OWN_NUMBER.fullmatch(line)) and int(item.group(1)) in numbers)]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(kept)).strip()


def plain(text_html: str) -> str:
    """Telegram HTML as plain text: tags dropped cleanly, entities unescaped, links kept."""

    def link(match: re.Match[str]) -> str:
        url, label = html.unescape(match.group(1)), match.group(2)
        label_text = html.unescape(_TAG.sub("", label))
        return label_text if url in label_text or not url else f"{label_text} ({url})"

    text = _LINK.sub(link, text_html)
    text = _NUMBERED_HEADING.sub(
        lambda m: html.escape(html.unescape(m.group(1)).strip().upper(), quote=False), text)
    text = _BREAK_TAGS.sub("\n", text)
    return html.unescape(_TAG.sub("", text))


def split(text: str, limit: int = MAX_TEXT) -> list[str]:
    """Pieces of at most `limit` characters: cut between paragraphs if possible, else between
    lines, else between words; a numbered list (a block of "N. …" lines) stays whole when it
    fits in one piece."""
    text = text.strip()
    if len(text) <= limit:
        return [text] if text else []
    return _pack((part for block in _blocks(text) for part in _fit(block, limit)), "\n\n", limit)


def _pack(parts: Iterable[str], sep: str, limit: int) -> list[str]:
    """Parts (each within `limit`) joined by `sep` into as few pieces within `limit` as fit."""
    pieces: list[str] = []
    current = ""
    for part in parts:
        joined = f"{current}{sep}{part}" if current else part
        if len(joined) <= limit:
            current = joined
        else:
            if current:
                pieces.append(current)
            current = part
    if current:
        pieces.append(current)
    return pieces


def _blocks(text: str) -> list[str]:
    """Paragraphs; a paragraph that ends in a numbered list is split before the list."""
    blocks: list[str] = []
    for paragraph in re.split(r"\n\s*\n", text):
        lines = paragraph.split("\n")
        first_item = next((i for i, line in enumerate(lines)
                           if re.match(r"\s*\d+\.\s", line)), None)
        if first_item:
            blocks += ["\n".join(lines[:first_item]), "\n".join(lines[first_item:])]
        elif paragraph.strip():
            blocks.append(paragraph)
    return [b for b in blocks if b.strip()]


def _fit(block: str, limit: int) -> list[str]:
    """A block cut into lines (then words) that fit."""
    if len(block) <= limit:
        return [block]
    return _pack((part for line in block.split("\n") for part in _words(line, limit)), "\n", limit)


def _words(line: str, limit: int) -> list[str]:
    if len(line) <= limit:
        return [line]
    out: list[str] = []
    current = ""
    for word in line.split(" "):
        while len(word) > limit:  # one "word" longer than a message: no other choice
            out.append(word[:limit])
            word = word[limit:]
        joined = f"{current} {word}" if current else word
        if len(joined) <= limit:
            current = joined
        else:
            out.append(current)
            current = word
    if current:
        out.append(current)
    return out


def fold(text: str) -> str:
    """A typed option name compared loosely: NFC, no diacritics, no case, no emoji/punctuation."""
    decomposed = unicodedata.normalize("NFD", text.replace("đ", "d").replace("Đ", "D"))
    kept = "".join(c for c in decomposed if unicodedata.category(c)[0] in "LNZ")
    return " ".join(kept.casefold().split())
