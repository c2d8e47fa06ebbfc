"""Formatted text as Telegram reads it: UTF-16 lengths, HTML and MarkdownV2 entity parsing."""

from __future__ import annotations

import re
import string
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Final

if TYPE_CHECKING:
    pass

from bot.channels.telegram_fake.spec import JSONDict

# --------------------------------------------------------------------------------------------
# Text: UTF-16 length, HTML and MarkdownV2 parsing
# --------------------------------------------------------------------------------------------


class EntityParseError(ValueError):
    """Formatted text that Telegram would refuse with "can't parse entities"."""


_SURROGATE = re.compile("[\ud800-\udfff]")


def utf16_len(text: str) -> int:
    """Length in UTF-16 code units, the unit Telegram counts limits and offsets in."""
    return len(text.encode("utf-16-le", "surrogatepass")) // 2


def _byte_offset(text: str, index: int) -> int:
    return len(text[:index].encode("utf-8", "surrogatepass"))


_NAMED_ENTITIES: Final[Mapping[str, str]] = {"lt": "<", "gt": ">", "amp": "&", "quot": '"'}
_HTML_TAGS: Final = frozenset(
    {
        "a",
        "b",
        "strong",
        "i",
        "em",
        "s",
        "strike",
        "del",
        "u",
        "ins",
        "pre",
        "code",
        "span",
        "tg-spoiler",
        "tg-emoji",
        "blockquote",
    }
)
_SIMPLE_TAG_TYPES: Final[Mapping[str, str]] = {
    "b": "bold",
    "strong": "bold",
    "i": "italic",
    "em": "italic",
    "u": "underline",
    "ins": "underline",
    "s": "strikethrough",
    "strike": "strikethrough",
    "del": "strikethrough",
    "tg-spoiler": "spoiler",
    "span": "spoiler",
}
_URL_SCHEMES: Final = ("http", "https", "tg", "ftp", "ton", "mailto")
_TG_USER_LINK: Final = re.compile(r"tg://user\?id=(\d+)")


def _decode_html_entity(text: str, pos: int) -> tuple[str, int] | None:
    """Decode the character reference at ``text[pos] == "&"`` the way tdlib does."""
    n = len(text)
    end = pos + 1
    if end < n and text[end] == "#":
        end += 1
        if end < n and text[end] == "x":
            end += 1
            start = end
            while end < n and text[end] in string.hexdigits:
                end += 1
            value = int(text[start:end], 16) if end > start else 0
        else:
            start = end
            while end < n and text[end] in string.digits:
                end += 1
            value = int(text[start:end]) if end > start else 0
        if value == 0 or value >= 0x10FFFF or end - pos >= 10:
            return None
        char = chr(value)
    else:
        while end < n and text[end] in string.ascii_letters:
            end += 1
        decoded = _NAMED_ENTITIES.get(text[pos + 1 : end])
        if decoded is None:
            return None
        char = decoded
    if end < n and text[end] == ";":
        end += 1
    return char, end


def _normalize_url(url: str) -> str | None:
    url = url.strip()
    if not url or any(c.isspace() for c in url):
        return None
    match = re.match(r"([A-Za-z][A-Za-z0-9+.-]*):", url)
    if match:
        return url if match.group(1).lower() in _URL_SCHEMES else None
    host = url.split("/", 1)[0]
    return f"http://{url}" if "." in host else None


@dataclass(slots=True)
class _OpenTag:
    name: str
    argument: str
    offset: int
    out_len: int


