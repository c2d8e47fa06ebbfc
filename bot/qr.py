"""A QR picture of a link, for a chapter to print and pin up: members join by pointing a
phone's camera at it."""

from __future__ import annotations

import io

import segno


def png(link: str) -> bytes:
    """The link as a QR code PNG (medium error correction, large enough to print)."""
    buffer = io.BytesIO()
    segno.make(link, error="m").save(buffer, kind="png", scale=10, border=4)
    return buffer.getvalue()
