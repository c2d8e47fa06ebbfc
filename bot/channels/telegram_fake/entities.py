"""Formatted text as Telegram reads it: UTF-16 lengths, HTML and MarkdownV2 entity parsing."""

from __future__ import annotations

import re
import string
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import ClassVar, Final

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
    return _HtmlParser(text, strict_ampersand=strict_ampersand).parse()


def _tag_argument(prefix: str) -> Callable[[str], str | None]:
    return lambda value: value[len(prefix) :] if value.startswith(prefix) else None


# (tag, attribute) → the tag's argument from the attribute's value (None: not an argument).
_TAG_ARGUMENTS: Final[Mapping[tuple[str, str], Callable[[str], str | None]]] = {
    ("a", "href"): lambda value: value,
    ("code", "class"): _tag_argument("language-"),
    ("span", "class"): _tag_argument("tg-"),
    ("tg-emoji", "emoji-id"): lambda value: value,
    ("blockquote", "expandable"): lambda value: "1",
}


_MARKUP = re.compile("[<&]")  # where a run of plain text ends


class _HtmlParser:
    """One pass over Telegram HTML; ``i`` is the position, ``utf16`` the plain text's length."""

    def __init__(self, text: str, *, strict_ampersand: bool) -> None:
        self.text = text
        self.n = len(text)
        self.i = 0
        self.strict_ampersand = strict_ampersand
        self.out: list[str] = []
        self.entities: list[JSONDict] = []
        self.stack: list[_OpenTag] = []
        self.utf16 = 0

    def at(self, k: int) -> str:
        return self.text[k] if k < self.n else ""

    def where(self, k: int) -> int:
        return _byte_offset(self.text, k)

    def skip_spaces(self) -> None:
        while self.i < self.n and self.at(self.i).isspace():
            self.i += 1

    def emit(self, chunk: str) -> None:
        self.out.append(chunk)
        self.utf16 += utf16_len(chunk)

    def parse(self) -> tuple[str, list[JSONDict]]:
        while self.i < self.n:
            c = self.text[self.i]
            if c == "&" and self.entity():
                continue
            if c != "<":
                self.plain()
            elif self.at(self.i + 1) != "/":
                self.start_tag()
            else:
                self.end_tag()
        return self.finish()

    def entity(self) -> bool:
        """A character reference at ``i``: decoded (True), kept literally (False) or refused."""
        decoded = _decode_html_entity(self.text, self.i)
        if decoded is not None:
            char, self.i = decoded
            self.emit(char)
            return True
        if self.strict_ampersand:
            raise EntityParseError(
                f'Unescaped "&" at byte offset {self.where(self.i)}; write it as &amp;'
            )
        return False

    def plain(self) -> None:
        """Copy the run of plain text up to the next tag or entity in one step."""
        found = _MARKUP.search(self.text, self.i + 1)
        end = found.start() if found else self.n
        self.emit(self.text[self.i : end])
        self.i = end

    def start_tag(self) -> None:
        begin = self.i
        self.i += 1
        while self.i < self.n and not self.at(self.i).isspace() and self.at(self.i) != ">":
            self.i += 1
        if self.i >= self.n:
            raise EntityParseError(f"Unclosed start tag at byte offset {self.where(begin)}")
        tag = self.text[begin + 1 : self.i].lower()
        if tag not in _HTML_TAGS:
            raise EntityParseError(
                f'Unsupported start tag "{tag}" at byte offset {self.where(begin)}'
            )
        argument = ""
        while (found := self.attribute(tag, begin)) is not None:
            attr, value = found
            chosen = _TAG_ARGUMENTS.get((tag, attr), lambda value: None)(value)
            if chosen is not None:
                argument = chosen
        if tag == "span" and argument != "spoiler":
            raise EntityParseError(
                f'Tag "span" must have class "tg-spoiler" at byte offset {self.where(begin)}'
            )
        self.stack.append(_OpenTag(tag, argument, self.utf16, len(self.out)))
        self.i += 1  # the closing ">"

    def attribute(self, tag: str, begin: int) -> tuple[str, str] | None:
        """The next ``name=value`` of a start tag; None at its ">"."""
        self.skip_spaces()
        if self.at(self.i) == ">":
            return None
        attr_begin = self.i
        while self.i < self.n and not self.at(self.i).isspace() and self.at(self.i) not in "=>":
            self.i += 1
        attr = self.text[attr_begin : self.i]
        if not attr:
            raise EntityParseError(
                f'Empty attribute name in the tag "{tag}" at byte offset {self.where(begin)}'
            )
        self.skip_spaces()
        if self.at(self.i) != "=":
            if tag == "blockquote" and attr == "expandable":
                return attr, ""
            if self.i >= self.n:
                raise EntityParseError(
                    f'Unclosed start tag "{tag}" at byte offset {self.where(begin)}'
                )
            raise EntityParseError(
                "Expected equal sign in declaration of an attribute of the tag "
                f'"{tag}" at byte offset {self.where(begin)}'
            )
        self.i += 1
        self.skip_spaces()
        if self.i >= self.n:
            raise EntityParseError(f'Unclosed start tag "{tag}" at byte offset {self.where(begin)}')
        value = self.token() if self.at(self.i) not in "'\"" else self.quoted()
        if self.i >= self.n:
            raise EntityParseError(f"Unclosed start tag at byte offset {self.where(begin)}")
        return attr, value

    def token(self) -> str:
        """An unquoted attribute value (a name token, lower-cased)."""
        token_begin = self.i
        while self.i < self.n and (
            (self.at(self.i).isascii() and self.at(self.i).isalnum()) or self.at(self.i) in ".-"
        ):
            self.i += 1
        if not self.at(self.i).isspace() and self.at(self.i) != ">":
            raise EntityParseError(
                f"Unexpected end of name token at byte offset {self.where(token_begin)}"
            )
        return self.text[token_begin : self.i].lower()

    def quoted(self) -> str:
        """A quoted attribute value, character references decoded."""
        quote = self.at(self.i)
        self.i += 1
        chars: list[str] = []
        while self.i < self.n and self.at(self.i) != quote:
            if self.at(self.i) == "&":
                decoded = _decode_html_entity(self.text, self.i)
                if decoded is not None:
                    chars.append(decoded[0])
                    self.i = decoded[1]
                    continue
            chars.append(self.at(self.i))
            self.i += 1
        if self.at(self.i) == quote:
            self.i += 1
        return "".join(chars)

    def end_tag(self) -> None:
        begin = self.i
        if not self.stack:
            raise EntityParseError(f"Unexpected end tag at byte offset {self.where(begin)}")
        self.i += 2
        name_begin = self.i
        while self.i < self.n and not self.at(self.i).isspace() and self.at(self.i) != ">":
            self.i += 1
        end_name = self.text[name_begin : self.i].lower()
        self.skip_spaces()
        if self.at(self.i) != ">":
            raise EntityParseError(f"Unclosed end tag at byte offset {self.where(begin)}")
        self.i += 1
        top = self.stack.pop()
        if end_name and end_name != top.name:
            raise EntityParseError(
                f"Unmatched end tag at byte offset {self.where(begin)}, "
                f'expected "</{top.name}>", found "</{end_name}>"'
            )
        if self.utf16 > top.offset:
            _close_html_entity(top, self.utf16, self.out, self.entities)

    def finish(self) -> tuple[str, list[JSONDict]]:
        if self.stack:
            raise EntityParseError(
                f'Can\'t find end tag corresponding to start tag "{self.stack[-1].name}"'
            )
        plain = "".join(self.out)
        if _SURROGATE.search(plain):
            raise EntityParseError(
                "Text contains invalid Unicode characters after decoding HTML entities, check "
                "for unmatched surrogate code units"
            )
        for entity in self.entities:
            entity.pop("_language", None)
        self.entities.sort(key=lambda e: (e["offset"], -e["length"]))
        return plain, self.entities


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
    return _Md2Parser(text).parse()