def parse_html(text: str, *, strict_ampersand: bool = True) -> tuple[str, list[JSONDict]]:
    """Parse Telegram HTML into ``(plain_text, entities)`` like tdlib, or raise EntityParseError.

    Error texts follow tdlib's. ``strict_ampersand`` additionally rejects a bare ``&`` that is
    not a supported character reference (the Bot API docs require escaping it; tdlib itself
    keeps such an ``&`` literally).
    """
    out: list[str] = []
    entities: list[JSONDict] = []
    stack: list[_OpenTag] = []
    utf16 = 0
    n = len(text)
    i = 0

    def at(k: int) -> str:
        return text[k] if k < n else ""

    def error(message: str) -> EntityParseError:
        return EntityParseError(message)

    while i < n:
        c = text[i]
        if c == "&":
            decoded = _decode_html_entity(text, i)
            if decoded is not None:
                char, i = decoded
                out.append(char)
                utf16 += utf16_len(char)
                continue
            if strict_ampersand:
                raise error(
                    f'Unescaped "&" at byte offset {_byte_offset(text, i)}; write it as &amp;'
                )
        if c != "<":
            # Copy the run of plain text up to the next tag or entity in one step.
            end = i + 1
            while end < n and text[end] not in "<&":
                end += 1
            chunk = text[i:end]
            out.append(chunk)
            utf16 += utf16_len(chunk)
            i = end
            continue

        begin = i
        i += 1
        if at(i) != "/":
            while i < n and not at(i).isspace() and at(i) != ">":
                i += 1
            if i >= n:
                raise error(f"Unclosed start tag at byte offset {_byte_offset(text, begin)}")
            tag = text[begin + 1 : i].lower()
            if tag not in _HTML_TAGS:
                raise error(
                    f'Unsupported start tag "{tag}" at byte offset {_byte_offset(text, begin)}'
                )
            argument = ""
            while at(i) != ">":
                while i < n and at(i).isspace():
                    i += 1
                if at(i) == ">":
                    break
                attr_begin = i
                while i < n and not at(i).isspace() and at(i) not in "=>":
                    i += 1
                attr = text[attr_begin:i]
                if not attr:
                    raise error(
                        f'Empty attribute name in the tag "{tag}" at byte offset '
                        f"{_byte_offset(text, begin)}"
                    )
                while i < n and at(i).isspace():
                    i += 1
                if at(i) != "=":
                    if tag == "blockquote" and attr == "expandable":
                        argument = "1"
                        continue
                    if i >= n:
                        raise error(
                            f'Unclosed start tag "{tag}" at byte offset {_byte_offset(text, begin)}'
                        )
                    raise error(
                        "Expected equal sign in declaration of an attribute of the tag "
                        f'"{tag}" at byte offset {_byte_offset(text, begin)}'
                    )
                i += 1
                while i < n and at(i).isspace():
                    i += 1
                if i >= n:
                    raise error(
                        f'Unclosed start tag "{tag}" at byte offset {_byte_offset(text, begin)}'
                    )
                if at(i) not in "'\"":
                    token_begin = i
                    while i < n and ((at(i).isascii() and at(i).isalnum()) or at(i) in ".-"):
                        i += 1
                    value = text[token_begin:i].lower()
                    if not at(i).isspace() and at(i) != ">":
                        raise error(
                            "Unexpected end of name token at byte offset "
                            f"{_byte_offset(text, token_begin)}"
                        )
                else:
                    quote = at(i)
                    i += 1
                    chars: list[str] = []
                    while i < n and at(i) != quote:
                        if at(i) == "&":
                            decoded = _decode_html_entity(text, i)
                            if decoded is not None:
                                chars.append(decoded[0])
                                i = decoded[1]
                                continue
                        chars.append(at(i))
                        i += 1
                    if at(i) == quote:
                        i += 1
                    value = "".join(chars)
                if i >= n:
                    raise error(f"Unclosed start tag at byte offset {_byte_offset(text, begin)}")
                if tag == "a" and attr == "href":
                    argument = value
                elif tag == "code" and attr == "class" and value.startswith("language-"):
                    argument = value[len("language-") :]
                elif tag == "span" and attr == "class" and value.startswith("tg-"):
                    argument = value[len("tg-") :]
                elif tag == "tg-emoji" and attr == "emoji-id":
                    argument = value
                elif tag == "blockquote" and attr == "expandable":
                    argument = "1"
            if tag == "span" and argument != "spoiler":
                raise error(
                    'Tag "span" must have class "tg-spoiler" at byte offset '
                    f"{_byte_offset(text, begin)}"
                )
            stack.append(_OpenTag(tag, argument, utf16, len(out)))
            i += 1  # the closing ">"
            continue

        # An end tag.
        if not stack:
            raise error(f"Unexpected end tag at byte offset {_byte_offset(text, begin)}")
        i += 1
        name_begin = i
        while i < n and not at(i).isspace() and at(i) != ">":
            i += 1
        end_name = text[name_begin:i].lower()
        while i < n and at(i).isspace():
            i += 1
        if at(i) != ">":
            raise error(f"Unclosed end tag at byte offset {_byte_offset(text, begin)}")
        i += 1
        top = stack.pop()
        if end_name and end_name != top.name:
            raise error(
                f"Unmatched end tag at byte offset {_byte_offset(text, begin)}, "
                f'expected "</{top.name}>", found "</{end_name}>"'
            )
        if utf16 > top.offset:
            _close_html_entity(top, utf16, out, entities)
    if stack:
        raise error(f'Can\'t find end tag corresponding to start tag "{stack[-1].name}"')
    plain = "".join(out)
    if _SURROGATE.search(plain):
        raise error(
            "Text contains invalid Unicode characters after decoding HTML entities, check for "
            "unmatched surrogate code units"
        )
    for entity in entities:
        entity.pop("_language", None)
    entities.sort(key=lambda e: (e["offset"], -e["length"]))
    return plain, entities


