"""Callback-data codec: short `prefix:arg:arg` strings, validated on the way in and out.

Every inline button's data is built with `encode` and read back with `decode`; anything that
does not decode (forged, truncated, from an old version) is treated as a stale press.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

MAX_BYTES = 64
SEPARATOR = ":"
CANCEL = "stop"
"""The prefix of "✖ Cancel" under a free-text prompt (`stop:<the question's prefix>`)."""
_ARG = re.compile(r"[A-Za-z0-9_.\-]{1,40}")
_PREFIX = re.compile(r"[a-z]{1,8}")


@dataclass(frozen=True, slots=True)
class CallbackData:
    """A decoded button press."""

    prefix: str
    args: tuple[str, ...]

    def arg(self, index: int) -> str | None:
        """The argument at `index`, or None when the press carries fewer."""
        return self.args[index] if index < len(self.args) else None


def encode(prefix: str, *args: object) -> str:
    """Build callback data; raises ValueError rather than emit something Telegram rejects."""
    parts = [str(a) for a in args]
    if not _PREFIX.fullmatch(prefix) or not all(_ARG.fullmatch(p) for p in parts):
        raise ValueError(f"callback data parts not encodable: {prefix!r} {parts!r}")
    data = SEPARATOR.join([prefix, *parts])
    if len(data.encode()) > MAX_BYTES:
        raise ValueError(f"callback data over {MAX_BYTES} bytes: {data!r}")
    return data


def decode(data: str | None) -> CallbackData | None:
    """Parse callback data; None for anything `encode` could not have produced."""
    if not data or len(data.encode()) > MAX_BYTES:
        return None
    prefix, *args = data.split(SEPARATOR)
    if not _PREFIX.fullmatch(prefix) or not all(_ARG.fullmatch(a) for a in args):
        return None
    return CallbackData(prefix, tuple(args))


def pattern(prefix: str) -> re.Pattern[str]:
    """The CallbackQueryHandler pattern that routes one prefix."""
    return re.compile(rf"^{re.escape(prefix)}(?::|$)")