class _Md2Parser:
    """One pass over MarkdownV2: each step consumes what it recognises at ``i`` (see STEPS)."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.n = len(text)
        self.i = 0
        self.out: list[str] = []
        self.entities: list[JSONDict] = []
        self.stack: list[tuple[str, int, int, str]] = []  # delimiter, utf16, byte offset, lang
        self.utf16 = 0

    @property
    def top(self) -> str:
        return self.stack[-1][0] if self.stack else ""

    def emit(self, chunk: str) -> None:
        self.out.append(chunk)
        self.utf16 += utf16_len(chunk)

    def open(self, delim: str, start: int, language: str = "") -> None:
        self.stack.append((delim, self.utf16, _byte_offset(self.text, start), language))

    def close(self, extra: JSONDict | None = None) -> None:
        delim, offset, _, language = self.stack.pop()
        if self.utf16 > offset:
            entity: JSONDict = {
                "type": _MD2_TYPES[delim][0],
                "offset": offset,
                "length": self.utf16 - offset,
            }
            if language:
                entity["language"] = language
            entity.update(extra or {})
            self.entities.append(entity)

    def toggle(self, delim: str) -> None:
        if self.top == delim:
            self.close()
        else:
            self.open(delim, self.i)
        self.i += len(delim)

    def parse(self) -> tuple[str, list[JSONDict]]:
        while self.i < self.n:
            if not any(step(self) for step in _Md2Parser.STEPS):
                self.plain()
        if self.stack:
            delim, _, byte_pos, _ = self.stack[-1]
            raise EntityParseError(
                f"Can't find end of {_MD2_TYPES[delim][1]} entity at byte offset {byte_pos}"
            )
        self.entities.sort(key=lambda e: (e["offset"], -e["length"]))
        return "".join(self.out), self.entities

    # ---- steps, tried in order ------------------------------------------------------------

    def escaped(self) -> bool:
        text, i = self.text, self.i
        if text[i] == "\\" and i + 1 < self.n and 0 < ord(text[i + 1]) < 127:
            self.emit(text[i + 1])
            self.i += 2
            return True
        return False

    def inside_pre(self) -> bool:
        if self.top != "```":
            return False
        if self.text.startswith("```", self.i):
            self.close()
            self.i += 3
        else:
            self.emit(self.text[self.i])
            self.i += 1
        return True

    def inside_code(self) -> bool:
        if self.top != "`":
            return False
        if self.text[self.i] == "`":
            self.close()
        else:
            self.emit(self.text[self.i])
        self.i += 1
        return True

    def pre_start(self) -> bool:
        text, start = self.text, self.i
        if not text.startswith("```", start):
            return False
        newline = text.find("\n", start + 3)
        language = ""
        if newline != -1 and "```" not in text[start + 3 : newline]:
            language = text[start + 3 : newline].strip()
            self.i = newline + 1
        else:
            self.i += 3
        self.open("```", start, language)
        return True

    def double(self) -> bool:
        if self.text.startswith(("||", "__"), self.i):
            self.toggle(self.text[self.i : self.i + 2])
            return True
        return False

    def single(self) -> bool:
        if self.text[self.i] in "*_~`":
            self.toggle(self.text[self.i])
            return True
        return False

    def link_start(self) -> bool:
        if self.text[self.i] == "[" or self.text.startswith("![", self.i):
            delim = "![" if self.text[self.i] == "!" else "["
            self.open(delim, self.i)
            self.i += len(delim)
            return True
        return False

    def link_end(self) -> bool:
        top = self.top
        if self.text[self.i] != "]" or top not in ("[", "!["):
            return False
        at_url = self.i + 1 < self.n and self.text[self.i + 1] == "("
        url = self.url() if at_url else ""
        if not at_url:
            self.i += 1
        if top == "![":
            emoji_id = url.removeprefix("tg://emoji?id=")
            if not at_url or not emoji_id.isdigit():
                raise EntityParseError("Custom emoji entity must contain a tg://emoji URL")
            self.close({"custom_emoji_id": emoji_id})
        elif (normalized := _normalize_url(url)) is not None:
            self.close({"url": normalized})
        else:
            self.stack.pop()
        return True

    def url(self) -> str:
        """The ``(url)`` after a link's "]" at ``i``, escapes removed; ``i`` moves past it."""
        text, n = self.text, self.n
        j = self.i + 2
        url_chars: list[str] = []
        while j < n and text[j] != ")":
            if text[j] == "\\" and j + 1 < n:
                j += 1
            url_chars.append(text[j])
            j += 1
        if j >= n:
            raise EntityParseError(
                f"Can't find end of a url at byte offset {_byte_offset(text, self.i + 1)}"
            )
        self.i = j + 1
        return "".join(url_chars)

    def quote_marker(self) -> bool:
        i = self.i
        if self.text[i] == ">" and (i == 0 or self.text[i - 1] == "\n"):
            self.i += 1  # blockquote marker (the entity itself is not modelled)
            return True
        return False

    def plain(self) -> None:
        c = self.text[self.i]
        if c in _MD2_RESERVED:
            raise EntityParseError(
                f"Character '{c}' is reserved and must be escaped with the preceding '\\'"
            )
        self.emit(c)
        self.i += 1

    STEPS: ClassVar[tuple[Callable[[_Md2Parser], bool], ...]] = (
        escaped,
        inside_pre,
        inside_code,
        pre_start,
        double,
        single,
        link_start,
        link_end,
        quote_marker,
    )