def _close_html_entity(top: _OpenTag, utf16: int, out: list[str], entities: list[JSONDict]) -> None:
    offset, length = top.offset, utf16 - top.offset
    span = {"offset": offset, "length": length}
    last = entities[-1] if entities else None
    same_span = last is not None and last["offset"] == offset and last["length"] == length
    if top.name in _SIMPLE_TAG_TYPES:
        entities.append({"type": _SIMPLE_TAG_TYPES[top.name], **span})
    elif top.name == "a":
        url = top.argument or "".join(out[top.out_len :])
        user_match = _TG_USER_LINK.fullmatch(url)
        if user_match:
            user = {"id": int(user_match.group(1)), "is_bot": False, "first_name": "User"}
            entities.append({"type": "text_mention", **span, "user": user})
        elif (normalized := _normalize_url(url)) is not None:
            entities.append({"type": "text_link", **span, "url": normalized})
    elif top.name == "pre":
        if last is not None and same_span and last["type"] == "code" and last.get("_language"):
            last["type"] = "pre"
            last["language"] = last.pop("_language")
        else:
            entities.append({"type": "pre", **span})
    elif top.name == "code":
        if last is not None and same_span and last["type"] == "pre" and top.argument:
            last["language"] = top.argument
        else:
            entities.append({"type": "code", **span, "_language": top.argument})
    elif top.name == "blockquote":
        kind = "expandable_blockquote" if top.argument else "blockquote"
        entities.append({"type": kind, **span})
    elif top.name == "tg-emoji":
        if not top.argument.isdigit() or not 0 < int(top.argument) < 2**63:
            raise EntityParseError("Invalid custom emoji identifier specified")
        entities.append({"type": "custom_emoji", **span, "custom_emoji_id": top.argument})


_MD2_RESERVED: Final = frozenset("_*[]()~`>#+-=|{}.!")
_MD2_TYPES: Final[Mapping[str, tuple[str, str]]] = {
    "*": ("bold", "Bold"),
    "_": ("italic", "Italic"),
    "__": ("underline", "Underline"),
    "~": ("strikethrough", "Strikethrough"),
    "||": ("spoiler", "Spoiler"),
    "`": ("code", "Code"),
    "```": ("pre", "Pre"),
    "[": ("text_link", "TextUrl"),
    "![": ("custom_emoji", "CustomEmoji"),
}


