"""Structured one-line logs without personal data.

Every record becomes one line: ``time level logger message`` (tracebacks folded onto the same
line). Before anything is written, `PrivacyFilter` rewrites the record:

- phone numbers (Vietnamese forms: ``0912 345 678``, ``+84912345678``, ``84912345678`` …) are
  masked as ``[phone]``, and bot tokens as ``[token]``, in the message and the traceback;
- the arguments of third-party records (python-telegram-bot, httpx …) are reduced to what
  cannot carry a message text: numbers, short identifiers, type names. PTB's DEBUG logs
  otherwise print whole updates, request parameters and webhook bodies, and aiosqlite's every
  SQL statement with its parameters (names, phones, request texts).

That reduction happens when the record is made (`protect_records`, installed by `install` and
by `bot.app.build_application`), so no handler ever sees the raw arguments: not ours, not the
journal's, not pytest's.

Our own modules never pass message texts to the logger; the per-update line is written by
`bot.processing` (``update=… kind=… handler=… ms=… outcome=…``).
"""

from __future__ import annotations

import logging
import re
import sys
from collections.abc import Mapping
from typing import Any, TextIO

_PHONE = re.compile(r"(?<![\w+(])\(?(?:\+84|84|0)(?:[ .\-()]{0,2}\d){9,10}(?!\d)")
_TOKEN = re.compile(r"\d{5,}:[A-Za-z0-9_-]{30,}")
_SAFE_TEXT = re.compile(r"[A-Za-z0-9_.:/\-]{0,64}")
OWN_LOGGERS = ("bot", "handlers", "storage", "__main__")


def mask(text: str) -> str:
    """Phone numbers and bot tokens replaced by placeholders."""
    return _PHONE.sub("[phone]", _TOKEN.sub("[token]", text))


def _summary(value: Any) -> Any:
    """What of a third-party log argument may be written."""
    if isinstance(value, bool | int | float) or value is None:
        return value
    if isinstance(value, str) and _SAFE_TEXT.fullmatch(value):
        return value
    update_id = getattr(value, "update_id", None)
    if isinstance(update_id, int):
        return f"<{type(value).__name__} {update_id}>"
    if isinstance(value, str):
        return f"<text, {len(value)} chars>"
    if isinstance(value, dict):
        return "<" + type(value).__name__ + " keys=" + ",".join(map(str, list(value)[:12])) + ">"
    if isinstance(value, list | tuple | set):
        return f"<{type(value).__name__} of {len(value)}>"
    return f"<{type(value).__name__}>"


def _strip(record: logging.LogRecord) -> None:
    """A third-party record's arguments (and a message that is no string) reduced to
    `_summary`, once."""
    if record.name.startswith(OWN_LOGGERS) or getattr(record, "_stripped", False):
        return
    record._stripped = True
    if not isinstance(record.msg, str):
        record.msg = str(_summary(record.msg))
    if isinstance(record.args, Mapping):
        record.args = {key: _summary(value) for key, value in record.args.items()}
    elif record.args:
        args = record.args if isinstance(record.args, tuple) else (record.args,)
        record.args = tuple(_summary(a) for a in args)


def protect_records() -> None:
    """Strip third-party arguments as each record is made, for every handler (idempotent)."""
    previous = logging.getLogRecordFactory()
    if getattr(previous, "_protects", False):
        return

    def factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
        record = previous(*args, **kwargs)
        _strip(record)
        return record

    factory._protects = True  # type: ignore[attr-defined]
    logging.setLogRecordFactory(factory)


class PrivacyFilter(logging.Filter):
    """Masks phones and tokens; strips message contents from third-party records."""

    def filter(self, record: logging.LogRecord) -> bool:
        _strip(record)
        message = record.getMessage()
        if not record.name.startswith(OWN_LOGGERS) and ("{" in message and len(message) > 200):
            message = message[:120] + " …[cut]"
        record.msg, record.args = mask(message), None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = mask(record.exc_text)
        return True


class OneLineFormatter(logging.Formatter):
    """``2026-03-01T08:00:00+0700 INFO bot.processing update=… …``, tracebacks folded."""

    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s %(message)s",
                         datefmt="%Y-%m-%dT%H:%M:%S%z")

    def format(self, record: logging.LogRecord) -> str:
        text = super().format(record)
        return text.replace("\r", "").replace("\n", " ⏎ ")


def install(handler: logging.Handler, level: int | str = logging.INFO) -> logging.Handler:
    """Give `handler` our filter and format, and attach it to the root logger."""
    protect_records()
    handler.addFilter(PrivacyFilter())
    handler.setFormatter(OneLineFormatter())
    root = logging.getLogger()
    root.addHandler(handler)
    root.setLevel(level)
    # httpx logs every request URL at INFO (with the token in it): only its warnings.
    logging.getLogger("httpx").setLevel(max(logging.WARNING, root.level))
    logging.getLogger("apscheduler").setLevel(max(logging.WARNING, root.level))
    return handler


def configure(level: int | str = logging.INFO, stream: TextIO | None = None) -> logging.Handler:
    """Set up logging for the process (the CLI's `--log-level`), replacing earlier handlers."""
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    return install(logging.StreamHandler(stream or sys.stderr), level)
