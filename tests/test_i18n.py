"""Catalogs: complete, loadable, placeholders intact, in step with the code."""

from __future__ import annotations

import re
import string
from datetime import date
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

from bot.i18n import Translator, load_catalog, sort_key
from bot.settings import SUPPORTED_LOCALES
from bot.stats import METRICS

ROOT = Path(__file__).resolve().parent.parent
KEYWORDS = {"_": None, "N_": None, "n_": (1, 2)}


def _catalog(locale: str):
    with (ROOT / "locales" / locale / "LC_MESSAGES" / "messages.po").open("rb") as handle:
        return read_po(handle, locale=locale)


def _fields(text: str) -> set[str]:
    return {name for _lit, name, _spec, _conv in string.Formatter().parse(text) if name}


def _code_messages() -> set[str | tuple[str, ...]]:
    found: set[str | tuple[str, ...]] = set()
    for folder in ("bot", "handlers"):
        for _file, _line, message, _comments, _context in extract_from_dir(
            ROOT / folder, method_map=[("**.py", "python")], keywords=KEYWORDS
        ):
            found.add(message)
    return found


@pytest.mark.parametrize("locale", SUPPORTED_LOCALES)
def test_catalog_is_complete_and_placeholders_match(locale):
    catalog = _catalog(locale)
    problems = []
    for message in catalog:
        if not message.id:
            continue
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        ids = message.id if isinstance(message.id, tuple) else (message.id,)
        if not all(strings) or message.fuzzy:
            problems.append(f"untranslated: {ids[0]!r}")
            continue
        expected = _fields(ids[0])
        for text in strings:
            if _fields(text) != expected:
                problems.append(f"placeholders differ: {ids[0]!r} -> {text!r}")
    assert problems == []


@pytest.mark.parametrize("locale", SUPPORTED_LOCALES)
def test_catalog_covers_every_string_in_the_code(locale):
    in_catalog = {m.id for m in _catalog(locale) if m.id}
    missing = _code_messages() - in_catalog
    assert missing == set(), "run the pybabel extract/update commands in the README"


def test_catalogs_load_and_translate():
    load_catalog.cache_clear()
    vi = Translator("vi")
    assert vi._("✅ I agree") == "✅ Tôi đồng ý"
    assert vi._("Full name: {name}", name="Hoa") == "Họ và tên: Hoa"
    assert Translator("en")._("✅ I agree") == "✅ I agree"


def test_vietnamese_numbers_and_dates():
    vi, en = Translator("vi"), Translator("en")
    assert vi.number(33740) == "33.740"
    assert en.number(33740) == "33,740"
    assert vi.date(date(2024, 5, 24)) == "24/5/2024"


def test_html_in_translations_is_balanced():
    tag = re.compile(r"</?([a-z]+)[^>]*>")
    for locale in SUPPORTED_LOCALES:
        for message in _catalog(locale):
            for text in message.string if isinstance(message.string, tuple) else (message.string,):
                opened = [m.group(1) for m in tag.finditer(text or "") if m.group(0)[1] != "/"]
                closed = [m.group(1) for m in tag.finditer(text or "") if m.group(0)[1] == "/"]
                assert sorted(opened) == sorted(closed), text


def test_vietnamese_sort_order():
    names = ["Phường Định Công", "Phường Đại Kim", "Phường Yên Sở", "Phường Dương Nội",
             "Chi hội số 12", "Chi hội số 2"]
    assert sorted(names, key=sort_key) == [
        "Chi hội số 2", "Chi hội số 12", "Phường Dương Nội", "Phường Đại Kim",
        "Phường Định Công", "Phường Yên Sở"]


def test_no_vietnamese_text_nests_curly_quotes():
    """A label shown inside “…” must not bring its own “…” (“Hộ đăng ký gia đình “5 không…””)."""
    nested = re.compile(r"“[^”]*“")
    catalog = _catalog("vi")
    wrapping = [m for m in catalog if m.id and m.string and re.search(r"“\{\w+\}”", str(m.string))]
    assert wrapping, "some texts quote a label"
    for message in catalog:
        texts = message.string if isinstance(message.string, tuple) else (message.string,)
        assert not any(nested.search(text or "") for text in texts), message.id
    t = Translator("vi")
    for metric in METRICS:
        shown = t._("Type the target for “{label}” in {year} for {unit}.",
                    label=t._(metric.label), year=2026, unit="Chi hội TDP số 2")
        assert not nested.search(shown), shown