def parse_markdown_v2(text: str) -> tuple[str, list[JSONDict]]:
    """Approximate tdlib's MarkdownV2 parser: reserved characters must be escaped and every
    entity closed. Returns ``(plain_text, entities)`` or raises EntityParseError."""
    out: list[str] = []
    entities: list[JSONDict] = []
    stack: list[tuple[str, int, int, str]] = []  # delimiter, utf16 offset, byte offset, lang
    utf16 = 0
    n = len(text)
    i = 0

    def emit(chunk: str) -> None:
        nonlocal utf16
        out.append(chunk)
        utf16 += utf16_len(chunk)

    def close(extra: JSONDict | None = None) -> None:
        delim, offset, _, language = stack.pop()
        if utf16 > offset:
            entity: JSONDict = {
                "type": _MD2_TYPES[delim][0],
                "offset": offset,
                "length": utf16 - offset,
            }
            if language:
                entity["language"] = language
            entity.update(extra or {})
            entities.append(entity)

    def toggle(delim: str) -> None:
        if stack and stack[-1][0] == delim:
            close()
        else:
            stack.append((delim, utf16, _byte_offset(text, i), ""))

    while i < n:
        c = text[i]
        top = stack[-1][0] if stack else ""
        if c == "\\" and i + 1 < n and 0 < ord(text[i + 1]) < 127:
            emit(text[i + 1])
            i += 2
            continue
        if top == "```":
            if text.startswith("```", i):
                close()
                i += 3
            else:
                emit(c)
                i += 1
            continue
        if top == "`":
            if c == "`":
                close()
            else:
                emit(c)
            i += 1
            continue
        if text.startswith("```", i):
            newline = text.find("\n", i + 3)
            language = ""
            start = i
            if newline != -1 and "```" not in text[i + 3 : newline]:
                language = text[i + 3 : newline].strip()
                i = newline + 1
            else:
                i += 3
            stack.append(("```", utf16, _byte_offset(text, start), language))
            continue
        if text.startswith("||", i) or text.startswith("__", i):
            toggle(text[i : i + 2])
            i += 2
            continue
        if c in "*_~`":
            toggle(c)
            i += 1
            continue
        if c == "[" or text.startswith("![", i):
            delim = "![" if c == "!" else "["
            stack.append((delim, utf16, _byte_offset(text, i), ""))
            i += len(delim)
            continue
        if c == "]" and top in ("[", "!["):
            if at_url := (i + 1 < n and text[i + 1] == "("):
                j = i + 2
                url_chars: list[str] = []
                while j < n and text[j] != ")":
                    if text[j] == "\\" and j + 1 < n:
                        j += 1
                    url_chars.append(text[j])
                    j += 1
                if j >= n:
                    raise EntityParseError(
                        f"Can't find end of a url at byte offset {_byte_offset(text, i + 1)}"
                    )
                url = "".join(url_chars)
                i = j + 1
            else:
                url = ""
                i += 1
            if top == "![":
                emoji_id = url.removeprefix("tg://emoji?id=")
                if not at_url or not emoji_id.isdigit():
                    raise EntityParseError("Custom emoji entity must contain a tg://emoji URL")
                close({"custom_emoji_id": emoji_id})
            elif (normalized := _normalize_url(url)) is not None:
                close({"url": normalized})
            else:
                stack.pop()
            continue
        if c == ">" and (i == 0 or text[i - 1] == "\n"):
            i += 1  # blockquote marker (the entity itself is not modelled)
            continue
        if c in _MD2_RESERVED:
            raise EntityParseError(
                f"Character '{c}' is reserved and must be escaped with the preceding '\\'"
            )
        emit(c)
        i += 1
    if stack:
        delim, _, byte_pos, _ = stack[-1]
        raise EntityParseError(
            f"Can't find end of {_MD2_TYPES[delim][1]} entity at byte offset {byte_pos}"
        )
    entities.sort(key=lambda e: (e["offset"], -e["length"]))
    return "".join(out), entities
